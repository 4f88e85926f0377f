package gen

// The runtime support every generated package carries: the Optional type
// and the one helper particular to the family (opError, which names the
// family in errors). Everything generic about encoding, decoding and naming
// attributes lives in package attrs, which the generated code calls
// directly. Only helpers in use are printed, so that no unused code is
// generated.

type helper struct {
	imports []importPath
	deps    []string
	src     string
}

var helpers = map[string]helper{
	"opError": {
		imports: []importPath{fmtPkg},
		src: `
// opError names the family and op an error came from.
func opError(op string, err error) error {
	return fmt.Errorf("%s %s: %w", FamilyName, op, err)
}
`},
}

const optionalSrc = `
// Optional holds a value that a message may or may not carry: present when
// Valid is true. It is attrs.Optional.
type Optional[T any] = attrs.Optional[T]

// Some returns a present Optional holding v.
func Some[T any](v T) Optional[T] { return attrs.Some(v) }
`

func (g *generator) genRuntime(f *file) {
	f.imports[attrsPkg] = true
	f.buf.WriteString(optionalSrc)
	// Close over dependencies.
	used := map[string]bool{}
	var add func(string)
	add = func(name string) {
		if used[name] {
			return
		}
		h, ok := helpers[name]
		if !ok {
			panic("genlgen: unknown helper " + name)
		}
		used[name] = true
		for _, d := range h.deps {
			add(d)
		}
	}
	for _, name := range sortedKeys(g.p.helpers) {
		add(name)
	}
	for _, name := range sortedKeys(used) {
		h := helpers[name]
		for _, imp := range h.imports {
			f.imports[imp] = true
		}
		f.buf.WriteString(h.src)
	}
}

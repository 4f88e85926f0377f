package gen

// The runtime support every generated package carries: the Optional type
// and the helpers the generated code calls. Only helpers in use are printed,
// so that no unused code is generated.

type helper struct {
	imports []importPath
	deps    []string
	src     string
}

var helpers = map[string]helper{
	"formatFlags": {
		imports: []importPath{strconvPkg},
		src: `
// A flagName names one bit of a flags type.
type flagName struct {
	mask uint64
	name string
}

// formatFlags names the bits of v joined with "|"; other bits in hex.
func formatFlags(v uint64, names []flagName) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for _, n := range names {
		if n.mask != 0 && v&n.mask == n.mask {
			if len(b) > 0 {
				b = append(b, '|')
			}
			b = append(b, n.name...)
			v &^= n.mask
		}
	}
	if v != 0 {
		if len(b) > 0 {
			b = append(b, '|')
		}
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, v, 16)
	}
	return string(b)
}
`},
	"structLenError": {
		imports: []importPath{attrsPkg, strconvPkg},
		src: `
// structLenError reports a struct payload shorter than the struct.
func structLenError(name string, size, got int) error {
	return &attrs.Error{Offset: -1, Kind: attrs.ErrBadLength,
		Msg: "struct " + name + " needs " + strconv.Itoa(size) + " bytes, got " + strconv.Itoa(got)}
}
`},
	"fieldTooLong": {
		imports: []importPath{attrsPkg, strconvPkg},
		src: `
// fieldTooLong reports a string too long for its struct member.
func fieldTooLong(name string, size, got int) error {
	return &attrs.Error{Path: name, Offset: -1, Kind: attrs.ErrTooLong,
		Msg: "string of " + strconv.Itoa(got) + " bytes does not fit a " + strconv.Itoa(size) + "-byte field"}
}
`},
	"errShortHeader": {
		imports: []importPath{attrsPkg, strconvPkg},
		src: `
// errShortHeader reports a message shorter than its fixed header.
func errShortHeader(name string, size, got int) error {
	return &attrs.Error{Path: "header", Offset: -1, Kind: attrs.ErrTruncated,
		Msg: "fixed header " + name + " needs " + strconv.Itoa(size) + " bytes, got " + strconv.Itoa(got)}
}
`},
	"cString": {
		src: `
// cString returns the bytes of b up to its first NUL as a string.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
`},
	"putLE": {
		imports: []importPath{attrsPkg, binaryPkg},
		src: `
// putLE writes an n-byte little-endian struct member.
func putLE(w *attrs.StructWriter, v uint64, n int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	w.Binary(b[:n], n)
}
`},
	"getLE": {
		imports: []importPath{attrsPkg},
		src: `
// getLE reads an n-byte little-endian struct member.
func getLE(r *attrs.StructReader, n int) uint64 {
	var v uint64
	for i, c := range r.Binary(n) {
		v |= uint64(c) << (8 * i)
	}
	return v
}
`},
	"orders": {
		src: `
// Byte orders of integer attributes, for the array helpers.
const (
	orderHost = iota
	orderBig
	orderLittle
)
`},
	"putUint": {
		deps:    []string{"orders"},
		imports: []importPath{binaryPkg},
		src: `
// putUint writes the low n bytes of v into p in the given order.
func putUint(p []byte, v uint64, n, order int) {
	switch {
	case n == 1:
		p[0] = byte(v)
	case order == orderBig:
		for i := range n {
			p[i] = byte(v >> (8 * (n - 1 - i)))
		}
	case order == orderLittle:
		for i := range n {
			p[i] = byte(v >> (8 * i))
		}
	case n == 2:
		binary.NativeEndian.PutUint16(p, uint16(v))
	case n == 4:
		binary.NativeEndian.PutUint32(p, uint32(v))
	default:
		binary.NativeEndian.PutUint64(p, v)
	}
}
`},
	"getUint": {
		deps:    []string{"orders"},
		imports: []importPath{binaryPkg},
		src: `
// getUint reads an n-byte integer from p in the given order.
func getUint(p []byte, n, order int) uint64 {
	var v uint64
	switch {
	case n == 1:
		return uint64(p[0])
	case order == orderBig:
		for i := range n {
			v = v<<8 | uint64(p[i])
		}
	case order == orderLittle:
		for i := n - 1; i >= 0; i-- {
			v = v<<8 | uint64(p[i])
		}
	case n == 2:
		v = uint64(binary.NativeEndian.Uint16(p))
	case n == 4:
		v = uint64(binary.NativeEndian.Uint32(p))
	default:
		v = binary.NativeEndian.Uint64(p)
	}
	return v
}
`},
	"lenError": {
		imports: []importPath{attrsPkg, strconvPkg},
		src: `
// lenError reports a payload of the wrong length.
func lenError(what string, got int) error {
	return &attrs.Error{Offset: -1, Kind: attrs.ErrBadLength, Msg: what + ", got " + strconv.Itoa(got)}
}
`},
	"encodeLE": {
		deps:    []string{"putUint"},
		imports: []importPath{attrsPkg},
		src: `
// encodeLE appends an n-byte little-endian integer attribute.
func encodeLE(e *attrs.Encoder, typ uint16, v uint64, n int) {
	if p := e.Reserve(typ, n); p != nil {
		putUint(p, v, n, orderLittle)
	}
}
`},
	"decodeLE": {
		deps:    []string{"getUint", "lenError"},
		imports: []importPath{attrsPkg, strconvPkg},
		src: `
// decodeLE reads an n-byte little-endian integer attribute.
func decodeLE(d *attrs.Decoder, n int) uint64 {
	if d.Len() != n {
		d.Fail(lenError("little-endian integer needs "+strconv.Itoa(n)+" bytes", d.Len()))
		return 0
	}
	return getUint(d.Bytes(), n, orderLittle)
}
`},
	"encodeVarOrder": {
		deps:    []string{"putUint"},
		imports: []importPath{attrsPkg},
		src: `
// encodeVarOrder appends a variable-width (uint, sint) integer attribute in
// an explicit byte order: 4 bytes when the value fits, else 8.
func encodeVarOrder(e *attrs.Encoder, typ uint16, v uint64, signed, big bool) {
	n := 8
	if (!signed && v <= 1<<32-1) || (signed && int64(v) >= -1<<31 && int64(v) <= 1<<31-1) {
		n = 4
	}
	order := orderLittle
	if big {
		order = orderBig
	}
	if p := e.Reserve(typ, n); p != nil {
		putUint(p, v, n, order)
	}
}
`},
	"decodeVarOrder": {
		deps:    []string{"getUint", "lenError"},
		imports: []importPath{attrsPkg},
		src: `
// decodeVarOrder reads a variable-width integer attribute in an explicit
// byte order, sign-extending 4-byte signed values.
func decodeVarOrder(d *attrs.Decoder, signed, big bool) uint64 {
	order := orderLittle
	if big {
		order = orderBig
	}
	switch d.Len() {
	case 4:
		v := getUint(d.Bytes(), 4, order)
		if signed {
			return uint64(int64(int32(uint32(v))))
		}
		return v
	case 8:
		return getUint(d.Bytes(), 8, order)
	}
	d.Fail(lenError("variable-width integer needs 4 or 8 bytes", d.Len()))
	return 0
}
`},
	"integer": {
		src: `
// integer is the element types of binary arrays.
type integer interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int8 | ~int16 | ~int32 | ~int64
}
`},
	"encodeArray": {
		deps:    []string{"putUint", "integer"},
		imports: []importPath{attrsPkg},
		src: `
// encodeArray appends a binary attribute holding the n-byte integers xs.
func encodeArray[T integer](e *attrs.Encoder, typ uint16, xs []T, n, order int) {
	p := e.Reserve(typ, len(xs)*n)
	if p == nil {
		return
	}
	for i, x := range xs {
		putUint(p[i*n:], uint64(x), n, order)
	}
}
`},
	"decodeArray": {
		deps:    []string{"getUint", "integer", "lenError"},
		imports: []importPath{attrsPkg, strconvPkg},
		src: `
// decodeArray reads a binary attribute holding n-byte integers.
func decodeArray[T integer](d *attrs.Decoder, n, order int) []T {
	p := d.Bytes()
	if len(p)%n != 0 {
		d.Fail(lenError("array of "+strconv.Itoa(n)+"-byte integers", len(p)))
		return nil
	}
	xs := make([]T, len(p)/n)
	for i := range xs {
		xs[i] = T(getUint(p[i*n:], n, order))
	}
	return xs
}
`},
	"encodeAddr4": {
		imports: []importPath{attrsPkg, netipPkg},
		src: `
// encodeAddr4 appends an IPv4 address attribute (4 bytes, network order).
func encodeAddr4(e *attrs.Encoder, typ uint16, a netip.Addr) error {
	a = a.Unmap()
	if !a.Is4() {
		return &attrs.Error{Offset: -1, Kind: attrs.ErrInvalid, Msg: "address " + a.String() + " is not IPv4"}
	}
	b := a.As4()
	e.Binary(typ, b[:])
	return nil
}
`},
	"encodeAddr16": {
		imports: []importPath{attrsPkg, netipPkg},
		src: `
// encodeAddr16 appends an IPv6 address attribute (16 bytes; IPv4 addresses
// are mapped).
func encodeAddr16(e *attrs.Encoder, typ uint16, a netip.Addr) {
	b := a.As16()
	e.Binary(typ, b[:])
}
`},
	"encodeAddr": {
		imports: []importPath{attrsPkg, netipPkg},
		src: `
// encodeAddr appends an IPv4 (4 bytes) or IPv6 (16 bytes) address attribute.
func encodeAddr(e *attrs.Encoder, typ uint16, a netip.Addr) {
	if a.Is4() {
		b := a.As4()
		e.Binary(typ, b[:])
		return
	}
	b := a.As16()
	e.Binary(typ, b[:])
}
`},
	"decodeAddr4": {
		deps:    []string{"lenError"},
		imports: []importPath{attrsPkg, netipPkg},
		src: `
// decodeAddr4 reads an IPv4 address attribute.
func decodeAddr4(d *attrs.Decoder) netip.Addr {
	p := d.Bytes()
	if len(p) != 4 {
		d.Fail(lenError("IPv4 address needs 4 bytes", len(p)))
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(p))
}
`},
	"decodeAddr16": {
		deps:    []string{"lenError"},
		imports: []importPath{attrsPkg, netipPkg},
		src: `
// decodeAddr16 reads an IPv6 address attribute.
func decodeAddr16(d *attrs.Decoder) netip.Addr {
	p := d.Bytes()
	if len(p) != 16 {
		d.Fail(lenError("IPv6 address needs 16 bytes", len(p)))
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(p))
}
`},
	"decodeAddr": {
		deps:    []string{"lenError"},
		imports: []importPath{attrsPkg, netipPkg},
		src: `
// decodeAddr reads an IPv4 (4 bytes) or IPv6 (16 bytes) address attribute.
func decodeAddr(d *attrs.Decoder) netip.Addr {
	p := d.Bytes()
	switch len(p) {
	case 4:
		return netip.AddrFrom4([4]byte(p))
	case 16:
		return netip.AddrFrom16([16]byte(p))
	}
	d.Fail(lenError("IP address needs 4 or 16 bytes", len(p)))
	return netip.Addr{}
}
`},
	"cloneBytes": {
		src: `
// cloneBytes copies b out of the receive buffer; an empty payload gives an
// empty, non-nil slice (the attribute is present).
func cloneBytes(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
`},
	"cloneHWAddr": {
		deps:    []string{"cloneBytes"},
		imports: []importPath{netPkg},
		src: `
// cloneHWAddr copies a hardware address out of the receive buffer.
func cloneHWAddr(b []byte) net.HardwareAddr { return net.HardwareAddr(cloneBytes(b)) }
`},
	"growSlice": {
		src: `
// growSlice makes room for n more elements, allocating once.
func growSlice[S ~[]E, E any](s S, n int) S {
	if n -= cap(s) - len(s); n > 0 {
		s = append(s[:cap(s)], make([]E, n)...)[:len(s)]
	}
	return s
}
`},
	"countAttrs": {
		imports: []importPath{attrsPkg},
		src: `
// countAttrs counts the attributes left in d, without consuming them.
func countAttrs(d attrs.Decoder) int {
	n := 0
	for d.Next() {
		n++
	}
	return n
}
`},
	"opError": {
		imports: []importPath{fmtPkg},
		src: `
// opError names the family and op an error came from.
func opError(op string, err error) error {
	return fmt.Errorf("%s %s: %w", FamilyName, op, err)
}
`},
	"attrName": {
		src: `
// An attrTable names the attributes of one root set; links[t] says which
// set (index + 1) nest t holds and how many levels of indexes come first.
type attrTable struct {
	names []string
	links []attrLink
}

type attrLink struct {
	set  uint16
	skip uint8
}

// attrName names attribute typ inside the nests parents of root set set.
func attrName(set int, parents []uint16, typ uint16) string {
	for i := 0; i < len(parents); {
		t := &attrTables[set]
		p := parents[i]
		if int(p) >= len(t.links) || t.links[p].set == 0 {
			return ""
		}
		l := t.links[p]
		i += 1 + int(l.skip)
		if i > len(parents) {
			return "" // an index or key, not an attribute
		}
		set = int(l.set) - 1
	}
	if names := attrTables[set].names; int(typ) < len(names) {
		return names[typ]
	}
	return ""
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

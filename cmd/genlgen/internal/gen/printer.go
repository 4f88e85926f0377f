package gen

import (
	"bytes"
	"fmt"
	"go/format"
	"path"
	"slices"
	"strings"
)

// An importPath is a Go import path; Ident names something in it.
type importPath string

// A goIdent is a qualified identifier. Printed through a file, it records
// the import and prints as pkg.Name.
type goIdent struct {
	path importPath
	name string
}

func (p importPath) Ident(name string) goIdent { return goIdent{p, name} }

const (
	attrsPkg   importPath = "github.com/genlkit/genlkit/attrs"
	genlPkg    importPath = "github.com/genlkit/genlkit/genl"
	familyPkg  importPath = "github.com/genlkit/genlkit/family"
	bytesPkg   importPath = "bytes"
	binaryPkg  importPath = "encoding/binary"
	contextPkg importPath = "context"
	errorsPkg  importPath = "errors"
	fmtPkg     importPath = "fmt"
	iterPkg    importPath = "iter"
	netPkg     importPath = "net"
	netipPkg   importPath = "net/netip"
	reflectPkg importPath = "reflect"
	strconvPkg importPath = "strconv"
	slicesPkg  importPath = "slices"
	syncPkg    importPath = "sync"
	testingPkg importPath = "testing"
)

// A file is one generated Go source file. P appends a line made of its
// arguments; the imports of goIdent arguments are recorded as it goes.
type file struct {
	name    string
	pkg     string
	header  []string // comment lines above the package clause
	buf     bytes.Buffer
	imports map[importPath]bool
	names   map[importPath]string // package names that differ from the path's last element
}

func newFile(name, pkg string) *file {
	return &file{name: name, pkg: pkg, imports: make(map[importPath]bool)}
}

// alias records that the package at p is named name, in case the last
// element of its path says otherwise (genlgen -pkg).
func (f *file) alias(p importPath, name string) {
	if path.Base(string(p)) == name {
		return
	}
	if f.names == nil {
		f.names = make(map[importPath]string)
	}
	f.names[p] = name
}

// pkgName returns the name the package at p is referred to by in f.
func (f *file) pkgName(p importPath) string {
	if n, ok := f.names[p]; ok {
		return n
	}
	return path.Base(string(p))
}

// commentHeader adds text, wrapped, to the comment lines above the package
// clause.
func (f *file) commentHeader(text string) {
	for l := range strings.SplitSeq(wrap(text, 76), "\n") {
		f.header = append(f.header, "// "+l)
	}
}

// P prints its arguments followed by a newline. Arguments may be strings,
// goIdents, integers, slices of arguments (flattened) or fmt.Stringers.
func (f *file) P(args ...any) {
	f.print(args)
	f.buf.WriteByte('\n')
}

func (f *file) print(args []any) {
	for _, a := range args {
		switch a := a.(type) {
		case string:
			f.buf.WriteString(a)
		case goIdent:
			f.imports[a.path] = true
			f.buf.WriteString(f.pkgName(a.path))
			f.buf.WriteByte('.')
			f.buf.WriteString(a.name)
		case importPath:
			f.imports[a] = true
			f.buf.WriteString(f.pkgName(a))
		case []any:
			f.print(a)
		case goType:
			f.print(a.parts)
		default:
			fmt.Fprint(&f.buf, a)
		}
	}
}

// Comment prints text as line comments, one per line of text.
func (f *file) Comment(text string) {
	for line := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		if line == "" {
			f.P("//")
		} else {
			f.P("// ", line)
		}
	}
}

// qual returns id as it prints in f, recording its import, for emitters
// that build expressions as strings.
func (f *file) qual(id goIdent) string {
	f.imports[id.path] = true
	return f.pkgName(id.path) + "." + id.name
}

func (f *file) empty() bool { return f.buf.Len() == 0 }

// content assembles the file: header, package clause, imports, body, and
// formats it with go/format. A formatting error comes back with the
// numbered source, so that a generator bug can be found.
func (f *file) content() ([]byte, error) {
	var out bytes.Buffer
	for _, h := range f.header {
		out.WriteString(h)
		out.WriteByte('\n')
	}
	out.WriteString("package " + f.pkg + "\n\n")
	var std, other []string
	for p := range f.imports {
		if strings.Contains(strings.SplitN(string(p), "/", 2)[0], ".") {
			other = append(other, string(p))
		} else {
			std = append(std, string(p))
		}
	}
	slices.Sort(std)
	slices.Sort(other)
	if len(std)+len(other) > 0 {
		out.WriteString("import (\n")
		for _, p := range std {
			f.writeImport(&out, p)
		}
		if len(std) > 0 && len(other) > 0 {
			out.WriteByte('\n')
		}
		for _, p := range other {
			f.writeImport(&out, p)
		}
		out.WriteString(")\n\n")
	}
	out.Write(f.buf.Bytes())
	src, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: gofmt: %v\n%s", f.name, err, numbered(out.Bytes()))
	}
	return src, nil
}

// writeImport writes one import line, named when the package's name is
// not the last element of its path.
func (f *file) writeImport(out *bytes.Buffer, p string) {
	if n, ok := f.names[importPath(p)]; ok {
		fmt.Fprintf(out, "\t%s %q\n", n, p)
		return
	}
	fmt.Fprintf(out, "\t%q\n", p)
}

func numbered(src []byte) string {
	var b strings.Builder
	for i, line := range strings.Split(string(src), "\n") {
		fmt.Fprintf(&b, "%5d\t%s\n", i+1, line)
	}
	return b.String()
}

// A goType is a Go type expression as printer arguments, with the facts the
// emitter needs about it.
type goType struct {
	parts []any
	str   string // the type as written without import qualifiers resolved (for comparisons)
}

func typeOf(parts ...any) goType {
	var b strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case goIdent:
			b.WriteString(path.Base(string(p.path)) + "." + p.name)
		case goType:
			b.WriteString(p.str)
		}
	}
	return goType{parts: parts, str: b.String()}
}

func (t goType) String() string { return t.str }

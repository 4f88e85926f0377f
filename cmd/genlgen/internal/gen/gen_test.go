package gen

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
)

var update = flag.Bool("update", false, "rewrite the golden packages under ../testfamily")

// The golden packages are real packages of the module, so that go build,
// go vet and staticcheck check them with the rest of the tree, and their
// hand-written tests round-trip them against independent fixtures.
var goldens = []struct{ spec, dir string }{
	{"testdata/kitchen.yaml", "../testfamily/kitchen"},
	{"testdata/directional.yaml", "../testfamily/directional"},
}

// goldenImport is the import path of the directory of the golden packages.
const goldenImport = "github.com/genlkit/genlkit/cmd/genlgen/internal/testfamily/"

func generateFile(t *testing.T, path string, cfg Config) []File {
	t.Helper()
	f, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(filepath.Base(g.dir), func(t *testing.T) {
			files := generateFile(t, g.spec, Config{SpecArg: filepath.Join("../../gen", g.spec), ImportPath: goldenImport + filepath.Base(g.dir)})
			want := map[string]bool{}
			for _, f := range files {
				path := filepath.Join(g.dir, filepath.FromSlash(f.Name))
				want[path] = true
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, f.Content, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				old, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/genlgen/internal/gen -update)", err)
				}
				if !bytes.Equal(old, f.Content) {
					t.Errorf("%s differs from the generator's output (run go test ./cmd/genlgen/internal/gen -update):\n%s",
						path, firstDiff(string(old), string(f.Content)))
				}
			}
			for _, dir := range []string{g.dir, filepath.Join(g.dir, ServerDir(filepath.Base(g.dir)))} {
				entries, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					path := filepath.Join(dir, e.Name())
					b, err := os.ReadFile(path)
					if err == nil && IsGenerated(b) && !want[path] {
						t.Errorf("%s: stale generated file", path)
					}
				}
			}
		})
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  committed: " + x + "\n  generated: " + y
		}
	}
	return "(no line differs)"
}

func TestDeterministic(t *testing.T) {
	a := generateFile(t, "testdata/kitchen.yaml", Config{})
	for range 3 {
		b := generateFile(t, "testdata/kitchen.yaml", Config{})
		if len(a) != len(b) {
			t.Fatal("different file sets")
		}
		for i := range a {
			if a[i].Name != b[i].Name || !bytes.Equal(a[i].Content, b[i].Content) {
				t.Fatalf("%s: output differs between runs", a[i].Name)
			}
		}
	}
}

func TestHeaderAndGenerate(t *testing.T) {
	files := generateFile(t, "testdata/kitchen.yaml", Config{SpecArg: "kitchen"})
	for _, f := range files {
		if !IsGenerated(f.Content) {
			t.Errorf("%s: no generated-code header", f.Name)
		}
		first, _, _ := strings.Cut(string(f.Content), "\n")
		if !strings.HasSuffix(first, " DO NOT EDIT.") {
			t.Errorf("%s: header %q does not follow the Go convention", f.Name, first)
		}
		if f.Name == "doc.go" && !strings.Contains(string(f.Content), "//go:generate go run github.com/genlkit/genlkit/cmd/genlgen -spec kitchen -o .") {
			t.Errorf("doc.go: no go:generate line:\n%s", f.Content)
		}
	}
}

func TestDocsFlag(t *testing.T) {
	plain := generateFile(t, "testdata/kitchen.yaml", Config{})
	docs := generateFile(t, "testdata/kitchen.yaml", Config{Docs: true})
	find := func(fs []File, name string) string {
		for _, f := range fs {
			if f.Name == name {
				return string(f.Content)
			}
		}
		t.Fatalf("no %s", name)
		return ""
	}
	const prose = "Blue jumps to 10."
	if strings.Contains(find(plain, "enums.go"), prose) {
		t.Error("spec prose emitted without -docs")
	}
	if !strings.Contains(find(docs, "enums.go"), prose) {
		t.Error("spec prose missing with -docs")
	}
	if !strings.Contains(find(docs, "doc.go"), "Kitchen sink test family.") {
		t.Error("family doc missing with -docs")
	}
}

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"xdp-zc-max-segs":   "XdpZcMaxSegs",
		"svc_export":        "SvcExport",
		"--kernel-timespec": "KernelTimespec",
		"--wgdevice-a-last": "WgdeviceALast",
		"napi-id":           "NapiID",
		"addr-ipv4":         "AddrIPv4",
		"1st":               "X1st",
		"10baseT-half":      "X10baseTHalf",
		"":                  "X",
		"--":                "X",
		"mac":               "MAC",
		"ifindex":           "Ifindex",
		"op.flags":          "OpFlags",
		"if_idx":            "IfIdx",
		"中文":                "X中文",
		"äpfel":             "Äpfel",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
		// After a type's name (enum values) a leading digit needs no X.
		if in != "" && in[0] >= '0' && in[0] <= '9' {
			want = strings.TrimPrefix(want, "X")
		}
		if got := goNameAfter(in); got != want {
			t.Errorf("goNameAfter(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"mptcp_pm":     "mptcppm",
		"net-shaper":   "netshaper",
		"ovs_datapath": "ovsdatapath",
		"nlctrl":       "nlctrl",
		"TASKSTATS":    "taskstats",
		"go":           "gogenl",
		"family":       "familygenl",
		"9p":           "genl9p",
	} {
		if got := pkgName(in); got != want {
			t.Errorf("pkgName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNamespace(t *testing.T) {
	ns := newNamespace("Client")
	for _, c := range []struct{ name, suffix, want string }{
		{"Dev", "Attrs", "Dev"},
		{"Dev", "Attrs", "DevAttrs"},
		{"Dev", "Attrs", "DevAttrs2"},
		{"Client", "Attrs", "ClientAttrs"},
		{"X", "", "X"},
		{"X", "", "X2"},
	} {
		if got := ns.claim(c.name, c.suffix); got != c.want {
			t.Errorf("claim(%q, %q) = %q, want %q", c.name, c.suffix, got, c.want)
		}
	}
}

// TestUnsupported checks that a spec feature the generator cannot express is
// an error naming its position, not silently dropped.
func TestUnsupported(t *testing.T) {
	const head = `name: bad
protocol: genetlink-legacy
doc: x
attribute-sets:
  -
    name: s
    attributes:
      -
        name: inner
        type: u32
`
	const tail = `operations:
  list:
    -
      name: get
      doc: x
      attribute-set: s
      do:
        request:
          attributes: [inner]
`
	for _, c := range []struct {
		name, attr, want string
	}{
		{"multi flag", `      -
        name: fl
        type: flag
        multi-attr: true
`, "bad.yaml:14:21: attribute \"fl\": multi-attr flag is not supported"},
		{"float-ish binary array", `      -
        name: arr
        type: binary
        sub-type: uint
`, "bad.yaml:14:19: binary attribute \"arr\": sub-type \"uint\" is not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := spec.Parse("bad.yaml", []byte(head+c.attr+tail))
			if err != nil {
				t.Skipf("the spec model rejects it already: %v", err)
			}
			_, err = Generate(f, Config{})
			var se *spec.Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *spec.Error", err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %q, want %q", err, c.want)
			}
		})
	}
}

// TestAllSpecs generates every genetlink spec of the kernel (or of
// $GENLKIT_SPECS) into a scratch module and vets it: the generator must
// handle specs it has never seen, not only the committed ones.
func TestAllSpecs(t *testing.T) {
	dir := spectest.Dir(t)
	if testing.Short() {
		t.Skip("go vet of every generated package is slow")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	fams, err := spec.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) == 0 {
		t.Fatalf("no genetlink specs in %s", dir)
	}
	pkgs := map[string][]File{}
	for _, f := range fams {
		files, err := Generate(f, Config{})
		if err != nil {
			t.Errorf("%s: %v", f.Path, err)
			continue
		}
		pkgs[pkgName(f.Name)] = files
		// Without a client (no dumps, so no allocator pool) the decoders
		// still take an allocator; vet those of the larger families too.
		if f.Name == "ethtool" || f.Name == "nl80211" {
			files, err := Generate(f, Config{NoClient: true, Package: pkgName(f.Name) + "types"})
			if err != nil {
				t.Errorf("%s (-noclient): %v", f.Path, err)
				continue
			}
			pkgs[pkgName(f.Name)+"types"] = files
		}
	}
	vetScratch(t, goBin, pkgs)
}

// vetScratch writes generated packages (by directory name) into a scratch
// module that uses this one and runs go vet (which type-checks) on them.
func vetScratch(t *testing.T, goBin string, pkgs map[string][]File) {
	t.Helper()
	root := moduleRoot(t)
	mod := t.TempDir()
	writeFile(t, filepath.Join(mod, "go.mod"), "module genlgenscratch\n\ngo 1.26.0\n\nrequire github.com/genlkit/genlkit v0.0.0\n\nreplace github.com/genlkit/genlkit => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "go.sum"), string(sum))
	for dir, files := range pkgs {
		for _, fl := range files {
			writeFile(t, filepath.Join(mod, dir, fl.Name), string(fl.Content))
		}
	}
	cmd := exec.Command(goBin, "vet", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go vet of the generated packages: %v\n%s", err, out)
	}
}

// TestUnseenShapes generates specs shaped like kernel specs the generator
// was not written against and vets the packages: names from older schemas
// ('_', and "if_idx" next to "if-idx"), the pre-6.9 "array-nest" type,
// genetlink-c names that are not identifiers or start with a caseless
// letter, and spec names that collide with the package's own API (Client,
// Optional, Conn, Family, MarshalAttrs, Cmd constants).
func TestUnseenShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("go vet of generated packages is slow")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	specs := map[string]string{
		"ntv": `name: ntv_fam
protocol: genetlink-legacy
doc: nest-type-value without type-value (a plain nest) and multi-attr nest-type-value
attribute-sets:
  - name: main
    attributes:
      - {name: plain, type: nest-type-value, nested-attributes: inner}
      - {name: plains, type: nest-type-value, nested-attributes: inner, multi-attr: true}
      - {name: keyed, type: nest-type-value, type-value: [idx], nested-attributes: inner, multi-attr: true}
      - {name: scalar, type: u32, type-value: [a, b], multi-attr: true}
      - {name: arrays, type: indexed-array, sub-type: nest, nested-attributes: inner, multi-attr: true}
      - {name: u32-arrays, type: indexed-array, sub-type: u32, multi-attr: true}
  - name: inner
    attributes:
      - {name: v, type: u32}
operations:
  list:
    - {name: get, doc: G., attribute-set: main, do: {request: {attributes: [plain, keyed]}, reply: {attributes: [plain, plains, keyed, scalar, arrays, u32-arrays]}}}
`,
		"older": `name: older_fam
protocol: genetlink-legacy
doc: d
attribute-sets:
  - name: main_set
    attributes:
      - {name: if_idx, type: u32}
      - {name: if-idx, type: u32}
      - {name: from_pid, type: u32}
      - {name: list, type: array-nest, nested-attributes: item_set}
  - name: item_set
    attributes:
      - {name: data_size, type: u32}
operations:
  list:
    - name: get_it
      doc: G.
      attribute-set: main_set
      do:
        request: {attributes: [if_idx, if-idx]}
        reply: {attributes: [from_pid, list]}
    - {name: get_it_ntf, doc: N., notify: get_it, mcgrp: mc_grp}
mcast-groups:
  list: [{name: mc_grp}]
`,
		"cnames": `name: "Weird Fam.v2"
protocol: genetlink-c
doc: d
definitions:
  - {name: "Ünï code", type: enum, entries: ["Äpfel", "中文", "---", "a.b"]}
attribute-sets:
  - name: "Set One"
    attributes:
      - {name: "---", type: u32}
      - {name: "+++", type: u32}
      - {name: "中文", type: string}
      - {name: "Foo", type: u16, enum: "Ünï code"}
      - {name: "foo", type: u16}
operations:
  list:
    - {name: "Get It", doc: G., attribute-set: "Set One", do: {request: {attributes: ["---", "+++"]}, reply: {attributes: ["中文", "Foo", "foo"]}}}
    - {name: "get-it", doc: G., attribute-set: "Set One", dump: {reply: {attributes: ["---"]}}}
`,
		"api": `name: client
protocol: genetlink-legacy
doc: d
definitions:
  - {name: cmd-get, type: const, value: 7}
  - {name: optional, type: enum, entries: [a-b, a_b, string, type]}
  - {name: client, type: flags, entries: [conn, family]}
  - {name: family, type: struct, members: [{name: conn, type: u32}, {name: marshal-attrs, type: u8}]}
attribute-sets:
  - name: client
    attributes:
      - {name: string, type: u32}
      - {name: marshal-attrs, type: u32}
      - {name: unmarshal-attrs, type: string}
      - {name: type, type: u8, enum: optional}
      - {name: func, type: binary, struct: family}
      - {name: range, type: nest, nested-attributes: optional}
      - {name: error, type: u32, enum: client, enum-as-flags: true}
  - name: optional
    attributes:
      - {name: optional, type: u32}
      - {name: client, type: nest, nested-attributes: client}
operations:
  fixed-header: family
  list:
    - name: conn
      doc: C.
      attribute-set: client
      do:
        request: {attributes: [string, marshal-attrs, type, func, range]}
        reply: {attributes: [string, unmarshal-attrs, error]}
    - {name: family, doc: F., attribute-set: optional, do: {request: {attributes: [optional, client]}}}
    - {name: subscribe, doc: S., attribute-set: optional, event: {attributes: [optional]}, mcgrp: conn}
    - {name: get, doc: G., attribute-set: optional, do: {request: {attributes: [optional]}, reply: {attributes: [optional]}}}
mcast-groups:
  list: [{name: conn}, {name: cmd-get}]
`,
	}
	pkgs := map[string][]File{}
	for name, src := range specs {
		f, err := spec.Parse(name+".yaml", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files, err := Generate(f, Config{Docs: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pkgs[name] = files
	}
	vetScratch(t, goBin, pkgs)
}

func moduleRoot(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test")
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

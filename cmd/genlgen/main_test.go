package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/cmd/genlgen/internal/gen"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	// Every committed family package, for their registered descriptors.
	_ "github.com/genlkit/genlkit/family/binder"
	_ "github.com/genlkit/genlkit/family/devenergymodel"
	_ "github.com/genlkit/genlkit/family/devlink"
	_ "github.com/genlkit/genlkit/family/dpll"
	_ "github.com/genlkit/genlkit/family/drmras"
	_ "github.com/genlkit/genlkit/family/ethtool"
	_ "github.com/genlkit/genlkit/family/fou"
	_ "github.com/genlkit/genlkit/family/handshake"
	_ "github.com/genlkit/genlkit/family/lockd"
	_ "github.com/genlkit/genlkit/family/mptcppm"
	_ "github.com/genlkit/genlkit/family/netdev"
	_ "github.com/genlkit/genlkit/family/netshaper"
	_ "github.com/genlkit/genlkit/family/nfsd"
	_ "github.com/genlkit/genlkit/family/nl80211"
	_ "github.com/genlkit/genlkit/family/nlctrl"
	_ "github.com/genlkit/genlkit/family/ovpn"
	_ "github.com/genlkit/genlkit/family/ovsdatapath"
	_ "github.com/genlkit/genlkit/family/ovsflow"
	_ "github.com/genlkit/genlkit/family/ovspacket"
	_ "github.com/genlkit/genlkit/family/ovsvport"
	_ "github.com/genlkit/genlkit/family/psp"
	_ "github.com/genlkit/genlkit/family/sunrpc"
	_ "github.com/genlkit/genlkit/family/tcpmetrics"
	_ "github.com/genlkit/genlkit/family/team"
	_ "github.com/genlkit/genlkit/family/wireguard"
)

func loadAll(t *testing.T) []*spec.Family {
	t.Helper()
	fams, err := spec.LoadDir(spectest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// TestCommittedPackages: family/<pkg> holds exactly what genlgen generates
// from each genetlink spec (what .ci/generate-check checks with git).
func TestCommittedPackages(t *testing.T) {
	for _, f := range loadAll(t) {
		arg := strings.TrimSuffix(filepath.Base(f.Path), ".yaml")
		pkg := gen.PackageName(f.Name)
		files, err := gen.Generate(f, gen.Config{SpecArg: arg, ImportPath: "github.com/genlkit/genlkit/family/" + pkg})
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		dir := filepath.Join("..", "..", "family", pkg)
		for _, fl := range files {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(fl.Name)))
			if err != nil {
				t.Errorf("%s: %v (regenerate: go run ./cmd/genlgen -all -o family)", f.Name, err)
				continue
			}
			if !bytes.Equal(b, fl.Content) {
				t.Errorf("%s/%s is out of date (regenerate: go run ./cmd/genlgen -all -o family)", dir, fl.Name)
			}
		}
	}
}

// TestDescriptorsRegistered: importing a family package registers the
// descriptor internal/spec builds from its spec, unchanged.
func TestDescriptorsRegistered(t *testing.T) {
	for _, f := range loadAll(t) {
		d, ok := family.Lookup(f.Name)
		if !ok {
			t.Errorf("%s: no registered descriptor", f.Name)
			continue
		}
		if diff := cmp.Diff(f.Descriptor(), d, cmpopts.IgnoreUnexported(family.Descriptor{})); diff != "" {
			t.Errorf("%s: registered descriptor differs from the spec's (-spec +registered):\n%s", f.Name, diff)
		}
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	// A file genlgen wrote before and no longer writes goes; others stay.
	stale := gen.Header("kitchen.yaml") + "\n\npackage kitchen\n"
	mustWrite(t, filepath.Join(dir, "old.go"), stale)
	mustWrite(t, filepath.Join(dir, "mine_test.go"), "package kitchen\n")
	if err := run([]string{"-spec", "internal/gen/testdata/kitchen.yaml", "-o", dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.go")); !os.IsNotExist(err) {
		t.Errorf("stale generated file kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mine_test.go")); err != nil {
		t.Errorf("hand-written file removed: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "doc.go"))
	if err != nil || !bytes.Contains(doc, []byte("package kitchen")) {
		t.Fatalf("doc.go: %v\n%s", err, doc)
	}

	if err := run([]string{"-spec", "kitchen", "-o", dir}); err == nil {
		t.Error("a name not in the specs directory was accepted")
	}
	if err := run([]string{"-o", dir}); err == nil {
		t.Error("no -spec accepted")
	}
}

// TestRunServer: in a module, the typed test server is written to
// <pkg>test beside the package, importing it by the path the go.mod gives;
// a stale generated file there goes.
func TestRunServer(t *testing.T) {
	mod := t.TempDir()
	mustWrite(t, filepath.Join(mod, "go.mod"), "module \"example.com/m\" // the module\n\ngo 1.26\n")
	out := filepath.Join(mod, "internal", "kitpkg") // -pkg kit: named apart from its directory
	srvDir := filepath.Join(out, "kittest")
	if err := os.MkdirAll(srvDir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(srvDir, "old.go"), gen.Header("kitchen.yaml")+"\n\npackage kittest\n")
	mustWrite(t, filepath.Join(srvDir, "mine_test.go"), "package kittest_test\n")
	if err := run([]string{"-spec", "internal/gen/testdata/kitchen.yaml", "-pkg", "kit", "-o", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(srvDir, "server.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("package kittest\n")) || !bytes.Contains(b, []byte(`kit "example.com/m/internal/kitpkg"`)) {
		t.Errorf("server.go:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(srvDir, "old.go")); !os.IsNotExist(err) {
		t.Errorf("stale generated file kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(srvDir, "mine_test.go")); err != nil {
		t.Errorf("hand-written file removed: %v", err)
	}
	for dir, want := range map[string]string{mod: "example.com/m", out: "example.com/m/internal/kitpkg", t.TempDir(): ""} {
		if got, err := importPathOf(dir); err != nil || got != want {
			t.Errorf("import path of %s: %q, %v; want %q", dir, got, err, want)
		}
	}
}

func TestRunAll(t *testing.T) {
	specs := spectest.Dir(t)
	dir := t.TempDir()
	if err := run([]string{"-all", "-specs", specs, "-o", dir}); err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"netdev", "mptcppm", "netshaper", "nlctrl"} {
		if _, err := os.Stat(filepath.Join(dir, pkg, "client.go")); err != nil {
			t.Error(err)
		}
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRefusesEnumThatDoesNotFit: a spec whose enum values do not fit the
// attribute that uses them generates nothing (the code would truncate
// them) and the error says where.
func TestRefusesEnumThatDoesNotFit(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "wide.yaml")
	mustWrite(t, spec, `name: wide
doc: d
definitions:
  - name: big
    type: enum
    entries:
      - small
      - {name: huge, value: 4294967296}
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u8, enum: big}
operations:
  list:
    - {name: get, doc: Get., attribute-set: s, do: {request: {attributes: [a]}}}
`)
	out := filepath.Join(dir, "out")
	err := run([]string{"-spec", spec, "-o", out})
	if err == nil || !strings.Contains(err.Error(), `wide.yaml:12:35: attribute "a" in set "s" (u8) uses enum "big": entry "huge"`) ||
		!strings.Contains(err.Error(), "4294967296, which does not fit u8") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written: %v", err)
	}
}

package genetlink_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

// TestProgram builds testdata/program, written against mdlayher/genetlink,
// as it is and with its import of mdlayher/genetlink replaced by this
// package, runs each in a fresh network namespace and compares what they
// print: every method of the Conn, kernel errors and their extended ACKs,
// notifications, deadlines.
func TestProgram(t *testing.T) {
	testutils.RequireKernel(t)
	goTool := testutils.RequireTool(t, "go")
	src, err := os.ReadFile(filepath.Join("testdata", "program", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	const from, to = `"github.com/mdlayher/genetlink"`, `"github.com/genlkit/genlkit/genl/genetlink"`
	if bytes.Count(src, []byte(from)) != 1 {
		t.Fatalf("testdata/program imports %s other than once", from)
	}
	// The swapped copy must sit inside the module to build against it.
	dir, err := os.MkdirTemp("testdata", "swapped-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), bytes.Replace(src, []byte(from), []byte(to), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	run := func(name, pkg string) []string {
		exe := filepath.Join(bin, name)
		if out, err := exec.Command(goTool, "build", "-o", exe, "./"+pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
		ns := testutils.NetNS(t)
		return strings.Split(strings.TrimSpace(ns.Exec(t, exe)), "\n")
	}
	want := run("genetlink", filepath.Join("testdata", "program"))
	got := run("genlkit", dir)
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("line %d:\n mdlayher/genetlink: %s\n      genl/genetlink: %s", i+1, w, g)
		}
	}
	if !t.Failed() {
		t.Logf("%d lines agree:\n%s", len(want), strings.Join(want, "\n"))
	}
}

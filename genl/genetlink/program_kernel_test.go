package genetlink_test

import (
	"bytes"
	"encoding/json"
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
	// The swapped copy replaces main.go through a build overlay, so that it
	// builds inside the module without writing to the source tree (which
	// the guest kernels mount read-only).
	tmp := t.TempDir()
	swapped := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(swapped, bytes.Replace(src, []byte(from), []byte(to), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	orig, err := filepath.Abs(filepath.Join("testdata", "program", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {orig: swapped}})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) []string {
		exe := filepath.Join(tmp, name)
		args = append(append([]string{"build", "-o", exe}, args...), "./testdata/program")
		if out, err := exec.Command(goTool, args...).CombinedOutput(); err != nil {
			t.Fatalf("go build (%s): %v\n%s", name, err, out)
		}
		ns := testutils.NetNS(t)
		return strings.Split(strings.TrimSpace(ns.Exec(t, exe)), "\n")
	}
	want := run("genetlink")
	got := run("genlkit", "-overlay", overlayFile)
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

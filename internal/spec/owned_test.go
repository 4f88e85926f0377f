package spec_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
)

// The project's own specs parse, describe the families they are written
// for, and stay apart from the kernel's: none of them names a family the
// kernel's spec directory has.
func TestOwnedSpecs(t *testing.T) {
	fams, err := spec.Owned()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fams {
		names = append(names, f.Name)
		if !strings.HasPrefix(f.Path, "owned/") {
			t.Errorf("%s: path %q", f.Name, f.Path)
		}
		if f.License == "" {
			t.Errorf("%s: no SPDX license line", f.Name)
		}
	}
	for _, want := range []string{"IOAM6", "NLBL_MGMT", "SEG6", "TASKSTATS", "thermal"} {
		if !strings.Contains(","+strings.Join(names, ",")+",", ","+want+",") {
			t.Errorf("no owned spec for %s (have %v)", want, names)
		}
	}
	kernel, err := spec.LoadDir(spectest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kernel {
		for _, f := range fams {
			if f.Name == k.Name {
				t.Errorf("owned spec %s duplicates the kernel's %s", f.Path, k.Path)
			}
		}
	}
	all, err := spec.LoadAll(spectest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(kernel)+len(fams) {
		t.Errorf("LoadAll: %d families, want %d kernel + %d owned", len(all), len(kernel), len(fams))
	}
	for _, name := range []string{"TASKSTATS", "taskstats", "seg6.yaml"} {
		if f, err := spec.Find(spectest.Dir(t), name); err != nil || f == nil {
			t.Errorf("Find(%q): %v", name, err)
		}
	}
}

// The owned specs validate against the kernel's JSON schemas (with the
// reference validator, python3-jsonschema), as the kernel's own specs do.
func TestOwnedSpecsMatchSchema(t *testing.T) {
	schemas := filepath.Join(spectest.Dir(t), "schemas")
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import jsonschema, yaml").Run()
	}
	if err != nil {
		if os.Getenv(spectest.EnvRequire) == "1" {
			t.Fatalf("python3 with jsonschema and PyYAML is needed to validate the specs: %v", err)
		}
		t.Skipf("python3 with jsonschema and PyYAML not available: %v", err)
	}
	files, err := filepath.Glob(filepath.Join("owned", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no owned specs: %v", err)
	}
	cmd := exec.Command(py, append([]string{"-c", validateSchema, schemas}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("schema validation failed: %v\n%s", err, out)
	}
}

const validateSchema = `
import sys, yaml, jsonschema
schemas, bad = sys.argv[1], 0
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    with open(schemas + "/" + doc.get("protocol", "genetlink") + ".yaml") as f:
        schema = yaml.safe_load(f)
    for e in jsonschema.Draft7Validator(schema).iter_errors(doc):
        bad = 1
        print("%s: %s (at %s)" % (path, e.message, "/".join(str(p) for p in e.absolute_path)))
sys.exit(bad)
`

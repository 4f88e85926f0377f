package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// miniSpec is a small custom family, for the tests of what genlgen records.
const miniSpec = `name: mini
doc: A family of one op.
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u32}
operations:
  list:
    - {name: get, doc: Get., attribute-set: s, do: {request: {attributes: [a]}, reply: {attributes: [a]}}}
`

// chdir makes dir the working directory for the rest of the test.
func chdir(t *testing.T, dir string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
}

// newModule makes the working directory a new module holding mini.yaml,
// with genlgen not run by go generate.
func newModule(t *testing.T) {
	t.Helper()
	t.Setenv("GOFILE", "")
	t.Setenv("GOPACKAGE", "")
	chdir(t, t.TempDir())
	mustWrite(t, "go.mod", "module example.com/m\n")
	mustWrite(t, "mini.yaml", miniSpec)
}

// generateLines returns the go:generate lines of the .go files in dir.
func generateLines(t *testing.T, dir string) []string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var lines []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			if strings.HasPrefix(l, "//go:generate ") {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// TestRecordedGenerateLine: doc.go's go:generate line, run in the package
// directory, regenerates the same output: the spec's path relative to the
// package, every flag that shaped the output, and "go tool genlgen" when
// the module has genlgen as a tool.
func TestRecordedGenerateLine(t *testing.T) {
	t.Setenv("GOFILE", "")
	t.Setenv("GOPACKAGE", "")
	for _, tc := range []struct {
		name  string
		gomod string
		args  []string
		want  string
	}{
		{"relative", "module example.com/m\n", []string{"-spec", "mini/mini.yaml", "-o", "mini"},
			"//go:generate go run github.com/genlkit/genlkit/cmd/genlgen -spec mini.yaml -o ."},
		{"elsewhere", "module example.com/m\n", []string{"-spec", "specs/mini.yaml", "-o", "pkg/mini"},
			"//go:generate go run github.com/genlkit/genlkit/cmd/genlgen -spec ../../specs/mini.yaml -o ."},
		{"flags", "module example.com/m\n", []string{"-spec", "mini/mini.yaml", "-o", "mini", "-notests", "-docs", "-pkg", "minigenl"},
			"//go:generate go run github.com/genlkit/genlkit/cmd/genlgen -spec mini.yaml -docs -notests -pkg minigenl -o ."},
		{"tool", "module example.com/m\n\ntool github.com/genlkit/genlkit/cmd/genlgen\n", []string{"-spec", "mini/mini.yaml", "-o", "mini"},
			"//go:generate go tool genlgen -spec mini.yaml -o ."},
		{"tool block", "module example.com/m\n\ntool (\n\texample.com/other\n\tgithub.com/genlkit/genlkit/cmd/genlgen // gen\n)\n", []string{"-spec", "mini/mini.yaml", "-o", "mini"},
			"//go:generate go tool genlgen -spec mini.yaml -o ."},
		{"specs dir", "module example.com/m\n", []string{"-specs", "specs", "-spec", "mini", "-o", "mini"},
			"//go:generate go run github.com/genlkit/genlkit/cmd/genlgen -spec mini -specs ../specs -o ."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			chdir(t, dir)
			mustWrite(t, "go.mod", tc.gomod)
			for _, d := range []string{"mini", "specs"} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
				mustWrite(t, filepath.Join(d, "mini.yaml"), miniSpec)
			}
			if err := run(tc.args); err != nil {
				t.Fatal(err)
			}
			out := tc.args[len(tc.args)-1]
			for i, a := range tc.args {
				if a == "-o" {
					out = tc.args[i+1]
				}
			}
			got := generateLines(t, out)
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("go:generate lines %q, want %q", got, tc.want)
			}
			_, noTests := os.Stat(filepath.Join(out, "fuzz_test.go"))
			before := snapshot(t, out)
			// Run the recorded line the way go generate does: in the
			// package directory, as it was from the doc.go line.
			chdir(t, out)
			t.Setenv("GOFILE", "doc.go")
			t.Setenv("GOPACKAGE", "mini")
			args := strings.Fields(tc.want)
			for args[0] != "genlgen" && args[0] != "github.com/genlkit/genlkit/cmd/genlgen" {
				args = args[1:]
			}
			if err := run(args[1:]); err != nil {
				t.Fatalf("recorded line: %v", err)
			}
			if after := snapshot(t, "."); !equalSnapshots(before, after) {
				t.Errorf("the recorded line generates something else:\n%s", diffSnapshots(before, after))
			}
			if _, err := os.Stat("fuzz_test.go"); (err == nil) != (noTests == nil) {
				t.Errorf("fuzz_test.go: %v before, %v after", noTests, err)
			}
		})
	}
}

// TestOneGenerateLineOnePackageComment: a package whose own files have
// a go:generate line running genlgen, or a package comment, gets neither
// from doc.go; running genlgen from a go:generate line in a file of one's
// own (not doc.go) leaves doc.go's line out too.
func TestOneGenerateLineOnePackageComment(t *testing.T) {
	newModule(t)

	gen := func(t *testing.T, out string) string {
		t.Helper()
		if err := run([]string{"-spec", "mini.yaml", "-o", out}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "doc.go"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	attached := "// Package mini is a typed client"
	if doc := gen(t, "plain"); !strings.Contains(doc, "//go:generate ") || !strings.Contains(doc, attached) {
		t.Errorf("no package of its own: doc.go lacks the go:generate line or the package comment:\n%s", doc)
	}

	mustMkdir(t, "own")
	mustWrite(t, "own/mini.go", "// Package mini is mine.\npackage mini\n\n//go:generate go tool genlgen -spec ../mini.yaml -o .\n")
	doc := gen(t, "own")
	if strings.Contains(doc, "//go:generate") {
		t.Errorf("doc.go has a go:generate line beside the package's own:\n%s", doc)
	}
	if !strings.Contains(doc, "\n\npackage mini") {
		t.Errorf("doc.go's comment is attached to the package clause:\n%s", doc)
	}
	if lines := generateLines(t, "own"); len(lines) != 1 {
		t.Errorf("go:generate lines %q", lines)
	}

	// A go:generate line in another directory (GOFILE is relative to the
	// working directory go generate runs the line in).
	mustWrite(t, "gen.go", "package m\n\n//go:generate go tool genlgen -spec mini.yaml -o remote\n")
	t.Setenv("GOFILE", "gen.go")
	t.Setenv("GOPACKAGE", "m")
	if doc := gen(t, "remote"); strings.Contains(doc, "//go:generate") || !strings.Contains(doc, attached) {
		t.Errorf("run from gen.go's go:generate line: doc.go:\n%s", doc)
	}
}

// TestMissingSpec: a spec file that is not there is an error naming it,
// with a suggestion when a similar spec sits beside it; a family name with
// no specs directory to look in says what to do.
func TestMissingSpec(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	t.Setenv("GENLKIT_SPECS", "")
	mustWrite(t, "go.mod", "module example.com/m\n")
	mustMkdir(t, "acme")
	mustWrite(t, "acme/acme.yaml", miniSpec)
	for _, tc := range []struct{ spec, want string }{
		{"acme/acme.yml", "spec file acme/acme.yml: file does not exist; did you mean acme/acme.yaml?"},
		{"nowhere/acme.yaml", "spec file nowhere/acme.yaml: file does not exist"},
		{"acme.yaml", "spec file acme.yaml: file does not exist"},
		{"acme", `spec "acme": no such file, and no specs directory to find a family of that name in`},
	} {
		err := run([]string{"-spec", tc.spec, "-o", "out"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("-spec %s: %v, want %q", tc.spec, err, tc.want)
		}
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestPackageNameFromOwnFiles: without -pkg, the generated files take the
// package name of the package's own files; a -pkg that contradicts them is
// an error naming the file.
func TestPackageNameFromOwnFiles(t *testing.T) {
	newModule(t)
	mustMkdir(t, "widgets")
	mustWrite(t, "widgets/widgets.go", "package widgets\n")
	if err := run([]string{"-spec", "mini.yaml", "-o", "widgets"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("widgets/client.go")
	if err != nil || !strings.Contains(string(b), "\npackage widgets\n") {
		t.Errorf("client.go: %v\n%.300s", err, b)
	}
	if lines := generateLines(t, "widgets"); len(lines) != 1 || !strings.HasSuffix(lines[0], " -pkg widgets -o .") {
		t.Errorf("go:generate lines %q", lines)
	}
	err = run([]string{"-spec", "mini.yaml", "-o", "widgets", "-pkg", "other"})
	if err == nil || !strings.Contains(err.Error(), "widgets.go is package widgets, not other") {
		t.Errorf("-pkg other: %v", err)
	}
}

// Command genlgen generates a typed Go package for a generic netlink family
// from the kernel's YAML spec of the family.
//
// Usage:
//
//	genlgen -spec netdev -o family/netdev
//	genlgen -spec path/to/netdev.yaml -o DIR [-pkg NAME] [-docs] [-notests] [-noclient]
//	genlgen -all -o family
//
// In a module of one's own, genlgen is a tool of the module ("go get -tool
// github.com/genlkit/genlkit/cmd/genlgen") run as "go tool genlgen", from
// a go:generate line of the package:
//
//	//go:generate go tool genlgen -spec acme.yaml -o .
//
// docs/custom-family.md walks through it.
//
// -spec is a spec file, or a family name or spec file base name resolved in
// the -specs directory (default $GENLKIT_SPECS, else ../shared/specs next
// to the module root, the directory holding go.mod above the working
// directory); a spec file that is not there is an error naming it. The
// package is written to -o as one file per construct
// (consts.go, types.go, encode.go, decode.go, client.go, ...), gofmt'ed and
// deterministic; files genlgen wrote earlier that are no longer generated
// are removed, other files are left alone. Comments are mechanical (sets,
// wire types, checks, enum values); -docs adds the spec's doc prose.
//
// With -all, every genetlink spec of the specs directory, and every
// project-owned spec (internal/spec/owned: TASKSTATS, thermal, SEG6, IOAM6, NLBL_MGMT)
// of a family the directory has no spec for, is generated into its own
// package directory under -o (family/netdev, family/taskstats, ...). -spec
// finds the owned specs by family or file name too.
//
// The generated doc.go carries a go:generate line that runs genlgen again
// with every flag that shaped the output, and paths relative to the package
// directory, where go generate runs it; "go tool genlgen" if the module's
// go.mod has a tool directive for genlgen ("go get -tool
// github.com/genlkit/genlkit/cmd/genlgen"), else "go run". If the
// package's own files already have a go:generate line that runs genlgen,
// or genlgen runs from such a line in a file of its own, doc.go has none;
// if they have a package comment, doc.go's description is not one. So a
// package has one of each, and "go generate" is idempotent.
//
// Beside each package, in its subdirectory <pkg>test, genlgen writes the
// package's typed test server (family/netdev/netdevtest): a fake of the
// family for tests, on package genl/genltest's fake kernel. It imports the
// family package by the import path derived from the go.mod above -o, and
// is left out when there is none or with -noclient.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/genlkit/genlkit/cmd/genlgen/internal/gen"
	"github.com/genlkit/genlkit/internal/jsonmsg"
	"github.com/genlkit/genlkit/internal/spec"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "genlgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("genlgen", flag.ContinueOnError)
	specArg := fs.String("spec", "", "spec file, or family name / spec base name resolved in -specs")
	specsDir := fs.String("specs", "", "directory of specs (default $GENLKIT_SPECS, else <module root>/../shared/specs)")
	out := fs.String("o", "", "output directory")
	pkg := fs.String("pkg", "", "package name (default derived from the family name)")
	docs := fs.Bool("docs", false, "add the spec's doc prose to generated comments")
	noTests := fs.Bool("notests", false, "do not generate the fuzz test file")
	noClient := fs.Bool("noclient", false, "generate types, encoding and decoding only: no Client, notifications or descriptor")
	all := fs.Bool("all", false, "generate every genetlink spec of -specs into a package directory under -o")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *all {
		if *specArg != "" || *pkg != "" || *out == "" || fs.NArg() > 0 {
			fs.Usage()
			return errors.New("-all needs -o and no -spec or -pkg")
		}
		return generateAll(*specsDir, *out, *docs, *noTests)
	}
	if *specArg == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("need -spec and -o")
	}
	f, err := loadSpec(*specArg, *specsDir)
	if err != nil {
		return err
	}
	cfg := gen.Config{Package: *pkg, Docs: *docs, NoTests: *noTests, NoClient: *noClient}
	if err := recordArgs(&cfg, f, *specArg, *specsDir, *out); err != nil {
		return err
	}
	if err := inspectPackage(&cfg, *out); err != nil {
		return err
	}
	if cfg.ImportPath, err = importPathOf(*out); err != nil {
		return err
	}
	files, err := gen.Generate(f, cfg)
	if err != nil {
		return err
	}
	return write(*out, files)
}

// generateAll generates every genetlink spec in dir (netlink-raw specs are
// skipped) and the project-owned specs into root/<package name>.
func generateAll(dir, root string, docs, noTests bool) error {
	if dir == "" {
		var err error
		if dir, err = SpecsDir(); err != nil {
			return err
		}
	}
	fams, err := spec.LoadAll(dir)
	if err != nil {
		return err
	}
	if len(fams) == 0 {
		return fmt.Errorf("no genetlink specs in %s", dir)
	}
	for _, f := range fams {
		out := filepath.Join(root, gen.PackageName(f.Name))
		cfg := gen.Config{SpecArg: strings.TrimSuffix(filepath.Base(f.Path), ".yaml"), Docs: docs, NoTests: noTests}
		if err := inspectPackage(&cfg, out); err != nil {
			return err
		}
		if cfg.ImportPath, err = importPathOf(out); err != nil {
			return err
		}
		files, err := gen.Generate(f, cfg)
		if err != nil {
			return err
		}
		if err := write(out, files); err != nil {
			return err
		}
	}
	return nil
}

// isSpecPath reports whether a -spec argument names a file rather than a
// family in the specs directory.
func isSpecPath(arg string) bool {
	return strings.ContainsRune(arg, '/') || strings.ContainsRune(arg, filepath.Separator) ||
		strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
}

// loadSpec loads a spec given as a file path, or by name from the specs
// directory. A file that is not there is an error naming it; a bare
// "name.yaml" not in the working directory may still be a spec of the
// specs directory.
func loadSpec(arg, dir string) (*spec.Family, error) {
	if !isSpecPath(arg) {
		return findSpec(arg, dir)
	}
	_, err := os.Stat(arg)
	if err == nil {
		return spec.Load(arg)
	}
	if filepath.Base(arg) == arg && errors.Is(err, os.ErrNotExist) {
		if f, ferr := findSpec(arg, dir); ferr == nil {
			return f, nil
		}
	}
	return nil, missingSpec(arg, err)
}

// findSpec loads the spec of a family (or of a file base name) from the
// specs directory dir, or from the default one if dir is empty.
func findSpec(name, dir string) (*spec.Family, error) {
	if dir == "" {
		var err error
		if dir, err = SpecsDir(); err != nil {
			return nil, fmt.Errorf("spec %q: no such file, and %w", name, err)
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("spec %q: no such file, and no specs directory to find a family of that name in (%w): give the spec file's path, or set -specs or $%s", name, err, spec.EnvSpecs)
	}
	return spec.Find(dir, name)
}

// missingSpec is the error for a spec file that is not there: it names the
// file and, if its directory has a spec of a similar name, suggests it.
func missingSpec(path string, err error) error {
	var near []string
	if ents, rerr := os.ReadDir(filepath.Dir(path)); rerr == nil {
		for _, e := range ents {
			if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				near = append(near, n)
			}
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		err = os.ErrNotExist // the path is already in the message
	}
	if best := jsonmsg.Closest(filepath.Base(path), near); best != "" {
		return fmt.Errorf("spec file %s: %w; did you mean %s?", path, err, filepath.Join(filepath.Dir(path), best))
	}
	return fmt.Errorf("spec file %s: %w", path, err)
}

// SpecsDir returns the default specs directory: $GENLKIT_SPECS, else
// ../shared/specs relative to the module root above the working directory.
func SpecsDir() (string, error) {
	d, err := spec.DefaultDir()
	if err != nil {
		return "", fmt.Errorf("no specs directory: set GENLKIT_SPECS or -specs: %w", err)
	}
	return d, nil
}

// write puts files into dir (and the subdirectories their names give),
// leaving files whose content is unchanged untouched and removing files an
// earlier run generated that this one did not, in dir and in the typed
// test server's directory.
func write(dir string, files []gen.File) error {
	keep := map[string]bool{}
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		keep[path] = true
		if old, err := os.ReadFile(path); err == nil && string(old) == string(f.Content) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Content, 0o644); err != nil {
			return err
		}
	}
	dirs := []string{dir}
	if m, _ := filepath.Glob(filepath.Join(dir, "*test")); len(m) > 0 {
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		if err := removeStale(d, keep); err != nil {
			return err
		}
	}
	return nil
}

// removeStale removes the generated .go files of dir that are not in keep.
func removeStale(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if e.IsDir() || keep[path] || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if gen.IsGenerated(b) {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	return nil
}

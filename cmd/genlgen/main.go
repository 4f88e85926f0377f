// Command genlgen generates a typed Go package for a generic netlink family
// from the kernel's YAML spec of the family.
//
// Usage:
//
//	genlgen -spec netdev -o family/netdev
//	genlgen -spec path/to/netdev.yaml -o DIR [-pkg NAME] [-docs]
//	genlgen -all -o family
//
// -spec is a spec file, or a family name or spec file base name resolved in
// the -specs directory (default $GENLKIT_SPECS, else ../shared/specs next
// to the module root, the directory holding go.mod above the working
// directory). The package is written to -o as one file per construct
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
// Beside each package, in its subdirectory <pkg>test, genlgen writes the
// package's typed test server (family/netdev/netdevtest): a fake of the
// family for tests, on package genl/genltest's fake kernel. It imports the
// family package by the import path derived from the go.mod above -o, and
// is left out when there is none or with -noclient.
//
// Each generated package carries a go:generate line that runs genlgen
// again, so "go generate ./family/..." regenerates them all.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/genlkit/genlkit/cmd/genlgen/internal/gen"
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
	ip, err := importPathOf(*out)
	if err != nil {
		return err
	}
	files, err := gen.Generate(f, gen.Config{Package: *pkg, SpecArg: *specArg, Docs: *docs, NoTests: *noTests, NoClient: *noClient, ImportPath: ip})
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
		arg := strings.TrimSuffix(filepath.Base(f.Path), ".yaml")
		dir := filepath.Join(root, gen.PackageName(f.Name))
		ip, err := importPathOf(dir)
		if err != nil {
			return err
		}
		files, err := gen.Generate(f, gen.Config{SpecArg: arg, Docs: docs, NoTests: noTests, ImportPath: ip})
		if err != nil {
			return err
		}
		if err := write(dir, files); err != nil {
			return err
		}
	}
	return nil
}

// loadSpec loads a spec given as a file path, or by name from the specs
// directory.
func loadSpec(arg, dir string) (*spec.Family, error) {
	if strings.ContainsRune(arg, filepath.Separator) || strings.HasSuffix(arg, ".yaml") {
		if _, err := os.Stat(arg); err == nil {
			return spec.Load(arg)
		}
	}
	if dir == "" {
		var err error
		if dir, err = SpecsDir(); err != nil {
			return nil, err
		}
	}
	return spec.Find(dir, arg)
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

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"

	"github.com/genlkit/genlkit/cmd/genlgen/internal/gen"
	"github.com/genlkit/genlkit/internal/spec"
)

const (
	// genlkitModule is the module genlgen belongs to.
	genlkitModule = "github.com/genlkit/genlkit"
	// genlgenPkg is genlgen's import path, as a go.mod tool directive
	// names it.
	genlgenPkg = genlkitModule + "/cmd/genlgen"
)

// recordArgs sets what doc.go's go:generate line records so that go
// generate, which runs the line in the package directory out, finds the
// same spec: a spec file's path relative to out, or the family name given
// (with -specs relative to out, if it was given); and "go tool genlgen" if
// the module of out has a tool directive for genlgen.
func recordArgs(cfg *gen.Config, f *spec.Family, specArg, specsDir, out string) error {
	if isSpecPath(specArg) && filepath.Clean(f.Path) == filepath.Clean(specArg) {
		rel, err := relTo(out, specArg)
		if err != nil {
			return err
		}
		cfg.SpecArg = rel
	} else {
		cfg.SpecArg = specArg
		if specsDir != "" {
			rel, err := relTo(out, specsDir)
			if err != nil {
				return err
			}
			cfg.SpecsArg = rel
		}
	}
	mod, tool, err := moduleOf(out, genlgenPkg)
	if err != nil {
		return err
	}
	cfg.Tool = tool
	if !tool && mod != "" && mod != genlkitModule {
		fmt.Fprintf(os.Stderr, "genlgen: %s has no tool directive for genlgen: \"go get -tool %s\" adds one, and the go:generate line then runs \"go tool genlgen\" (see docs/custom-family.md)\n", mod, genlgenPkg)
	}
	return nil
}

// relTo returns path relative to dir, with forward slashes, as needed by
// a go:generate line that runs in dir.
func relTo(dir, path string) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	absPath, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absDir, absPath)
	if err != nil {
		return filepath.ToSlash(absPath), nil
	}
	return filepath.ToSlash(rel), nil
}

// moduleOf returns the module path in the go.mod of the module holding dir
// (which need not exist yet), "" if there is none, and whether that go.mod
// has a tool directive for pkg.
func moduleOf(dir, pkg string) (mod string, tool bool, err error) {
	_, gomod, err := findGoMod(dir)
	if err != nil || gomod == nil {
		return "", false, err
	}
	return modulePath(gomod), hasTool(gomod, pkg), nil
}

// hasTool reports whether go.mod content lists pkg in a tool directive,
// single ("tool pkg") or in a block ("tool ( ... )").
func hasTool(gomod []byte, pkg string) bool {
	inBlock := false
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case inBlock && fields[0] == ")":
			inBlock = false
		case inBlock:
			if strings.Trim(fields[0], `"`) == pkg {
				return true
			}
		case fields[0] == "tool" && len(fields) == 2 && fields[1] == "(":
			inBlock = true
		case fields[0] == "tool" && len(fields) == 2 && strings.Trim(fields[1], `"`) == pkg:
			return true
		}
	}
	return false
}

// inspectPackage looks at the package's own (not generated) files in out,
// and at the file go generate ran genlgen from, so that the package ends
// up with one go:generate line for genlgen and one package comment: if
// they already have a go:generate line that runs genlgen, doc.go gets
// none; if they have a package comment, doc.go's description is not one.
// Without -pkg, the generated files take the package name of the
// package's own files.
func inspectPackage(cfg *gen.Config, out string) error {
	// go generate sets $GOFILE to the file whose line it runs, in the
	// working directory.
	if name := os.Getenv("GOFILE"); name != "" && os.Getenv("GOPACKAGE") != "" {
		if b, err := os.ReadFile(name); err == nil && !gen.IsGenerated(b) {
			cfg.NoGenerate = true
		}
	}
	ents, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") {
			continue
		}
		path := filepath.Join(out, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if gen.IsGenerated(b) {
			continue
		}
		if runsGenlgen(b) {
			cfg.NoGenerate = true
		}
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		// A file that does not parse has no say; the build will complain.
		f, err := parser.ParseFile(token.NewFileSet(), path, b, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			continue
		}
		if f.Doc != nil {
			cfg.NoPackageDoc = true
		}
		switch pkg := f.Name.Name; {
		case cfg.Package == "":
			cfg.Package = pkg
		case cfg.Package != pkg:
			return fmt.Errorf("%s is package %s, not %s: the generated files join the package's own (use -pkg %s, or another -o)", path, pkg, cfg.Package, pkg)
		}
	}
	return nil
}

// runsGenlgen reports whether Go source has a go:generate line that runs
// genlgen.
func runsGenlgen(src []byte) bool {
	for line := range strings.SplitSeq(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "//go:generate "); ok && strings.Contains(rest, "genlgen") {
			return true
		}
	}
	return false
}

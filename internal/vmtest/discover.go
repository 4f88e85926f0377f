package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// kernelEntries are the internal/testutils functions and methods through
// which a test reaches the kernel.
var kernelEntries = map[string]bool{
	"NetNS": true, "RequireKernel": true, "RequireFamily": true, "RequireModuleFamily": true, "Modprobe": true,
}

// kernelTests returns the top-level tests of the package in dir that reach
// the kernel: those that call a testutils kernel entry point, directly or
// through functions of the package's test files (found by name, which is
// enough for test helpers). Subtests and helpers are followed; method
// values and function variables are not.
func kernelTests(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	calls := map[string]map[string]bool{} // function -> names it calls
	var tests []string
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			return nil, err
		}
		testutils := ""
		for _, imp := range af.Imports {
			if strings.HasSuffix(strings.Trim(imp.Path.Value, `"`), "/internal/testutils") {
				testutils = "testutils"
				if imp.Name != nil {
					testutils = imp.Name.Name
				}
			}
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := fd.Name.Name
			if fd.Recv != nil {
				name = "." + name
			}
			set := calls[name]
			if set == nil {
				set = map[string]bool{}
				calls[name] = set
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.CallExpr:
					switch fn := x.Fun.(type) {
					case *ast.Ident:
						set[fn.Name] = true
					case *ast.SelectorExpr:
						if id, ok := fn.X.(*ast.Ident); ok && testutils != "" && id.Name == testutils && kernelEntries[fn.Sel.Name] {
							set["!kernel"] = true
						} else {
							set["."+fn.Sel.Name] = true
						}
					case *ast.IndexExpr: // generic helper[T](...)
						if id, ok := fn.X.(*ast.Ident); ok {
							set[id.Name] = true
						}
					}
				case *ast.Ident:
					// A function passed as a value (t.Run(name, helper)).
					set[x.Name] = true
				}
				return true
			})
			if fd.Recv == nil && isTestName(name) {
				tests = append(tests, name)
			}
		}
	}
	memo := map[string]bool{}
	var reaches func(fn string, seen map[string]bool) bool
	reaches = func(fn string, seen map[string]bool) bool {
		if v, ok := memo[fn]; ok {
			return v
		}
		if seen[fn] {
			return false
		}
		seen[fn] = true
		for c := range calls[fn] {
			if c == "!kernel" || reaches(c, seen) {
				memo[fn] = true
				return true
			}
		}
		return false
	}
	var out []string
	for _, t := range tests {
		if reaches(t, map[string]bool{}) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

var testName = regexp.MustCompile(`^Test([A-Z0-9_]|$)`)

func isTestName(name string) bool { return name != "TestMain" && testName.MatchString(name) }

// runPattern is the -test.run pattern selecting exactly tests.
func runPattern(tests []string) string {
	return "^(" + strings.Join(tests, "|") + ")$"
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// writeTable prints the compatibility table of docs/kernels.md from the
// -summary files of guest runs: for each family genlkit describes, per
// kernel, the ops the kernel registers out of the descriptor's requests
// (naming the missing ones) and the family package's tests.
func writeTable(w io.Writer, files []string) error {
	var runs []*result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		runs = append(runs, &r)
	}
	var names []string
	for _, r := range runs {
		for _, f := range r.Families {
			if f.Described && !slices.Contains(names, f.Name) {
				names = append(names, f.Name)
			}
		}
	}
	slices.Sort(names)
	fmt.Fprint(w, "| family |")
	for _, r := range runs {
		fmt.Fprintf(w, " %s (%s) |", r.Kernel, r.Release)
	}
	fmt.Fprint(w, "\n|---|")
	for range runs {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, name := range names {
		fmt.Fprintf(w, "| %s |", name)
		for _, r := range runs {
			fmt.Fprintf(w, " %s |", cell(r, name))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "| all packages: tests passed/run |")
	for _, r := range runs {
		var pass, fail, skip int
		for _, p := range r.Packages {
			p, f, s := p.counts()
			pass, fail, skip = pass+p, fail+f, skip+s
		}
		fmt.Fprintf(w, " %d/%d in %d packages, %d skipped, %.0f s |", pass, pass+fail, len(r.Packages), skip, r.Seconds)
	}
	fmt.Fprintln(w)
	return nil
}

func cell(r *result, name string) string {
	i := slices.IndexFunc(r.Families, func(f familyOps) bool { return f.Name == name })
	if i < 0 {
		return "absent" + testsCell(r, name)
	}
	f := r.Families[i]
	s := fmt.Sprintf("%d/%d ops", len(f.SpecOps)-len(f.MissingOps), len(f.SpecOps))
	if len(f.MissingOps) > 0 {
		s += " (no " + strings.Join(f.MissingOps, ", ") + ")"
	}
	return s + testsCell(r, name)
}

// testsCell gives the family package's tests: passed/run, skipped.
func testsCell(r *result, name string) string {
	pkg := "/family/" + strings.NewReplacer("_", "", "-", "").Replace(name)
	for _, p := range r.Packages {
		if !strings.HasSuffix(p.ImportPath, pkg) {
			continue
		}
		pass, fail, skip := p.counts()
		s := fmt.Sprintf("; tests %d/%d", pass, pass+fail)
		if skip > 0 {
			s += fmt.Sprintf(", %d skipped", skip)
		}
		return s
	}
	return ""
}

// counts returns how many of the package's top-level tests passed, failed
// and were skipped.
func (p pkgResult) counts() (pass, fail, skip int) {
	for _, s := range p.Tests {
		switch s {
		case "PASS":
			pass++
		case "FAIL":
			fail++
		case "SKIP":
			skip++
		}
	}
	return pass, fail, skip
}

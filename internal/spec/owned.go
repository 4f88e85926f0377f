package spec

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// The project's own specs (owned/*.yaml) describe generic netlink families
// for which the kernel ships no YNL spec: TASKSTATS, thermal, SEG6, IOAM6,
// NLBL_MGMT.
// They are written from the families' uapi headers and the kernel code
// that registers them (each file names its sources), checked against the
// policies a running kernel reports, and validated against the kernel's
// schemas like any spec. They are kept apart from the kernel's specs: a
// directory of kernel specs that has a spec of the same family wins.
//
//go:embed owned/*.yaml
var ownedFS embed.FS

// loadOwned parses the embedded owned specs, sorted by family name.
func loadOwned() ([]*Family, error) {
	entries, err := ownedFS.ReadDir("owned")
	if err != nil {
		return nil, err
	}
	var fams []*Family
	var errs ErrorList
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		name := path.Join("owned", e.Name())
		data, err := ownedFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parseCollect(name, data, &errs)
		if err != nil {
			return nil, err
		}
		if f != nil {
			fams = append(fams, f)
		}
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].Name < fams[j].Name })
	return fams, errs.Err()
}

// Owned returns the project's own specs (see the owned directory), parsed
// anew, sorted by family name. Their Path is "owned/<file>.yaml".
func Owned() ([]*Family, error) { return loadOwned() }

// OwnedFile returns the contents of the owned spec file base (e.g.
// "taskstats.yaml").
func OwnedFile(base string) ([]byte, error) {
	return ownedFS.ReadFile(path.Join("owned", base))
}

// findOwned returns the owned spec of the family called name, or whose
// file base name (with or without ".yaml") is name; nil when there is
// none.
func findOwned(name string) (*Family, error) {
	fams, err := Owned()
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(name, ".yaml")
	for _, f := range fams {
		if f.Name == name {
			return f, nil
		}
	}
	for _, f := range fams {
		if strings.TrimSuffix(path.Base(f.Path), ".yaml") == base {
			return f, nil
		}
	}
	return nil, nil
}

// LoadAll loads the genetlink specs of dir (see LoadDir) and adds the
// project's own specs of families dir has no spec for. The families are
// sorted by name.
func LoadAll(dir string) ([]*Family, error) {
	fams, err := LoadDir(dir)
	var l ErrorList
	if err != nil && !errors.As(err, &l) {
		return nil, err
	}
	owned, oerr := Owned()
	if oerr != nil {
		return nil, fmt.Errorf("spec: project-owned specs: %w", oerr)
	}
	have := make(map[string]bool, len(fams))
	for _, f := range fams {
		have[f.Name] = true
	}
	for _, f := range owned {
		if !have[f.Name] {
			fams = append(fams, f)
		}
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].Name < fams[j].Name })
	return fams, err
}

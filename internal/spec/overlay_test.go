package spec_test

import (
	"path/filepath"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
)

// Every family of the project overlay has a spec, and the overlay changed
// something in it: an entry that names nothing (a typo, or a renamed
// attribute) fails here instead of being skipped silently.
func TestOverlayMatchesSpecs(t *testing.T) {
	names, err := spec.OverlayNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no overlay files")
	}
	for _, name := range names {
		f, err := spec.Find(spectest.Dir(t), name)
		if err != nil {
			t.Errorf("overlay for %s: %v", name, err)
			continue
		}
		if got, want := f.OverlayFile(), filepath.Join("overlay", name+".yaml"); got != want {
			t.Errorf("%s: overlay file %q, want %q", name, got, want)
		}
		if missing := f.OverlayMisses(); len(missing) > 0 {
			t.Errorf("%s: overlay entries match nothing in the spec: %v", name, missing)
		}
	}
}

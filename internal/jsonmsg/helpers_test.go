package jsonmsg

import (
	"sync"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
)

var (
	descMu sync.Mutex
	descs  = map[string]*family.Descriptor{}
)

// specDesc returns the descriptor of a family from the kernel specs.
func specDesc(tb testing.TB, name string) *family.Descriptor {
	tb.Helper()
	descMu.Lock()
	defer descMu.Unlock()
	if d, ok := descs[name]; ok {
		return d
	}
	f, err := spec.Find(spectest.Dir(tb), name)
	if err != nil {
		tb.Fatalf("load spec %s: %v", name, err)
	}
	d := f.Descriptor()
	descs[name] = d
	return d
}

func op(tb testing.TB, d *family.Descriptor, name string) *family.OpDesc {
	tb.Helper()
	o := d.Op(name)
	if o == nil {
		tb.Fatalf("%s has no op %s", d.Name, name)
	}
	return o
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

package spec_test

import (
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
)

func TestDescriptor(t *testing.T) {
	fams, err := spec.LoadDir(spectest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		d := f.Descriptor()
		// Every reference by name resolves within the descriptor.
		for _, s := range d.Sets {
			for _, a := range s.Attrs {
				if a.Nested != "" && d.Set(a.Nested) == nil {
					t.Errorf("%s: %s.%s: nested set %q missing", f.Name, s.Name, a.Name, a.Nested)
				}
				if a.Enum != "" && d.Enum(a.Enum) == nil {
					t.Errorf("%s: %s.%s: enum %q missing", f.Name, s.Name, a.Name, a.Enum)
				}
				if a.Struct != "" && d.Struct(a.Struct) == nil {
					t.Errorf("%s: %s.%s: struct %q missing", f.Name, s.Name, a.Name, a.Struct)
				}
			}
		}
		for _, o := range d.Ops {
			set := d.Set(o.Set)
			if set == nil {
				t.Errorf("%s: op %s: set %q missing", f.Name, o.Name, o.Set)
				continue
			}
			check := func(names []string) {
				for _, n := range names {
					if set.Attr(n) == nil {
						t.Errorf("%s: op %s: attribute %q not in set %s", f.Name, o.Name, n, o.Set)
					}
				}
			}
			if o.Do != nil {
				check(o.Do.Request)
				check(o.Do.Reply)
			}
			if o.Dump != nil {
				check(o.Dump.Request)
				check(o.Dump.Reply)
			}
		}
	}
	nd, err := spec.Find(spectest.Dir(t), "netdev")
	if err != nil {
		t.Fatal(err)
	}
	d := nd.Descriptor()
	op := d.Op("dev-get")
	if op == nil || op.Value != 1 || op.Do == nil || op.Dump == nil || op.Set != "dev" {
		t.Fatalf("netdev dev-get: %+v", op)
	}
	if a := d.Set("dev").Attr("ifindex"); a == nil || a.Type != "u32" || a.Value != 1 {
		t.Fatalf("netdev dev.ifindex: %+v", a)
	}
}

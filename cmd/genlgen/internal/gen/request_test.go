package gen

import (
	"slices"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
)

// TestRequestTypes: every call that takes attributes has its own request
// type holding exactly the attributes the spec lists for that request
// (pad and unused ones have nothing to send), in the set's order.
func TestRequestTypes(t *testing.T) {
	fams, err := spec.LoadDir(spectest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		p, err := newPlan(f, Config{})
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, o := range p.ops {
			for _, c := range []*call{o.do, o.dump} {
				if c == nil || !c.hasReq {
					continue
				}
				var want []string
				for _, fl := range o.set.fields {
					if slices.ContainsFunc(c.req.Attributes, func(a *spec.Attribute) bool { return a.Name == fl.attr.Name }) {
						want = append(want, fl.attr.Name)
					}
				}
				var got []string
				for _, fl := range c.reqTyp.fields {
					got = append(got, fl.attr.Name)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s %s (%s): request fields %v, want %v", f.Name, o.spec.Name, c.method, got, want)
				}
				if c.reqTyp.extra != "" {
					t.Errorf("%s %s: request type %s has an Extra field", f.Name, o.spec.Name, c.reqTyp.name)
				}
			}
		}
		if f.Name == "nl80211" {
			for _, o := range p.ops {
				if o.spec.Name == "get-wiphy" && len(o.do.reqTyp.fields) > 5 {
					t.Errorf("nl80211 get-wiphy request has %d fields", len(o.do.reqTyp.fields))
				}
			}
		}
	}
}

// TestNames pins the naming rules on the kernel specs: name-prefix without
// the family and "attr" words, enum values without their type's name,
// initialisms, and an op named like the constructor.
func TestNames(t *testing.T) {
	dir := spectest.Dir(t)
	want := map[string][]string{
		"nl80211":  {"AttrWiphy", "AttrSSID", "AttrIE", "AttrHTCapability", "GetWiphyRequest", "Attrs"},
		"team":     {"AttrTeamIfindex", "AttrItemOption", "AttrOptionName", "AttrPortIfindex"},
		"ovs_flow": {"OvsHashAlgL4", "AttrActionOutput", "AttrKeyIPv4", "NewFlowRequest"},
		"ovpn":     {"PeerNewInput", "PeerNewInputAttrs"},
	}
	for fam, names := range want {
		f, err := spec.Find(dir, fam)
		if err != nil {
			t.Fatal(err)
		}
		p, err := newPlan(f, Config{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !p.top.used[n] {
				t.Errorf("%s: no identifier %s", fam, n)
			}
		}
		if fam == "ovs_flow" {
			for _, o := range p.ops {
				if o.spec.Name == "new" && o.methodBase != "NewFlow" {
					t.Errorf("ovs_flow new: method %s, want NewFlow", o.methodBase)
				}
			}
		}
	}
}

package spec_test

import (
	"path/filepath"
	"slices"
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

// The overlay's byte orders, display hints and request attributes reach
// the model: fou's v4 addresses are network-order IPv4 addresses, its add
// request carries af, nl80211's get-interface request names the interface
// by index.
func TestOverlayWireAndRequests(t *testing.T) {
	fou, err := spec.Find(spectest.Dir(t), "fou")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"local-v4", "peer-v4"} {
		a := fou.AttributeSet("fou").Attribute(name)
		if a.ByteOrder != spec.ByteOrderBig || a.DisplayHint != spec.HintIPv4 || !a.OverlayWire {
			t.Errorf("fou %s: byte order %q, hint %q, overlay %v", name, a.ByteOrder, a.DisplayHint, a.OverlayWire)
		}
	}
	if a := fou.AttributeSet("fou").Attribute("local-v6"); a.DisplayHint != spec.HintIPv6 {
		t.Errorf("fou local-v6: hint %q, want ipv6", a.DisplayHint)
	}
	for _, c := range []struct {
		family, op string
		want       []string
	}{
		{"fou", "add", []string{"port", "af", "ipproto", "type", "remcsum-nopartial", "local-v4", "peer-v4", "local-v6", "peer-v6", "peer-port", "ifindex"}},
		{"nl80211", "get-interface", []string{"ifindex", "ifname", "wdev"}},
	} {
		f, err := spec.Find(spectest.Dir(t), c.family)
		if err != nil {
			t.Fatal(err)
		}
		req := f.Op(c.op).Do.Request
		var got []string
		for _, a := range req.Attributes {
			got = append(got, a.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %s request: %v, want %v", c.family, c.op, got, c.want)
		}
		if len(req.OverlayAttrs) == 0 {
			t.Errorf("%s %s request: the overlay's additions are not recorded", c.family, c.op)
		}
		if d := f.Op(c.op).Do.Reply; d != nil && slices.ContainsFunc(d.OverlayAttrs, func(string) bool { return true }) {
			t.Errorf("%s %s reply changed too: %v", c.family, c.op, d.OverlayAttrs)
		}
	}
}

// The overlay's added text joins the spec: nl80211's bss and sta-info,
// binary in the spec, are nests of sets the overlay adds, and the scan and
// station commands are ops with the kernel's command values.
func TestOverlayAddsSetsAndOps(t *testing.T) {
	f, err := spec.Find(spectest.Dir(t), "nl80211")
	if err != nil {
		t.Fatal(err)
	}
	attrs := f.AttributeSet("nl80211-attrs")
	for name, set := range map[string]string{"bss": "bss-attrs", "sta-info": "sta-info-attrs"} {
		a := attrs.Attribute(name)
		if a.Type != spec.TypeNest || a.Nested == nil || a.Nested.Name != set || !a.Overlaid {
			t.Errorf("%s: type %s, nested %v, overlaid %v; want a nest of %s", name, a.Type, a.Nested, a.Overlaid, set)
		}
	}
	if a := attrs.Attribute("scan-frequencies"); a.Type != spec.TypeIndexedArray || a.SubType != spec.TypeU32 {
		t.Errorf("scan-frequencies: %s of %s", a.Type, a.SubType)
	}
	if a := f.AttributeSet("sta-info-attrs").Attribute("rx-bytes64"); a == nil || a.Value != 23 || a.Type != spec.TypeU64 {
		t.Errorf("sta-info-attrs rx-bytes64: %+v, want u64 value 23", a)
	}
	for _, want := range []struct {
		op         string
		req, reply uint8
	}{{"get-scan", 32, 34}, {"trigger-scan", 33, 0}, {"get-station", 17, 19}, {"new-scan-results", 0, 34}, {"scan-aborted", 0, 35}} {
		op := f.Op(want.op)
		if op == nil || op.RequestValue != want.req || op.ReplyValue != want.reply {
			t.Errorf("op %s: %+v, want request %d, reply %d", want.op, op, want.req, want.reply)
		}
	}
	if op := f.Op("new-scan-results"); op == nil || op.Mcgrp != "scan" || op.Event == nil {
		t.Errorf("new-scan-results is no event of the scan group: %+v", op)
	}
}

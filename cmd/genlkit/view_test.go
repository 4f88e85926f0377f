package main

import (
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/internal/jsonmsg"
)

// TestViewTableEnum: an attribute the project overlay gives an enum for
// tables only (AttrDesc.TableEnum) shows the enum's names in tables, and
// its number when the value has no name; a renderer for the attribute wins.
func TestViewTableEnum(t *testing.T) {
	d := &family.Descriptor{
		Name: "acme",
		Sets: []family.SetDesc{{Name: "dev", Attrs: []family.AttrDesc{
			{Name: "mode", Type: "u8", TableEnum: "mode"},
			{Name: "count", Type: "u32"},
		}}},
		Enums: []family.EnumDesc{{Name: "mode", Entries: []family.EnumEntry{{Name: "fast", Value: 0}, {Name: "slow", Value: 2}}}},
	}
	v := &view{desc: &described{desc: d}}
	set := d.Set("dev")
	for _, tc := range []struct {
		attr string
		in   any
		want any
	}{
		{"mode", uint64(2), "slow"},
		{"mode", uint64(0), "fast"},
		{"mode", uint64(7), int64(7)},
		{"count", uint64(2), int64(2)},
	} {
		got := v.attr(set, set.Attr(tc.attr), tc.in, jsonmsg.NewObject())
		if n, ok := number(got); ok {
			got = n
		}
		if got != tc.want {
			t.Errorf("%s %v: got %v (%T), want %v", tc.attr, tc.in, got, got, tc.want)
		}
	}
}

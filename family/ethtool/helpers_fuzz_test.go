package ethtool

import (
	"errors"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

// FuzzFeatureList: any features message, with any names, gives a feature
// list or an error matching ErrMalformed, never a panic; every feature has
// a name and a distinct index in order, and LinkModesOf and Bitset.List
// behave alike on the same bitsets.
func FuzzFeatureList(f *testing.F) {
	bs := func(b *Bitset) []byte {
		var e attrs.Encoder
		_ = (&Features{Hw: b, Wanted: b, Active: b, Nochange: b}).MarshalAttrs(&e)
		return e.Bytes()
	}
	f.Add(bs(&Bitset{Nomask: true, Size: Some[uint32](5), Value: []byte{0x1b, 0, 0, 0}}), uint8(5))
	f.Add(bs(&Bitset{Size: Some[uint32](40), Value: make([]byte, 8), Mask: []byte{1, 2, 3, 4, 5, 6, 7, 8}}), uint8(40))
	f.Add(bs(&Bitset{Bits: &BitsetBits{Bit: []BitsetBit{{Index: Some[uint32](3), Name: Some("x"), Value: true}, {Name: Some("y")}}}}), uint8(2))
	f.Add(bs(&Bitset{Size: Some[uint32](1 << 31), Value: []byte{1, 2, 3}}), uint8(0))
	f.Fuzz(func(t *testing.T, msg []byte, n uint8) {
		var feat Features
		if feat.UnmarshalAttrs(msg) != nil {
			return
		}
		names := make([]string, n)
		for i := range names {
			if i%3 != 2 {
				names[i] = string(rune('a' + i%26))
			}
		}
		list, err := FeatureList(&feat, names)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("FeatureList: %v, not ErrMalformed", err)
		}
		for i, ft := range list {
			if ft.Name == "" || (i > 0 && ft.Index <= list[i-1].Index) {
				t.Fatalf("feature %d: %+v after %+v", i, ft, list[max(i-1, 0)])
			}
		}
		for _, b := range []*Bitset{feat.Hw, feat.Wanted, feat.Active, feat.Nochange} {
			bits, err := b.List(names)
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("List: %v", err)
			}
			for i := 1; i < len(bits); i++ {
				if bits[i].Index <= bits[i-1].Index {
					t.Fatalf("List out of order: %v", bits)
				}
			}
			_ = b.Values(names)
		}
		if _, err := LinkModesOf(&Linkmodes{Ours: feat.Hw, Peer: feat.Active}); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("LinkModesOf: %v", err)
		}
	})
}

// FuzzStringSetNames: any strset message lays out its string sets or
// gives an error matching ErrMalformed, never a panic, and never a set
// larger than the strings sent.
func FuzzStringSetNames(f *testing.F) {
	enc := func(s *Strset) []byte {
		var e attrs.Encoder
		_ = s.MarshalAttrs(&e)
		return e.Bytes()
	}
	f.Add(enc(&Strset{Stringsets: &Stringsets{Stringset: []Stringset{{ID: Some[uint32](4), Count: Some[uint32](2),
		Strings: []Strings{{StringAttr: []String{{Index: Some[uint32](0), Value: Some("a")}, {Index: Some[uint32](1), Value: Some("b")}}}}}}}}))
	f.Add(enc(&Strset{Stringsets: &Stringsets{Stringset: []Stringset{{ID: Some[uint32](4), Count: Some[uint32](1 << 31)}}}}))
	f.Add(enc(&Strset{Stringsets: &Stringsets{Stringset: []Stringset{{Strings: []Strings{{StringAttr: []String{{Value: Some("x")}}}}}}}}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		var s Strset
		if s.UnmarshalAttrs(msg) != nil || s.Stringsets == nil {
			return
		}
		for _, set := range s.Stringsets.Stringset {
			names, err := set.names()
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("names: %v", err)
				}
				continue
			}
			sent := 0
			for _, ss := range set.Strings {
				sent += len(ss.StringAttr)
			}
			if len(names) > sent {
				t.Fatalf("%d names from %d strings", len(names), sent)
			}
		}
	})
}

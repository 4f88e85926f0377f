package ethtool

import (
	"errors"
	"slices"
	"testing"
)

// TestStringsetNames lays out strset-get replies, well formed and not.
func TestStringsetNames(t *testing.T) {
	str := func(i uint32, v string) String { return String{Index: Some(i), Value: Some(v)} }
	for _, tc := range []struct {
		name    string
		set     Stringset
		want    []string
		wantErr string
	}{
		{"in order", Stringset{ID: Some[uint32](4), Count: Some[uint32](2),
			Strings: []Strings{{StringAttr: []String{str(0, "a"), str(1, "b")}}}}, []string{"a", "b"}, ""},
		{"out of order, split over nests", Stringset{ID: Some[uint32](4), Count: Some[uint32](3),
			Strings: []Strings{{StringAttr: []String{str(2, "c")}}, {StringAttr: []String{str(0, "a"), str(1, "")}}}},
			[]string{"a", "", "c"}, ""},
		{"no count", Stringset{ID: Some[uint32](4),
			Strings: []Strings{{StringAttr: []String{str(1, "b"), str(0, "a")}}}}, []string{"a", "b"}, ""},
		{"empty", Stringset{ID: Some[uint32](4), Count: Some[uint32](0)}, []string{}, ""},
		{"count larger than the strings", Stringset{ID: Some[uint32](4), Count: Some[uint32](1 << 31),
			Strings: []Strings{{StringAttr: []String{str(0, "a")}}}},
			nil, "ethtool: malformed reply: string set 4: count 2147483648, but 1 strings sent"},
		{"index past the count", Stringset{ID: Some[uint32](9), Count: Some[uint32](1),
			Strings: []Strings{{StringAttr: []String{str(1, "b")}}}},
			nil, `ethtool: malformed reply: string set 9: string "b" has index 1, outside the set's 1 strings`},
		{"no index", Stringset{ID: Some[uint32](9),
			Strings: []Strings{{StringAttr: []String{{Value: Some("b")}}}}},
			nil, `ethtool: malformed reply: string set 9: string "b" has no index`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.set.names()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (!errors.Is(err, ErrMalformed) || err.Error() != tc.wantErr):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("names = %q, want %q", got, tc.want)
			}
		})
	}
}

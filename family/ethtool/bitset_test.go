package ethtool_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/ethtool"
	"golang.org/x/sys/unix"
)

// compact lays out 32-bit words in host byte order, as a compact bitset's
// value and mask.
func compact(ws ...uint32) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.NativeEndian.AppendUint32(b, w)
	}
	return b
}

// verbose returns the bit list of a verbose bitset.
func verbose(bits ...ethtool.BitsetBit) *ethtool.BitsetBits {
	return &ethtool.BitsetBits{Bit: bits}
}

func named(index uint32, name string, value bool) ethtool.BitsetBit {
	return ethtool.BitsetBit{Index: ethtool.Some(index), Name: ethtool.Some(name), Value: value}
}

func TestBitsetValues(t *testing.T) {
	names := []string{"a", "b", "c", "", "e"}
	for _, tc := range []struct {
		name  string
		b     *ethtool.Bitset
		names []string
		want  map[string]bool
	}{
		{"nil", nil, names, map[string]bool{}},
		{"empty", &ethtool.Bitset{}, names, map[string]bool{}},
		{"verbose", &ethtool.Bitset{Size: ethtool.Some[uint32](5), Bits: verbose(
			named(0, "a", true), named(2, "c", false), named(4, "e", true),
		)}, nil, map[string]bool{"a": true, "c": false, "e": true}},
		{"verbose nomask ignores the value flag", &ethtool.Bitset{Nomask: true, Bits: verbose(
			named(1, "b", false), named(4, "e", true),
		)}, nil, map[string]bool{"b": true, "e": true}},
		{"verbose empty", &ethtool.Bitset{Nomask: true, Bits: verbose()}, names, map[string]bool{}},
		{"verbose bit without a name takes names[index]", &ethtool.Bitset{Bits: verbose(
			ethtool.BitsetBit{Index: ethtool.Some[uint32](1), Value: true},
			ethtool.BitsetBit{Index: ethtool.Some[uint32](9), Value: true}, // past names
			ethtool.BitsetBit{Index: ethtool.Some[uint32](3), Value: true}, // names[3] is ""
			ethtool.BitsetBit{Value: true},                                 // neither index nor name
		)}, names, map[string]bool{"b": true}},
		{"verbose names win over names", &ethtool.Bitset{Bits: verbose(named(0, "x", true))},
			names, map[string]bool{"x": true}},
		{"compact", &ethtool.Bitset{Size: ethtool.Some[uint32](5),
			Value: compact(0b00101), Mask: compact(0b10111)},
			names, map[string]bool{"a": true, "b": false, "c": true, "e": false}},
		{"compact nomask", &ethtool.Bitset{Nomask: true, Size: ethtool.Some[uint32](5),
			Value: compact(0b10010)},
			names, map[string]bool{"b": true, "e": true}},
		{"compact nomask ignores a mask", &ethtool.Bitset{Nomask: true, Size: ethtool.Some[uint32](5),
			Value: compact(0b00001), Mask: compact(0b11111)},
			names, map[string]bool{"a": true}},
		{"compact missing mask covers nothing", &ethtool.Bitset{Size: ethtool.Some[uint32](5),
			Value: compact(0b11111)},
			names, map[string]bool{}},
		{"compact without names", &ethtool.Bitset{Size: ethtool.Some[uint32](5),
			Value: compact(1), Mask: compact(1)},
			nil, map[string]bool{}},
		{"compact bits past the names", &ethtool.Bitset{Size: ethtool.Some[uint32](64),
			Value: compact(1<<31|1, 1), Mask: compact(1<<31|1, 1)},
			names, map[string]bool{"a": true}},
		{"compact bits past the size", &ethtool.Bitset{Size: ethtool.Some[uint32](2),
			Value: compact(0b111), Mask: compact(0b111)},
			names, map[string]bool{"a": true, "b": true}},
		{"compact names past the words", &ethtool.Bitset{Size: ethtool.Some[uint32](40),
			Value: compact(0), Mask: compact(0b11)},
			append(slices.Repeat([]string{"x"}, 39), "y"), map[string]bool{"x": false}},
		{"compact short value reads as zeros", &ethtool.Bitset{Size: ethtool.Some[uint32](33),
			Value: compact(0), Mask: compact(0, 1)},
			slices.Repeat([]string{""}, 32), map[string]bool{}},
		{"compact without size", &ethtool.Bitset{Value: compact(0b10), Mask: compact(0b11)},
			names, map[string]bool{"a": false, "b": true}},
		{"compact truncated word", &ethtool.Bitset{Size: ethtool.Some[uint32](5),
			Value: []byte{0xff, 0xff}, Mask: []byte{0xff, 0xff}},
			names, map[string]bool{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.b.Values(tc.names); !maps.Equal(got, tc.want) || got == nil {
				t.Errorf("Values = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewBitset(t *testing.T) {
	got := ethtool.NewBitset(map[string]bool{"rx-gro": false, "rx-checksum": true})
	want := &ethtool.Bitset{Bits: verbose(
		ethtool.BitsetBit{Name: ethtool.Some("rx-checksum"), Value: true},
		ethtool.BitsetBit{Name: ethtool.Some("rx-gro")},
	)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NewBitset = %+v, want %+v", got, want)
	}
	if v := got.Values(nil); !maps.Equal(v, map[string]bool{"rx-gro": false, "rx-checksum": true}) {
		t.Errorf("NewBitset(...).Values = %v", v)
	}

	got = ethtool.NewBitsetNomask("b", "a")
	want = &ethtool.Bitset{Nomask: true, Bits: verbose(
		ethtool.BitsetBit{Name: ethtool.Some("b")},
		ethtool.BitsetBit{Name: ethtool.Some("a")},
	)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NewBitsetNomask = %+v, want %+v", got, want)
	}
	if v := got.Values(nil); !maps.Equal(v, map[string]bool{"a": true, "b": true}) {
		t.Errorf("NewBitsetNomask(...).Values = %v", v)
	}

	// Empty requests are still verbose bitsets: no bits changed, or (with
	// Nomask) every bit off.
	if b := ethtool.NewBitset(nil); b.Bits == nil || len(b.Bits.Bit) != 0 || b.Nomask {
		t.Errorf("NewBitset(nil) = %+v", b)
	}
	if b := ethtool.NewBitsetNomask(); b.Bits == nil || len(b.Bits.Bit) != 0 || !b.Nomask {
		t.Errorf("NewBitsetNomask() = %+v", b)
	}
}

// bothForms calls get for device dev twice: with verbose bitsets (the
// default), then with compact ones (ETHTOOL_FLAG_COMPACT_BITSETS).
func bothForms[R any](t *testing.T, dev string, get func(*ethtool.Header) (R, error)) (verbose, compact R) {
	t.Helper()
	verbose, err := get(header(dev))
	if err != nil {
		t.Fatal(err)
	}
	h := header(dev)
	h.Flags = ethtool.Some(ethtool.HeaderFlagsCompactBitsets)
	if compact, err = get(h); err != nil {
		t.Fatal(err)
	}
	return verbose, compact
}

// TestBitsetForms asks for a veth's features and link modes once verbose and
// once compact (ETHTOOL_FLAG_COMPACT_BITSETS), names the compact bitsets
// from their string sets, and checks that both forms say the same.
func TestBitsetForms(t *testing.T) {
	ns, c, ctx := setup(t)
	v := ns.AddVeths(t, "b", 1)[0]
	getFeatures := func(h *ethtool.Header) (*ethtool.Features, error) {
		return c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: h})
	}
	fv, fc := bothForms(t, v.Name, getFeatures)
	names, err := c.StringSet(ctx, header(v.Name), ethtool.StringsetFeatures)
	if err != nil {
		t.Fatal(err)
	}
	if fc.Hw == nil || fc.Hw.Bits != nil || int(fc.Hw.Size.Value) != len(names) {
		t.Fatalf("compact hw: %+v, want a compact bitset of %d bits", fc.Hw, len(names))
	}
	// The features set is global: the same without a device.
	if global, err := c.StringSet(ctx, nil, ethtool.StringsetFeatures); err != nil || !slices.Equal(global, names) {
		t.Errorf("global features string set: %v, %v; want %v", global, err, names)
	}
	for _, f := range []struct {
		name             string
		verbose, compact *ethtool.Bitset
	}{
		{"hw", fv.Hw, fc.Hw},
		{"wanted", fv.Wanted, fc.Wanted},
		{"active", fv.Active, fc.Active},
		{"nochange", fv.Nochange, fc.Nochange},
	} {
		if f.verbose == nil || f.verbose.Bits == nil {
			t.Errorf("verbose %s: %+v, want a verbose bitset", f.name, f.verbose)
		}
		want, got := f.verbose.Values(nil), f.compact.Values(names)
		if !maps.Equal(got, want) {
			t.Errorf("%s: compact %v, verbose %v", f.name, got, want)
		}
	}
	if a := fc.Active.Values(names); !a["rx-checksum"] || !fc.Hw.Values(names)["tx-checksum-ip-generic"] {
		t.Errorf("veth features: active %v", a)
	}

	lv, lc := bothForms(t, v.Name, func(h *ethtool.Header) (*ethtool.Linkmodes, error) {
		return c.LinkmodesGet(ctx, &ethtool.LinkmodesGetRequest{Header: h})
	})
	modes, err := c.StringSet(ctx, nil, ethtool.StringsetLinkModes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(modes, "10000baseT/Full") {
		t.Errorf("link modes string set lacks 10000baseT/Full: %v", modes)
	}
	if got, want := lc.Ours.Values(modes), lv.Ours.Values(nil); !maps.Equal(got, want) {
		t.Errorf("link modes: compact %v, verbose %v", got, want)
	}

	// A set request from NewBitset, seen in the reply's "active" (the
	// features that changed, verbose) and in a compact get.
	rep, err := c.FeaturesSet(ctx, &ethtool.FeaturesSetRequest{
		Header: header(v.Name),
		Wanted: ethtool.NewBitset(map[string]bool{"rx-checksum": false}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Active.Values(nil); !maps.Equal(got, map[string]bool{"rx-checksum": false}) {
		t.Errorf("features-set changed %v, want rx-checksum off", got)
	}
	_, fc = bothForms(t, v.Name, getFeatures)
	if on, ok := fc.Active.Values(names)["rx-checksum"]; on || ok {
		t.Errorf("rx-checksum still active after features-set")
	}
}

func TestStringSetErrors(t *testing.T) {
	_, c, ctx := setup(t)
	_, err := c.StringSet(ctx, header("nosuchdev"), ethtool.StringsetFeatures)
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("StringSet on a missing device: %v, want ENODEV", err)
	}
	t.Logf("missing device: %v", err)
}

// Name the bits of a compact bitset, as a features-ntf notification carries
// them, with the feature names from the features string set; and build a
// request that changes two features.
func ExampleBitset_Values() {
	// names would come from c.StringSet(ctx, nil, ethtool.StringsetFeatures).
	names := []string{"tx-scatter-gather", "tx-checksum-ipv4", "tx-checksum-ip-generic"}
	value := attrs.NewBitmap(3) // the compact layout: 32-bit words
	_ = value.Set(0, true)
	_ = value.Set(2, true)
	active := &ethtool.Bitset{Nomask: true, Size: ethtool.Some[uint32](3), Value: value}
	on := active.Values(names)
	for _, name := range names {
		fmt.Printf("%s: %v\n", name, on[name])
	}

	req := ethtool.NewBitset(map[string]bool{"rx-gro": false, "rx-checksum": true})
	for _, bit := range req.Bits.Bit {
		fmt.Printf("set %s %v\n", bit.Name.Value, bit.Value)
	}
	// Output:
	// tx-scatter-gather: true
	// tx-checksum-ipv4: false
	// tx-checksum-ip-generic: true
	// set rx-checksum true
	// set rx-gro false
}

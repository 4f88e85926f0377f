package kitchen_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/cmd/genlgen/internal/testfamily/kitchen"
	"github.com/google/go-cmp/cmp"
)

// The fixtures below are built by hand with attrs.Encoder, attribute by
// attribute in spec order, independently of the generated encoder: the
// generated code must decode them into the expected values and encode those
// values back to the same bytes.

func innerFixture(e *attrs.Encoder, id uint32, label string, flag bool, deep uint16) {
	e.U32(1, id)
	e.String(2, label)
	if flag {
		e.Flag(3)
	}
	n := e.Nest(5)
	e.U16(1, deep)
	e.End(n)
}

func innerValue(id uint32, label string, flag bool, deep uint16) kitchen.InnerSet {
	return kitchen.InnerSet{
		ID: kitchen.Some(id), Label: kitchen.Some(label), FlagX: flag,
		Deep: &kitchen.Leaf{V: kitchen.Some(deep)},
	}
}

func mainFixture() []byte {
	var e attrs.Encoder
	e.U8(1, 0xfe)
	e.U16(2, 0xfedc)
	e.U32(3, 42)
	e.U64(4, 1<<40+7)
	e.S8(5, -8)
	e.S16(6, -1600)
	e.S32(7, -320000)
	e.S64(8, -1<<50)
	e.Uint(9, 1<<33)
	e.Sint(10, -5)
	e.U16BE(11, 0x1234)
	e.U32BE(12, 0x12345678)
	e.U64BE(13, 0x0102030405060708)
	e.U32BE(14, uint32(0xfffffffe)) // -2
	p := e.Reserve(15, 4)
	binary.LittleEndian.PutUint32(p, 0xa1b2c3d4)
	p = e.Reserve(16, 8)
	binary.LittleEndian.PutUint64(p, uint64(0xffffffffffffff00)) // -256
	p = e.Reserve(17, 4)                                         // uint, big-endian, fits 32 bits
	binary.BigEndian.PutUint32(p, 77)
	e.String(18, "kitchen")
	e.String(19, "unterm")
	e.Binary(20, bytes.Repeat([]byte{0xab}, 32))
	e.Binary(21, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	e.Flag(22)
	e.Bitfield32(23, attrs.Bitfield32{Value: 0b101, Selector: 0b111})
	e.U32(24, 10)           // blue
	e.U32(25, 1|1<<31)      // read|exec
	e.U64(26, 1|1<<40)      // low|high
	e.U32(27, 1<<2)         // reload
	e.U8(28, 1|4)           // svc_export|ipv4-only
	e.U32(29, 0xffffffff)   // minus-one
	e.U32BE(30, 0xc0a80001) // 192.168.0.1
	e.Binary(31, netip.MustParseAddr("2001:db8::1").AsSlice())
	e.Binary(32, []byte{10, 0, 0, 1})
	e.Binary(33, []byte{127, 0, 0, 1})
	e.Binary(34, []byte{0x02, 0, 0, 0, 0, 0x01})
	p = e.Reserve(35, 16)
	binary.NativeEndian.PutUint64(p, 1700000000)
	binary.NativeEndian.PutUint64(p[8:], 999)
	p = e.Reserve(36, 40) // outer: inner(8) name[8] raw[4] e(8) color(4) le(8)
	p[0], p[1] = 7, 0xf9  // a=7, b=-7
	binary.LittleEndian.PutUint16(p[2:], 0x0102)
	binary.BigEndian.PutUint32(p[4:], uint32(0xfffffff6)) // d=-10
	copy(p[8:], "outer")
	copy(p[16:], []byte{9, 8, 7, 6})
	binary.NativeEndian.PutUint64(p[20:], uint64(0xffffffffffffff9c)) // e=-100
	binary.NativeEndian.PutUint32(p[28:], 2)                          // green
	binary.LittleEndian.PutUint64(p[32:], 0x1122334455667788)
	p = e.Reserve(37, 8)
	binary.NativeEndian.PutUint32(p, 1)
	binary.NativeEndian.PutUint32(p[4:], 2)
	p = e.Reserve(38, 4)
	binary.BigEndian.PutUint16(p, 0xffff) // -1
	binary.BigEndian.PutUint16(p[2:], 300)
	p = e.Reserve(39, 16)
	binary.NativeEndian.PutUint64(p, 1)
	binary.NativeEndian.PutUint64(p[8:], 11)
	n := e.Nest(40)
	innerFixture(&e, 1, "one", true, 11)
	e.End(n)
	for i := range 2 {
		n := e.Nest(41)
		innerFixture(&e, uint32(10+i), "many", false, uint16(i))
		e.End(n)
	}
	e.U32(42, 5)
	e.U32(42, 6)
	e.String(43, "a")
	e.String(43, "")
	e.Binary(44, []byte{1})
	e.Binary(44, []byte{})
	e.Binary(45, netip.MustParseAddr("::1").AsSlice())
	p = e.Reserve(46, 8)
	p[0] = 1
	p = e.Reserve(46, 8)
	p[0] = 2
	e.U8(47, 1)
	e.U8(47, 11)
	n = e.Nest(48)
	for i := range 2 {
		m := e.Nest(uint16(i))
		innerFixture(&e, uint32(20+i), "idx", i == 1, 3)
		e.End(m)
	}
	e.End(n)
	n = e.Nest(49)
	e.U16(0, 100)
	e.U16(1, 200)
	e.End(n)
	n = e.Nest(50)
	e.String(0, "x")
	e.String(1, "y")
	e.End(n)
	n = e.Nest(51) // ntv: policy 3, attr 4
	m := e.Nest(3)
	k := e.Nest(4)
	innerFixture(&e, 34, "ntv", false, 1)
	e.End(k)
	e.End(m)
	e.End(n)
	n = e.Nest(51) // a second entry in its own outer nest
	m = e.Nest(5)
	k = e.Nest(6)
	e.U32(1, 56)
	e.End(k)
	e.End(m)
	e.End(n)
	n = e.Nest(52)
	m = e.Nest(9)
	e.U16(1, 99)
	e.End(m)
	e.End(n)
	n = e.Nest(53) // ethtool's stat: a nest holding one u64 typed by its id
	e.U64(7, 700)
	e.End(n)
	n = e.Nest(53)
	e.U64(8, 800)
	e.End(n)
	n = e.Nest(54)
	e.U32(1, 1)
	m = e.Nest(2)
	e.U32(1, 2)
	e.End(m)
	m = e.Nest(3)
	e.U32(1, 3)
	e.End(m)
	m = e.Nest(3)
	e.End(m)
	e.End(n)
	n = e.Nest(55)
	e.U32(1, 55)
	e.String(2, "sub")
	e.End(n)
	e.U32(100, 1000)
	if err := e.Err(); err != nil {
		panic(err)
	}
	return e.Bytes()
}

func mainValue() *kitchen.Main {
	return &kitchen.Main{
		U8Val:      kitchen.Some[uint8](0xfe),
		U16Val:     kitchen.Some[uint16](0xfedc),
		U32Val:     kitchen.Some[uint32](42),
		U64Val:     kitchen.Some[uint64](1<<40 + 7),
		S8Val:      kitchen.Some[int8](-8),
		S16Val:     kitchen.Some[int16](-1600),
		S32Val:     kitchen.Some[int32](-320000),
		S64Val:     kitchen.Some[int64](-1 << 50),
		UintVal:    kitchen.Some[uint64](1 << 33),
		SintVal:    kitchen.Some[int64](-5),
		Be16:       kitchen.Some[uint16](0x1234),
		Be32:       kitchen.Some[uint32](0x12345678),
		Be64:       kitchen.Some[uint64](0x0102030405060708),
		Bes32:      kitchen.Some[int32](-2),
		Le32:       kitchen.Some[uint32](0xa1b2c3d4),
		Les64:      kitchen.Some[int64](-256),
		Beuint:     kitchen.Some[uint64](77),
		Name:       kitchen.Some("kitchen"),
		NameUnterm: kitchen.Some("unterm"),
		Blob:       bytes.Repeat([]byte{0xab}, 32),
		UUID:       []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		On:         true,
		Bf:         kitchen.Some(attrs.Bitfield32{Value: 0b101, Selector: 0b111}),
		Color:      kitchen.Some(kitchen.ColorBlue),
		Perms:      kitchen.Some(kitchen.PermRead | kitchen.PermExec),
		Big:        kitchen.Some(kitchen.BigFlagsLow | kitchen.BigFlagsHigh),
		Acts:       kitchen.Some(kitchen.ActionReload.Mask()),
		Odd:        kitchen.Some(kitchen.OddNamesSvcExport | kitchen.OddNamesIPv4Only),
		Sgn:        kitchen.Some(kitchen.SignedEnumMinusOne),
		Addr4:      netip.MustParseAddr("192.168.0.1"),
		Addr6:      netip.MustParseAddr("2001:db8::1"),
		Addr:       netip.MustParseAddr("10.0.0.1"),
		Addr4Bin:   netip.MustParseAddr("127.0.0.1"),
		MAC:        net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01},
		Ts:         kitchen.Some(kitchen.KernelTimespec{Sec: 1700000000, Nsec: 999}),
		Outer: kitchen.Some(kitchen.Outer{
			In:   kitchen.Inner{A: 7, B: -7, C: 0x0102, D: -10},
			Name: "outer", Raw: [4]byte{9, 8, 7, 6}, E: -100, Color: kitchen.ColorGreen,
			Le: 0x1122334455667788,
		}),
		U32Array:    []uint32{1, 2},
		S16Array:    []int16{-1, 300},
		ColorArray:  []kitchen.Color{kitchen.ColorRed, kitchen.ColorCyan},
		Nest:        ptr(innerValue(1, "one", true, 11)),
		Nests:       []kitchen.InnerSet{innerValue(10, "many", false, 0), innerValue(11, "many", false, 1)},
		MultiU32:    []uint32{5, 6},
		MultiStr:    []string{"a", ""},
		MultiBin:    [][]byte{{1}, {}},
		MultiAddr:   []netip.Addr{netip.MustParseAddr("::1")},
		MultiStruct: []kitchen.Inner{{A: 1}, {A: 2}},
		MultiColor:  []kitchen.Color{kitchen.ColorRed, kitchen.ColorCyan},
		IdxNest:     []kitchen.InnerSet{innerValue(20, "idx", false, 3), innerValue(21, "idx", true, 3)},
		IdxU16:      []uint16{100, 200},
		IdxStr:      []string{"x", "y"},
		Ntv: []kitchen.MainNtvEntry{
			{OuterID: 3, InnerID: 4, Attrs: innerValue(34, "ntv", false, 1)},
			{OuterID: 5, InnerID: 6, Attrs: kitchen.InnerSet{ID: kitchen.Some[uint32](56)}},
		},
		Ntv1: []kitchen.MainNtv1Entry{{Key: 9, Attrs: kitchen.Leaf{V: kitchen.Some[uint16](99)}}},
		Stat: []kitchen.MainStatEntry{{ID: 7, Value: 700}, {ID: 8, Value: 800}},
		Tree: &kitchen.Tree{
			Value:    kitchen.Some[uint32](1),
			Child:    &kitchen.Tree{Value: kitchen.Some[uint32](2)},
			Children: []kitchen.Tree{{Value: kitchen.Some[uint32](3)}, {}},
		},
		Subset: &kitchen.InnerSubset{ID: kitchen.Some[uint32](55), Label: kitchen.Some("sub")},
		Far:    kitchen.Some[uint32](1000),
	}
}

func ptr[T any](v T) *T { return &v }

func TestMainDecode(t *testing.T) {
	var got kitchen.Main
	if err := got.UnmarshalAttrs(mainFixture()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(mainValue(), &got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("decoded value (-want +got):\n%s", diff)
	}
}

func TestMainEncode(t *testing.T) {
	var e attrs.Encoder
	if err := mainValue().MarshalAttrs(&e); err != nil {
		t.Fatal(err)
	}
	want := mainFixture()
	if !bytes.Equal(e.Bytes(), want) {
		t.Errorf("encoding differs from the fixture at byte %d\n got  %x\n want %x", firstDiff(e.Bytes(), want), e.Bytes(), want)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestAbsentVsZero checks that a zero value is encoded when it is present
// and nothing when it is absent.
func TestAbsentVsZero(t *testing.T) {
	var e attrs.Encoder
	v := kitchen.Main{U32Val: kitchen.Some[uint32](0), Name: kitchen.Some(""), Blob: []byte{}}
	if err := v.MarshalAttrs(&e); err != nil {
		t.Fatal(err)
	}
	var want attrs.Encoder
	want.U32(3, 0)
	want.String(18, "")
	want.Binary(20, nil)
	if !bytes.Equal(e.Bytes(), want.Bytes()) {
		t.Fatalf("got %x, want %x", e.Bytes(), want.Bytes())
	}
	var got kitchen.Main
	if err := got.UnmarshalAttrs(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if !got.U32Val.Valid || got.U32Val.Value != 0 || !got.Name.Valid || got.Blob == nil {
		t.Errorf("present zero values decoded as absent: %+v", got)
	}
	if got.U8Val.Valid || got.Nest != nil || got.MultiU32 != nil || got.Addr4.IsValid() || got.On {
		t.Errorf("absent attributes decoded as present: %+v", got)
	}
	var empty attrs.Encoder
	if err := (&kitchen.Main{}).MarshalAttrs(&empty); err != nil || len(empty.Bytes()) != 0 {
		t.Errorf("zero value encodes to %x, %v", empty.Bytes(), err)
	}
}

// TestUnknownSkipped: attributes the spec does not define, at any level,
// are skipped.
func TestUnknownSkipped(t *testing.T) {
	var e attrs.Encoder
	e.U32(3, 9)
	e.String(99, "from a newer kernel")
	n := e.Nest(40)
	e.U64(77, 1)
	e.U32(1, 4)
	e.End(n)
	e.Binary(0, []byte{1, 2, 3})
	var got kitchen.Main
	if err := got.UnmarshalAttrs(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if got.U32Val.Value != 9 || got.Nest == nil || got.Nest.ID.Value != 4 {
		t.Errorf("got %+v", got)
	}
}

// TestMalformed: a malformed attribute is an error with the attribute's
// path, deep inside nests too.
func TestMalformed(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(e *attrs.Encoder)
		path  string
		kind  error
	}{
		{"short u32", func(e *attrs.Encoder) { e.U16(3, 1) }, "u32-val", attrs.ErrBadLength},
		{"nested", func(e *attrs.Encoder) {
			n := e.Nest(41)
			m := e.Nest(5)
			e.U8(1, 1)
			e.End(m)
			e.End(n)
		}, "nests.deep.v", attrs.ErrBadLength},
		{"indexed", func(e *attrs.Encoder) {
			n := e.Nest(48)
			m := e.Nest(0)
			e.U8(1, 1)
			e.End(m)
			e.End(n)
		}, "idx-nest.0.id", attrs.ErrBadLength},
		{"struct", func(e *attrs.Encoder) { e.Binary(35, nil) }, "ts", attrs.ErrBadLength},
		{"array", func(e *attrs.Encoder) { e.Binary(37, []byte{1, 2, 3}) }, "u32-array", attrs.ErrBadLength},
		{"ipv6", func(e *attrs.Encoder) { e.Binary(31, []byte{1, 2, 3, 4}) }, "addr6", attrs.ErrBadLength},
		{"flag", func(e *attrs.Encoder) { e.U8(22, 1) }, "on", attrs.ErrBadLength},
		{"little-endian", func(e *attrs.Encoder) { e.U8(15, 1) }, "le32", attrs.ErrBadLength},
	} {
		t.Run(c.name, func(t *testing.T) {
			var e attrs.Encoder
			c.build(&e)
			var v kitchen.Main
			err := v.UnmarshalAttrs(e.Bytes())
			var ae *attrs.Error
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an *attrs.Error", err)
			}
			if ae.Path != c.path || !errors.Is(err, c.kind) {
				t.Errorf("got path %q (%v), want %q (%v)", ae.Path, err, c.path, c.kind)
			}
		})
	}
	// A truncated buffer.
	var v kitchen.Main
	if err := v.UnmarshalAttrs([]byte{8, 0, 3}); !errors.Is(err, attrs.ErrTruncated) {
		t.Errorf("truncated: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	var e attrs.Encoder
	err := (&kitchen.Main{Addr4: netip.MustParseAddr("::2")}).MarshalAttrs(&e)
	var ae *attrs.Error
	if !errors.As(err, &ae) || ae.Path != "addr4" || !strings.Contains(err.Error(), "not IPv4") {
		t.Errorf("IPv6 address in an IPv4 attribute: %v", err)
	}
	e = attrs.Encoder{}
	v := kitchen.Main{Outer: kitchen.Some(kitchen.Outer{Name: "much too long"})}
	if err := v.MarshalAttrs(&e); !errors.As(err, &ae) || ae.Path != "outer.name" || !errors.Is(err, attrs.ErrTooLong) {
		t.Errorf("string too long for its struct member: %v", err)
	}
	// An IPv4-mapped IPv6 address is fine for an IPv4 attribute.
	e = attrs.Encoder{}
	if err := (&kitchen.Main{Addr4: netip.MustParseAddr("::ffff:1.2.3.4")}).MarshalAttrs(&e); err != nil {
		t.Error(err)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, c := range []struct {
		v    interface{ String() string }
		want string
	}{
		{kitchen.ColorBlue, "blue"},
		{kitchen.Color(3), "Color(3)"},
		{kitchen.SignedEnumMinusOne, "minus-one"},
		{kitchen.SignedEnum(-7), "SignedEnum(-7)"},
		{kitchen.PermRead | kitchen.PermExec, "read|exec"},
		{kitchen.Perm(0), "0"},
		{kitchen.PermWrite | kitchen.Perm(1<<4), "write|0x10"},
		{kitchen.BigFlagsHigh, "high"},
		{kitchen.OddNamesSvcExport, "svc_export"},
		{kitchen.ActionStop.Mask() | kitchen.ActionReload.Mask(), "stop|reload"},
		{kitchen.EmptyEnum(0), "EmptyEnum(0)"},
		{kitchen.Some(kitchen.ColorRed), "red"},
		{kitchen.Optional[uint8]{}, "<absent>"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.v, got, c.want)
		}
	}
	if !kitchen.ActionMask(4).Has(kitchen.ActionReload) || kitchen.ActionMask(4).Has(kitchen.ActionStart) {
		t.Error("ActionMask.Has")
	}
	// Flags values are bit numbers; enums count from value-start.
	if kitchen.PermExec != 1<<31 || kitchen.ColorRed != 1 || kitchen.ColorCyan != 11 {
		t.Error("enum values")
	}
}

func TestStructBinary(t *testing.T) {
	h := kitchen.KtHeader{Ifindex: 5, Flags: 0x0102}
	b, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 8)
	binary.NativeEndian.PutUint32(want, 5)
	binary.BigEndian.PutUint16(want[4:], 0x0102)
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x, want %x", b, want)
	}
	var back kitchen.KtHeader
	if err := back.UnmarshalBinary(b); err != nil || back != h {
		t.Errorf("got %+v, %v", back, err)
	}
	if err := back.UnmarshalBinary(nil); !errors.Is(err, attrs.ErrBadLength) {
		t.Errorf("empty struct: %v", err)
	}
}

// TestStructVersions: a struct payload shorter than the struct (an older
// version) decodes the members it holds completely and zeroes the others;
// a longer one (a newer version) decodes the known members. WireLen says
// which, and encoding writes that length back.
func TestStructVersions(t *testing.T) {
	h := kitchen.KtHeader{Ifindex: 5, Flags: 0x0102, Pad: 7}
	full, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want kitchen.KtHeader
	}{
		{"exact", full, h},
		{"member cut", full[:5], kitchen.KtHeader{Ifindex: 5, WireLen: 5}},
		{"members complete", full[:6], kitchen.KtHeader{Ifindex: 5, Flags: 0x0102, WireLen: 6}},
		{"newer", append(bytes.Clone(full), 1, 2, 3), kitchen.KtHeader{Ifindex: 5, Flags: 0x0102, Pad: 7, WireLen: 11}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := kitchen.KtHeader{Ifindex: 99, Flags: 99, Pad: 99}
			if err := got.UnmarshalBinary(c.b); err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
			b, err := got.MarshalBinary()
			if err != nil || len(b) != len(c.b) {
				t.Fatalf("re-encoded %x (%v), want %d bytes", b, err, len(c.b))
			}
		})
	}
	// Attribute encoding keeps the length too: 8 bytes of a 16-byte
	// timespec carry sec only.
	var e attrs.Encoder
	m := kitchen.Main{Ts: kitchen.Some(kitchen.KernelTimespec{Sec: 1, Nsec: 2, WireLen: 8})}
	if err := m.MarshalAttrs(&e); err != nil {
		t.Fatal(err)
	}
	var back kitchen.Main
	if err := back.UnmarshalAttrs(e.Bytes()); err != nil || back.Ts.Value != (kitchen.KernelTimespec{Sec: 1, WireLen: 8}) {
		t.Fatalf("attribute round trip: %+v, %v", back.Ts, err)
	}
}

// TestDecodeAllocs: decoding allocates the returned values and nothing
// else; repeated attributes are counted first, so that each slice is
// allocated once.
func TestDecodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	var e attrs.Encoder
	for i := range 5 {
		n := e.Nest(1)
		e.U16(1, uint16(i))
		e.End(n)
		e.U32(2, uint32(i))
	}
	n := e.Nest(3)
	e.U16(1, 9)
	e.End(n)
	b := e.Bytes()
	var v kitchen.Counted
	allocs := testing.AllocsPerRun(100, func() {
		if err := v.UnmarshalAttrs(b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 3 {
		t.Errorf("UnmarshalAttrs: %v allocs, want 3 (two slices and a nest)", allocs)
	}
	if len(v.Items) != 5 || len(v.Nums) != 5 || v.Items[4].V.Value != 4 || v.One.V.Value != 9 {
		t.Errorf("got %+v", v)
	}
}

var raceEnabled bool

// TestExtraKeepsRepeatsAndUnknowns: a second occurrence of a single-valued
// attribute and an attribute of a type the set does not define are kept in
// Extra, raw and in wire order, and encoded back after the fields.
func TestExtraKeepsRepeatsAndUnknowns(t *testing.T) {
	var e attrs.Encoder
	n := e.Nest(3) // one
	e.U16(1, 1)
	e.End(n)
	e.U32(2, 5)   // nums
	e.U64(99, 42) // unknown type
	n = e.Nest(3) // one again
	e.U16(1, 2)
	e.End(n)
	msg := bytes.Clone(e.Bytes())
	var v kitchen.Counted
	if err := v.UnmarshalAttrs(msg); err != nil {
		t.Fatal(err)
	}
	if v.One == nil || v.One.V.Value != 1 {
		t.Fatalf("one = %+v, want the first occurrence", v.One)
	}
	if len(v.Extra) != 2 || v.Extra[0].Type != 99 || v.Extra[1].Type != 3 || !v.Extra[1].Nested() {
		t.Fatalf("extra = %+v, want the unknown attribute then the second nest", v.Extra)
	}
	var out attrs.Encoder
	if err := v.MarshalAttrs(&out); err != nil {
		t.Fatal(err)
	}
	// Fields first (in spec order), then Extra in wire order.
	var want attrs.Encoder
	want.U32(2, 5)
	n = want.Nest(3)
	want.U16(1, 1)
	want.End(n)
	want.U64(99, 42)
	n = want.Nest(3)
	want.U16(1, 2)
	want.End(n)
	if !bytes.Equal(out.Bytes(), want.Bytes()) {
		t.Errorf("encoded % x\nwant    % x", out.Bytes(), want.Bytes())
	}
}

package attrs_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

// payload returns the payload of the single attribute in b.
func payload(t *testing.T, b []byte) []byte {
	t.Helper()
	d := attrs.NewDecoder(b)
	if !d.Next() {
		t.Fatalf("no attribute in % x (err %v)", b, d.Err())
	}
	return d.Bytes()
}

// one returns a decoder positioned on a single attribute of type 1 holding p.
func one(p []byte, flags uint16) *attrs.Decoder {
	var e attrs.Encoder
	e.Binary(1|flags, p)
	d := attrs.NewDecoder(e.Bytes())
	d.Next()
	return d
}

func hostBytes(v uint64, n int) []byte {
	b := make([]byte, 8)
	binary.NativeEndian.PutUint64(b, v)
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 { // big-endian host
		return b[8-n:]
	}
	return b[:n]
}

func TestUintN(t *testing.T) {
	tests := []struct {
		v    uint64
		size int
		o    attrs.ByteOrder
		want []byte
	}{
		{0xab, 1, attrs.LittleEndian, []byte{0xab}},
		{0xab, 1, attrs.BigEndian, []byte{0xab}},
		{0x1234, 2, attrs.LittleEndian, []byte{0x34, 0x12}},
		{0x1234, 2, attrs.BigEndian, []byte{0x12, 0x34}},
		{0x1234, 2, attrs.HostEndian, hostBytes(0x1234, 2)},
		{0x123456, 3, attrs.BigEndian, []byte{0x12, 0x34, 0x56}},
		{0xdeadbeef, 4, attrs.LittleEndian, []byte{0xef, 0xbe, 0xad, 0xde}},
		{0xdeadbeef, 4, attrs.HostEndian, hostBytes(0xdeadbeef, 4)},
		{0x0102030405060708, 8, attrs.LittleEndian, []byte{8, 7, 6, 5, 4, 3, 2, 1}},
		{0x0102030405060708, 8, attrs.BigEndian, []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{0xffff_1234, 2, attrs.BigEndian, []byte{0x12, 0x34}}, // high bits dropped
	}
	for _, tt := range tests {
		var e attrs.Encoder
		e.UintN(1, tt.v, tt.size, tt.o)
		if e.Err() != nil {
			t.Fatalf("UintN(%#x, %d, %d): %v", tt.v, tt.size, tt.o, e.Err())
		}
		if got := payload(t, e.Bytes()); !bytes.Equal(got, tt.want) {
			t.Errorf("UintN(%#x, %d, %d) = % x, want % x", tt.v, tt.size, tt.o, got, tt.want)
		}
		d := one(tt.want, 0)
		want := tt.v & (1<<(8*tt.size) - 1)
		if tt.size == 8 {
			want = tt.v
		}
		if got := d.UintN(tt.size, tt.o); got != want || d.Err() != nil {
			t.Errorf("Decoder.UintN(%d, %d) of % x = %#x, %v; want %#x", tt.size, tt.o, tt.want, got, d.Err(), want)
		}
		// The same member in a struct.
		buf := make([]byte, tt.size)
		w := attrs.NewStructWriter(buf)
		w.UintN(tt.v, tt.size, tt.o)
		if w.Err() != nil || !bytes.Equal(buf, tt.want) {
			t.Errorf("StructWriter.UintN(%#x, %d, %d) = % x, %v", tt.v, tt.size, tt.o, buf, w.Err())
		}
		r := attrs.NewStructReader(buf)
		if got := r.UintN(tt.size, tt.o); got != want || r.Err() != nil {
			t.Errorf("StructReader.UintN(%d, %d) = %#x, %v; want %#x", tt.size, tt.o, got, r.Err(), want)
		}
	}
}

func TestUintNNetByteOrderFlag(t *testing.T) {
	d := one([]byte{0, 0, 0, 5}, attrs.FlagNetByteOrder)
	if got := d.UintN(4, attrs.HostEndian); got != 5 {
		t.Errorf("host order with NLA_F_NET_BYTEORDER = %#x, want 5", got)
	}
	d = one([]byte{5, 0, 0, 0}, attrs.FlagNetByteOrder)
	if got := d.UintN(4, attrs.LittleEndian); got != 5 {
		t.Errorf("explicit little-endian with NLA_F_NET_BYTEORDER = %#x, want 5", got)
	}
}

func TestUintNErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		size    int
		kind    error
	}{
		{"short", []byte{1, 2, 3}, 4, attrs.ErrBadLength},
		{"long", []byte{1, 2, 3, 4, 5}, 4, attrs.ErrBadLength},
		{"size 0", []byte{}, 0, attrs.ErrInvalid},
		{"size 9", make([]byte, 9), 9, attrs.ErrInvalid},
		{"negative size", nil, -1, attrs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := one(tt.payload, 0)
			d.SetNames([]string{1: "x"})
			if got := d.UintN(tt.size, attrs.LittleEndian); got != 0 {
				t.Errorf("value %#x, want 0", got)
			}
			if !errors.Is(d.Err(), tt.kind) {
				t.Errorf("err %v, want %v", d.Err(), tt.kind)
			}
			var ae *attrs.Error
			if !errors.As(d.Err(), &ae) || ae.Path != "x" {
				t.Errorf("err %v has no path x", d.Err())
			}
			r := attrs.NewStructReader(tt.payload)
			if r.UintN(tt.size, attrs.BigEndian); r.Err() == nil && tt.kind == attrs.ErrInvalid {
				t.Error("StructReader accepted a bad size")
			}
		})
	}
	for _, size := range []int{0, 9, -3} {
		var e attrs.Encoder
		e.UintN(1, 5, size, attrs.BigEndian)
		if !errors.Is(e.Err(), attrs.ErrInvalid) || e.Len() != 0 {
			t.Errorf("Encoder.UintN size %d: err %v, %d bytes", size, e.Err(), e.Len())
		}
		w := attrs.NewStructWriter(make([]byte, 8))
		w.UintN(5, size, attrs.BigEndian)
		if !errors.Is(w.Err(), attrs.ErrInvalid) {
			t.Errorf("StructWriter.UintN size %d: err %v", size, w.Err())
		}
	}
	w := attrs.NewStructWriter(make([]byte, 2))
	w.UintN(5, 4, attrs.LittleEndian)
	if !errors.Is(w.Err(), attrs.ErrTooLong) {
		t.Errorf("StructWriter.UintN overrun: err %v", w.Err())
	}
}

func TestUintSintOrder(t *testing.T) {
	tests := []struct {
		name   string
		signed bool
		v      uint64 // the value, as int64 bits when signed
		o      attrs.ByteOrder
		want   []byte
	}{
		{"u32 big", false, 0x01020304, attrs.BigEndian, []byte{1, 2, 3, 4}},
		{"u32 little", false, 0x01020304, attrs.LittleEndian, []byte{4, 3, 2, 1}},
		{"u32 max", false, 1<<32 - 1, attrs.BigEndian, []byte{0xff, 0xff, 0xff, 0xff}},
		{"u64 big", false, 1 << 32, attrs.BigEndian, []byte{0, 0, 0, 1, 0, 0, 0, 0}},
		{"u64 little", false, 1 << 32, attrs.LittleEndian, []byte{0, 0, 0, 0, 1, 0, 0, 0}},
		{"s32 -1 big", true, 1<<64 - 1, attrs.BigEndian, []byte{0xff, 0xff, 0xff, 0xff}},
		{"s32 min little", true, uint64(1<<64 - 1<<31), attrs.LittleEndian, []byte{0, 0, 0, 0x80}},
		{"s64 big", true, uint64(1<<64 - 1<<31 - 1), attrs.BigEndian, []byte{0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff}},
		{"s64 positive little", true, 1 << 31, attrs.LittleEndian, []byte{0, 0, 0, 0x80, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e attrs.Encoder
			if tt.signed {
				e.SintOrder(1, int64(tt.v), tt.o)
			} else {
				e.UintOrder(1, tt.v, tt.o)
			}
			if got := payload(t, e.Bytes()); !bytes.Equal(got, tt.want) {
				t.Errorf("encoded % x, want % x", got, tt.want)
			}
			d := one(tt.want, 0)
			var got uint64
			if tt.signed {
				got = uint64(d.SintOrder(tt.o))
			} else {
				got = d.UintOrder(tt.o)
			}
			if got != tt.v || d.Err() != nil {
				t.Errorf("decoded %#x, %v; want %#x", got, d.Err(), tt.v)
			}
		})
	}
	for _, n := range []int{0, 2, 5, 16} {
		d := one(make([]byte, n), 0)
		if d.UintOrder(attrs.BigEndian) != 0 || !errors.Is(d.Err(), attrs.ErrBadLength) {
			t.Errorf("UintOrder of %d bytes: err %v", n, d.Err())
		}
		d = one(make([]byte, n), 0)
		if d.SintOrder(attrs.LittleEndian) != 0 || !errors.Is(d.Err(), attrs.ErrBadLength) {
			t.Errorf("SintOrder of %d bytes: err %v", n, d.Err())
		}
	}
}

func TestArrays(t *testing.T) {
	var e attrs.Encoder
	attrs.EncodeArray(&e, 1, []uint16{1, 0x0203}, 2, attrs.BigEndian)
	attrs.EncodeArray(&e, 2, []int32{-2}, 4, attrs.LittleEndian)
	attrs.EncodeArray(&e, 3, []uint8{}, 1, attrs.HostEndian)
	attrs.EncodeArray(&e, 4, []uint64{7, 8}, 8, attrs.HostEndian)
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
	d := attrs.NewDecoder(e.Bytes())
	want := [][]byte{{0, 1, 2, 3}, {0xfe, 0xff, 0xff, 0xff}, {}, append(hostBytes(7, 8), hostBytes(8, 8)...)}
	for i := 0; d.Next(); i++ {
		if !bytes.Equal(d.Bytes(), want[i]) {
			t.Errorf("array %d = % x, want % x", i, d.Bytes(), want[i])
		}
		switch d.Type() {
		case 1:
			if got := attrs.DecodeArray[uint16](d, 2, attrs.BigEndian); len(got) != 2 || got[0] != 1 || got[1] != 0x0203 {
				t.Errorf("u16 array = %v", got)
			}
		case 2:
			if got := attrs.DecodeArray[int32](d, 4, attrs.LittleEndian); len(got) != 1 || got[0] != -2 {
				t.Errorf("s32 array = %v", got)
			}
		case 3:
			if got := attrs.DecodeArray[uint8](d, 1, attrs.HostEndian); got == nil || len(got) != 0 {
				t.Errorf("empty array = %#v, want empty and non-nil", got)
			}
		case 4:
			if got := attrs.DecodeArray[uint64](d, 8, attrs.HostEndian); len(got) != 2 || got[0] != 7 || got[1] != 8 {
				t.Errorf("u64 array = %v", got)
			}
		}
	}
	if d.Err() != nil {
		t.Fatal(d.Err())
	}

	bad := []struct {
		payload []byte
		size    int
		kind    error
	}{
		{[]byte{1, 2, 3}, 2, attrs.ErrBadLength},
		{[]byte{1, 2, 3, 4, 5}, 4, attrs.ErrBadLength},
		{[]byte{1}, 0, attrs.ErrInvalid},
		{[]byte{1}, 16, attrs.ErrInvalid},
	}
	for _, tt := range bad {
		d := one(tt.payload, 0)
		if got := attrs.DecodeArray[uint32](d, tt.size, attrs.BigEndian); got != nil || !errors.Is(d.Err(), tt.kind) {
			t.Errorf("DecodeArray(% x, %d) = %v, %v; want nil, %v", tt.payload, tt.size, got, d.Err(), tt.kind)
		}
	}
	var be attrs.Encoder
	attrs.EncodeArray(&be, 1, []uint32{1}, 0, attrs.BigEndian)
	if !errors.Is(be.Err(), attrs.ErrInvalid) || be.Len() != 0 {
		t.Errorf("EncodeArray size 0: err %v, %d bytes", be.Err(), be.Len())
	}
}

func TestAddrs(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	mapped := netip.MustParseAddr("::ffff:192.0.2.1")
	tests := []struct {
		name string
		enc  func(*attrs.Encoder) error
		dec  func(*attrs.Decoder) netip.Addr
		want []byte
		back netip.Addr
	}{
		{"v4", func(e *attrs.Encoder) error { return e.Addr4(1, v4) }, (*attrs.Decoder).Addr4, v4.AsSlice(), v4},
		{"v4 mapped", func(e *attrs.Encoder) error { return e.Addr4(1, mapped) }, (*attrs.Decoder).Addr4, v4.AsSlice(), v4},
		{"v6", func(e *attrs.Encoder) error { e.Addr16(1, v6); return nil }, (*attrs.Decoder).Addr16, v6.AsSlice(), v6},
		{"v4 as v6", func(e *attrs.Encoder) error { e.Addr16(1, v4); return nil }, (*attrs.Decoder).Addr16, mapped.AsSlice(), mapped},
		{"any v4", func(e *attrs.Encoder) error { e.Addr(1, v4); return nil }, (*attrs.Decoder).Addr, v4.AsSlice(), v4},
		{"any v6", func(e *attrs.Encoder) error { e.Addr(1, v6); return nil }, (*attrs.Decoder).Addr, v6.AsSlice(), v6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e attrs.Encoder
			if err := tt.enc(&e); err != nil {
				t.Fatal(err)
			}
			if got := payload(t, e.Bytes()); !bytes.Equal(got, tt.want) {
				t.Errorf("encoded % x, want % x", got, tt.want)
			}
			d := one(tt.want, 0)
			if got := tt.dec(d); got != tt.back || d.Err() != nil {
				t.Errorf("decoded %v, %v; want %v", got, d.Err(), tt.back)
			}
		})
	}

	var e attrs.Encoder
	for _, a := range []netip.Addr{v6, {}} {
		if err := e.Addr4(1, a); !errors.Is(err, attrs.ErrInvalid) {
			t.Errorf("Addr4(%v): err %v, want ErrInvalid", a, err)
		}
	}
	if e.Len() != 0 || e.Err() != nil {
		t.Errorf("a refused address wrote %d bytes, err %v", e.Len(), e.Err())
	}

	bad := []struct {
		name string
		dec  func(*attrs.Decoder) netip.Addr
		n    int
	}{
		{"Addr4 of 16", (*attrs.Decoder).Addr4, 16},
		{"Addr4 of 0", (*attrs.Decoder).Addr4, 0},
		{"Addr16 of 4", (*attrs.Decoder).Addr16, 4},
		{"Addr of 5", (*attrs.Decoder).Addr, 5},
		{"Addr of 0", (*attrs.Decoder).Addr, 0},
	}
	for _, tt := range bad {
		d := one(make([]byte, tt.n), 0)
		if got := tt.dec(d); got.IsValid() || !errors.Is(d.Err(), attrs.ErrBadLength) {
			t.Errorf("%s: %v, %v; want invalid, ErrBadLength", tt.name, got, d.Err())
		}
	}
}

func TestFormatFlags(t *testing.T) {
	names := []attrs.FlagName{
		{Mask: 0x1, Name: "up"},
		{Mask: 0x2, Name: "broadcast"},
		{Mask: 0, Name: "never"},
		{Mask: 0x30, Name: "both"},
	}
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "0"},
		{0x1, "up"},
		{0x3, "up|broadcast"},
		{0x30, "both"},
		{0x10, "0x10"},
		{0x41, "up|0x40"},
		{0x33, "up|broadcast|both"},
		{1 << 63, "0x8000000000000000"},
	}
	for _, tt := range tests {
		if got := attrs.FormatFlags(tt.v, names); got != tt.want {
			t.Errorf("FormatFlags(%#x) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if got := attrs.FormatFlags(5, nil); got != "0x5" {
		t.Errorf("FormatFlags without names = %q", got)
	}
}

func TestErrorConstructors(t *testing.T) {
	tests := []struct {
		err  *attrs.Error
		kind error
		want string
	}{
		{attrs.StructTooShort("ifmap", 24, 3), attrs.ErrBadLength, "struct ifmap needs 24 bytes, got 3"},
		{attrs.EmptyStruct("taskstats"), attrs.ErrBadLength, "struct taskstats is empty"},
		{attrs.FieldTooLong("name", 16, 20), attrs.ErrTooLong, "name: string of 20 bytes does not fit a 16-byte field"},
		{attrs.HeaderTooShort("ovs-header", 4, 0), attrs.ErrTruncated, "header: fixed header ovs-header needs 4 bytes, got 0"},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.kind) || tt.err.Error() != tt.want || tt.err.Offset != -1 {
			t.Errorf("%v (kind %v, offset %d), want %q of kind %v", tt.err, tt.err.Kind, tt.err.Offset, tt.want, tt.kind)
		}
	}
	// Failed into a decoder, the error gets the attribute's path and offset.
	d := one([]byte{1}, 0)
	d.SetNames([]string{1: "stats"})
	d.Fail(attrs.StructTooShort("s", 8, 1))
	var ae *attrs.Error
	if !errors.As(d.Err(), &ae) || ae.Path != "stats" || ae.Offset != 0 {
		t.Errorf("failed error %#v", d.Err())
	}
}

func TestCString(t *testing.T) {
	tests := []struct {
		b    []byte
		n    int
		want string
		ok   bool
	}{
		{[]byte("eth0\x00\x00\x00\x00"), 8, "eth0", true},
		{[]byte("abcd"), 4, "abcd", true},
		{[]byte("ab\x00cd"), 5, "ab", true},
		{[]byte("abcdef"), 3, "abc", true},
		{[]byte{}, 0, "", true},
		{[]byte("ab"), 4, "", false},
	}
	for _, tt := range tests {
		r := attrs.NewStructReader(tt.b)
		if got := r.CString(tt.n); got != tt.want || (r.Err() == nil) != tt.ok {
			t.Errorf("CString(%q, %d) = %q, %v", tt.b, tt.n, got, r.Err())
		}
		if tt.ok && r.Off() != tt.n {
			t.Errorf("CString(%q, %d) read %d bytes", tt.b, tt.n, r.Off())
		}
	}
}

func TestCount(t *testing.T) {
	var e attrs.Encoder
	for i := range uint16(5) {
		e.U32(i+1, uint32(i))
	}
	d := attrs.NewDecoder(e.Bytes())
	if n := d.Count(); n != 5 {
		t.Fatalf("Count before the first = %d, want 5", n)
	}
	d.Next()
	d.Next()
	if n := d.Count(); n != 3 || d.Type() != 2 {
		t.Fatalf("Count after two = %d (at type %d), want 3 at 2", n, d.Type())
	}
	var seen int
	for d.Next() {
		seen++
	}
	if seen != 3 || d.Count() != 0 {
		t.Fatalf("walked %d after Count, Count at end %d", seen, d.Count())
	}

	// A malformed tail stops the count; the error belongs to Next.
	b := append(e.Bytes()[:8:8], 0xff, 0, 1, 0)
	d = attrs.NewDecoder(b)
	if n := d.Count(); n != 1 || d.Err() != nil {
		t.Fatalf("Count over a bad tail = %d, err %v", n, d.Err())
	}
	for d.Next() {
	}
	if !errors.Is(d.Err(), attrs.ErrTruncated) {
		t.Fatalf("Next after Count: err %v", d.Err())
	}
}

func TestSupportAllocatesNothing(t *testing.T) {
	var e attrs.Encoder
	e.Reset(make([]byte, 0, 512))
	names := []attrs.FlagName{{Mask: 1, Name: "up"}, {Mask: 2, Name: "running"}}
	buf := make([]byte, 8)
	a4, a6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset(e.Bytes()[:0])
		e.UintN(1, 5, 4, attrs.LittleEndian)
		e.UintOrder(2, 1<<40, attrs.BigEndian)
		e.SintOrder(3, -1, attrs.LittleEndian)
		_ = e.Addr4(4, a4)
		e.Addr16(5, a6)
		e.Addr(6, a4)
		attrs.EncodeArray(&e, 7, []uint16{1, 2}, 2, attrs.BigEndian)
		d := attrs.NewDecoder(e.Bytes())
		var sum uint64
		sum += uint64(d.Count())
		for d.Next() {
			switch d.Type() {
			case 1:
				sum += d.UintN(4, attrs.LittleEndian)
			case 2:
				sum += d.UintOrder(attrs.BigEndian)
			case 3:
				sum += uint64(d.SintOrder(attrs.LittleEndian))
			case 4:
				sum += uint64(d.Addr4().BitLen())
			case 5:
				sum += uint64(d.Addr16().BitLen())
			case 6:
				sum += uint64(d.Addr().BitLen())
			}
		}
		w := attrs.NewStructWriter(buf)
		w.UintN(sum, 8, attrs.LittleEndian)
		r := attrs.NewStructReader(buf)
		sum += r.UintN(8, attrs.LittleEndian)
		if d.Err() != nil {
			t.Fatal(d.Err())
		}
	})
	if allocs != 0 {
		t.Fatalf("allocated %v times per run", allocs)
	}
	// FormatFlags allocates only the string it returns.
	if allocs := testing.AllocsPerRun(100, func() { _ = attrs.FormatFlags(0x3, names) }); allocs > 1 {
		t.Fatalf("FormatFlags allocated %v times per run, want at most 1", allocs)
	}
}

func TestNameTables(t *testing.T) {
	// Set 0 (root): 1 "dev", 2 "queues" (indexed array of set 1), 3 "stats"
	// (nest of set 2), 4 "kv" (type-value nest of set 1 under two keys),
	// 5 "broken" (a link past the tables).
	ts := attrs.NameTables{
		{
			Names: []string{1: "dev", 2: "queues", 3: "stats", 4: "kv", 5: "broken"},
			Links: []attrs.NameLink{2: {Set: 2, Skip: 1}, 3: {Set: 3}, 4: {Set: 2, Skip: 2}, 5: {Set: 9}},
		},
		{Names: []string{1: "id", 2: "napi"}},
		{Names: []string{1: "rx"}},
	}
	tests := []struct {
		name    string
		set     int
		parents []uint16
		typ     uint16
		want    string
	}{
		{"root", 0, nil, 1, "dev"},
		{"root unnamed", 0, nil, 9, ""},
		{"nest", 0, []uint16{3}, 1, "rx"},
		{"indexed", 0, []uint16{2, 7}, 2, "napi"},
		{"index itself", 0, []uint16{2}, 7, ""},
		{"two keys", 0, []uint16{4, 1, 2}, 1, "id"},
		{"one key short", 0, []uint16{4, 1}, 1, ""},
		{"not a nest", 0, []uint16{1}, 1, ""},
		{"parent past links", 0, []uint16{40}, 1, ""},
		{"link past tables", 0, []uint16{5}, 1, ""},
		{"other root", 1, nil, 2, "napi"},
		{"negative set", -1, nil, 1, ""},
		{"set past tables", 3, nil, 1, ""},
	}
	for _, tt := range tests {
		if got := ts.Name(tt.set, tt.parents, tt.typ); got != tt.want {
			t.Errorf("%s: Name(%d, %v, %d) = %q, want %q", tt.name, tt.set, tt.parents, tt.typ, got, tt.want)
		}
	}
	if got := attrs.NameTables(nil).Name(0, nil, 1); got != "" {
		t.Errorf("empty tables named %q", got)
	}
}

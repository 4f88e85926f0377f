package attrs_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

func TestDecodeValues(t *testing.T) {
	var e attrs.Encoder
	e.U8(1, 0xab)
	e.U16(2, 0x1234)
	e.U32(3, 0xdeadbeef)
	e.U64(4, 1<<60)
	e.S32(5, -5)
	e.Uint(6, 7)
	e.Uint(7, 1<<40)
	e.Sint(8, -9)
	e.Sint(9, -1<<40)
	e.String(10, "eth0")
	e.StringNoNUL(11, "abc")
	e.Flag(12)
	e.Bitfield32(13, attrs.Bitfield32{Value: 4, Selector: 6})
	e.U32BE(14, 0xc0000201)
	e.Binary(15, []byte{9, 8})
	n := e.Nest(16)
	e.U16(1, 77)
	e.End(n)

	d := attrs.NewDecoder(e.Bytes())
	seen := 0
	for a := range d.All() {
		seen++
		switch a.Type {
		case 1:
			check(t, "u8", d.U8(), uint8(0xab))
		case 2:
			check(t, "u16", d.U16(), uint16(0x1234))
		case 3:
			check(t, "u32", d.U32(), uint32(0xdeadbeef))
		case 4:
			check(t, "u64", d.U64(), uint64(1<<60))
		case 5:
			check(t, "s32", d.S32(), int32(-5))
		case 6:
			check(t, "uint4", d.Uint(), uint64(7))
		case 7:
			check(t, "uint8", d.Uint(), uint64(1<<40))
		case 8:
			check(t, "sint4", d.Sint(), int64(-9))
		case 9:
			check(t, "sint8", d.Sint(), int64(-1<<40))
		case 10:
			check(t, "string", d.StringNUL(), "eth0")
		case 11:
			check(t, "unterminated", d.String(), "abc")
		case 12:
			check(t, "flag", d.Flag(), true)
		case 13:
			check(t, "bitfield32", d.Bitfield32(), attrs.Bitfield32{Value: 4, Selector: 6})
		case 14:
			check(t, "u32be", d.U32BE(), uint32(0xc0000201))
		case 15:
			check(t, "binary", string(d.Bytes()), "\x09\x08")
		case 16:
			if !a.Nested() {
				t.Error("nest lacks NLA_F_NESTED")
			}
			nd := d.Nested()
			for nd.Next() {
				check(t, "nested u16", nd.U16(), uint16(77))
			}
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != 16 {
		t.Fatalf("saw %d attributes, want 16", seen)
	}
}

func check[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func TestDecodeNetByteOrderFlag(t *testing.T) {
	// A u32 carrying NLA_F_NET_BYTEORDER is read big-endian by U32.
	b := []byte{8, 0, 3, 0x40, 0xc0, 0, 2, 1}
	d := attrs.NewDecoder(b)
	if !d.Next() || !d.Attr().NetByteOrder() || d.Type() != 3 {
		t.Fatalf("bad header: %+v", d.Attr())
	}
	check(t, "u32", d.U32(), uint32(0xc0000201))
}

// TestDecodeFixedWidth reads payloads of every size with each fixed-width
// accessor, in host order, with NLA_F_NET_BYTEORDER and with NLA_F_NESTED
// set: the right size gives the value in the order the flags say, any
// other size 0 and an error naming the type and both sizes.
func TestDecodeFixedWidth(t *testing.T) {
	be := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	accessors := []struct {
		name string
		size int
		get  func(d *attrs.Decoder) uint64
	}{
		{"u8", 1, func(d *attrs.Decoder) uint64 { return uint64(d.U8()) }},
		{"u16", 2, func(d *attrs.Decoder) uint64 { return uint64(d.U16()) }},
		{"u32", 4, func(d *attrs.Decoder) uint64 { return uint64(d.U32()) }},
		{"u64", 8, func(d *attrs.Decoder) uint64 { return d.U64() }},
	}
	for _, a := range accessors {
		for _, flags := range []uint16{0, attrs.FlagNetByteOrder, attrs.FlagNested} {
			for size := 0; size <= 9; size++ {
				p := make([]byte, size)
				copy(p, be)
				var e attrs.Encoder
				e.Binary(1|flags, p)
				d := attrs.NewDecoder(e.Bytes())
				d.Next()
				got := a.get(d)
				if size != a.size {
					msg := fmt.Sprintf("1: %s needs %d bytes, got %d", a.name, a.size, size)
					if got != 0 || d.Err() == nil || d.Err().Error() != msg {
						t.Errorf("%s, flags %#x, %d bytes: got %d, %v; want 0, %s", a.name, flags, size, got, d.Err(), msg)
					}
					continue
				}
				want := uint64(0)
				for _, c := range p {
					want = want<<8 | uint64(c)
				}
				if flags != attrs.FlagNetByteOrder && a.size > 1 {
					want = 0
					for i := len(p) - 1; i >= 0; i-- {
						want = want<<8 | uint64(p[i])
					}
					if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 { // big-endian host
						want = 0
						for _, c := range p {
							want = want<<8 | uint64(c)
						}
					}
				}
				if got != want || d.Err() != nil {
					t.Errorf("%s, flags %#x: got %#x, %v; want %#x", a.name, flags, got, d.Err(), want)
				}
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	devNames := []string{1: "ifindex", 2: "dev"}
	// Builds "dev" { "ifindex": 2 bytes }.
	var e attrs.Encoder
	n := e.Nest(2)
	e.U16(1, 5)
	e.End(n)
	shortIfindex := e.Bytes()

	tests := []struct {
		name string
		in   []byte
		walk func(d *attrs.Decoder)
		kind error
		msg  string
	}{
		{
			name: "nested u32 too short", in: shortIfindex, kind: attrs.ErrBadLength,
			msg: "dev.ifindex: u32 needs 4 bytes, got 2",
			walk: func(d *attrs.Decoder) {
				d.SetNames(devNames)
				for d.Next() {
					nd := d.Nested()
					nd.SetNames(devNames)
					for nd.Next() {
						nd.U32()
					}
				}
			},
		},
		{name: "length below header", in: []byte{2, 0, 1, 0}, kind: attrs.ErrBadLength,
			msg: "1: attribute length 2 is shorter than its header"},
		{name: "zero length", in: []byte{0, 0, 1, 0, 0, 0, 0, 0}, kind: attrs.ErrBadLength},
		{name: "length past end", in: []byte{9, 0, 1, 0, 1, 2, 3, 4}, kind: attrs.ErrTruncated,
			msg: "1: attribute length 9 runs past the end (8 bytes left)"},
		{name: "trailing bytes", in: []byte{4, 0, 1, 0, 7, 7}, kind: attrs.ErrTruncated,
			msg: "2 trailing bytes, too short for an attribute header"},
		{name: "uint of 3 bytes", in: []byte{7, 0, 1, 0, 1, 2, 3, 0}, kind: attrs.ErrBadLength,
			walk: func(d *attrs.Decoder) {
				for d.Next() {
					d.Uint()
				}
			}, msg: "1: uint needs 4 or 8 bytes, got 3"},
		{name: "flag with payload", in: []byte{5, 0, 1, 0, 1, 0, 0, 0}, kind: attrs.ErrBadLength,
			walk: func(d *attrs.Decoder) {
				for d.Next() {
					d.Flag()
				}
			}},
		{name: "unterminated where NUL required", in: []byte{5, 0, 1, 0, 'a', 0, 0, 0}, kind: attrs.ErrInvalid,
			walk: func(d *attrs.Decoder) {
				for d.Next() {
					d.StringNUL()
				}
			}},
		{name: "too deep", in: deepNest(attrs.MaxDepth + 2), kind: attrs.ErrTooDeep, walk: walkAll},
		{name: "fail with plain error", in: []byte{4, 0, 3, 0}, kind: attrs.ErrInvalid,
			msg: "3: enum value 9 out of range",
			walk: func(d *attrs.Decoder) {
				for d.Next() {
					d.Fail(errors.New("enum value 9 out of range"))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := attrs.NewDecoder(tt.in)
			if tt.walk == nil {
				for d.Next() {
				}
			} else {
				tt.walk(d)
			}
			err := d.Err()
			if !errors.Is(err, tt.kind) {
				t.Fatalf("got %v, want kind %v", err, tt.kind)
			}
			var ae *attrs.Error
			if !errors.As(err, &ae) {
				t.Fatalf("%T is not *attrs.Error", err)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Fatalf("message %q, want %q", err.Error(), tt.msg)
			}
		})
	}
}

func deepNest(depth int) []byte {
	var e attrs.Encoder
	ns := make([]attrs.Nest, depth)
	for i := range ns {
		ns[i] = e.Nest(1)
	}
	for i := len(ns) - 1; i >= 0; i-- {
		e.End(ns[i])
	}
	return e.Bytes()
}

// walkAll descends into every attribute that says it is nested.
func walkAll(d *attrs.Decoder) {
	for d.Next() {
		if d.Attr().Nested() {
			nd := d.Nested()
			walkAll(&nd)
		}
	}
}

func TestDecoderErrorOffset(t *testing.T) {
	var e attrs.Encoder
	e.U32(1, 1)
	n := e.Nest(2)
	e.U8(3, 1)
	e.End(n)
	d := attrs.NewDecoder(e.Bytes())
	for d.Next() {
		if d.Type() == 2 {
			nd := d.Nested()
			for nd.Next() {
				nd.U32()
			}
		}
	}
	var ae *attrs.Error
	if !errors.As(d.Err(), &ae) {
		t.Fatal(d.Err())
	}
	if ae.Offset != 12 || ae.Path != "2.3" {
		t.Fatalf("offset %d path %q, want 12 and 2.3", ae.Offset, ae.Path)
	}
}

func TestWithPath(t *testing.T) {
	r := attrs.NewStructReader([]byte{1})
	r.U32(false)
	err := attrs.WithPath(attrs.WithPath(r.Err(), "hdr"), "dev")
	if got, want := err.Error(), "dev.hdr: struct needs 4 bytes, got 1"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if !errors.Is(err, attrs.ErrBadLength) {
		t.Fatal("kind lost")
	}
	plain := errors.New("x")
	if attrs.WithPath(plain, "a") != plain {
		t.Fatal("non-attrs error changed")
	}
}

func TestDecodeAllocatesNothing(t *testing.T) {
	msg := benchMessage()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := decodeAttrs(msg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("decode allocated %v times", allocs)
	}
}

func TestDecodeAllAllocatesNothing(t *testing.T) {
	msg := benchMessage()
	var sum int
	allocs := testing.AllocsPerRun(100, func() {
		d := attrs.NewDecoder(msg)
		for a := range d.All() {
			sum += len(a.Data)
			if a.Nested() {
				nd := d.Nested()
				for nd.Next() {
					sum += int(nd.Type())
				}
			}
		}
		if d.Err() != nil {
			t.Fatal(d.Err())
		}
	})
	if allocs != 0 {
		t.Fatalf("range over All allocated %v times", allocs)
	}
}

// TestDecodeTypes checks that a loop over Types visits what a loop over
// Next visits and ends in the same state, for well-formed input, malformed
// tails and a loop body that stops early or records an error.
func TestDecodeTypes(t *testing.T) {
	var e attrs.Encoder
	e.U32(1, 7)
	e.U8(2, 1) // padded
	e.U64(3, 9)
	good := e.Bytes()
	tests := []struct {
		name  string
		in    []byte
		until uint16 // stop the loop at this type (0: never)
		read  bool   // read each attribute as a u32, failing on others
	}{
		{name: "well formed", in: good},
		{name: "unpadded last", in: append(slices.Clone(good), 5, 0, 4, 0, 1)},
		{name: "short header", in: append(slices.Clone(good), 1, 2)},
		{name: "length past the end", in: append(slices.Clone(good), 12, 0, 4, 0, 1, 0, 0, 0)},
		{name: "length below the header", in: append(slices.Clone(good), 2, 0, 4, 0)},
		{name: "stopped early", in: good, until: 2},
		{name: "accessor error", in: good, read: true},
		{name: "empty", in: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			walk := func(types bool) (seen []uint16, end string) {
				d := attrs.NewDecoder(tc.in)
				body := func(typ uint16) bool {
					seen = append(seen, typ)
					if tc.read {
						d.U32()
					}
					return typ != tc.until
				}
				if types {
					for typ := range d.Types() {
						if !body(typ) {
							break
						}
					}
				} else {
					for d.Next() {
						if !body(d.Type()) {
							break
						}
					}
				}
				return seen, fmt.Sprint(d.Type(), d.Len(), d.Attr(), d.Count(), d.Err())
			}
			seenNext, endNext := walk(false)
			seenTypes, endTypes := walk(true)
			if !slices.Equal(seenNext, seenTypes) || endNext != endTypes {
				t.Fatalf("Next: %v, %s\nTypes: %v, %s", seenNext, endNext, seenTypes, endTypes)
			}
		})
	}
}

func TestDecodeTypesAllocatesNothing(t *testing.T) {
	msg := benchMessage()
	var sum int
	allocs := testing.AllocsPerRun(100, func() {
		d := attrs.NewDecoder(msg)
		for typ := range d.Types() {
			sum += int(typ) + d.Len()
		}
		if d.Err() != nil {
			t.Fatal(d.Err())
		}
	})
	if allocs != 0 {
		t.Fatalf("range over Types allocated %v times", allocs)
	}
}

func TestDecodeAppendCopy(t *testing.T) {
	var e attrs.Encoder
	e.U32(1, 7)
	e.String(2|attrs.FlagNetByteOrder, "x")
	in := e.Bytes()
	d := attrs.NewDecoder(in)
	var kept []attrs.Attr
	for d.Next() {
		kept = d.AppendCopy(kept)
	}
	if len(kept) != 2 || kept[0].Type != 1 || kept[1].Type != 2 || !kept[1].NetByteOrder() ||
		string(kept[1].Data) != "x\x00" {
		t.Fatalf("kept %+v", kept)
	}
	in[4] = 0xff // the copies do not share the input
	if kept[0].Data[0] != 7 {
		t.Fatal("AppendCopy kept a slice of the input")
	}
}

package attrs_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/mdlayher/netlink"
)

// le builds expected bytes from a hex string with spaces for readability.
func hx(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncoderBytes(t *testing.T) {
	// Expected bytes assume a little-endian host (amd64, arm64).
	tests := []struct {
		name string
		enc  func(e *attrs.Encoder)
		want string
	}{
		{"u8", func(e *attrs.Encoder) { e.U8(1, 0xab) }, "0500 0100 ab000000"},
		{"u16", func(e *attrs.Encoder) { e.U16(2, 0x1234) }, "0600 0200 34120000"},
		{"u32", func(e *attrs.Encoder) { e.U32(3, 0x01020304) }, "0800 0300 04030201"},
		{"u64", func(e *attrs.Encoder) { e.U64(4, 0x0102030405060708) }, "0c00 0400 0807060504030201"},
		{"s8", func(e *attrs.Encoder) { e.S8(1, -1) }, "0500 0100 ff000000"},
		{"s16", func(e *attrs.Encoder) { e.S16(1, -2) }, "0600 0100 feff0000"},
		{"s32", func(e *attrs.Encoder) { e.S32(1, -3) }, "0800 0100 fdffffff"},
		{"s64", func(e *attrs.Encoder) { e.S64(1, -4) }, "0c00 0100 fcffffffffffffff"},
		{"u16be", func(e *attrs.Encoder) { e.U16BE(5, 0x1234) }, "0600 0500 12340000"},
		{"u32be", func(e *attrs.Encoder) { e.U32BE(5, 0xc0000201) }, "0800 0500 c0000201"},
		{"u64be", func(e *attrs.Encoder) { e.U64BE(5, 1) }, "0c00 0500 0000000000000001"},
		{"uint small", func(e *attrs.Encoder) { e.Uint(6, 7) }, "0800 0600 07000000"},
		{"uint max32", func(e *attrs.Encoder) { e.Uint(6, 0xffffffff) }, "0800 0600 ffffffff"},
		{"uint large", func(e *attrs.Encoder) { e.Uint(6, 1<<32) }, "0c00 0600 0000000001000000"},
		{"sint small", func(e *attrs.Encoder) { e.Sint(7, -1) }, "0800 0700 ffffffff"},
		{"sint large", func(e *attrs.Encoder) { e.Sint(7, -1<<40) }, "0c00 0700 0000000000ffffff"},
		{"string", func(e *attrs.Encoder) { e.String(8, "eth0") }, "0900 0800 65746830 00000000"},
		{"empty string", func(e *attrs.Encoder) { e.String(8, "") }, "0500 0800 00000000"},
		{"string no nul", func(e *attrs.Encoder) { e.StringNoNUL(8, "abcd") }, "0800 0800 61626364"},
		{"binary", func(e *attrs.Encoder) { e.Binary(9, []byte{1, 2, 3}) }, "0700 0900 01020300"},
		{"flag", func(e *attrs.Encoder) { e.Flag(10) }, "0400 0a00"},
		{"bitfield32", func(e *attrs.Encoder) { e.Bitfield32(11, attrs.Bitfield32{Value: 1, Selector: 3}) }, "0c00 0b00 01000000 03000000"},
		{"nest", func(e *attrs.Encoder) {
			n := e.Nest(1)
			e.U32(2, 5)
			e.String(3, "a")
			e.End(n)
		}, "1400 0180 0800 0200 05000000 0600 0300 61000000"},
		{"nested nest", func(e *attrs.Encoder) {
			a := e.Nest(1)
			b := e.Nest(2)
			e.Flag(3)
			e.End(b)
			e.End(a)
		}, "0c00 0180 0800 0280 0400 0300"},
		{"empty nest", func(e *attrs.Encoder) { e.End(e.Nest(4)) }, "0400 0480"},
		{"indexed array", func(e *attrs.Encoder) {
			arr := e.Nest(1)
			for i, v := range []uint32{10, 20} {
				e.U32(uint16(i), v)
			}
			e.End(arr)
		}, "1400 0180 0800 0000 0a000000 0800 0100 14000000"},
		{"multi-attr", func(e *attrs.Encoder) { e.U16(2, 1); e.U16(2, 2) }, "0600 0200 01000000 0600 0200 02000000"},
		{"u64 pad aligned", func(e *attrs.Encoder) { e.U64Pad(2, 9, 1) }, "0400 0900 0c00 0200 0100000000000000"},
		{"u64 pad not needed", func(e *attrs.Encoder) { e.Flag(1); e.U64Pad(2, 9, 1) }, "0400 0100 0c00 0200 0100000000000000"},
		{"reserve", func(e *attrs.Encoder) {
			w := attrs.NewStructWriter(e.Reserve(3, 6))
			w.U16(0x0102, false)
			w.Pad(2)
			w.U16(0x0102, true)
		}, "0a00 0300 0201 0000 0102 0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e attrs.Encoder
			tt.enc(&e)
			if err := e.Err(); err != nil {
				t.Fatal(err)
			}
			if want := hx(t, tt.want); !bytes.Equal(e.Bytes(), want) {
				t.Fatalf("got  %x\nwant %x", e.Bytes(), want)
			}
		})
	}
}

func TestEncoderAppendsAfterExisting(t *testing.T) {
	var e attrs.Encoder
	buf := make([]byte, 4, 64)
	e.Reset(buf)
	e.U8(1, 1)
	if got, want := e.Bytes(), hx(t, "00000000 0500 0100 01000000"); !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
	if &e.Bytes()[0] != &buf[0] {
		t.Fatal("encoder reallocated a buffer with room to spare")
	}
}

func TestEncoderErrors(t *testing.T) {
	var e attrs.Encoder
	e.Binary(1, make([]byte, 70000))
	if !errors.Is(e.Err(), attrs.ErrTooLong) {
		t.Fatalf("long binary: got %v", e.Err())
	}
	e.Reset(nil)
	n := e.Nest(1)
	for i := 0; i < 20; i++ {
		e.Binary(2, make([]byte, 4000))
	}
	e.End(n)
	if !errors.Is(e.Err(), attrs.ErrTooLong) {
		t.Fatalf("long nest: got %v", e.Err())
	}
	e.Reset(nil)
	a := e.Nest(1)
	e.Nest(2)
	e.End(a)
	if !errors.Is(e.Err(), attrs.ErrInvalid) {
		t.Fatalf("nest out of order: got %v", e.Err())
	}
	// Once failed, the encoder appends nothing more.
	l := e.Len()
	e.U32(1, 1)
	if e.Len() != l {
		t.Fatal("encoder appended after an error")
	}
}

// TestMatchesMdlayher checks that the types both libraries support produce
// identical bytes.
func TestMatchesMdlayher(t *testing.T) {
	var e attrs.Encoder
	m := netlink.NewAttributeEncoder()
	e.U8(1, 0xfe)
	m.Uint8(1, 0xfe)
	e.U16(2, 0xbeef)
	m.Uint16(2, 0xbeef)
	e.U32(3, 0xdeadbeef)
	m.Uint32(3, 0xdeadbeef)
	e.U64(4, 0x0123456789abcdef)
	m.Uint64(4, 0x0123456789abcdef)
	e.S8(5, -5)
	m.Int8(5, -5)
	e.S16(6, -6)
	m.Int16(6, -6)
	e.S32(7, -7)
	m.Int32(7, -7)
	e.S64(8, -8)
	m.Int64(8, -8)
	e.String(9, "hello, world")
	m.String(9, "hello, world")
	e.Binary(10, []byte{1, 2, 3, 4, 5})
	m.Bytes(10, []byte{1, 2, 3, 4, 5})
	e.Flag(11)
	m.Flag(11, true)
	n := e.Nest(12)
	e.U32(1, 1)
	e.String(2, "x")
	e.End(n)
	m.Nested(12, func(nae *netlink.AttributeEncoder) error {
		nae.Uint32(1, 1)
		nae.String(2, "x")
		return nil
	})
	want, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.Bytes(), want) {
		t.Fatalf("attrs    %x\nmdlayher %x", e.Bytes(), want)
	}
}

package attrs_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"unsafe"

	"github.com/genlkit/genlkit/attrs"
)

// FuzzDecode walks arbitrary bytes with every accessor, descending into
// anything that could be a nest. It must never panic or loop, and every
// payload must lie inside the input.
func FuzzDecode(f *testing.F) {
	f.Add(benchMessage())
	f.Add(deepNest(40))
	f.Add([]byte{4, 0, 1, 0})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{9, 0, 1, 0x80, 5, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := attrs.NewDecoder(b)
		fuzzWalk(t, d, b)
		byNext, byTypes := trace(b, false), trace(b, true)
		if !slices.Equal(byNext, byTypes) {
			t.Fatalf("Types visits differently from Next:\n%q\n%q", byNext, byTypes)
		}
		checkCut(t, b)
	})
}

// checkCut walks b with attrs.Cut and with a Decoder: the same attributes
// (type, flags, payload), and Cut stops where the Decoder stops, failing
// exactly when the Decoder reports an error.
func checkCut(t *testing.T, b []byte) {
	d := attrs.NewDecoder(b)
	rest := b
	for len(rest) > 0 {
		typ, p, r, ok := attrs.Cut(rest)
		next := d.Next()
		if !ok {
			if next || d.Err() == nil {
				t.Fatalf("Cut fails at %d bytes left, the Decoder does not (%v)", len(rest), d.Err())
			}
			return
		}
		a := d.Attr()
		if !next || a.Type != typ&attrs.TypeMask || a.Flags != typ&^attrs.TypeMask || !bytes.Equal(a.Data, p) || len(p) > 0 && &a.Data[0] != &p[0] {
			t.Fatalf("Cut gives %d %x, the Decoder %v %+v", typ, p, next, a)
		}
		if cap(p) != len(p) {
			t.Fatalf("Cut's payload has room to grow into what follows: cap %d, len %d", cap(p), len(p))
		}
		rest = r
	}
	if d.Next() || d.Err() != nil {
		t.Fatalf("the Decoder goes on after Cut's end: %v", d.Err())
	}
}

// trace walks b with Next, or with Types, reading every attribute with
// the fixed-width accessors (which fail on most payloads, ending the walk)
// and descending into nests, and describes what it met and how it ended.
func trace(b []byte, types bool) []string {
	var out []string
	var walk func(d *attrs.Decoder)
	visit := func(d *attrs.Decoder, t uint16) {
		a := d.Attr()
		out = append(out, fmt.Sprint(t, a.Type, a.Flags, len(a.Data), d.U16(), d.U32(), d.U64(), d.Len(), d.Err()))
		nd := d.Nested()
		walk(&nd)
	}
	walk = func(d *attrs.Decoder) {
		if types {
			for t := range d.Types() {
				visit(d, t)
			}
		} else {
			for d.Next() {
				visit(d, d.Type())
			}
		}
		out = append(out, fmt.Sprint("end ", d.Type(), d.Len(), d.Attr(), d.Count(), d.Err()))
	}
	d := attrs.NewDecoder(b)
	walk(d)
	return out
}

func fuzzWalk(t *testing.T, d *attrs.Decoder, in []byte) {
	for d.Next() {
		a := d.Attr()
		if len(a.Data) > 0 && !within(a.Data, in) {
			t.Fatal("payload outside the input")
		}
		_ = d.Uint()
		_ = d.Sint()
		_ = d.StringBytes()
		_ = d.Bitfield32()
		r := attrs.NewStructReader(a.Data)
		r.U16(true)
		r.U64(false)
		r.Binary(3)
		nd := d.Nested()
		fuzzWalk(t, &nd, in)
	}
}

func within(sub, in []byte) bool {
	s, i := uintptr(unsafe.Pointer(unsafe.SliceData(sub))), uintptr(unsafe.Pointer(unsafe.SliceData(in)))
	return s >= i && s+uintptr(len(sub)) <= i+uintptr(len(in))
}

// FuzzRoundTrip encodes values drawn from the fuzzer and checks they decode
// to the same values.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(1), uint16(2), uint32(3), uint64(4), int64(-5), "eth0", []byte{1, 2}, true)
	f.Add(uint8(0), uint16(0), uint32(0), uint64(1<<40), int64(-1<<40), "", []byte(nil), false)
	f.Fuzz(func(t *testing.T, v8 uint8, v16 uint16, v32 uint32, v64 uint64, s64 int64, s string, bin []byte, flag bool) {
		if len(s) > 1000 || len(bin) > 1000 || bytes.IndexByte([]byte(s), 0) >= 0 {
			return
		}
		var e attrs.Encoder
		e.U8(1, v8)
		e.U16(2, v16)
		n := e.Nest(3)
		e.U32(4, v32)
		e.Uint(5, v64)
		e.Sint(6, s64)
		inner := e.Nest(7)
		e.String(8, s)
		e.Binary(9, bin)
		if flag {
			e.Flag(10)
		}
		e.End(inner)
		e.End(n)
		e.U64Pad(11, 12, v64)
		e.U32BE(13, v32)
		if e.Err() != nil {
			t.Fatal(e.Err())
		}
		var got struct {
			v8        uint8
			v16       uint16
			v32, be   uint32
			u, padded uint64
			s         int64
			str       string
			bin       []byte
			flag      bool
		}
		d := attrs.NewDecoder(e.Bytes())
		for d.Next() {
			switch d.Type() {
			case 1:
				got.v8 = d.U8()
			case 2:
				got.v16 = d.U16()
			case 3:
				nd := d.Nested()
				for nd.Next() {
					switch nd.Type() {
					case 4:
						got.v32 = nd.U32()
					case 5:
						got.u = nd.Uint()
					case 6:
						got.s = nd.Sint()
					case 7:
						id := nd.Nested()
						for id.Next() {
							switch id.Type() {
							case 8:
								got.str = id.StringNUL()
							case 9:
								got.bin = id.Bytes()
							case 10:
								got.flag = id.Flag()
							}
						}
					}
				}
			case 11:
				got.padded = d.U64()
			case 12:
				if d.Len() != 0 {
					t.Fatal("pad attribute with payload")
				}
			case 13:
				got.be = d.U32BE()
			}
		}
		if err := d.Err(); err != nil {
			t.Fatal(err)
		}
		if got.v8 != v8 || got.v16 != v16 || got.v32 != v32 || got.u != v64 || got.s != s64 ||
			got.str != s || !bytes.Equal(got.bin, bin) || got.flag != flag || got.padded != v64 || got.be != v32 {
			t.Fatalf("round trip mismatch: %+v", got)
		}
	})
}

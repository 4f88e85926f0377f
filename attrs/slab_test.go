package attrs_test

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"

	"github.com/genlkit/genlkit/attrs"
)

type slabItem struct {
	N    int
	Name string
	Next *slabItem
}

// overlaps reports whether the memory of two slices' backing arrays
// (up to their capacity) overlaps.
func overlaps[T any](a, b []T) bool {
	if cap(a) == 0 || cap(b) == 0 {
		return false
	}
	size := unsafe.Sizeof(*new(T))
	a0 := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+uintptr(cap(b))*size && b0 < a0+uintptr(cap(a))*size
}

func TestSlabNew(t *testing.T) {
	for _, s := range []*attrs.Slab[slabItem]{nil, new(attrs.Slab[slabItem])} {
		var got []*slabItem
		for i := range 2000 {
			p := s.New()
			if *p != (slabItem{}) {
				t.Fatalf("New %d: %+v, want a zero value", i, *p)
			}
			p.N, p.Name = i, fmt.Sprint(i)
			if i > 0 {
				p.Next = got[i-1]
			}
			got = append(got, p)
		}
		for i, p := range got {
			if p.N != i || p.Name != fmt.Sprint(i) || (i > 0 && p.Next != got[i-1]) {
				t.Fatalf("value %d changed to %+v", i, *p)
			}
		}
	}
}

func TestSlabMake(t *testing.T) {
	for _, s := range []*attrs.Slab[uint64]{nil, new(attrs.Slab[uint64])} {
		if x := s.Make(0); x == nil || len(x) != 0 {
			t.Fatalf("Make(0) = %#v, want an empty non-nil slice", x)
		}
		var got [][]uint64
		for i := range 500 {
			n := 1 + i%70
			x := s.Make(n)
			if len(x) != 0 || cap(x) != n {
				t.Fatalf("Make(%d): len %d cap %d", n, len(x), cap(x))
			}
			for j := range n {
				x = append(x, uint64(i))
				if x[j] != uint64(i) {
					t.Fatal("append did not write")
				}
			}
			for _, y := range got {
				if overlaps(x, y) {
					t.Fatalf("Make(%d) overlaps an earlier slice", n)
				}
			}
			got = append(got, x)
		}
		// Appending past the capacity moves a slice; the others stay.
		for i := range got {
			got[i] = append(got[i], 0xdead)
		}
		for i, x := range got {
			for _, v := range x[:len(x)-1] {
				if v != uint64(i) {
					t.Fatalf("slice %d changed: %v", i, x)
				}
			}
		}
		if x := s.Make(attrs.MaxSlabLen * 4); cap(x) != attrs.MaxSlabLen*4 {
			t.Fatalf("large Make: cap %d", cap(x))
		}
	}
}

func TestSlabGrow(t *testing.T) {
	var s attrs.Slab[int]
	if x := s.Grow(nil, 0); x == nil {
		t.Fatal("Grow(nil, 0) = nil")
	}
	if x := s.Grow(nil, 3); len(x) != 0 || cap(x) != 3 {
		t.Fatalf("Grow(nil, 3): len %d cap %d", len(x), cap(x))
	}
	x := []int{1, 2}
	y := s.Grow(x, 5)
	if len(y) != 2 || cap(y)-len(y) < 5 || y[0] != 1 || y[1] != 2 {
		t.Fatalf("Grow(%v, 5) = %v (cap %d)", x, y, cap(y))
	}
	var n *attrs.Slab[int]
	if x := n.Grow(nil, 4); x == nil || cap(x) != 4 {
		t.Fatalf("nil Slab: Grow(nil, 4) = %#v", x)
	}
}

// TestSlabChunks: a Slab allocates a chunk per MaxSlabLen small values
// once it has grown, and no more than MaxChunkBytes per chunk for large
// ones.
func TestSlabChunks(t *testing.T) {
	var small attrs.Slab[uint64]
	for range 1000 { // grow to full-size chunks
		small.New()
	}
	if n := testing.AllocsPerRun(10, func() {
		for range attrs.MaxSlabLen * 4 {
			small.New()
		}
	}); n > 5 {
		t.Errorf("%d small values: %v allocations, want at most 5", attrs.MaxSlabLen*4, n)
	}
	type big [1024]byte
	var large attrs.Slab[big]
	for range 100 {
		large.New()
	}
	per := attrs.MaxChunkBytes / int(unsafe.Sizeof(big{}))
	if n := testing.AllocsPerRun(10, func() {
		for range per * 4 {
			large.New()
		}
	}); n > 5 {
		t.Errorf("%d large values: %v allocations, want at most 5", per*4, n)
	}
}

func TestArena(t *testing.T) {
	for _, a := range []*attrs.Arena{nil, new(attrs.Arena)} {
		if b := a.Bytes(nil); b != nil {
			t.Errorf("Bytes(nil) = %#v, want nil", b)
		}
		if b := a.Bytes([]byte{}); b == nil || len(b) != 0 {
			t.Errorf("Bytes(empty) = %#v, want an empty non-nil slice", b)
		}
		if s := a.String(nil); s != "" {
			t.Errorf("String(nil) = %q", s)
		}
		big := bytes.Repeat([]byte{7}, attrs.MaxChunkBytes)
		if b := a.Bytes(big); !bytes.Equal(b, big) || cap(b) != len(big) {
			t.Errorf("Bytes of %d bytes: wrong copy (cap %d)", len(big), cap(b))
		}
		src := []byte("eth0")
		s := a.String(src)
		b := a.Bytes(src)
		src[0] = 'X'
		if s != "eth0" || string(b) != "eth0" {
			t.Fatalf("copies follow their source: %q %q", s, b)
		}
		b[0] = 'Y'
		if grown := append(b, "appended"...); s != "eth0" || string(grown) != "Yth0appended" {
			t.Fatalf("writing to and appending to a byte copy: %q, string copy %q", grown, s)
		}
	}
}

// TestArenaAllocations: small copies share chunks.
func TestArenaAllocations(t *testing.T) {
	var a attrs.Arena
	p := []byte("0123456789abcdef")
	for range 1000 {
		a.Bytes(p)
	}
	n := testing.AllocsPerRun(10, func() {
		for range 1024 {
			a.Bytes(p)
			_ = a.String(p)
		}
	})
	if n > 5 { // 32 KiB of copies: two or three 16 KiB chunks
		t.Errorf("2048 copies of 16 bytes: %v allocations, want at most 5", n)
	}
}

// FuzzArena copies the pieces of arbitrary input (split at 0xff) through
// an Arena, alternating Bytes and String, and checks them against copies
// made the ordinary way; then writes to and appends to every byte copy
// and checks that no other copy changed.
func FuzzArena(f *testing.F) {
	f.Add([]byte("eth0\xffveth12\xff\xff\x01\x02\x03\x04\xff"))
	f.Add(bytes.Repeat([]byte("abcdefg\xff"), 300))
	f.Add(append(bytes.Repeat([]byte{1}, 5000), 0xff, 2))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a attrs.Arena
		pieces := bytes.Split(in, []byte{0xff})
		bs := make([][]byte, len(pieces))
		ss := make([]string, len(pieces))
		for i, p := range pieces {
			if i%3 == 2 {
				p = nil
			}
			bs[i] = a.Bytes(p)
			ss[i] = a.String(p)
			var nilArena *attrs.Arena
			if want := bytes.Clone(p); (bs[i] == nil) != (want == nil) || !bytes.Equal(bs[i], want) ||
				(nilArena.Bytes(p) == nil) != (want == nil) {
				t.Fatalf("piece %d: Bytes = %#v, want %#v", i, bs[i], want)
			}
			if ss[i] != string(p) || nilArena.String(p) != string(p) {
				t.Fatalf("piece %d: String = %q, want %q", i, ss[i], p)
			}
			if cap(bs[i]) != len(bs[i]) {
				t.Fatalf("piece %d: cap %d, len %d", i, cap(bs[i]), len(bs[i]))
			}
		}
		for i := range bs {
			for j := range bs[i] {
				bs[i][j] ^= 0xff
			}
			bs[i] = append(bs[i], 0xee, 0xee)
		}
		for i, p := range pieces {
			if i%3 == 2 {
				p = nil
			}
			if ss[i] != string(p) {
				t.Fatalf("piece %d: string became %q, want %q", i, ss[i], p)
			}
			for j, c := range bs[i][:len(bs[i])-2] {
				if c != p[j]^0xff {
					t.Fatalf("piece %d: byte %d is %#x, want %#x", i, j, c, p[j]^0xff)
				}
			}
		}
	})
}

package attrs_test

import (
	"testing"
	"unsafe"

	"github.com/genlkit/genlkit/attrs"
)

func TestSlabPut(t *testing.T) {
	var s attrs.Slab[slabItem]
	p, q := s.New(), s.New()
	p.N, p.Name, p.Next = 1, "one", q
	s.Put(p)
	if *p != (slabItem{}) {
		t.Fatalf("Put left %+v, want it zeroed", *p)
	}
	s.Put(nil)
	if got := s.New(); got != p {
		t.Fatalf("New after Put = %p, want the recycled %p", got, p)
	}
	if got := s.New(); got == p || got == q {
		t.Fatal("New returned a value twice")
	}
	s.Put(q)
	s.DropRecycled()
	if got := s.New(); got == q {
		t.Fatal("New returned a value dropped by DropRecycled")
	}
	var nilSlab *attrs.Slab[slabItem]
	nilSlab.Put(p)
	nilSlab.PutSlice([]slabItem{{N: 1}})
	nilSlab.DropRecycled()
}

func TestSlabPutSlice(t *testing.T) {
	var s attrs.Slab[slabItem]
	x := s.Make(4)
	x = append(x, slabItem{N: 1, Name: "a"}, slabItem{N: 2})
	s.PutSlice(x)
	if x[0] != (slabItem{}) || x[1] != (slabItem{}) {
		t.Fatalf("PutSlice left %+v, want zeroed elements", x[:2])
	}
	if y := s.Make(5); overlaps(x, y) {
		t.Fatal("Make(5) returned a recycled slice with capacity 4")
	}
	y := s.Make(3)
	if !overlaps(x, y) || len(y) != 0 || cap(y) != 4 {
		t.Fatalf("Make(3) = len %d cap %d, want the recycled slice", len(y), cap(y))
	}
	s.PutSlice(y)
	if g := s.Grow(nil, 2); !overlaps(g, y) {
		t.Fatal("Grow(nil, 2) did not take the recycled slice")
	}
	s.PutSlice(nil)
	if z := s.Make(1); overlaps(z, y) {
		t.Fatal("Make returned a slice twice")
	}
}

func TestArenaRecycle(t *testing.T) {
	var a attrs.Arena
	b := a.Bytes([]byte("hello"))
	a.Recycle(b)
	a.Recycle(nil)
	if c := a.Bytes([]byte("hello, world")); unsafe.SliceData(c) == unsafe.SliceData(b) {
		t.Fatal("Bytes copied 12 bytes into a recycled slice of 5")
	}
	c := a.Bytes([]byte("hey"))
	if unsafe.SliceData(c) != unsafe.SliceData(b) || string(c) != "hey" {
		t.Fatalf("Bytes = %q, want \"hey\" in the recycled slice", c)
	}
	if d := a.Bytes([]byte("x")); unsafe.SliceData(d) == unsafe.SliceData(b) {
		t.Fatal("Bytes used a recycled slice twice")
	}
	if e := a.Bytes([]byte{}); e == nil || len(e) != 0 {
		t.Fatalf("Bytes(empty) = %#v", e)
	}
	a.Recycle(c)
	a.DropRecycled()
	if d := a.Bytes([]byte("x")); unsafe.SliceData(d) == unsafe.SliceData(c) {
		t.Fatal("Bytes used a slice dropped by DropRecycled")
	}
}

func TestArenaKeep(t *testing.T) {
	var a attrs.Arena
	eth0, lo := a.String([]byte("eth0")), a.String([]byte("lo"))
	a.Keep(eth0)
	a.Keep("")
	a.Keep(lo)
	if s := a.String([]byte("eth0")); unsafe.StringData(s) != unsafe.StringData(eth0) {
		t.Fatal("String did not return the equal kept string")
	}
	if s := a.String([]byte("lo0")); s != "lo0" || unsafe.StringData(s) == unsafe.StringData(lo) {
		t.Fatalf("String = %q, want a new \"lo0\"", s)
	}
	// The kept strings are used up: a third String compares with none.
	if s := a.String([]byte("lo")); unsafe.StringData(s) == unsafe.StringData(lo) {
		t.Fatal("String returned a kept string twice")
	}
	a.Keep(eth0)
	a.DropRecycled()
	if s := a.String([]byte("eth0")); unsafe.StringData(s) == unsafe.StringData(eth0) {
		t.Fatal("String used a string dropped by DropRecycled")
	}
	var nilArena *attrs.Arena
	nilArena.Keep("x")
	nilArena.Recycle([]byte("x"))
	nilArena.DropRecycled()
}

func TestRecycledAllocations(t *testing.T) {
	var s attrs.Slab[slabItem]
	var a attrs.Arena
	p, x := s.New(), s.Make(8)
	b, str := a.Bytes(make([]byte, 16)), a.String([]byte("name"))
	in := []byte("name")
	allocs := testing.AllocsPerRun(100, func() {
		s.Put(p)
		s.PutSlice(x)
		a.Recycle(b)
		a.Keep(str)
		p, x = s.New(), s.Make(8)
		b, str = a.Bytes(make([]byte, 16)), a.String(in)
	})
	if allocs != 0 {
		t.Fatalf("a warm recycle round allocates %v times, want 0", allocs)
	}
}

// TestRecycledBestFit: Make and Bytes take the most recently recycled
// slice that is large enough, not only the last one.
func TestRecycledBestFit(t *testing.T) {
	var s attrs.Slab[uint32]
	big, small := s.Make(64), s.Make(2)
	s.PutSlice(big)
	s.PutSlice(small)
	if x := s.Make(40); !overlaps(x, big) {
		t.Fatal("Make(40) did not take the recycled slice of 64")
	}
	if x := s.Make(2); !overlaps(x, small) {
		t.Fatal("Make(2) did not take the recycled slice of 2")
	}
	var a attrs.Arena
	bb, sb := a.Bytes(make([]byte, 64)), a.Bytes(make([]byte, 2))
	a.Recycle(bb)
	a.Recycle(sb)
	if x := a.Bytes(make([]byte, 40)); unsafe.SliceData(x) != unsafe.SliceData(bb) {
		t.Fatal("Bytes(40 bytes) did not take the recycled slice of 64")
	}
}

package attrs

import (
	"bytes"
	"slices"
	"unsafe"
)

// Decoding a dump makes many small values of a few types, and strings and
// byte slices copied out of the receive buffer. Slab and Arena let
// generated decoders take them from shared chunks instead of allocating
// each one: a dump of thousands of replies then costs a few allocations
// per chunk rather than several per reply.
//
// Lifetimes. Neither hands out the same memory twice, and neither writes
// to memory it has handed out, so a value is its holder's alone, and
// values handed out earlier can be read (by any goroutine) while later ones
// are made. What they share is the chunk: keeping one value alive keeps
// its whole chunk alive, at most [MaxChunkBytes] (or [MaxSlabLen]
// elements) per chunk.
//
// The one exception is memory handed back: [Slab.Put], [Slab.PutSlice]
// and [Arena.Recycle] take memory its holder no longer uses, and the next
// New, Make, Grow or Bytes may return it again, overwritten. Decoders
// that decode into values a caller gives them to reuse hand back what
// those values referred to, so a warm decoder allocates nothing.

// MaxChunkBytes bounds the size of one chunk of a [Slab] or an [Arena]
// (a Slab's chunk holds at least one value, however large). A slice or
// byte string larger than a quarter of a chunk gets its own allocation.
const MaxChunkBytes = 16 << 10

// MaxSlabLen bounds the number of elements in one chunk of a [Slab].
const MaxSlabLen = 256

// minSlabLen is the size of a Slab's first chunk; later ones double.
const minSlabLen = 8

// minArenaBytes is the size of an Arena's first chunk; later ones double.
const minArenaBytes = 512

// A Slab hands out zeroed values of type T ([Slab.New]) and empty slices
// of T with room for a given number of elements ([Slab.Make]), carved from
// chunks it allocates. Chunks start small and double up to [MaxSlabLen]
// elements or [MaxChunkBytes]. The zero Slab is ready to use; a nil *Slab
// allocates each value on its own, like new and make. A Slab is not safe
// for concurrent use; the values it hands out are ordinary Go memory.
//
// A value from a Slab keeps its chunk, and so the other values in it,
// alive for as long as it is reachable.
type Slab[T any] struct {
	free   []T   // the unused tail of the current chunk, all zero
	size   int   // elements in the next chunk
	values []*T  // recycled values, all zero ([Slab.Put])
	slices [][]T // recycled slices, empty, their elements all zero ([Slab.PutSlice])
}

// New returns a pointer to a zeroed T that no other caller holds.
func (s *Slab[T]) New() *T {
	if s == nil {
		return new(T)
	}
	if n := len(s.values); n > 0 {
		p := s.values[n-1]
		s.values[n-1] = nil
		s.values = s.values[:n-1]
		return p
	}
	if len(s.free) == 0 {
		s.refill(1)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// Make returns an empty, non-nil slice with capacity n whose elements no
// other caller holds, like make([]T, 0, n). Its capacity is exact, so an
// append past n moves the slice rather than touching a neighbour; a
// recycled slice ([Slab.PutSlice]) may have more, all of it its own.
func (s *Slab[T]) Make(n int) []T {
	if n <= 0 {
		return []T{}
	}
	if s != nil {
		for i := len(s.slices) - 1; i >= 0; i-- {
			if x := s.slices[i]; cap(x) >= n {
				k := len(s.slices) - 1
				s.slices[i] = s.slices[k]
				s.slices[k] = nil
				s.slices = s.slices[:k]
				return x
			}
		}
	}
	if s == nil || n > s.maxLen()/4 {
		return make([]T, 0, n)
	}
	if n > len(s.free) {
		s.refill(n)
	}
	x := s.free[:0:n]
	s.free = s.free[n:]
	return x
}

// Grow returns x with room for n more elements, like [slices.Grow]. A nil
// x, or an empty one without the room, gets [Slab.Make](n): unlike
// slices.Grow, Grow never returns nil.
func (s *Slab[T]) Grow(x []T, n int) []T {
	if x == nil || (len(x) == 0 && cap(x) < n) {
		return s.Make(n)
	}
	return slices.Grow(x, n)
}

// Put hands p back for [Slab.New] to return again: the caller, and
// whoever it gave p to, must no longer use *p, which New will return
// zeroed to its next caller. Put zeroes *p now, so the slab keeps nothing
// *p referred to. A nil p, or a nil Slab, does nothing.
func (s *Slab[T]) Put(p *T) {
	if s == nil || p == nil {
		return
	}
	var zero T
	*p = zero
	s.values = append(s.values, p)
}

// PutSlice hands x's whole capacity back for [Slab.Make] and [Slab.Grow]
// to return again, on the same terms as [Slab.Put]: no one may use the
// elements of x, up to its capacity, afterwards. PutSlice zeroes them now.
// A slice without capacity, or a nil Slab, does nothing.
func (s *Slab[T]) PutSlice(x []T) {
	if s == nil || cap(x) == 0 {
		return
	}
	x = x[:0]
	clear(x[:cap(x)])
	s.slices = append(s.slices, x)
}

// DropRecycled forgets the values and slices given to [Slab.Put] and
// [Slab.PutSlice] that New and Make have not returned again, keeping the
// room to list them.
func (s *Slab[T]) DropRecycled() {
	if s != nil && len(s.values)+len(s.slices) > 0 {
		s.dropRecycled()
	}
}

func (s *Slab[T]) dropRecycled() {
	clear(s.values)
	s.values = s.values[:0]
	clear(s.slices)
	s.slices = s.slices[:0]
}

// maxLen is the number of elements in the largest chunk.
func (s *Slab[T]) maxLen() int {
	var z T
	size := int(unsafe.Sizeof(z))
	if size == 0 || size*MaxSlabLen <= MaxChunkBytes {
		return MaxSlabLen
	}
	return max(1, MaxChunkBytes/size)
}

// refill starts a new chunk with room for at least n elements. The rest
// of the old chunk is dropped: it stays with whatever values it holds.
func (s *Slab[T]) refill(n int) {
	size := max(s.size, min(minSlabLen, s.maxLen()))
	for size < n {
		size *= 2
	}
	s.free = make([]T, size)
	s.size = min(size*2, s.maxLen())
}

// An Arena copies byte strings into chunks it allocates, for decoders
// that must not return slices of their input. Chunks start at 512 bytes
// and double up to [MaxChunkBytes]. The zero Arena is ready to use; a nil
// *Arena copies each string into its own allocation. An Arena is not safe
// for concurrent use.
//
// A copy from an Arena keeps its chunk, and so the other copies in it,
// alive for as long as it is reachable.
type Arena struct {
	free  []byte   // the unused tail of the current chunk
	size  int      // bytes in the next chunk
	bufs  [][]byte // recycled byte slices ([Arena.Recycle])
	strs  []string // strings to return again when equal ([Arena.Keep])
	sNext int      // the next of strs to compare
}

// Bytes returns a copy of p: nil for nil, an empty non-nil slice for an
// empty p, as [bytes.Clone] does. Its capacity is its length, so appending
// to it moves it rather than writing over another copy, unless it is a
// recycled slice ([Arena.Recycle]), whose whole capacity is its own.
func (a *Arena) Bytes(p []byte) []byte {
	if a == nil || p == nil {
		return bytes.Clone(p)
	}
	if len(p) == 0 {
		return []byte{}
	}
	for i := len(a.bufs) - 1; i >= 0; i-- {
		if b := a.bufs[i]; cap(b) >= len(p) {
			k := len(a.bufs) - 1
			a.bufs[i] = a.bufs[k]
			a.bufs[k] = nil
			a.bufs = a.bufs[:k]
			b = b[:len(p)]
			copy(b, p)
			return b
		}
	}
	b := a.alloc(len(p))
	copy(b, p)
	return b
}

// String returns p as a string. The arena never writes to the bytes
// behind it again, and hands them to no one else.
func (a *Arena) String(p []byte) string {
	if a == nil {
		return string(p)
	}
	if len(p) == 0 {
		return ""
	}
	if a.sNext < len(a.strs) {
		s := a.strs[a.sNext]
		a.strs[a.sNext] = ""
		a.sNext++
		if a.sNext == len(a.strs) {
			a.strs, a.sNext = a.strs[:0], 0
		}
		if s == string(p) {
			return s
		}
	}
	b := a.alloc(len(p))
	copy(b, p)
	return unsafe.String(&b[0], len(b))
}

// Recycle hands b's whole capacity back for [Arena.Bytes] to copy into
// again: the caller, and whoever it gave b to, must no longer use the
// bytes of b, which a later Bytes overwrites. Bytes takes the most
// recently recycled slice that is large enough. An empty b, or a nil
// Arena, does nothing.
func (a *Arena) Recycle(b []byte) {
	if a == nil || cap(b) == 0 {
		return
	}
	a.bufs = append(a.bufs, b[:0])
}

// Keep offers s to [Arena.String]: strings are immutable, so a string can
// be handed out again, but only where it is equal to what String is asked
// for. Kept strings are compared in the order they were kept, one per
// call of String, which returns the kept string on a match and makes a new
// one otherwise. A nil Arena does nothing.
func (a *Arena) Keep(s string) {
	if a == nil || s == "" {
		return
	}
	a.strs = append(a.strs, s)
}

// DropRecycled forgets the slices and strings given to [Arena.Recycle] and
// [Arena.Keep] that Bytes and String have not used, keeping the room to
// list them.
func (a *Arena) DropRecycled() {
	if a != nil && len(a.bufs)+len(a.strs) > 0 {
		a.dropRecycled()
	}
}

func (a *Arena) dropRecycled() {
	clear(a.bufs)
	a.bufs = a.bufs[:0]
	clear(a.strs)
	a.strs, a.sNext = a.strs[:0], 0
}

// alloc returns n bytes (n > 0) no one else holds, with capacity n.
// Copies start at multiples of 8 bytes, so no two share a machine word.
func (a *Arena) alloc(n int) []byte {
	if n > MaxChunkBytes/4 {
		return make([]byte, n)
	}
	if n > len(a.free) {
		size := max(a.size, minArenaBytes)
		for size < n {
			size *= 2
		}
		a.free = make([]byte, size)
		a.size = min(size*2, MaxChunkBytes)
	}
	b := a.free[:n:n]
	a.free = a.free[min((n+7)&^7, len(a.free)):]
	return b
}

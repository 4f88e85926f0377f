package attrs

import (
	"encoding/binary"
	"fmt"
	"iter"
	"math/bits"
)

// A Bitmap is a bit array in the kernel's u32-bitmap layout: 32-bit words in
// host byte order, least significant word first, so that bit i is bit i%32
// of word i/32. It is the payload of ethtool's compact bitsets (the value
// and mask attributes) and of other binary attributes that carry a u32
// array of flags. A Bitmap is a view: converting a decoded payload,
// attrs.Bitmap(a.Data), copies nothing, and Set writes through to it.
//
// Its length is fixed. Bits past the end read as 0, and Set refuses them
// with an error rather than growing the slice, because the length is part of
// the message it came from; make one of the size needed with [NewBitmap].
// Bytes after the last whole word are ignored. Test, Ones and Set within
// range allocate nothing, and no method panics, whatever the bytes.
type Bitmap []byte

// NewBitmap returns a Bitmap of zeros that holds at least n bits: n rounded
// up to whole 32-bit words. For n <= 0 it returns an empty Bitmap.
func NewBitmap(n int) Bitmap {
	if n <= 0 {
		return Bitmap{}
	}
	return make(Bitmap, 4*((n+31)/32))
}

// Len returns the number of bits b holds: 32 for each whole word. A message
// says separately how many of them are significant (ethtool's bitset size).
func (b Bitmap) Len() int { return len(b) / 4 * 32 }

// word returns the byte offset of the word holding bit i and the bit's mask
// within that word, and whether i is within b.
func (b Bitmap) word(i int) (off int, mask uint32, ok bool) {
	if i < 0 || i >= b.Len() {
		return 0, 0, false
	}
	return 4 * (i / 32), 1 << (i % 32), true
}

// Test reports whether bit i is set. A bit outside [0, Len()) is not.
func (b Bitmap) Test(i int) bool {
	off, mask, ok := b.word(i)
	return ok && binary.NativeEndian.Uint32(b[off:])&mask != 0
}

// Set sets bit i to 1 when v is true, to 0 otherwise. For i outside
// [0, Len()) it changes nothing and returns an error matching [ErrInvalid]
// that names the bit and the length.
func (b Bitmap) Set(i int, v bool) error {
	off, mask, ok := b.word(i)
	if !ok {
		return fmt.Errorf("bit %d outside a bitmap of %d bits: %w", i, b.Len(), ErrInvalid)
	}
	w := binary.NativeEndian.Uint32(b[off:])
	if v {
		w |= mask
	} else {
		w &^= mask
	}
	binary.NativeEndian.PutUint32(b[off:], w)
	return nil
}

// Ones returns an iterator over the indices of the bits that are set, in
// ascending order.
func (b Bitmap) Ones() iter.Seq[int] {
	return func(yield func(int) bool) {
		for off := 0; off+4 <= len(b); off += 4 {
			for w := binary.NativeEndian.Uint32(b[off:]); w != 0; w &= w - 1 {
				if !yield(8*off + bits.TrailingZeros32(w)) {
					return
				}
			}
		}
	}
}

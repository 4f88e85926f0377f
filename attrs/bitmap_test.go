package attrs_test

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

// words lays out 32-bit words in host byte order, as the kernel sends them.
func words(ws ...uint32) attrs.Bitmap {
	b := make(attrs.Bitmap, 0, 4*len(ws))
	for _, w := range ws {
		b = binary.NativeEndian.AppendUint32(b, w)
	}
	return b
}

func TestNewBitmap(t *testing.T) {
	for _, tc := range []struct {
		n, bytes, len int
	}{
		{-1, 0, 0},
		{0, 0, 0},
		{1, 4, 32},
		{32, 4, 32},
		{33, 8, 64},
		{64, 8, 64},
		{65, 12, 96},
	} {
		b := attrs.NewBitmap(tc.n)
		if len(b) != tc.bytes || b.Len() != tc.len || b == nil {
			t.Errorf("NewBitmap(%d): %d bytes, Len %d, nil %v; want %d bytes, Len %d, not nil",
				tc.n, len(b), b.Len(), b == nil, tc.bytes, tc.len)
		}
		if n := len(slices.Collect(b.Ones())); n != 0 {
			t.Errorf("NewBitmap(%d) has %d bits set", tc.n, n)
		}
	}
}

func TestBitmapTestAndOnes(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    attrs.Bitmap
		len  int
		ones []int
	}{
		{"nil", nil, 0, nil},
		{"empty", attrs.Bitmap{}, 0, nil},
		{"partial word only", attrs.Bitmap{0xff, 0xff, 0xff}, 0, nil},
		{"one word", words(0x8000_0005), 32, []int{0, 2, 31}},
		{"two words", words(1, 0x8000_0000), 64, []int{0, 63}},
		{"zero word between", words(2, 0, 1<<4), 96, []int{1, 68}},
		{"trailing partial word ignored", append(words(1<<7), 0xff), 32, []int{7}},
		{"all set", words(^uint32(0)), 32, []int{
			0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
			16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.b.Len(); got != tc.len {
				t.Errorf("Len() = %d, want %d", got, tc.len)
			}
			if got := slices.Collect(tc.b.Ones()); !slices.Equal(got, tc.ones) {
				t.Errorf("Ones() = %v, want %v", got, tc.ones)
			}
			for i := -33; i < tc.len+33; i++ {
				if got, want := tc.b.Test(i), slices.Contains(tc.ones, i); got != want {
					t.Errorf("Test(%d) = %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestBitmapOnesStops(t *testing.T) {
	var seen []int
	for i := range words(0xff, 0xff).Ones() {
		seen = append(seen, i)
		if len(seen) == 3 {
			break
		}
	}
	if !slices.Equal(seen, []int{0, 1, 2}) {
		t.Errorf("Ones() with break yielded %v, want [0 1 2]", seen)
	}
}

func TestBitmapSet(t *testing.T) {
	for _, tc := range []struct {
		name    string
		b       attrs.Bitmap
		i       int
		v       bool
		want    attrs.Bitmap
		wantErr string
	}{
		{"set bit 0", words(0), 0, true, words(1), ""},
		{"set bit 31", words(0), 31, true, words(1 << 31), ""},
		{"set bit 32", words(0, 0), 32, true, words(0, 1), ""},
		{"clear bit 3", words(0xf), 3, false, words(0x7), ""},
		{"set already set", words(4), 2, true, words(4), ""},
		{"clear already clear", words(4), 1, false, words(4), ""},
		{"negative", words(0), -1, true, words(0), "bit -1 outside a bitmap of 32 bits: invalid value"},
		{"past the end", words(0), 32, true, words(0), "bit 32 outside a bitmap of 32 bits: invalid value"},
		{"nil", nil, 0, true, nil, "bit 0 outside a bitmap of 0 bits: invalid value"},
		{"partial word", attrs.Bitmap{0, 0}, 0, true, attrs.Bitmap{0, 0}, "bit 0 outside a bitmap of 0 bits: invalid value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.b.Set(tc.i, tc.v)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Set(%d, %v): %v", tc.i, tc.v, err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("Set(%d, %v) = %v, want %q", tc.i, tc.v, err, tc.wantErr)
			case tc.wantErr != "" && !errors.Is(err, attrs.ErrInvalid):
				t.Errorf("Set(%d, %v) = %v, does not match ErrInvalid", tc.i, tc.v, err)
			}
			if !slices.Equal(tc.b, tc.want) {
				t.Errorf("after Set(%d, %v): % x, want % x", tc.i, tc.v, tc.b, tc.want)
			}
		})
	}
}

// Test, Set and Ones work in place on the message's bytes: no allocation.
func TestBitmapAllocs(t *testing.T) {
	b := attrs.NewBitmap(128)
	n := testing.AllocsPerRun(100, func() {
		_ = b.Set(70, true)
		_ = b.Test(70)
		for i := range b.Ones() {
			_ = b.Set(i, false)
		}
		_ = b.Len()
	})
	if n != 0 {
		t.Errorf("Test, Set and Ones allocate %v times per run", n)
	}
}

// FuzzBitmap reads and writes arbitrary bytes as a Bitmap. Nothing may panic,
// Ones must agree with Test and with the population count, and Set must
// change exactly the bit it names, or refuse it when out of range.
func FuzzBitmap(f *testing.F) {
	f.Add([]byte{}, 0, true)
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 40, false)
	f.Add([]byte{0xff, 0xff, 0xff}, 3, true)
	f.Add([]byte{0, 0, 0, 0}, -1, true)
	f.Add([]byte{0, 0, 0, 0}, 1<<40, true)
	f.Fuzz(func(t *testing.T, data []byte, i int, v bool) {
		b := attrs.Bitmap(data)
		count := 0
		for off := 0; off+4 <= len(b); off += 4 {
			count += bits.OnesCount32(binary.NativeEndian.Uint32(b[off:]))
		}
		prev := -1
		for j := range b.Ones() {
			if j <= prev || j >= b.Len() || !b.Test(j) {
				t.Fatalf("Ones yielded %d after %d (Len %d, Test %v)", j, prev, b.Len(), b.Test(j))
			}
			prev = j
			count--
		}
		if count != 0 {
			t.Fatalf("Ones missed %d set bits", count)
		}

		before := slices.Clone(b)
		err := b.Set(i, v)
		if inRange := i >= 0 && i < b.Len(); inRange != (err == nil) {
			t.Fatalf("Set(%d) with Len %d: %v", i, b.Len(), err)
		}
		if err != nil {
			if !slices.Equal(b, before) {
				t.Fatalf("refused Set(%d) changed the bitmap", i)
			}
			return
		}
		if b.Test(i) != v {
			t.Fatalf("after Set(%d, %v), Test = %v", i, v, !v)
		}
		for j := range b.Len() {
			if j != i && b.Test(j) != before.Test(j) {
				t.Fatalf("Set(%d) changed bit %d", i, j)
			}
		}
	})
}

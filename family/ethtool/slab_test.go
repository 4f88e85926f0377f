package ethtool_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/family/ethtool/ethtooltest"
)

// fakeFeatures is reply i of a features dump from the fake kernel: a
// device name, compact bitsets (words) and a verbose one (named bits).
func fakeFeatures(i int) *ethtool.Features {
	words := func(k int) []byte { return bytes.Repeat([]byte{byte(i + k)}, 4+i%9) }
	bits := &ethtool.BitsetBits{}
	for j := range i % 40 {
		bits.Bit = append(bits.Bit, ethtool.BitsetBit{Index: ethtool.Some(uint32(j)), Name: ethtool.Some(fmt.Sprintf("feature-%d-%d", i, j)), Value: j%2 == 0})
	}
	return &ethtool.Features{
		Header:   &ethtool.Header{DevIndex: ethtool.Some(uint32(i + 1)), DevName: ethtool.Some(fmt.Sprintf("veth%d", i))},
		Hw:       &ethtool.Bitset{Size: ethtool.Some[uint32](64), Value: words(1), Mask: words(2)},
		Wanted:   &ethtool.Bitset{Size: ethtool.Some[uint32](64), Value: words(3), Mask: []byte{}},
		Active:   &ethtool.Bitset{Nomask: true, Size: ethtool.Some[uint32](64), Value: words(4)},
		Nochange: &ethtool.Bitset{Size: ethtool.Some[uint32](64), Bits: bits},
	}
}

// decoded is what a reply looks like decoded on its own (UnmarshalAttrs,
// no allocator).
func decoded(t *testing.T, v *ethtool.Features) *ethtool.Features {
	var e attrs.Encoder
	if err := v.MarshalAttrs(&e); err != nil {
		t.Fatal(err)
	}
	var w ethtool.Features
	if err := w.UnmarshalAttrs(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	return &w
}

// TestDumpValuesIndependent: the values of a dump come from shared chunks,
// yet each equals the same reply decoded on its own, stays so while the
// dump goes on and other goroutines read the values already yielded and
// run dumps of their own (run it with -race), and writing to or appending
// to one value's byte slices changes no other value.
func TestDumpValuesIndependent(t *testing.T) {
	const replies = 3000
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := ethtooltest.NewServer(nil)
	srv.HandleFeaturesGetDump(func(_ *ethtool.FeaturesGetDumpRequest, yield func(*ethtool.Features) bool) error {
		for i := range replies {
			if !yield(fakeFeatures(i)) {
				break
			}
		}
		return nil
	})
	c, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Conn().Close()
	want := make([]*ethtool.Features, replies)
	for i := range want {
		want[i] = decoded(t, fakeFeatures(i))
	}

	type got struct {
		i int
		v *ethtool.Features
	}
	check := func(g got) {
		if !reflect.DeepEqual(g.v, want[g.i]) {
			t.Errorf("reply %d: %+v, want %+v", g.i, g.v, want[g.i])
		}
	}
	readers := make(chan got, 64)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for g := range readers {
				check(g)
			}
		})
	}
	wg.Go(func() { // another dump on the same Conn, with another allocator
		n := 0
		for v, err := range c.FeaturesGetDump(ctx, nil) {
			if err != nil {
				t.Error(err)
				return
			}
			check(got{n, v})
			n++
		}
	})
	var kept []*ethtool.Features
	for v, err := range c.FeaturesGetDump(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		readers <- got{len(kept), v}
		kept = append(kept, v)
	}
	close(readers)
	wg.Wait()
	if len(kept) != replies {
		t.Fatalf("dump gave %d replies, want %d", len(kept), replies)
	}
	for i, v := range kept {
		check(got{i, v})
	}

	// Write to and append to every byte slice, then check the others.
	for _, v := range kept {
		for _, b := range []*ethtool.Bitset{v.Hw, v.Wanted, v.Active} {
			for j := range b.Value {
				b.Value[j] ^= 0xff
			}
			b.Value = append(b.Value, 0xee)
			b.Mask = append(b.Mask, 0xee)
		}
	}
	for i, v := range kept {
		w := want[i]
		if v.Header.DevName != w.Header.DevName || !reflect.DeepEqual(v.Nochange, w.Nochange) {
			t.Fatalf("reply %d: header or verbose bitset changed: %+v", i, v)
		}
		for k, b := range []*ethtool.Bitset{v.Hw, v.Wanted, v.Active} {
			wb := []*ethtool.Bitset{w.Hw, w.Wanted, w.Active}[k]
			n := len(wb.Value)
			if len(b.Value) != n+1 || b.Value[n] != 0xee || !bytes.Equal(b.Mask[:len(b.Mask)-1], wb.Mask) {
				t.Fatalf("reply %d bitset %d: %x / %x", i, k, b.Value, b.Mask)
			}
			for j := range n {
				if b.Value[j] != wb.Value[j]^0xff {
					t.Fatalf("reply %d bitset %d: value %x, want %x inverted", i, k, b.Value, wb.Value)
				}
			}
		}
	}
}

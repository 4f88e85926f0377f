package ethtool_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/family/ethtool/ethtooltest"
	"github.com/genlkit/genlkit/genl"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// reuseServer answers features dumps with replies made once, so that
// the server allocates the same for every dump.
func reuseServer(t *testing.T, replies int) (*ethtool.Client, context.Context, []*ethtool.Features) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	sent := make([]*ethtool.Features, replies)
	want := make([]*ethtool.Features, replies)
	for i := range sent {
		sent[i] = fakeFeatures(i)
		want[i] = decoded(t, sent[i])
	}
	srv := ethtooltest.NewServer(nil)
	srv.HandleFeaturesGetDump(func(_ *ethtool.FeaturesGetDumpRequest, yield func(*ethtool.Features) bool) error {
		for _, v := range sent {
			if !yield(v) {
				break
			}
		}
		return nil
	})
	c, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Conn().Close() })
	return c, ctx, want
}

// TestDumpAppendReuse: FeaturesGetDumpAppend gives what the iterator
// gives, into a slice passed back to it again and again; once warm it
// allocates (next to) nothing per reply beyond what the same dump costs
// undecoded, and it leaves the elements before len(dst) alone.
func TestDumpAppendReuse(t *testing.T) {
	const replies = 500
	c, ctx, want := reuseServer(t, replies)
	var fromIter []*ethtool.Features
	for v, err := range c.FeaturesGetDump(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		fromIter = append(fromIter, v)
	}
	if !reflect.DeepEqual(fromIter, want) {
		t.Fatal("the iterator's values differ from the replies decoded on their own")
	}
	check := func(what string, got []ethtool.Features) {
		t.Helper()
		if len(got) != replies {
			t.Fatalf("%s: %d values, want %d", what, len(got), replies)
		}
		for i := range got {
			if !reflect.DeepEqual(&got[i], want[i]) {
				t.Fatalf("%s: value %d = %+v, want %+v", what, i, got[i], *want[i])
			}
		}
	}
	var dst []ethtool.Features
	var err error
	for round := range 3 {
		dst, err = c.FeaturesGetDumpAppend(ctx, nil, dst[:0])
		if err != nil {
			t.Fatal(err)
		}
		check("dump "+string(rune('1'+round)), dst)
	}

	// A dump undecoded, for what the transport and the fake kernel
	// allocate per reply.
	raw := genl.Request{Family: c.Family().ID, Command: ethtool.CmdFeaturesGet, Version: uint8(c.Family().Version), Flags: netlink.Dump}
	base := testing.AllocsPerRun(5, func() {
		for _, err := range c.Conn().Dump(ctx, raw) {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	reuse := testing.AllocsPerRun(5, func() {
		dst, err = c.FeaturesGetDumpAppend(ctx, nil, dst[:0])
		if err != nil {
			t.Fatal(err)
		}
	})
	check("after AllocsPerRun", dst)
	t.Logf("allocations per dump of %d replies: %.0f undecoded, %.0f decoded into reused memory", replies, base, reuse)
	if extra := (reuse - base) / replies; extra > 0.05 {
		t.Errorf("a warm dump into reused memory allocates %.3f times per reply beyond the undecoded dump (%.0f vs %.0f per dump), want ~0", extra, reuse, base)
	}

	// Elements before len(dst) are not touched, nor what they refer to.
	first := dst[0]
	firstHw := append([]byte(nil), first.Hw.Value...)
	firstName := first.Header.DevName.Value
	dst, err = c.FeaturesGetDumpAppend(ctx, nil, dst[:1])
	if err != nil {
		t.Fatal(err)
	}
	if len(dst) != replies+1 || !reflect.DeepEqual(dst[0], first) || !reflect.DeepEqual(first.Hw.Value, firstHw) || first.Header.DevName.Value != firstName {
		t.Fatalf("the element before len(dst) changed: %+v", dst[0])
	}
	check("after the kept element", dst[1:])
	if !reflect.DeepEqual(&dst[0], want[0]) {
		t.Fatalf("kept element = %+v, want %+v", dst[0], *want[0])
	}
}

// TestDumpAppendErrors: a reply that fails to decode is left out and
// reported at the end while the dump goes on; an error of the dump
// itself ends it with what was decoded so far. Errors name the family
// and op.
func TestDumpAppendErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := ethtooltest.NewServer(nil)
	fail := errors.New("no more")
	srv.HandleFeaturesGetDump(func(_ *ethtool.FeaturesGetDumpRequest, yield func(*ethtool.Features) bool) error {
		for i := range 6 {
			v := fakeFeatures(i)
			if i == 2 {
				// A header nest holding 3 bytes: no attribute fits.
				v.Extra = append(v.Extra, attrs.Attr{Type: ethtool.AttrFeaturesHeader, Flags: attrs.FlagNested, Data: []byte{1, 2, 3}})
				v.Header = nil
			}
			if !yield(v) {
				break
			}
		}
		return ethtooltest.Errorf(unix.EINVAL, "", "%v", fail)
	})
	c, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Conn().Close()
	dst := make([]ethtool.Features, 1, 4)
	dst[0].Header = &ethtool.Header{DevIndex: ethtool.Some[uint32](99)}
	dst, err = c.FeaturesGetDumpAppend(ctx, nil, dst)
	t.Logf("error: %v", err)
	if err == nil {
		t.Fatal("no error")
	}
	var ge *genl.Error
	if !errors.As(err, &ge) || !errors.Is(err, unix.EINVAL) {
		t.Errorf("error %v does not carry the kernel's *genl.Error", err)
	}
	if len(dst) != 6 || dst[0].Header.DevIndex.Value != 99 {
		t.Fatalf("got %d values (first %+v), want the kept one and 5 replies", len(dst), dst[0].Header)
	}
	for i, want := range []uint32{1, 2, 4, 5, 6} {
		if got := dst[i+1].Header.DevIndex.Value; got != want {
			t.Errorf("value %d: dev index %d, want %d", i+1, got, want)
		}
	}
}

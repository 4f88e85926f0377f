package netdev_test

import (
	"reflect"
	"testing"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/mdlayher/netlink"
)

// fakeQueue is reply i of a queue dump: nests behind pointers come and
// go from one reply to the next, so that reused values change shape.
func fakeQueue(i int) *netdev.Queue {
	q := &netdev.Queue{Ifindex: netdev.Some[uint32](5), ID: netdev.Some(uint32(i)), Type: netdev.Some(netdev.QueueTypeRx)}
	if i%3 == 0 {
		q.IoUring = &netdev.IoUringProviderInfo{RxBufLen: netdev.Some(uint64(4096 * i))}
	}
	if i%4 == 1 {
		q.Xsk = &netdev.XskInfo{}
	}
	if i%5 != 2 {
		q.Lease = &netdev.Lease{Ifindex: netdev.Some(uint32(i + 7)), Queue: &netdev.QueueID{ID: netdev.Some(uint32(i)), Type: netdev.Some(netdev.QueueTypeTx)}}
	}
	return q
}

// TestQueueDumpAppendReuse: QueueGetDumpAppend into a slice passed back to
// it gives what the iterator gives, whatever the reused elements held
// before, allocates (next to) nothing per reply once warm beyond what the
// undecoded dump costs, and leaves elements before len(dst) alone.
func TestQueueDumpAppendReuse(t *testing.T) {
	const replies = 400
	srv, c, ctx := fakeClient(t, nil)
	shift := 0 // rounds send the replies in other orders
	sent := make([]*netdev.Queue, 2*replies)
	for i := range sent {
		sent[i] = fakeQueue(i)
	}
	srv.HandleQueueGetDump(func(_ *netdev.QueueGetDumpRequest, yield func(*netdev.Queue) bool) error {
		for _, q := range sent[shift : shift+replies] {
			if !yield(q) {
				break
			}
		}
		return nil
	})
	iterDump := func() []*netdev.Queue {
		var out []*netdev.Queue
		for q, err := range c.QueueGetDump(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, q)
		}
		return out
	}
	var dst []netdev.Queue
	var err error
	for round, s := range []int{0, 1, 7, 0} {
		shift = s
		want := iterDump()
		dst, err = c.QueueGetDumpAppend(ctx, nil, dst[:0])
		if err != nil {
			t.Fatal(err)
		}
		if len(dst) != len(want) {
			t.Fatalf("round %d: %d values, want %d", round, len(dst), len(want))
		}
		for i := range dst {
			if !reflect.DeepEqual(&dst[i], want[i]) {
				t.Fatalf("round %d: value %d = %+v, want %+v", round, i, dst[i], *want[i])
			}
		}
	}

	raw := genl.Request{Family: c.Family().ID, Command: netdev.CmdQueueGet, Version: uint8(c.Family().Version), Flags: netlink.Dump}
	base := testing.AllocsPerRun(5, func() {
		for _, err := range c.Conn().Dump(ctx, raw) {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	reuse := testing.AllocsPerRun(5, func() {
		if dst, err = c.QueueGetDumpAppend(ctx, nil, dst[:0]); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per dump of %d replies: %.0f undecoded, %.0f decoded into reused memory", replies, base, reuse)
	if extra := (reuse - base) / replies; extra > 0.05 {
		t.Errorf("a warm dump into reused memory allocates %.3f times per reply beyond the undecoded dump, want ~0", extra)
	}

	kept, keptLease := dst[0], *dst[0].Lease
	keptInner := *dst[0].Lease.Queue
	dst, err = c.QueueGetDumpAppend(ctx, nil, dst[:1])
	if err != nil {
		t.Fatal(err)
	}
	if len(dst) != replies+1 || !reflect.DeepEqual(dst[0], kept) || !reflect.DeepEqual(*dst[0].Lease, keptLease) || !reflect.DeepEqual(*dst[0].Lease.Queue, keptInner) {
		t.Fatalf("the element before len(dst) changed: %+v", dst[0])
	}
}

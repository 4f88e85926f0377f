package genl_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// TestKernelOverrunLostReply is the deterministic form of the flood: the
// Conn's receive queue is full (of answers nobody waits for, which are
// dropped when read) when a request is sent, so the kernel drops its reply
// and reports ENOBUFS. The request must fail promptly with ErrOverrun.
func TestKernelOverrunLostReply(t *testing.T) {
	_, c := kernelConn(t, genl.WithReadBuffer(1))
	nd := netdevClient(t, c)
	filled := fillReceiveQueue(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := nd.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)})
	took := time.Since(start)
	if !errors.Is(err, genl.ErrOverrun) || took > time.Second {
		t.Errorf("request whose reply was lost: %v after %v, want ErrOverrun promptly", err, took.Round(time.Millisecond))
	}
	if _, err := nd.DevGet(ctxT(t), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)}); err != nil {
		t.Fatalf("next request: %v", err)
	}
	st := c.Stats()
	reliabilityLine(t, "stale_requests", filled, "err", fmt.Sprintf("%q", fmt.Sprint(err)), "took", took.Round(time.Millisecond),
		"overruns", st.Overruns, "lost_replies", st.LostReplies, "stale", st.Stale)
}

// TestKernelOverrunBurst gives a subscriber the smallest receive buffer,
// makes 1,000 veth pairs (2,000 veth devices, 2,000 dev-add notifications)
// while it does not read, then checks that the stream reports ErrOverrun
// with a count and goes on to deliver later notifications.
func TestKernelOverrunBurst(t *testing.T) {
	ns, c := kernelConn(t, genl.WithReadBuffer(1))
	nd := netdevClient(t, c)
	rb, _ := c.ReadBuffer()
	sub, err := nd.Subscribe(ctxT(t), netdev.GroupMgmt)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const pairs = 1000
	start := time.Now()
	addVethPairs(t, ns, "ob", pairs)
	burstTook := time.Since(start)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got, overrunErrs int
	var overruns, dropped uint64
	late := false
	lateSeen := map[uint32]bool{}
	var lateIdx map[uint32]bool
	for n, err := range sub.All(ctx) {
		var oe *genl.OverrunError
		switch {
		case errors.As(err, &oe):
			if !errors.Is(err, genl.ErrOverrun) || !errors.Is(err, unix.ENOBUFS) || oe.Overruns+oe.Dropped == 0 {
				t.Fatalf("overrun error without a count: %v", err)
			}
			overrunErrs++
			overruns += oe.Overruns
			dropped += oe.Dropped
			if !late {
				// Resynchronise the way a daemon would: dump, then
				// expect new notifications.
				if n, err := countDump(ctxT(t), nd); err != nil || n != 2*pairs+len(ns.Initial) {
					t.Fatalf("resync dump: %d, %v", n, err)
				}
				late = true
				ns.IP(t, "link", "add", "oblate", "type", "veth", "peer", "name", "oblatep")
				idx := ns.Ifindexes(t)
				lateIdx = map[uint32]bool{uint32(idx["oblate"]): true, uint32(idx["oblatep"]): true}
			}
			continue
		case err != nil:
			t.Fatalf("after %d notifications and %d overruns: %v", got, overrunErrs, err)
		}
		got++
		if a, ok := n.(*netdev.DevAddNtf); ok && late && lateIdx[a.Ifindex.Value] {
			lateSeen[a.Ifindex.Value] = true
			if len(lateSeen) == 2 {
				break
			}
		}
	}
	if overrunErrs == 0 {
		t.Fatal("no overrun reported")
	}
	st := c.Stats()
	if st.Overruns == 0 || st.Overruns < overruns {
		t.Errorf("stats %+v, stream counted %d overruns", st, overruns)
	}
	// Requests still work on the Conn.
	if _, err := nd.DevGet(ctxT(t), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)}); err != nil {
		t.Fatal(err)
	}
	reliabilityLine(t, "rcvbuf", rb, "veth_devices", 2*pairs, "burst_took", burstTook.Round(time.Millisecond),
		"overrun_errors", overrunErrs, "overruns_counted", overruns, "dropped_counted", dropped,
		"notifications_received", got, "late_notifications", len(lateSeen), "stats_overruns", st.Overruns)
}

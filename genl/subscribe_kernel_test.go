package genl_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
)

// TestKernelSubscriberAllocs checks that reading notifications costs no
// allocation per notification once a subscription is running, with the
// default receive slots and with larger ones (WithMessageBufferSize): a
// subscriber runs for the life of a program, so anything it allocates per
// notification is garbage collected all that time.
func TestKernelSubscriberAllocs(t *testing.T) {
	for _, size := range []int{0, 64 << 10} {
		t.Run(fmt.Sprintf("slot=%d", size), func(t *testing.T) {
			var opts []genl.Option
			if size != 0 {
				opts = append(opts, genl.WithMessageBufferSize(size))
			}
			ns, c := kernelConn(t, opts...)
			fi := needFamily(t, c, netdevFamilyName)
			sub := subscribeMgmt(t, c, fi)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// readAdds reads notifications until the dev-add of each of
			// the devices; it returns how many it read.
			readAdds := func(devs map[uint32]bool) int {
				t.Helper()
				n := 0
				for len(devs) > 0 {
					m, err := sub.Next(ctx)
					if err != nil {
						t.Fatalf("%d devices left: %v", len(devs), err)
					}
					n++
					if m.Header.Command != netdevCmdDevAddNtf {
						continue
					}
					d := attrs.NewDecoder(m.Data)
					for d.Next() {
						if d.Type() == netdevADevIfindex {
							delete(devs, d.U32())
						}
					}
				}
				return n
			}
			devs := func(prefix string, pairs int) map[uint32]bool {
				m := map[uint32]bool{}
				for _, v := range ns.AddVeths(t, prefix, pairs) {
					m[uint32(v.Index)], m[uint32(v.PeerIndex)] = true, true
				}
				return m
			}
			readAdds(devs("wa", 2)) // the subscription's first reads

			want := devs("al", 20)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			n := readAdds(want)
			runtime.ReadMemStats(&after)
			allocs := after.Mallocs - before.Mallocs
			t.Logf("%d notifications, %d allocations", n, allocs)
			if allocs > uint64(n)/8 {
				t.Errorf("%d allocations reading %d notifications", allocs, n)
			}
			if st := c.Stats(); st.Overruns != 0 || st.Truncated != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestKernelSubscriberAfterIdle checks that a subscriber parked with
// nothing queued wakes for each notification that comes later, one at a
// time, and that its wait still ends with its context afterwards.
func TestKernelSubscriberAfterIdle(t *testing.T) {
	ns, c := kernelConn(t, genl.WithMessageBufferSize(64<<10))
	fi := needFamily(t, c, netdevFamilyName)
	sub := subscribeMgmt(t, c, fi)
	for i := range 3 {
		got := make(chan error, 1)
		go func() {
			_, err := sub.Next(ctxT(t))
			got <- err
		}()
		time.Sleep(20 * time.Millisecond) // let Next park
		ns.IP(t, "link", "add", fmt.Sprintf("id%d", i), "type", "veth", "peer", "name", fmt.Sprintf("id%dp", i))
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		drainSub(context.Background(), t, sub) // the rest of what the link made
	}
}

// subscribeMgmt subscribes c to netdev's mgmt group; the subscription is
// closed when the test ends, if it is not by then.
func subscribeMgmt(t *testing.T, c *genl.Conn, fi familyInfo) *genl.Subscription {
	t.Helper()
	sub, err := c.Subscribe(fi.Groups[netdevGroupMgmt])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// drainSub reads sub's notifications until none comes for 100 ms.
func drainSub(ctx context.Context, t *testing.T, sub *genl.Subscription) {
	t.Helper()
	for {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		_, err := sub.Next(short)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestKernelSubscriberWaitLifecycle checks what a subscribed Conn's waits
// rely on, with one processor (where the Conn waits through a watcher
// goroutine), with two, and with GOMAXPROCS raised while a subscriber is
// parked: a request answered while a subscriber is parked, a parked Next
// ended by its context, a notification waking the next Next, no goroutine
// left behind once the last subscription is closed (an idle Conn has
// none), and a new subscription on the same Conn working the same.
func TestKernelSubscriberWaitLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name         string
		procs, later int // GOMAXPROCS, and after the first wait
	}{
		{"procs=1", 1, 1},
		{"procs=2", 2, 2},
		{"procs=1-then-2", 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tc.procs))
			ns, c := kernelConn(t)
			fi := needFamily(t, c, netdevFamilyName)
			base := runtime.NumGoroutine()
			for round := range 2 {
				runtime.GOMAXPROCS(tc.procs)
				sub := subscribeMgmt(t, c, fi)
				// A parked subscriber, then a request meanwhile.
				ctx, cancel := context.WithCancel(ctxT(t))
				got := make(chan error, 1)
				go func() {
					_, err := sub.Next(ctx)
					got <- err
				}()
				time.Sleep(20 * time.Millisecond) // let Next park
				runtime.GOMAXPROCS(tc.later)
				needFamily(t, c, netdevFamilyName)
				select {
				case err := <-got:
					t.Fatalf("round %d: Next returned during a request: %v", round, err)
				default:
				}
				cancel()
				select {
				case err := <-got:
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("round %d: parked Next after cancel: %v", round, err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("round %d: parked Next did not end with its context", round)
				}
				// A notification after the cancelled wait wakes the next Next.
				go func() {
					_, err := sub.Next(ctxT(t))
					got <- err
				}()
				time.Sleep(20 * time.Millisecond)
				ns.IP(t, "link", "add", fmt.Sprintf("lc%d", round), "type", "veth", "peer", "name", fmt.Sprintf("lc%dp", round))
				if err := <-got; err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				drainSub(context.Background(), t, sub)
				if err := sub.Close(); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(5 * time.Second)
				for runtime.NumGoroutine() > base {
					if time.Now().After(deadline) {
						buf := make([]byte, 1<<20)
						t.Fatalf("round %d: %d goroutines after the subscription closed, %d before:\n%s",
							round, runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
					}
					time.Sleep(time.Millisecond)
				}
				// The idle Conn still answers.
				needFamily(t, c, netdevFamilyName)
			}
		})
	}
}

// TestKernelSubscribedWaitDeadline checks that a read deadline ahead ends
// a subscribed socket's wait when it passes, with one processor (the
// watcher's timer) and with two (the netpoller's own deadline).
func TestKernelSubscribedWaitDeadline(t *testing.T) {
	for _, procs := range []int{1, 2} {
		t.Run(fmt.Sprintf("procs=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			_, c := kernelConn(t)
			fi := needFamily(t, c, netdevFamilyName)
			subscribeMgmt(t, c, fi)
			const ahead = 50 * time.Millisecond
			start := time.Now()
			n, err := genl.SockWaitRecv(c, start.Add(ahead))
			took := time.Since(start)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("wait with nothing queued: %d datagrams, %v", n, err)
			}
			if took < ahead || took > 5*time.Second {
				t.Errorf("the wait ended after %v, deadline %v ahead", took, ahead)
			}
		})
	}
}

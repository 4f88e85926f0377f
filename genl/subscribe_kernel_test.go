package genl_test

import (
	"context"
	"errors"
	"fmt"
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
			sub, err := c.Subscribe(fi.Groups[netdevGroupMgmt])
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
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
	sub, err := c.Subscribe(fi.Groups[netdevGroupMgmt])
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
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

package genl_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Faults on the real kernel (issue 9), each in a namespace of its own.
// Figures are logged with t.Logf and in lines starting "RELIABILITY " that
// docs/reliability.md quotes.

func reliabilityLine(t *testing.T, kv ...any) {
	t.Helper()
	var b strings.Builder
	b.WriteString("RELIABILITY test=" + t.Name())
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Log(b.String())
}

// TestKernelCancelMidDump cancels dev-get dumps of 2,001 devices or more
// (1,000 veth pairs, lo and whatever else the namespace starts with) at
// several points; a new dump on the same Conn right after
// must return every device, never EBUSY.
func TestKernelCancelMidDump(t *testing.T) {
	ns, c := kernelConn(t)
	nd := netdevClient(t, c)
	const pairs = 1000
	start := time.Now()
	addVethPairs(t, ns, "cd", pairs)
	t.Logf("made %d veth pairs in %v", pairs, time.Since(start).Round(time.Millisecond))
	total := 2*pairs + len(ns.Initial)

	next := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		n, err := countDump(ctx, nd)
		if errors.Is(err, unix.EBUSY) {
			t.Fatalf("%s: new dump got EBUSY: %v", what, err)
		}
		if err != nil || n != total {
			t.Fatalf("%s: new dump: %d devices, %v (want %d)", what, n, err, total)
		}
		// Do-requests too.
		if dev, err := nd.DevGet(ctxT(t), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)}); err != nil || dev.Ifindex.Value != 1 {
			t.Fatalf("%s: dev-get lo: %+v %v", what, dev, err)
		}
	}
	next("before")

	cancels := 0
	// Cancelled by the consumer after it has seen `at` devices.
	for _, at := range []int{1, 2, 10, 100, 500, 1000, 2000} {
		ctx, cancel := context.WithCancel(context.Background())
		seen := 0
		var derr error
		for _, err := range nd.DevGetDump(ctx) {
			if err != nil {
				derr = err
				break
			}
			seen++
			if seen == at {
				cancel()
			}
		}
		cancel()
		if derr != nil && !errors.Is(derr, context.Canceled) {
			t.Fatalf("cancelled at %d: %v", at, derr)
		}
		cancels++
		next(fmt.Sprintf("after cancel at %d (saw %d, %v)", at, seen, derr))
	}
	// Cancelled from another goroutine while a slow consumer reads.
	for _, after := range []time.Duration{0, 100 * time.Microsecond, time.Millisecond, 5 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(after, cancel)
		seen := 0
		var derr error
		for _, err := range nd.DevGetDump(ctx) {
			if err != nil {
				derr = err
				break
			}
			seen++
			if seen%100 == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		timer.Stop()
		cancel()
		if derr != nil && !errors.Is(derr, context.Canceled) {
			t.Fatalf("cancelled after %v: %v", after, derr)
		}
		cancels++
		next(fmt.Sprintf("after cancel at %v (saw %d)", after, seen))
	}
	// Breaking out of the loop is the other way to abandon a dump.
	for range 3 {
		for range nd.DevGetDump(ctxT(t)) {
			break
		}
		cancels++
		next("after break")
	}
	st := c.Stats()
	if st.Stale != 0 || st.Spoofed != 0 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
	reliabilityLine(t, "devices", total, "abandoned_dumps", cancels, "ebusy", 0, "discarded_msgs", st.Discarded, "dumps", st.Dumps)
}

// settle waits until the goroutine and fd counts are back to at most the
// baseline, and returns the last counts.
func settle(gs, fds int) (int, int) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		g, f := runtime.NumGoroutine(), openFDCount()
		if g <= gs && f <= fds || time.Now().After(deadline) {
			return g, f
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKernelCloseInFlight closes a Conn while 100 goroutines hammer it with
// do-requests, dumps and a subscription: every one of them must end with
// net.ErrClosed, and goroutines and fds come back to the baseline.
func TestKernelCloseInFlight(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "cf", 50)
	for round := range 3 {
		baseG, baseFD := settle(1<<30, 1<<30)
		c, err := genl.Dial(genl.WithNetNS(ns.Name))
		if err != nil {
			t.Fatal(err)
		}
		// The round closes c itself; this closes it when the round
		// ends early (a kernel without netdev skips, a failure).
		t.Cleanup(func() { c.Close() })
		nd := netdevClient(t, c)
		sub, err := nd.Subscribe(ctxT(t), netdev.GroupMgmt)
		if err != nil {
			t.Fatal(err)
		}
		const G = 100
		var started, inCall atomic.Int64
		var closing atomic.Bool
		var ready sync.WaitGroup
		ready.Add(G)
		errs := make(chan error, G+1)
		for g := range G {
			go func() {
				first := true
				for i := 0; ; i++ {
					inCall.Add(1)
					var err error
					switch (g + i) % 4 {
					case 0, 1:
						var dev *netdev.Dev
						dev, err = nd.DevGet(context.Background(), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)})
						if err == nil && dev.Ifindex.Value != 1 {
							err = fmt.Errorf("dev-get lo answered ifindex %d", dev.Ifindex.Value)
						}
					case 2:
						_, err = countDump(context.Background(), nd)
					case 3:
						err = c.Ack(context.Background(), genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1,
							Attrs: familyNameAttr("nlctrl")})
					}
					inCall.Add(-1)
					if first {
						first = false
						started.Add(1)
						ready.Done()
					}
					if err != nil {
						if !closing.Load() {
							err = fmt.Errorf("before Close: %w", err)
						}
						errs <- err
						return
					}
				}
			}()
		}
		go func() { _, err := sub.Next(context.Background()); errs <- err }()
		ready.Wait()
		time.Sleep(20 * time.Millisecond)
		flight := inCall.Load()
		closeStart := time.Now()
		closing.Store(true)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		closeTook := time.Since(closeStart)
		bad := 0
		timeout := time.After(10 * time.Second)
		for range G + 1 {
			select {
			case err := <-errs:
				if !errors.Is(err, net.ErrClosed) {
					bad++
					if bad < 5 {
						t.Errorf("call ended with %v, want net.ErrClosed", err)
					}
				}
			case <-timeout:
				t.Fatal("Close did not end every call")
			}
		}
		g, f := settle(baseG, baseFD)
		if g > baseG || f > baseFD {
			buf := make([]byte, 1<<16)
			t.Fatalf("after Close: %d goroutines (baseline %d), %d fds (baseline %d)\n%s", g, baseG, f, baseFD, buf[:runtime.Stack(buf, true)])
		}
		reliabilityLine(t, "round", round, "goroutines", G, "in_flight_at_close", flight, "err_closed", G+1-bad, "other_errors", bad,
			"close_took", closeTook.Round(time.Microsecond), "goroutines_base", baseG, "goroutines_after", g, "fds_base", baseFD, "fds_after", f,
			"socket_errors", c.Stats().SocketErrors)
	}
}

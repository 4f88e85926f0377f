package genl_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/mptcppm"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/testutils"
	"github.com/mdlayher/netlink"
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

func netdevClient(t *testing.T, c *genl.Conn) *netdev.Client {
	t.Helper()
	nd, err := netdev.New(ctxT(t), c)
	if err != nil {
		testutils.RequireBuiltinFamily(t, !errors.Is(err, fs.ErrNotExist), "netdev")
		t.Fatal(err)
	}
	return nd
}

// countDump runs a whole dev-get dump and returns the number of devices.
func countDump(ctx context.Context, nd *netdev.Client) (int, error) {
	n := 0
	for dev, err := range nd.DevGetDump(ctx) {
		if err != nil {
			return n, err
		}
		if !dev.Ifindex.Valid {
			return n, fmt.Errorf("device without ifindex")
		}
		n++
	}
	return n, nil
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

// addVethPairs makes n veth pairs in one `ip -batch`, left down (netdev
// reports them all the same), which is about twice as fast as AddVeths.
func addVethPairs(t *testing.T, ns *testutils.NS, prefix string, n int) {
	t.Helper()
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("link add %s%d type veth peer name %s%dp", prefix, i, prefix, i)
	}
	ns.IPBatch(t, lines)
}

func openFDCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
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

func familyNameAttr(name string) []byte {
	var enc attrs.Encoder
	enc.String(unix.CTRL_ATTR_FAMILY_NAME, name)
	return enc.Bytes()
}

// forger is a second NETLINK_GENERIC socket in a namespace, sending
// forged messages to a Conn's port id and to multicast groups. A forged
// unicast must never reach a caller: the kernel refuses it (the Conn's
// socket is connected to the kernel, so the forger's sendto fails with
// ECONNREFUSED) or the Conn discards it, counted in Stats.Spoofed.
type forger struct {
	t       *testing.T
	fd      int
	famID   uint16
	dst     *unix.SockaddrNetlink
	evil    []byte
	sent    int // unicast datagrams the socket accepted
	refused int // unicast datagrams the kernel refused (ECONNREFUSED)
	mcast   int // multicast datagrams the socket accepted
	eagain  int
}

func newForger(t *testing.T, ns *testutils.NS, c *genl.Conn, famID uint16) *forger {
	t.Helper()
	f := &forger{t: t, famID: famID, dst: &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: c.PortID()}}
	if err := ns.Run(func() error {
		var err error
		f.fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
		if err != nil {
			return err
		}
		return unix.Bind(f.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(f.fd) })
	var evil attrs.Encoder
	evil.U32(netdevADevIfindex, 666)
	f.evil = evil.Bytes()
	return f
}

// send sends one datagram; with dontwait it may find the Conn's receive
// queue full (EAGAIN) and report false.
func (f *forger) send(to *unix.SockaddrNetlink, dontwait bool, msgs ...[]byte) bool {
	flags := 0
	if dontwait {
		flags = unix.MSG_DONTWAIT
	}
	if err := unix.Sendto(f.fd, joinMsgs(msgs...), flags, to); err != nil {
		if errors.Is(err, unix.EAGAIN) {
			f.eagain++
			return false
		}
		if to.Groups == 0 && errors.Is(err, unix.ECONNREFUSED) {
			f.refused++
			return false
		}
		f.t.Errorf("forger sendto: %v", err)
		return false
	}
	if to.Groups != 0 {
		f.mcast++
	} else {
		f.sent++
	}
	return true
}

// forge sends, for sequence number seq, a dev-get reply for a device
// nobody asked about, an EPERM error with an extack, or a part and a DONE.
func (f *forger) forge(seq uint32, dontwait bool) bool {
	r := genltest.Request{Header: netlink.Header{Type: netlink.HeaderType(f.famID), Sequence: seq, PID: f.dst.Pid},
		Raw: make([]byte, 16)}
	r.Genl.Version = 1
	binary.NativeEndian.PutUint16(r.Raw[4:], f.famID)
	switch seq % 3 {
	case 0:
		return f.send(f.dst, dontwait, genltest.Reply(r, netdevCmdDevGet, f.evil))
	case 1:
		return f.send(f.dst, dontwait, genltest.Error(r, unix.EPERM, &genltest.Extack{Msg: "forged"}))
	default:
		return f.send(f.dst, dontwait, genltest.ReplyMulti(r, netdevCmdDevGet, f.evil, 0), genltest.Done(r, 0, 0, nil))
	}
}

// TestKernelForgedUnicast has a second NETLINK_GENERIC socket in the
// namespace forge replies, errors, DONEs and notifications to the Conn's
// port id, and notifications to its group, while requests run: no forged
// datagram reaches a caller or the subscription (the kernel refuses a
// forged unicast, the Conn drops and counts whatever is delivered), and
// each request still gets its own answer. The forger is paced so that it
// never fills the Conn's receive buffer (see TestKernelForgedFlood for
// what happens when it does).
func TestKernelForgedUnicast(t *testing.T) {
	ns, c := kernelConn(t)
	nd := netdevClient(t, c)
	veths := ns.AddVeths(t, "fu", 4)
	sub, err := nd.Subscribe(ctxT(t), netdev.GroupMgmt)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	grp := sub.Groups()[0]
	f := newForger(t, ns, c, nd.Family().ID)

	// Requests with checked answers run until the forger is done.
	stop := make(chan struct{})
	var reqs, dumps atomic.Int64
	var wg sync.WaitGroup
	reqErr := make(chan error, 4)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if g == 0 && i%4 == 0 {
					n, err := countDump(ctxT(t), nd)
					if err != nil || n != 2*len(veths)+len(ns.Initial) {
						reqErr <- fmt.Errorf("dump: %d devices, %v", n, err)
						return
					}
					dumps.Add(1)
					continue
				}
				v := veths[(g+i)%len(veths)]
				dev, err := nd.DevGet(ctxT(t), &netdev.DevGetRequest{Ifindex: netdev.Some(uint32(v.Index))})
				if err != nil || dev.Ifindex.Value != uint32(v.Index) {
					reqErr <- fmt.Errorf("dev-get %d: %+v %v", v.Index, dev, err)
					return
				}
				reqs.Add(1)
			}
		}()
	}

	start := time.Now()
	for seq := uint32(1); seq <= 3000; seq++ {
		f.forge(seq, false)
		if seq%100 == 0 {
			ntf := genltest.GenlMsg(f.famID, 0, 0, 0, netdevCmdDevAddNtf, 1, f.evil)
			f.send(f.dst, false, ntf)
			if grp <= 32 {
				f.send(&unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (grp - 1)}, false, ntf)
			}
		}
		if seq%32 == 0 {
			// Pace: wait until the Conn has read what was sent.
			for deadline := time.Now().Add(5 * time.Second); c.Stats().Spoofed < uint64(f.sent+f.mcast) && time.Now().Before(deadline); {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	forgeTook := time.Since(start)
	close(stop)
	wg.Wait()
	close(reqErr)
	for err := range reqErr {
		t.Error(err)
	}
	// One more request: everything forged before it has been read by then.
	if _, err := nd.DevGet(ctxT(t), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)}); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Spoofed != uint64(f.sent+f.mcast) {
		t.Errorf("spoofed %d, forged %d unicast + %d multicast delivered", st.Spoofed, f.sent, f.mcast)
	}
	if f.sent+f.refused < 3000 {
		t.Errorf("forged unicast: %d delivered + %d refused, want 3000+", f.sent, f.refused)
	}
	if st.Stale != 0 || st.LostReplies != 0 || st.Overruns != 0 {
		t.Errorf("stats %+v", st)
	}
	// Nothing forged reached the subscription.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for n, err := range sub.All(ctx) {
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Error(err)
			}
			break
		}
		t.Errorf("forged notification delivered: %#v", n)
	}
	if reqs.Load() == 0 {
		t.Error("no request ran during the forgery")
	}
	reliabilityLine(t, "forged_unicast", f.sent, "refused_unicast", f.refused, "forged_multicast", f.mcast, "spoofed_counted", st.Spoofed,
		"requests_ok", reqs.Load(), "dumps_ok", dumps.Load(), "mismatches", 0, "overruns", st.Overruns,
		"forge_took", forgeTook.Round(time.Millisecond))
}

// TestKernelForgedFlood lets the forger flood without pacing: unicast to
// the Conn's port, which the kernel refuses, and multicast to a group the
// Conn joined, which it delivers. A privileged local process that fills
// the Conn's receive buffer so makes the kernel drop the replies it sends
// meanwhile (ENOBUFS): that cannot be prevented, but every request must
// end promptly, with its reply or with ErrOverrun, never hang and never
// take a forged answer.
// nlctrlGroupNotify is nlctrl's multicast group "notify", which has a
// fixed id (GENL_ID_CTRL).
const nlctrlGroupNotify = unix.GENL_ID_CTRL

func TestKernelForgedFlood(t *testing.T) {
	ns, c := kernelConn(t)
	nd := netdevClient(t, c)
	veths := ns.AddVeths(t, "ff", 4)
	f := newForger(t, ns, c, nd.Family().ID)
	if err := c.JoinGroup(nlctrlGroupNotify); err != nil {
		t.Fatal(err)
	}
	mcast := &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (nlctrlGroupNotify - 1)}
	stop := make(chan struct{})
	var ok, lost atomic.Int64
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := veths[(g+i)%len(veths)]
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				dev, err := nd.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some(uint32(v.Index))})
				cancel()
				switch {
				case errors.Is(err, genl.ErrOverrun), errors.Is(err, unix.EAGAIN):
					// The reply was lost to the flood: our receive
					// queue overran, or was full when the kernel
					// sent the reply, and the kernel answered EAGAIN.
					lost.Add(1)
				case err != nil || dev.Ifindex.Value != uint32(v.Index):
					t.Errorf("dev-get %d: %+v %v", v.Index, dev, err)
					return
				default:
					ok.Add(1)
				}
			}
		}()
	}
	for seq := uint32(1); seq <= 5000; seq++ {
		f.forge(seq, false)
		f.send(mcast, false, genltest.GenlMsg(f.famID, 0, seq, 0, netdevCmdDevAddNtf, 1, f.evil))
	}
	close(stop)
	wg.Wait()
	st := c.Stats()
	if st.Spoofed > uint64(f.sent+f.mcast) {
		t.Errorf("spoofed %d, forged %d unicast + %d multicast delivered", st.Spoofed, f.sent, f.mcast)
	}
	reliabilityLine(t, "forged_unicast", f.sent, "refused_unicast", f.refused, "forged_multicast", f.mcast, "spoofed_counted", st.Spoofed, "requests_ok", ok.Load(),
		"requests_lost_overrun", lost.Load(), "overruns", st.Overruns, "lost_replies", st.LostReplies)
}

// fillReceiveQueue fills the receive queue of c, whose receive buffer is
// the smallest, with answers nobody waits for: requests sent on its socket
// behind its back, answered until the kernel drops the answers that no
// longer fit (and reports ENOBUFS). A Conn discards such answers as stale.
// It returns how many requests it sent.
func fillReceiveQueue(t *testing.T, c *genl.Conn) int {
	t.Helper()
	const n = 16 // each answer takes more than the smallest receive buffer
	fd := genl.SockFD(c)
	for i := range n {
		b := genltest.GenlMsg(unix.GENL_ID_CTRL, netlink.Request, 0x7fff0000+uint32(i), c.PortID(),
			unix.CTRL_CMD_GETFAMILY, 1, familyNameAttr("nlctrl"))
		if err := unix.Send(fd, b, 0); err != nil {
			t.Fatalf("request behind the Conn's back: %v", err)
		}
	}
	return n
}

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

// The unprivileged caller: the test binary runs itself as a child inside
// the namespace, either as nobody or as root of a fresh user namespace
// (which has no CAP_NET_ADMIN over the namespace, owned by the initial
// user namespace). The child dials the namespace it was born in and tries
// admin operations; TestKernelUnprivilegedChild does that part.

const envUnprivChild = "GENLKIT_UNPRIV_CHILD"

func TestKernelUnprivileged(t *testing.T) {
	if os.Getenv(envUnprivChild) != "" {
		t.Skip("in the child")
	}
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// nobody cannot reach the test binary under the go build cache's
	// private directories: give it a copy.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pub := filepath.Join(dir, "genl.test")
	if err := copyFile(exe, pub, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		exe  string
		attr *syscall.SysProcAttr
	}{
		{"nobody", pub, &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}},
		{"userns", exe, &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tc.exe, "-test.run=^TestKernelUnprivilegedChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envUnprivChild+"="+tc.name, "GENLKIT_NO_LEAK_CHECK=1")
			cmd.Dir = "/"
			cmd.SysProcAttr = tc.attr
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			// Fork on a thread inside the namespace: the child is born in it.
			err := ns.Run(cmd.Run)
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out.String())
			}
			o := out.String()
			if !strings.Contains(o, "--- PASS: TestKernelUnprivilegedChild") {
				t.Fatalf("child did not pass:\n%s", o)
			}
			for line := range strings.SplitSeq(o, "\n") {
				if i := strings.Index(line, "RELIABILITY "); i >= 0 {
					t.Log(strings.TrimSpace(line[i:]))
				}
			}
		})
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func TestKernelUnprivilegedChild(t *testing.T) {
	mode := os.Getenv(envUnprivChild)
	if mode == "" {
		t.Skip("run by TestKernelUnprivileged")
	}
	var caps [2]unix.CapUserData // version 3: two words
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	_ = unix.Capget(&hdr, &caps[0])
	c, err := genl.Dial() // the namespace the child was born in
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxT(t)
	nd, err := netdev.New(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	// Unprivileged reads work.
	if _, err := nd.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)}); err != nil {
		t.Fatalf("dev-get as %s: %v", mode, err)
	}
	check := func(fam, op string, err error) {
		t.Helper()
		if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, unix.EPERM) {
			t.Errorf("%s %s: got %v, want EPERM", fam, op, err)
			return
		}
		if msg := err.Error(); !strings.Contains(msg, fam) || !strings.Contains(msg, op) {
			t.Errorf("%s %s: message does not name the family and op: %q", fam, op, msg)
		}
		var e *genl.Error
		if !errors.As(err, &e) || e.Family == 0 || e.Command == 0 {
			t.Errorf("%s %s: no *genl.Error with the request: %v", fam, op, err)
		}
		reliabilityLine(t, "mode", mode, "uid", os.Getuid(), "cap_eff", fmt.Sprintf("%#x", uint64(caps[1].Effective)<<32|uint64(caps[0].Effective)), "op", fam+"/"+op, "err", fmt.Sprintf("%q", err.Error()))
	}
	// netdev napi-set: admin-perm (GENL_ADMIN_PERM, CAP_NET_ADMIN in the
	// initial user namespace). Kernels before 6.13 lack the op, and say so
	// before anything is sent.
	err = nd.NapiSet(ctx, &netdev.NapiSetRequest{ID: netdev.Some[uint32](1), DeferHardIrqs: netdev.Some[uint32](1)})
	if errors.Is(err, family.ErrNotSupported) && !testutils.KernelAtLeast(t, "6.13") {
		t.Logf("netdev napi-set: %v (Linux 6.13 and newer have it)", err)
	} else {
		check("netdev", "napi-set", err)
	}
	// mptcp_pm add-addr: uns-admin-perm (CAP_NET_ADMIN over the namespace).
	mp, err := mptcppm.New(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	check("mptcp_pm", "add-addr", mp.AddAddr(ctx, &mptcppm.AddAddrRequest{Addr: &mptcppm.Address{
		Family: mptcppm.Some[uint16](unix.AF_INET), ID: mptcppm.Some[uint8](9), Addr4: mptcppm.Some[uint32](0xc0000201),
		Flags: mptcppm.Some[uint32](mptcpFlagSignal)}}))
}

// isSpuriousRecvEINVAL matches the error TestKernelDumpRecvEINVAL looks for
// (see also TestKernelSocketErrorDropped).
func isSpuriousRecvEINVAL(err error) bool {
	var e *genl.Error
	return errors.As(err, &e) && e.Op == "receive" && errors.Is(err, unix.EINVAL)
}

// TestKernelDumpRecvEINVAL runs small dumps (they end inside the sendmsg
// that starts them) beside do-requests on one Conn. The kernel's
// netlink_recvmsg continues a running dump when it sees cb_running, and
// netlink_dump answers -EINVAL when a concurrent sendmsg has finished the
// dump meanwhile; recvmsg stores that in sk_err, and the next receive
// returns EINVAL. That error belongs to no request: the Conn must not fail
// the caller that happens to be reading.
func TestKernelDumpRecvEINVAL(t *testing.T) {
	ns, c := kernelConn(t)
	nd := netdevClient(t, c)
	ns.AddVeths(t, "ei", 50)
	sub, err := nd.Subscribe(ctxT(t), netdev.GroupMgmt) // receives go through recvmmsg
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var wg sync.WaitGroup
	var recvErrs, other, ops atomic.Int64
	deadline := time.Now().Add(3 * time.Second)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				var err error
				if g%4 == 2 {
					_, err = countDump(context.Background(), nd)
				} else {
					_, err = nd.DevGet(context.Background(), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)})
				}
				ops.Add(1)
				switch {
				case err == nil:
				case isSpuriousRecvEINVAL(err):
					recvErrs.Add(1)
				default:
					other.Add(1)
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	reliabilityLine(t, "ops", ops.Load(), "spurious_recv_einval", recvErrs.Load(), "stats_recv_errors", st.RecvErrors, "stats_socket_errors", st.SocketErrors)
	if recvErrs.Load() > 0 {
		t.Errorf("%d of %d calls failed with a receive EINVAL that belongs to no request", recvErrs.Load(), ops.Load())
	}
}

package ynlbench_test

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

var notifyRaw = flag.Bool("notify.rawgo", false, "BenchmarkNotifyRatio: a third burst per round, read by the bare Go loop")

var notifySlice = flag.Int("notify.slice", 0, "BenchmarkNotifyRatio: genlkit and C take turns of this many notifications within each burst (0: whole bursts)")

// measureNotify runs b.N bursts in ns, reading each with next until dels
// dev-del notifications have come, and reports the process's CPU, wall
// time, allocations and bytes per notification. next returns whether it
// read a dev-del.
func measureNotify(b *testing.B, ns *testutils.NS, dels int, next func() (del bool, err error)) {
	var ntfs, cpu, wall, mallocs, bytes float64
	var ms runtime.MemStats
	for range b.N {
		fire := burst(b, ns)
		runtime.ReadMemStats(&ms)
		m0, a0, c0, t0 := ms.Mallocs, ms.TotalAlloc, testutils.ProcessCPU(), time.Now()
		n := readBurst(b, fire, dels, next)
		wall += float64(time.Since(t0))
		cpu += float64(testutils.ProcessCPU() - c0)
		runtime.ReadMemStats(&ms)
		mallocs += float64(ms.Mallocs - m0)
		bytes += float64(ms.TotalAlloc - a0)
		ntfs += float64(n)
	}
	b.ReportAllocs()
	b.ReportMetric(wall/ntfs, "ns/op")
	b.ReportMetric(cpu/ntfs, "cpu-ns/op")
	b.ReportMetric(mallocs/ntfs, "allocs/op")
	b.ReportMetric(bytes/ntfs, "B/op")
	b.ReportMetric(ntfs/float64(b.N), "ntfs/burst")
}

// A rawSubscriber is the least a Go program does per notification, the
// floor under any Go library: a NETLINK_GENERIC socket in the netpoller
// (an os.File), its goroutine parked there while nothing is queued; each
// wake-up a non-blocking recvfrom per datagram until the queue is empty,
// as YNL C does after its poll; of each notification it reads only the
// command. It does not decode, check the sender or detect overruns.
type rawSubscriber struct {
	f    *os.File
	rc   syscall.RawConn
	buf  []byte
	msgs []byte // the unread rest of the last datagram
	recv func(fd uintptr) bool
	err  error
}

func newRawSubscriber(b *testing.B, ns *testutils.NS) *rawSubscriber {
	conn, ctx := ns.Dial(b)
	c, err := netdev.New(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	grp, err := c.Family().Group("mgmt")
	if err != nil {
		b.Fatal(err)
	}
	var fd int
	err = ns.Run(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			unix.Close(fd)
			return err
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(grp.ID)); err != nil {
		unix.Close(fd)
		b.Fatal(err)
	}
	r := &rawSubscriber{f: os.NewFile(uintptr(fd), "netlink"), buf: make([]byte, 32<<10)}
	if r.rc, err = r.f.SyscallConn(); err != nil {
		b.Fatal(err)
	}
	r.recv = r.receive
	return r
}

// receive is the netpoller wait's callback: one recvfrom that does not
// block (so it needs no entersyscall, which would wake sysmon).
func (r *rawSubscriber) receive(fd uintptr) bool {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&r.buf[0])), uintptr(len(r.buf)), unix.MSG_DONTWAIT, 0, 0)
	switch e {
	case 0:
		r.msgs = r.buf[:n]
	case unix.EAGAIN:
		return false
	default:
		r.err = e
	}
	return true
}

// next returns whether the next notification is a dev-del.
func (r *rawSubscriber) next() (bool, error) {
	for len(r.msgs) < unix.NLMSG_HDRLEN+unix.GENL_HDRLEN {
		if err := r.rc.Read(r.recv); err != nil {
			return false, err
		}
		if r.err != nil {
			return false, r.err
		}
	}
	l := int(binary.NativeEndian.Uint32(r.msgs))
	cmd := r.msgs[unix.NLMSG_HDRLEN]
	r.msgs = r.msgs[min(len(r.msgs), max(unix.NLMSG_HDRLEN, (l+3)&^3)):]
	return cmd == netdev.CmdDevDelNtf, nil
}

func (r *rawSubscriber) close() { r.f.Close() }

// BenchmarkNotifyRatio compares genlkit's subscriber with the YNL C
// library's in alternating bursts, as BenchmarkTypedRatio does for dumps:
// a burst read by genlkit (netdev.Subscribe, every notification decoded),
// then one read by a C process, b.N times, both subscribers on one CPU
// (-ratio.cpu) and `ip` on the others. It reports genlkit's CPU per
// notification (cpu-ns/op) and C's (ynlc-cpu-ns/op), ratio-cpu (summed
// over the bursts) and ratio-cpu-med (the median of the bursts' ratios).
// Each side's figure is its whole process's CPU over the burst. With
// -notify.rawgo each round also has a burst read by rawSubscriber, the
// bare Go loop: rawgo-cpu-ns/op, and ratio-rawgo (its CPU ÷ C's), show
// what any Go subscriber pays. With -notify.slice the two take turns
// within each burst instead (see notifyTurns).
func BenchmarkNotifyRatio(b *testing.B) {
	dels := 2 * notifyPairs
	pin(b)
	ns, ctx, c := notifyClient(b)
	if *notifySlice > 0 {
		notifyTurns(b, ns, c, *notifySlice)
		return
	}
	var r ratioRun
	var rawCPU, rawNtfs, peerCPU, peerOps float64
	for range b.N {
		// A subscription per burst: one left joined through C's burst
		// would overflow meanwhile.
		next, stop := subscribeDels(b, ctx, c)
		fire := burst(b, ns)
		var n int
		r.timeGenlkit(func() { n = readBurst(b, fire, dels, next) })
		stop()
		wait := startPeer(b, "-n", ns.Path, "notify", strconv.Itoa(dels))
		burst(b, ns)()
		p := wait()
		// Both sides count per notification: scale C's to genlkit's count.
		r.addPeer(peerResult{ns: p.ns * float64(p.ops) / float64(n), cpu: p.cpu * float64(p.ops) / float64(n), user: p.user * float64(p.ops) / float64(n)}, n)
		if *notifyRaw {
			raw := newRawSubscriber(b, ns)
			fire := burst(b, ns)
			c0 := testutils.ProcessCPU()
			rn := readBurst(b, fire, dels, raw.next)
			rawCPU += float64(testutils.ProcessCPU() - c0)
			rawNtfs += float64(rn)
			peerCPU += p.cpu * float64(p.ops)
			peerOps += float64(p.ops)
			raw.close()
		}
	}
	if rawNtfs > 0 {
		b.ReportMetric(rawCPU/rawNtfs, "rawgo-cpu-ns/op")
		b.ReportMetric(rawCPU/rawNtfs/(peerCPU/peerOps), "ratio-rawgo")
	}
	r.report(b)
}

// notifyTurns is BenchmarkNotifyRatio with -notify.slice k: within each
// burst genlkit and C take turns reading k notifications, 12 turns each,
// so that both read at the same stage of the burst and in the same
// weather: a turn of 200 lasts about 0.3 s here, a whole burst 16 s. Each
// turn subscribes anew and unsubscribes at its end (C with a socket of its
// own per turn, see ynlbench's serve notify), so the other side's turn
// wakes only the other side; the notifications that go by between turns
// are read by neither. The turns go genlkit, C, C, genlkit, genlkit, C, …
// (the other way round in odd bursts), so that a cost that drifts through
// the burst falls on both alike. Lost notifications are not checked here
// (the whole-burst mode and BenchmarkNotify check them).
func notifyTurns(b *testing.B, ns *testutils.NS, c *netdev.Client, k int) {
	const pairs = 12 // 2·k·pairs of the burst's 6,000 notifications are read
	peer := servePeer(b, ynlc(b), ns.Path, "notify", false)
	var r ratioRun
	for i := range b.N {
		start, wait := startBurst(b, ns)
		if err := start(); err != nil {
			b.Fatal(err)
		}
		for j := range pairs {
			cFirst := (i+j)%2 == 1
			var p peerResult
			if cFirst {
				p = peer(k)
			}
			if n, err := genlkitTurn(&r, c, k); err != nil {
				b.Fatalf("burst %d, pair %d, after %d notifications: %v", i, j, n, err)
			}
			if !cFirst {
				p = peer(k)
			}
			r.addPeer(p, k)
		}
		if err := wait(); err != nil {
			b.Fatal(err)
		}
	}
	r.report(b)
}

// genlkitTurn subscribes c to netdev's mgmt group and, timed in r from
// then on as C is timed from its subscription, reads k notifications; it
// returns how many it read.
func genlkitTurn(r *ratioRun, c *netdev.Client, k int) (n int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := c.Subscribe(ctx, "mgmt")
	if err != nil {
		return 0, err
	}
	defer sub.Close()
	r.timeGenlkit(func() {
		for n < k {
			if _, err = sub.Next(ctx); err != nil {
				return
			}
			n++
		}
	})
	return n, err
}

// notifyClient returns a fresh namespace, a netdev client on a Conn in it
// and the context its subscriptions read with, cancelled when b ends.
func notifyClient(b *testing.B) (*testutils.NS, context.Context, *netdev.Client) {
	b.Helper()
	ns := testutils.NetNS(b)
	conn, _ := ns.Dial(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	b.Cleanup(cancel)
	c, err := netdev.New(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	return ns, ctx, c
}

// subscribeDels subscribes c to netdev's mgmt group and returns the reader
// readBurst takes (whether each notification is a dev-del) and the
// subscription's Close.
func subscribeDels(b *testing.B, ctx context.Context, c *netdev.Client) (next func() (del bool, err error), stop func()) {
	b.Helper()
	sub, err := c.Subscribe(ctx, "mgmt")
	if err != nil {
		b.Fatal(err)
	}
	return func() (bool, error) {
		v, err := sub.Next(ctx)
		_, del := v.(*netdev.DevDelNtf)
		return del, err
	}, func() { sub.Close() }
}

// readBurst fires a burst and reads notifications with next until dels
// dev-del notifications have come; it returns how many it read.
func readBurst(b *testing.B, fire func(), dels int, next func() (del bool, err error)) int {
	b.Helper()
	done := make(chan error, 1)
	n := 0
	go func() {
		d := 0
		for d < dels {
			del, err := next()
			if err != nil {
				done <- err
				return
			}
			n++
			if del {
				d++
			}
		}
		done <- nil
	}()
	fire()
	if err := <-done; err != nil {
		if errors.Is(err, genl.ErrOverrun) {
			b.Fatalf("notifications lost after %d: %v", n, err)
		}
		b.Fatal(err)
	}
	return n
}

package ynlbench_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
)

// A dumpCase is one typed dump: how genlkit runs it on an open Conn
// (returning the replies it decoded), through the iterator (run) and into
// one slice reused from dump to dump (reuse), and ynlbench's name for it.
type dumpCase struct {
	name  string
	ynlc  string
	run   dumpOpener
	reuse dumpOpener
}

// A dumpOpener makes a typed client on conn and returns a function that
// runs one dump and counts the values that carry what was asked for.
type dumpOpener func(ctx context.Context, conn *genl.Conn) (func() (int, error), error)

// countAppended runs an append-style dump into *dst[:0] and counts the
// values of the result; keep tells a value that carries what the workload
// asked for.
func countAppended[T any](dst *[]T, dump func(dst []T) ([]T, error), keep func(*T) bool) (int, error) {
	var err error
	*dst, err = dump((*dst)[:0])
	n := 0
	for i := range *dst {
		if keep(&(*dst)[i]) {
			n++
		}
	}
	return n, err
}

// count runs a typed dump iterator and counts its values; keep tells a
// value that carries what the workload asked for.
func count[T any](seq iter.Seq2[*T, error], keep func(*T) bool) (int, error) {
	n := 0
	for v, err := range seq {
		if err != nil {
			return n, err
		}
		if keep(v) {
			n++
		}
	}
	return n, nil
}

func ethtoolDump(flags ethtool.HeaderFlags, dump func(ctx context.Context, c *ethtool.Client, h *ethtool.Header) (int, error)) dumpOpener {
	return func(ctx context.Context, conn *genl.Conn) (func() (int, error), error) {
		c, err := ethtool.New(ctx, conn)
		if err != nil {
			return nil, err
		}
		var h *ethtool.Header
		if flags != 0 {
			h = &ethtool.Header{}
			h.Flags.Set(flags)
		}
		return func() (int, error) { return dump(ctx, c, h) }, nil
	}
}

// ethtoolReuse is ethtoolDump for an append-style dump into one slice
// that each opened dump keeps for all its runs.
func ethtoolReuse[T any](flags ethtool.HeaderFlags, dump func(ctx context.Context, c *ethtool.Client, h *ethtool.Header, dst []T) ([]T, error), keep func(*T) bool) dumpOpener {
	return func(ctx context.Context, conn *genl.Conn) (func() (int, error), error) {
		var dst []T
		return ethtoolDump(flags, func(ctx context.Context, c *ethtool.Client, h *ethtool.Header) (int, error) {
			return countAppended(&dst, func(dst []T) ([]T, error) { return dump(ctx, c, h, dst) }, keep)
		})(ctx, conn)
	}
}

func hasDev(h *ethtool.Header) bool { return h != nil && h.DevIndex.Valid }

func devValid(d *netdev.Dev) bool            { return d.Ifindex.Valid }
func linkinfoValid(v *ethtool.Linkinfo) bool { return hasDev(v.Header) }
func featuresValid(v *ethtool.Features) bool { return hasDev(v.Header) && v.Active != nil }
func linkmodesValid(v *ethtool.Linkmodes) bool {
	return hasDev(v.Header)
}

var dumpCases = []dumpCase{
	{"netdev-dev-get", "netdev-dev", func(ctx context.Context, conn *genl.Conn) (func() (int, error), error) {
		c, err := netdev.New(ctx, conn)
		if err != nil {
			return nil, err
		}
		return func() (int, error) { return count(c.DevGetDump(ctx), devValid) }, nil
	}, func(ctx context.Context, conn *genl.Conn) (func() (int, error), error) {
		c, err := netdev.New(ctx, conn)
		if err != nil {
			return nil, err
		}
		var dst []netdev.Dev
		return func() (int, error) {
			return countAppended(&dst, func(dst []netdev.Dev) ([]netdev.Dev, error) { return c.DevGetDumpAppend(ctx, dst) }, devValid)
		}, nil
	}},
	{"ethtool-linkinfo", "linkinfo", ethtoolDump(0, func(ctx context.Context, c *ethtool.Client, h *ethtool.Header) (int, error) {
		return count(c.LinkinfoGetDump(ctx, &ethtool.LinkinfoGetDumpRequest{Header: h}), linkinfoValid)
	}), ethtoolReuse(0, func(ctx context.Context, c *ethtool.Client, h *ethtool.Header, dst []ethtool.Linkinfo) ([]ethtool.Linkinfo, error) {
		return c.LinkinfoGetDumpAppend(ctx, &ethtool.LinkinfoGetDumpRequest{Header: h}, dst)
	}, linkinfoValid)},
	{"features-compact", "features-compact", ethtoolDump(ethtool.HeaderFlagsCompactBitsets, featuresDump), ethtoolReuse(ethtool.HeaderFlagsCompactBitsets, featuresAppend, featuresValid)},
	{"features-verbose", "features-verbose", ethtoolDump(0, featuresDump), ethtoolReuse(0, featuresAppend, featuresValid)},
	{"linkmodes-compact", "linkmodes-compact", ethtoolDump(ethtool.HeaderFlagsCompactBitsets, func(ctx context.Context, c *ethtool.Client, h *ethtool.Header) (int, error) {
		return count(c.LinkmodesGetDump(ctx, &ethtool.LinkmodesGetDumpRequest{Header: h}), linkmodesValid)
	}), ethtoolReuse(ethtool.HeaderFlagsCompactBitsets, func(ctx context.Context, c *ethtool.Client, h *ethtool.Header, dst []ethtool.Linkmodes) ([]ethtool.Linkmodes, error) {
		return c.LinkmodesGetDumpAppend(ctx, &ethtool.LinkmodesGetDumpRequest{Header: h}, dst)
	}, linkmodesValid)},
}

func featuresDump(ctx context.Context, c *ethtool.Client, h *ethtool.Header) (int, error) {
	return count(c.FeaturesGetDump(ctx, &ethtool.FeaturesGetDumpRequest{Header: h}), featuresValid)
}

func featuresAppend(ctx context.Context, c *ethtool.Client, h *ethtool.Header, dst []ethtool.Features) ([]ethtool.Features, error) {
	return c.FeaturesGetDumpAppend(ctx, &ethtool.FeaturesGetDumpRequest{Header: h}, dst)
}

// BenchmarkTypedDump runs whole typed dumps over the ~2,000 veth devices of
// a namespace, one dump per operation: genlkit through the generated
// packages, decoding every reply into a new value (genlkit) or into one
// slice passed back to the append-style dump method each time
// (genlkit-reuse), and the YNL C library through its generated dump calls
// (a list of parsed replies, freed after each dump). allocs/reply divides
// by the replies of one dump.
//
// The peers of a workload run on equal terms: each makes one untimed dump
// first (the kernel's code and data for that dump are then warm for all),
// and their order rotates from one workload to the next. (-test.count repeats each peer in place, so the order within
// a workload holds for all its repetitions; to compare over several runs,
// run the test binary several times.)
func BenchmarkTypedDump(b *testing.B) {
	ns := shared.get(b)
	for i, dc := range dumpCases {
		b.Run(dc.name, func(b *testing.B) {
			genlkit := func(open dumpOpener) func(b *testing.B) {
				return func(b *testing.B) { benchDump(b, ns, open) }
			}
			ynlc := func(b *testing.B) {
				r := runPeer(b, "-n", ns.Path, "dump", dc.ynlc, strconv.Itoa(b.N))
				b.ReportMetric(r.allocs/float64(r.items), "allocs/reply")
			}
			warmDump(b, ns, dc)
			warmPeer(b, "-n", ns.Path, "dump", dc.ynlc, "1")
			peers := []struct {
				name string
				fn   func(*testing.B)
			}{{"genlkit", genlkit(dc.run)}, {"genlkit-reuse", genlkit(dc.reuse)}, {"ynlc", ynlc}}
			for j := range peers {
				p := peers[(i+j)%len(peers)]
				b.Run(p.name, p.fn)
			}
		})
	}
}

// benchDump runs the dumps open makes, after one untimed dump that warms
// the Conn's buffers (and fills a reused slice).
func benchDump(b *testing.B, ns *testutils.NS, open dumpOpener) {
	dump := openDump(b, ns, open)
	want, err := dump() // warm the Conn's buffers
	if err != nil {
		b.Fatal(err)
	}
	if want < 2*vethPairs {
		b.Fatalf("dump saw %d devices, want at least %d", want, 2*vethPairs)
	}
	b.ReportAllocs()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	testutils.ResetTimersCPU(b)
	for range b.N {
		if n, err := dump(); err != nil || n != want {
			b.Fatalf("dump: %d replies (want %d), %v", n, want, err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Mallocs-mallocs)/float64(b.N)/float64(want), "allocs/reply")
}

// openDump returns the dump open makes on a Conn of its own in ns,
// closed when b ends.
func openDump(b *testing.B, ns *testutils.NS, open dumpOpener) func() (int, error) {
	b.Helper()
	conn, err := genl.Dial(genl.WithNetNS(ns.Name))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	dump, err := open(context.Background(), conn)
	if err != nil {
		b.Fatal(err)
	}
	return dump
}

// warmDump runs dc's dump once through genlkit, untimed.
func warmDump(b *testing.B, ns *testutils.NS, dc dumpCase) {
	b.Helper()
	if _, err := openDump(b, ns, dc.run)(); err != nil {
		b.Fatalf("%s: %v", dc.name, err)
	}
}

// BenchmarkTypedDo sends ethtool linkinfo-get for one device at a time,
// cycling over the ~2,000 devices of the namespace, one request per
// operation: genlkit sequentially and from 8 goroutines on one Conn, and
// the YNL C library sequentially and as two processes at once (ynlc-par2:
// what two CPUs give a C client with a socket each, the bound for
// genlkit-par8 on a two-CPU machine).
func BenchmarkTypedDo(b *testing.B) {
	ns := shared.get(b)
	idx := deviceIndexes()
	client := func(b *testing.B) *ethtool.Client { return linkinfoClient(b, ns) }
	get := linkinfoGet
	b.Run("genlkit-seq", func(b *testing.B) {
		c := client(b)
		ctx := context.Background()
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for i := range b.N {
			if err := get(ctx, c, idx[i%len(idx)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("genlkit-par8", func(b *testing.B) {
		c := client(b)
		ctx := context.Background()
		b.ReportAllocs()
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		testutils.ResetTimersCPU(b)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if err := get(ctx, c, idx[i%len(idx)]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("ynlc-seq", func(b *testing.B) {
		runPeer(b, "-n", ns.Path, "do-linkinfo", strconv.Itoa(b.N))
	})
	b.Run("ynlc-par2", func(b *testing.B) {
		runPeers(b, 2, "-n", ns.Path, "do-linkinfo")
	})
}

// netnsCount is how many namespaces BenchmarkNetNSOpen opens a Conn in.
const netnsCount = 200

// BenchmarkNetNSOpen opens a socket in each of 200 namespaces and resolves
// the netdev family on it, then closes them all: one operation is all 200.
// genlkit dials with genl.WithNetNS and calls netdev.New; the YNL C side
// enters each namespace with setns and calls ynl_sock_create.
func BenchmarkNetNSOpen(b *testing.B) {
	testutils.RequireKernel(b)
	nss := make([]*testutils.NS, netnsCount)
	for i := range nss {
		nss[i] = testutils.NetNS(b)
	}
	b.Run("genlkit", func(b *testing.B) {
		ctx := context.Background()
		conns := make([]*genl.Conn, len(nss))
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for range b.N {
			for j, ns := range nss {
				conn, err := genl.Dial(genl.WithNetNS(ns.Name))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := netdev.New(ctx, conn); err != nil {
					b.Fatal(err)
				}
				conns[j] = conn
			}
			for _, conn := range conns {
				conn.Close()
			}
		}
	})
	b.Run("ynlc", func(b *testing.B) {
		args := []string{"netns", strconv.Itoa(b.N)}
		for _, ns := range nss {
			args = append(args, ns.Path)
		}
		runPeer(b, args...)
	})
}

// notifyPairs is how many veth pairs one burst of BenchmarkNotify adds
// and deletes: 6 netdev mgmt notifications each (per device a dev-add, a
// dev-change when its peer's XDP features change, and a dev-del), 6,000 in
// all.
const notifyPairs = 1000

// burst starts `ip -batch` in ns, ready to add and delete notifyPairs veth
// pairs; fire feeds it the commands and waits for it. The process starts
// before the caller measures, so the subscriber's figures do not count the
// fork.
func burst(b *testing.B, ns *testutils.NS) (fire func()) {
	b.Helper()
	start, wait := startBurst(b, ns)
	return func() {
		err := start()
		if err2 := wait(); err == nil {
			err = err2
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// startBurst is burst in two steps: start feeds `ip` its commands, and
// wait waits for it to end.
func startBurst(b *testing.B, ns *testutils.NS) (start, wait func() error) {
	b.Helper()
	var lines []string
	for i := range notifyPairs {
		lines = append(lines, fmt.Sprintf("link add n%d type veth peer name n%dp", i, i))
	}
	for i := range notifyPairs {
		lines = append(lines, fmt.Sprintf("link del n%d", i))
	}
	cmd := exec.Command("ip", "-n", ns.Name, "-batch", "-")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	if err := testutils.AwayFromPinned(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatal(err)
	}
	start = func() error {
		_, err := in.Write([]byte(strings.Join(lines, "\n") + "\n"))
		in.Close()
		return err
	}
	wait = func() error {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("ip -batch: %w", err)
		}
		return nil
	}
	return start, wait
}

// BenchmarkNotify measures the subscriber's CPU per netdev mgmt
// notification while `ip` adds and deletes 1,000 veth pairs in a burst
// (6,000 notifications, none may be lost). One operation is one
// notification; ns/op is the subscriber's wall time over the burst, which
// is mostly the time the kernel takes to make and delete the devices.
// Run it with -benchtime=1x or a few x: each iteration is a whole burst.
//
// genlkit subscribes through the generated netdev package and decodes
// every notification; ynlc is the YNL C library doing the same; rawgo is
// the least a Go program does per notification (see rawSubscriber), with
// no decoding: what is left to genlkit above it is genlkit's own.
func BenchmarkNotify(b *testing.B) {
	dels := 2 * notifyPairs
	b.Run("genlkit", func(b *testing.B) {
		ns, ctx, c := notifyClient(b)
		next, stop := subscribeDels(b, ctx, c)
		defer stop()
		measureNotify(b, ns, dels, next)
	})
	b.Run("rawgo", func(b *testing.B) {
		ns := testutils.NetNS(b)
		r := newRawSubscriber(b, ns)
		defer r.close()
		measureNotify(b, ns, dels, r.next)
	})
	b.Run("ynlc", func(b *testing.B) {
		ns := testutils.NetNS(b)
		var total peerResult
		for range b.N {
			wait := startPeer(b, "-n", ns.Path, "notify", strconv.Itoa(dels))
			burst(b, ns)()
			r := wait()
			total.ops += r.ops
			total.ns += r.ns * float64(r.ops)
			total.cpu += r.cpu * float64(r.ops)
			total.allocs += r.allocs * float64(r.ops)
			total.bytes += r.bytes * float64(r.ops)
		}
		ops := float64(total.ops)
		peerResult{ns: total.ns / ops, cpu: total.cpu / ops, allocs: total.allocs / ops, bytes: total.bytes / ops}.report(b)
		b.ReportMetric(ops/float64(b.N), "ntfs/burst")
	})
}

// deviceIndexes returns the ifindexes of the shared namespace's veths.
func deviceIndexes() []uint32 {
	var idx []uint32
	for _, v := range shared.veths {
		idx = append(idx, uint32(v.Index), uint32(v.PeerIndex))
	}
	return idx
}

// linkinfoClient returns an ethtool client on a Conn of its own in ns,
// closed when b ends, which reports how the Conn coalesced requests:
// requests per sendmsg and datagrams per request.
func linkinfoClient(b *testing.B, ns *testutils.NS) *ethtool.Client {
	conn, err := genl.Dial(genl.WithNetNS(ns.Name))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	c, err := ethtool.New(context.Background(), conn)
	if err != nil {
		b.Fatal(err)
	}
	before := conn.Stats()
	b.Cleanup(func() {
		st := conn.Stats()
		if reqs := st.Requests - before.Requests; reqs > 0 && st.Sends > before.Sends {
			b.ReportMetric(float64(reqs)/float64(st.Sends-before.Sends), "req/send")
			b.ReportMetric(float64(st.Datagrams-before.Datagrams)/float64(reqs), "dgrams/req")
		}
	})
	return c
}

// linkinfoGet makes one ethtool linkinfo-get for device i and checks the
// reply.
func linkinfoGet(ctx context.Context, c *ethtool.Client, i uint32) error {
	req := &ethtool.LinkinfoGetRequest{Header: &ethtool.Header{}}
	req.Header.DevIndex.Set(i)
	v, err := c.LinkinfoGet(ctx, req)
	if err != nil {
		return err
	}
	if v.Header == nil || v.Header.DevIndex.Value != i {
		return fmt.Errorf("linkinfo-get %d: reply for another device", i)
	}
	return nil
}

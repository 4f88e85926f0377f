package ynlbench_test

import (
	"context"
	"flag"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
)

// ratioRounds is how many rounds BenchmarkTypedRatio splits b.N into.
const ratioRounds = 50

var ratioIter = flag.Bool("ratio.iter", false, "BenchmarkTypedRatio runs genlkit's dumps in their iterator form (a new value per reply), not the append form")

var ratioRaw = flag.Bool("ratio.raw", false, "BenchmarkTypedRatio's linkinfo dump reads genlkit's replies through genl.Conn.Dump without decoding them: what the Conn alone costs")

var ratioAA = flag.Bool("ratio.aa", false, "BenchmarkTypedRatio's dumps run a second C process in genlkit's place, to measure the harness's own bias")

var ratioCPU = flag.Int("ratio.cpu", 0, "the CPU BenchmarkTypedRatio runs both sides on (-1: no binding)")

var ratioProcs = flag.Int("ratio.procs", 0, "GOMAXPROCS while bound to -ratio.cpu (0: 1, as for a process started bound to one CPU)")

// pin binds the process to -ratio.cpu (testutils.PinProcess) and sets
// -ratio.procs, if given, until the returned function is called or b ends.
func pin(b *testing.B) (unpin func()) {
	unpin = testutils.PinProcess(b, *ratioCPU)
	if *ratioProcs > 0 && *ratioCPU >= 0 {
		runtime.GOMAXPROCS(*ratioProcs)
	}
	return unpin
}

// BenchmarkTypedRatio compares genlkit with the YNL C library in
// alternating rounds inside one benchmark: a round of genlkit, then the
// same number of operations by a C process, and so on for ratioRounds
// rounds of b.N/ratioRounds operations each. The C process is started once
// per sub-benchmark (ynlbench's serve mode) and waits for each round on a
// pipe, so a round costs no process start and rounds can be short. The
// speed of a shared machine drifts over seconds; rounds of a few
// milliseconds put both sides in the same weather, where
// BenchmarkTypedDump and BenchmarkTypedDo run them seconds apart. Both
// sides run on one CPU (-ratio.cpu, 0 by default; see
// testutils.PinProcess, which also makes GOMAXPROCS 1 meanwhile;
// -ratio.procs sets another value), except genlkit's side of do-par8,
// which is about using more than one.
//
// Each sub-benchmark reports genlkit's time ÷ C's: ratio-cpu (CPU time,
// summed over the rounds), ratio-cpu-med (the median of the rounds'
// ratios) and ratio-wall; ns/op, cpu-ns/op and user-ns/op (the user part
// of cpu-ns/op) are genlkit's, ynlc-ns/op, ynlc-cpu-ns/op and
// ynlc-user-ns/op C's. dump-* are the dumps of BenchmarkTypedDump in
// their append form (with -ratio.iter their iterator form) against C's
// dump; do-seq is sequential linkinfo-get against C's; do-par8 is 8
// goroutines on one Conn against C's sequential requests (the issue's "8
// goroutines ≤ 0.6× YNL C sequential", by ratio-wall). do-par8 also runs
// C's sequential rounds on the other CPUs (ynlc-other-ns/op) and reports
// ratio-wall-bound, the ratio-wall of a client that used both CPUs
// perfectly: 0.5 when they run at one speed, more when the host slows one.
// With -ratio.aa the dumps pit C against a second C process in genlkit's
// place: what the harness itself adds to a ratio (nothing, at 1.0). With
// -ratio.raw genlkit's linkinfo dump is read through genl.Conn.Dump and
// not decoded: what the Conn costs without the typed layer.
func BenchmarkTypedRatio(b *testing.B) {
	ns := shared.get(b)
	for _, dc := range dumpCases {
		b.Run("dump-"+dc.name, func(b *testing.B) {
			pin(b)
			peer := servePeer(b, ynlc(b), ns.Path, dc.ynlc, false)
			op := dc.reuse
			if *ratioIter {
				op = dc.run
			}
			if *ratioRaw && dc.name == "ethtool-linkinfo" {
				op = rawLinkinfo
			}
			dump := openDump(b, ns, op)
			want, err := dump() // warm the Conn's buffers
			if err != nil {
				b.Fatal(err)
			}
			var r ratioRun
			var twin func(int) peerResult
			if *ratioAA {
				twin = servePeer(b, ynlc(b), ns.Path, dc.ynlc, false)
			}
			for _, n := range splitRounds(b.N) {
				if twin != nil {
					r.addTwin(twin(n), n)
					r.addPeer(peer(n), n)
					continue
				}
				r.timeGenlkit(func() {
					for range n {
						if got, err := dump(); err != nil || got != want {
							b.Fatalf("dump: %d replies (want %d), %v", got, want, err)
						}
					}
				})
				r.addPeer(peer(n), n)
			}
			r.report(b)
		})
	}
	idx := deviceIndexes()
	doCase := func(goroutines int) func(b *testing.B) {
		return func(b *testing.B) {
			unpin := pin(b)
			peer := servePeer(b, ynlc(b), ns.Path, "do-linkinfo", false)
			var other func(int) peerResult
			if goroutines > 1 {
				// C again on the other CPUs, which genlkit's goroutines
				// use too: how fast those are bounds what any two-CPU
				// client can reach.
				other = servePeer(b, ynlc(b), ns.Path, "do-linkinfo", true)
				unpin() // the C peers stay where they are
			}
			c := linkinfoClient(b, ns)
			ctx := context.Background()
			if err := linkinfoGet(ctx, c, idx[0]); err != nil {
				b.Fatal(err)
			}
			var r ratioRun
			var otherWall float64
			for _, n := range splitRounds(b.N) {
				r.timeGenlkit(func() {
					if err := linkinfoGets(ctx, c, idx, n, goroutines); err != nil {
						b.Fatal(err)
					}
				})
				r.addPeer(peer(n), n)
				if other != nil {
					otherWall += other(n).ns * float64(n)
				}
			}
			r.report(b)
			if other != nil && r.ops > 0 && otherWall > 0 {
				// C's sequential loop on each CPU at once, perfectly
				// parallel, would take c0·c1/(c0+c1) per request:
				// ÷ c0 is the best ratio-wall two CPUs allow.
				b.ReportMetric(otherWall/float64(r.ops), "ynlc-other-ns/op")
				b.ReportMetric(otherWall/(otherWall+r.peerWall), "ratio-wall-bound")
			}
		}
	}
	b.Run("do-seq", doCase(1))
	b.Run("do-par8", doCase(8))
}

// linkinfoGets makes n linkinfo-get requests, cycling over idx, from the
// given number of goroutines sharing c.
func linkinfoGets(ctx context.Context, c *ethtool.Client, idx []uint32, n, goroutines int) error {
	if goroutines == 1 {
		for i := range n {
			if err := linkinfoGet(ctx, c, idx[i%len(idx)]); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := linkinfoGet(ctx, c, idx[i%int64(len(idx))]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// splitRounds splits n operations into at most ratioRounds rounds.
func splitRounds(n int) []int {
	k := min(n, ratioRounds)
	rounds := make([]int, k)
	for i := range rounds {
		rounds[i] = n / k
		if i < n%k {
			rounds[i]++
		}
	}
	return rounds
}

// A ratioRun sums genlkit's and C's times over the rounds of a
// BenchmarkTypedRatio sub-benchmark.
type ratioRun struct {
	ops                  int
	wall, cpu, user      time.Duration // genlkit's
	peerWall, peerCPU    float64       // C's, in ns
	peerUser             float64       // C's user time, in ns
	lastWall, lastCPU    time.Duration // genlkit's in the current round
	roundCPU, roundWalls []float64     // per round, genlkit ÷ C
}

// timeGenlkit runs one round of genlkit's operations and times it.
func (r *ratioRun) timeGenlkit(round func()) {
	c0, u0 := testutils.ProcessTimes()
	w0 := time.Now()
	round()
	wall := time.Since(w0)
	c1, u1 := testutils.ProcessTimes()
	r.addGenlkit(wall, c1-c0, u1-u0)
}

// addTwin counts a C process's round of n operations as genlkit's
// (-ratio.aa).
func (r *ratioRun) addTwin(p peerResult, n int) {
	f := float64(n)
	r.addGenlkit(time.Duration(p.ns*f), time.Duration(p.cpu*f), time.Duration(p.user*f))
}

// addGenlkit adds a round of genlkit's side: its wall, CPU and user time.
func (r *ratioRun) addGenlkit(wall, cpu, user time.Duration) {
	r.lastWall, r.lastCPU = wall, cpu
	r.wall += wall
	r.cpu += cpu
	r.user += user
}

// addPeer adds C's round of n operations, which followed genlkit's.
func (r *ratioRun) addPeer(p peerResult, n int) {
	r.ops += n
	pw, pc := p.ns*float64(n), p.cpu*float64(n)
	r.peerWall += pw
	r.peerCPU += pc
	r.peerUser += p.user * float64(n)
	if pw > 0 && pc > 0 {
		r.roundCPU = append(r.roundCPU, float64(r.lastCPU)/pc)
		r.roundWalls = append(r.roundWalls, float64(r.lastWall)/pw)
	}
}

// report sets b's metrics (see BenchmarkTypedRatio).
func (r *ratioRun) report(b *testing.B) {
	if r.ops == 0 || r.peerCPU == 0 || r.peerWall == 0 {
		return
	}
	ops := float64(r.ops)
	b.ReportMetric(float64(r.wall)/ops, "ns/op")
	b.ReportMetric(float64(r.cpu)/ops, "cpu-ns/op")
	b.ReportMetric(r.peerWall/ops, "ynlc-ns/op")
	b.ReportMetric(r.peerCPU/ops, "ynlc-cpu-ns/op")
	b.ReportMetric(float64(r.user)/ops, "user-ns/op")
	b.ReportMetric(r.peerUser/ops, "ynlc-user-ns/op")
	b.ReportMetric(float64(r.cpu)/r.peerCPU, "ratio-cpu")
	b.ReportMetric(float64(r.wall)/r.peerWall, "ratio-wall")
	b.ReportMetric(median(r.roundCPU), "ratio-cpu-med")
	b.ReportMetric(median(r.roundWalls), "ratio-wall-med")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rawLinkinfo opens ethtool's linkinfo-get dump as genl.Conn.Dump hands it
// out, undecoded (-ratio.raw): each reply is counted when it carries more
// than its generic netlink header.
func rawLinkinfo(ctx context.Context, conn *genl.Conn) (func() (int, error), error) {
	c, err := family.NewClient(ctx, conn, ethtool.FamilyName, ethtool.FamilyVersion)
	if err != nil {
		return nil, err
	}
	req := genl.Request{Family: c.Family().ID, Command: ethtool.CmdLinkinfoGet, Version: ethtool.FamilyVersion}
	return func() (int, error) {
		n := 0
		for m, err := range conn.Dump(ctx, req) {
			if err != nil {
				return n, err
			}
			if len(m.Data) > 0 {
				n++
			}
		}
		return n, nil
	}, nil
}

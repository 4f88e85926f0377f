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

var ratioWarm = flag.Int("ratio.warm", 50, "BenchmarkTypedRatio's do cases: requests each side makes, untimed, before each timed round, in percent of the round (0: none, and no requests after the window either)")

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
// perfectly: 0.5 when they run at one speed, more when the host slows one,
// and xcpu-ns, a cache line's round trip between two CPUs at the time
// (crossCPURoundTrip), which 8 goroutines pay several times per request.
// In the do cases each side warms up before each timed round
// (-ratio.warm), and genlkit's goroutines are timed in a window that
// leaves out their ramp and tail (linkinfoGetsWindow).
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
			var xcpu time.Duration
			if goroutines > 1 {
				xcpu = crossCPU(b)
			}
			for _, n := range splitRounds(b.N) {
				warm := n * *ratioWarm / 100
				c0, u0 := testutils.ProcessTimes()
				wall, made, err := linkinfoGetsWindow(ctx, c, idx, warm, n, goroutines)
				if err != nil {
					b.Fatal(err)
				}
				c1, u1 := testutils.ProcessTimes()
				// CPU time over every request of the round, warm-up and
				// the requests after the window included, per request.
				share := func(d time.Duration) time.Duration {
					return d * time.Duration(n) / time.Duration(made)
				}
				r.addGenlkit(wall, share(c1-c0), share(u1-u0))
				r.addPeer(warmedRound(peer, warm, n), n)
				if other != nil {
					otherWall += warmedRound(other, warm, n).ns * float64(n)
				}
			}
			r.report(b)
			if other != nil && r.ops > 0 && otherWall > 0 {
				// C's sequential loop on each CPU at once, perfectly
				// parallel, would take c0·c1/(c0+c1) per request:
				// ÷ c0 is the best ratio-wall two CPUs allow.
				b.ReportMetric(otherWall/float64(r.ops), "ynlc-other-ns/op")
				b.ReportMetric(otherWall/(otherWall+r.peerWall), "ratio-wall-bound")
				b.ReportMetric(float64(xcpu+crossCPU(b))/2, "xcpu-ns")
			}
		}
	}
	b.Run("do-seq", doCase(1))
	b.Run("do-par8", doCase(8))
}

// crossCPU is crossCPURoundTrip over 50,000 round trips, or 0 when the
// process may not bind threads to two CPUs (twoCPUs).
func crossCPU(b *testing.B) time.Duration {
	d, err := crossCPURoundTrip(50000)
	if err != nil {
		b.Logf("xcpu-ns: %v", err)
	}
	return d
}

// linkinfoGetsWindow makes warm+n linkinfo-get requests, cycling over
// idx, from the given number of goroutines sharing c, and returns the wall
// time from the warm-th request's completion to the (warm+n)-th's (from
// the start when warm is 0), and how many requests it made. With a
// warm-up it makes windowPad more, so that the other goroutines are still
// busy when the window closes: the window then holds neither the ramp of
// goroutines starting on a process that was idle through the C rounds nor
// the tail of the last ones finishing, and measures the rate a Conn
// sustains.
func linkinfoGetsWindow(ctx context.Context, c *ethtool.Client, idx []uint32, warm, n, goroutines int) (wall time.Duration, made int, err error) {
	total := int64(warm + n + windowPad(warm, goroutines))
	start := time.Now()
	if goroutines == 1 {
		for i := range total {
			if i == int64(warm) {
				start = time.Now()
			}
			if err := linkinfoGet(ctx, c, idx[i%int64(len(idx))]); err != nil {
				return 0, 0, err
			}
		}
		return time.Since(start), int(total), nil
	}
	var next, done atomic.Int64
	var t0, t1 time.Time // each written once, by the goroutine whose completion opens or closes the window
	t0 = start
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				if err := linkinfoGet(ctx, c, idx[i%int64(len(idx))]); err != nil {
					errs <- err
					return
				}
				switch done.Add(1) {
				case int64(warm):
					t0 = time.Now()
				case int64(warm + n):
					t1 = time.Now()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	return t1.Sub(t0), int(total), nil
}

// windowPad is how many requests linkinfoGetsWindow makes after the
// window: one per goroutine after a warm-up, none without one.
func windowPad(warm, goroutines int) int {
	if warm == 0 || goroutines == 1 {
		return 0
	}
	return goroutines
}

// warmedRound runs a C round of warm requests, then one of n, and returns the
// second's wall time with the CPU time per request of both: C's side of a
// round linkinfoGetsWindow times.
func warmedRound(round func(int) peerResult, warm, n int) peerResult {
	if warm == 0 {
		return round(n)
	}
	w := round(warm)
	p := round(n)
	all := float64(warm + n)
	p.cpu = (w.cpu*float64(warm) + p.cpu*float64(n)) / all
	p.user = (w.user*float64(warm) + p.user*float64(n)) / all
	return p
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

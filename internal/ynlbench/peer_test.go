package ynlbench_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/genlkit/genlkit/internal/testutils"
)

// The YNL C peer is built once per test binary, by testdata/build.sh.
var peer struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if peer.dir != "" {
		os.RemoveAll(peer.dir)
	}
	shared.close()
	os.Exit(code)
}

// ynlc returns the path of the built ynlbench program, or skips b saying
// why it cannot be built.
func ynlc(b *testing.B) string {
	b.Helper()
	peer.once.Do(func() {
		if peer.dir, peer.err = os.MkdirTemp("", "ynlbench"); peer.err != nil {
			return
		}
		out, err := exec.Command("testdata/build.sh", peer.dir).CombinedOutput()
		if err != nil {
			if len(out) > 2000 {
				out = out[len(out)-2000:]
			}
			peer.err = fmt.Errorf("testdata/build.sh: %v: %s", err, out)
			return
		}
		peer.bin = filepath.Join(peer.dir, "ynlbench")
	})
	if peer.err != nil {
		b.Skipf("YNL C peer not built: %v", peer.err)
	}
	return peer.bin
}

// A peerResult is what ynlbench prints after a run.
type peerResult struct {
	ops     int
	ns, cpu float64 // per operation
	user    float64 // the user part of cpu
	allocs  float64 // malloc, calloc and realloc calls per operation
	bytes   float64 // bytes those calls asked for, per operation
	items   int     // objects per dump, devices, or notifications
}

func parsePeer(b *testing.B, out string) peerResult {
	b.Helper()
	r, err := scanPeer(out)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// scanPeer reads what ynlbench printed.
func scanPeer(out string) (peerResult, error) {
	var r peerResult
	if _, err := fmt.Sscan(out, &r.ops, &r.ns, &r.cpu, &r.allocs, &r.bytes, &r.items, &r.user); err != nil {
		return r, fmt.Errorf("ynlbench printed %q: %v", out, err)
	}
	return r, nil
}

// runPeer runs ynlbench with args and reports its own figures as the
// benchmark's ns/op, cpu-ns/op (its rusage) and allocs/op.
func runPeer(b *testing.B, args ...string) peerResult {
	b.Helper()
	bin := ynlc(b)
	b.ResetTimer()
	r := execPeer(b, bin, args...)
	r.report(b)
	return r
}

// execPeer runs ynlbench (bin) with args and returns what it printed.
func execPeer(b *testing.B, bin string, args ...string) peerResult {
	b.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("ynlbench %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return parsePeer(b, string(out))
}

// runPeers runs n ynlbench processes at once, each with args and a share
// of b.N as its last argument: the YNL C library on n CPUs, one socket per
// process. ns/op is the wall time of the slowest process divided by b.N,
// cpu-ns/op the sum of their rusage divided by b.N.
func runPeers(b *testing.B, n int, args ...string) {
	b.Helper()
	bin := ynlc(b)
	b.ResetTimer()
	type result struct {
		r   peerResult
		err error
	}
	results := make(chan result, n)
	for i := range n {
		share := b.N / n
		if i < b.N%n {
			share++
		}
		cmd := exec.Command(bin, append(slices.Clone(args), strconv.Itoa(max(1, share)))...)
		go func() {
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				results <- result{err: fmt.Errorf("ynlbench %s: %v: %s", strings.Join(cmd.Args[1:], " "), err, stderr.String())}
				return
			}
			r, err := scanPeer(string(out))
			results <- result{r: r, err: err}
		}()
	}
	var sum peerResult
	var wall float64
	for range n {
		res := <-results
		if res.err != nil {
			b.Fatal(res.err)
		}
		ops := float64(res.r.ops)
		wall = max(wall, res.r.ns*ops)
		sum.ops += res.r.ops
		sum.cpu += res.r.cpu * ops
		sum.allocs += res.r.allocs * ops
		sum.bytes += res.r.bytes * ops
	}
	total := float64(sum.ops)
	sum.ns = wall / total
	sum.cpu /= total
	sum.allocs /= total
	sum.bytes /= total
	sum.report(b)
}

// report sets b's ns/op, cpu-ns/op, allocs/op and B/op to r's.
func (r peerResult) report(b *testing.B) {
	b.ReportAllocs()
	b.ReportMetric(r.bytes, "B/op")
	b.ReportMetric(r.ns, "ns/op")
	b.ReportMetric(r.cpu, "cpu-ns/op")
	b.ReportMetric(r.allocs, "allocs/op")
}

// warmPeer runs ynlbench with args, untimed, for what it leaves warm.
func warmPeer(b *testing.B, args ...string) {
	b.Helper()
	if out, err := exec.Command(ynlc(b), args...).CombinedOutput(); err != nil {
		b.Fatalf("ynlbench %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// startPeer starts ynlbench with args and waits for the line "ready".
// The caller then makes the workload happen and calls wait.
func startPeer(b *testing.B, args ...string) (wait func() peerResult) {
	b.Helper()
	cmd := exec.Command(ynlc(b), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	if line, err := r.ReadString('\n'); err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatalf("ynlbench %s: %q %v: %s", strings.Join(args, " "), line, err, stderr.String())
	}
	return func() peerResult {
		rest, _ := io.ReadAll(r)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("ynlbench %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return parsePeer(b, string(rest))
	}
}

// servePeer starts ynlbench in serve mode for the workload what (a dump's
// name or do-linkinfo) in ns, and returns a function that runs n operations
// in it and returns what it printed. The process opens its socket and warms
// up once; it ends when b does.
//
// The pipes to it are read and written with raw system calls (see
// rawPipe): a blocking-capable one would wake the Go runtime's monitor
// thread (sysmon) at the start of each round, which then polls every 20 µs
// for a millisecond and more, preempting genlkit's side when both run on
// one CPU: the harness, not genlkit, would pay for it.
//
// With away, the process runs on the CPUs other than the one the test
// process is bound to (testutils.AwayFromPinned).
func servePeer(b *testing.B, bin, nsPath, what string, away bool) (round func(n int) peerResult) {
	b.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", nsPath, "serve", what)
	var stderr strings.Builder
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, &stderr
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err == nil && away {
		if err = testutils.AwayFromPinned(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	if err != nil {
		inW.Close()
		outR.Close()
		b.Fatal(err)
	}
	in, out := newRawPipe(b, inW), newRawPipe(b, outR)
	b.Cleanup(func() {
		inW.Close()
		cmd.Wait()
		outR.Close()
	})
	var line []byte
	return func(n int) peerResult {
		b.Helper()
		if err := in.write(strconv.AppendInt(nil, int64(n), 10), '\n'); err != nil {
			b.Fatalf("ynlbench serve %s: %v: %s", what, err, stderr.String())
		}
		line, err = out.readLine(line[:0])
		if err != nil {
			b.Fatalf("ynlbench serve %s: %v: %s", what, err, stderr.String())
		}
		return parsePeer(b, string(line))
	}
}

// A rawPipe reads or writes a pipe through the netpoller with
// non-blocking raw system calls, which unlike os.File's never wake sysmon.
type rawPipe struct {
	rc  syscall.RawConn
	buf []byte
}

func newRawPipe(b *testing.B, f *os.File) *rawPipe {
	b.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		b.Fatal(err)
	}
	return &rawPipe{rc: rc}
}

// write writes p and then the byte end.
func (p *rawPipe) write(data []byte, end byte) error {
	data = append(data, end)
	var werr error
	err := p.rc.Write(func(fd uintptr) bool {
		for len(data) > 0 {
			n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)))
			switch e {
			case 0:
				data = data[n:]
			case syscall.EAGAIN:
				return false
			case syscall.EINTR:
			default:
				werr = e
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return err
}

// readLine appends the next line, without its newline, to dst.
func (p *rawPipe) readLine(dst []byte) ([]byte, error) {
	for {
		if i := bytes.IndexByte(p.buf, '\n'); i >= 0 {
			dst = append(dst, p.buf[:i]...)
			p.buf = p.buf[i+1:]
			return dst, nil
		}
		var chunk [512]byte
		var got int
		var rerr error
		err := p.rc.Read(func(fd uintptr) bool {
			for {
				n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&chunk[0])), uintptr(len(chunk)))
				switch e {
				case 0:
					got = int(n)
				case syscall.EAGAIN:
					return false
				case syscall.EINTR:
					continue
				default:
					rerr = e
				}
				return true
			}
		})
		if err == nil {
			err = rerr
		}
		if err == nil && got == 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return dst, err
		}
		p.buf = append(p.buf, chunk[:got]...)
	}
}

// A sharedNS is the namespace of ~2,000 veth devices that the dump and do
// benchmarks share: made on first use, deleted when the test binary ends.
type sharedNS struct {
	once  sync.Once
	ns    *testutils.NS
	veths []testutils.Veth
}

var shared sharedNS

// vethPairs is how many veth pairs the shared namespace holds: with lo,
// 2,001 devices.
const vethPairs = 1000

// get returns the shared namespace, making it the first time.
func (s *sharedNS) get(b *testing.B) *testutils.NS {
	b.Helper()
	testutils.RequireKernel(b)
	s.once.Do(func() {
		name := fmt.Sprintf("genlkit-bench-%d", os.Getpid())
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			b.Fatalf("ip netns add %s: %v: %s", name, err, out)
		}
		s.ns = &testutils.NS{Name: name, Path: filepath.Join("/run/netns", name)}
		// Without IPv6 on the devices, the kernel has no per-device
		// address configuration and duplicate address detection to run
		// (under rtnl) for seconds after they come up: that work would
		// land on whichever benchmark runs first.
		if out, err := exec.Command("ip", "netns", "exec", name, "sysctl", "-qw",
			"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1").CombinedOutput(); err != nil {
			b.Logf("disable IPv6 in the benchmark namespace: %v: %s", err, out)
		}
		s.ns.IP(b, "link", "set", "lo", "up")
		s.veths = s.ns.AddVeths(b, "b", vethPairs)
		s.settle(b)
	})
	if s.ns == nil || len(s.veths) != vethPairs {
		b.Fatal("shared namespace not made")
	}
	return s.ns
}

// settle waits until the kernel has finished the work that making the
// devices set off, so that the first benchmark does not pay for it: the
// link watcher brings every veth up (operstate UP), under the RTNL lock
// every netdev and ethtool dump takes too, in batches after the devices
// are made. (IPv6, whose duplicate address detection would hold the same
// lock for about two more seconds, is off in the namespace.) Then it
// repeats a cheap dump (netdev dev-get) in rounds of five until the
// fastest of a round is no longer 5% faster than the fastest of the round
// before: the dump's time has stopped falling. The fastest of a round
// ignores the other processes of a busy machine, which only ever make a
// dump slower.
func (s *sharedNS) settle(b *testing.B) {
	b.Helper()
	start := time.Now()
	for {
		up := strings.Count(s.ns.IP(b, "-o", "link", "show", "up"), "state UP")
		if up >= 2*vethPairs {
			break
		}
		if time.Since(start) > 30*time.Second {
			b.Logf("namespace not settled after 30s: %d of %d veths up", up, 2*vethPairs)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	up := time.Since(start)
	dump := openDump(b, s.ns, dumpCases[0].run) // netdev dev-get
	prev := time.Duration(0)
	var rounds []time.Duration
	for len(rounds) < 40 {
		best := time.Duration(0)
		for range 5 {
			t0 := time.Now()
			if _, err := dump(); err != nil {
				b.Fatal(err)
			}
			if d := time.Since(t0); best == 0 || d < best {
				best = d
			}
		}
		rounds = append(rounds, best)
		if prev != 0 && best > prev*95/100 {
			break
		}
		prev = best
	}
	b.Logf("namespace settled: devices up after %v, then %d rounds of netdev dumps, fastest per round %v",
		up.Round(time.Millisecond), len(rounds), rounds)
}

func (s *sharedNS) close() {
	if s.ns != nil {
		exec.Command("ip", "netns", "del", s.ns.Name).Run()
	}
}

// TestScanPeer checks the reading of ynlbench's report line, which the
// benchmarks' ratios rest on.
func TestScanPeer(t *testing.T) {
	for _, tc := range []struct {
		line string
		want peerResult
		ok   bool
	}{
		{"20 401234.5 398000.0 2.00 96048.0 2001 98381.2\n", peerResult{ops: 20, ns: 401234.5, cpu: 398000, allocs: 2, bytes: 96048, items: 2001, user: 98381.2}, true},
		{"200 11.5 10.0 1.00 64.0 200 0.0\n", peerResult{ops: 200, ns: 11.5, cpu: 10, allocs: 1, bytes: 64, items: 200}, true},
		{"20 401234.5 398000.0 2.00 96048.0 2001\n", peerResult{}, false}, // no user time: an older ynlbench
		{"ready\n", peerResult{}, false},
		{"", peerResult{}, false},
	} {
		got, err := scanPeer(tc.line)
		if (err == nil) != tc.ok {
			t.Errorf("scanPeer(%q): error %v, want ok %v", tc.line, err, tc.ok)
			continue
		}
		if tc.ok && got != tc.want {
			t.Errorf("scanPeer(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

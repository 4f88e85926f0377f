// Package wifipeer compares genlkit's nl80211 layer with mdlayher/wifi on
// the jobs wifi users run: listing interfaces, reading the BSS a station is
// associated with, and its station statistics. It is a module of its own
// so that mdlayher/wifi stays out of genlkit's go.mod.
//
// TestCompare needs root and a kernel with two mac80211_hwsim radios and
// hostapd; it moves the radios into a namespace of its own, runs an open
// AP on one, connects the other, then runs itself again inside the
// namespace (mdlayher/wifi dials in the namespace it runs in), where both
// libraries do each job, their values are checked against each other, and
// testing.Benchmark measures them alternately. In the guest kernel:
//
//	go build -o /tmp/vmtest ./internal/vmtest
//	cd family/nl80211/testdata/wifipeer && /tmp/vmtest -kernel 7.3 -v -run TestCompare .
package wifipeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/nl80211"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"github.com/mdlayher/wifi"
)

const (
	envInner = "WIFIPEER_INNER" // "STA-IFINDEX AP-IFINDEX" inside the namespace
	ssid     = "genlkit-peer"
	freq     = 2437
)

func TestCompare(t *testing.T) {
	if v := os.Getenv(envInner); v != "" {
		inner(t, v)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := genl.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	rc, err := nl80211.New(ctx, root)
	if errors.Is(err, family.ErrNotFound) {
		t.Skip("no nl80211 (load mac80211_hwsim radios=2)")
	} else if err != nil {
		t.Fatal(err)
	}
	phys, err := rc.Wiphys(ctx)
	if err != nil || len(phys) < 2 {
		t.Skipf("%d wiphys (%v), want two hwsim radios", len(phys), err)
	}
	ns := fmt.Sprintf("wifipeer-%d", os.Getpid())
	run(t, "ip", "netns", "add", ns)
	defer run(t, "ip", "netns", "del", ns)
	for _, p := range phys[:2] {
		run(t, "iw", "phy", p.WiphyName.Value, "set", "netns", "name", ns)
	}
	conn, err := genl.Dial(genl.WithNetNS(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := nl80211.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := c.Interfaces(ctx)
	if err != nil || len(ifs) < 2 {
		t.Fatalf("interfaces in the namespace: %v, %v", ifs, err)
	}
	slices.SortFunc(ifs, func(a, b *nl80211.Interface) int { return a.PHY - b.PHY })
	ap, sta := ifs[0], ifs[1]

	dir := t.TempDir()
	conf := filepath.Join(dir, "hostapd.conf")
	os.WriteFile(conf, []byte(strings.Join([]string{"interface=" + ap.Name, "driver=nl80211", "ctrl_interface=" + filepath.Join(dir, "ctrl"),
		"hw_mode=g", "channel=6", "ssid=" + ssid, "bss_load_update_period=10", ""}, "\n")), 0o600)
	var apOut bytes.Buffer
	hostapd := exec.Command("ip", "netns", "exec", ns, "hostapd", conf)
	hostapd.Stdout, hostapd.Stderr = &apOut, &apOut
	if err := hostapd.Start(); err != nil {
		t.Skipf("hostapd: %v", err)
	}
	defer func() { hostapd.Process.Kill(); hostapd.Wait() }()
	run(t, "ip", "-n", ns, "link", "set", sta.Name, "up")
	for !strings.Contains(run(t, "ip", "netns", "exec", ns, "iw", "dev", sta.Name, "link"), "Connected to") {
		if _, err := c.Scan(ctx, sta.Index, &nl80211.TriggerScanRequest{ScanFrequencies: []uint32{freq}}); err == nil {
			exec.Command("ip", "netns", "exec", ns, "iw", "dev", sta.Name, "connect", ssid, strconv.Itoa(freq)).Run()
		}
		if ctx.Err() != nil {
			t.Fatalf("%s did not connect to %s; hostapd:\n%s", sta.Name, ssid, apOut.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	self, _ := os.Executable()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, self, "-test.run=^TestCompare$", "-test.v")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %d", envInner, sta.Index, ap.Index))
	out, err := cmd.CombinedOutput()
	t.Logf("inside the namespace:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// A job is one thing both libraries do.
type job struct {
	name           string
	genlkit, mdlay func() (string, error) // each returns a summary of the values read
}

func inner(t *testing.T, env string) {
	var staIdx, apIdx int
	fmt.Sscan(env, &staIdx, &apIdx)
	ctx := context.Background()
	conn, err := genl.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	g, err := nl80211.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wifi.New()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	wifs, err := w.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var wsta, wap *wifi.Interface
	for _, i := range wifs {
		switch i.Index {
		case staIdx:
			wsta = i
		case apIdx:
			wap = i
		}
	}
	if wsta == nil || wap == nil {
		t.Fatalf("mdlayher/wifi interfaces %+v lack %d and %d", wifs, staIdx, apIdx)
	}
	jobs := []job{
		{"interfaces", func() (string, error) {
			ifs, err := g.Interfaces(ctx)
			var s []string
			for _, i := range ifs {
				s = append(s, fmt.Sprint(i.Index, i.Name, i.HardwareAddr, i.PHY, i.Device, int(i.Type), i.Frequency))
			}
			sort.Strings(s)
			return strings.Join(s, "; "), err
		}, func() (string, error) {
			ifs, err := w.Interfaces()
			var s []string
			for _, i := range ifs {
				s = append(s, fmt.Sprint(i.Index, i.Name, i.HardwareAddr, i.PHY, uint64(i.Device), int(i.Type), i.Frequency))
			}
			sort.Strings(s)
			return strings.Join(s, "; "), err
		}},
		{"bss", func() (string, error) {
			b, err := g.BSS(ctx, staIdx)
			if err != nil {
				return "", err
			}
			var load nl80211.BSSLoad
			if b.Load != nil {
				load = *b.Load
			}
			return fmt.Sprint(b.SSID, b.BSSID, b.Frequency, b.BeaconInterval, int(b.Status), b.Signal, load.StationCount, load.ChannelUtilization, load.AvailableAdmissionCapacity), nil
		}, func() (string, error) {
			b, err := w.BSS(wsta)
			if err != nil {
				return "", err
			}
			return fmt.Sprint(b.SSID, b.BSSID, b.Frequency, b.BeaconInterval, int(b.Status), b.Signal, b.Load.StationCount, b.Load.ChannelUtilization, b.Load.AvailableAdmissionCapacity), nil
		}},
		{"station (AP side)", func() (string, error) {
			s, err := g.StationInfo(ctx, apIdx)
			if err != nil || len(s) != 1 {
				return "", fmt.Errorf("%d stations: %v", len(s), err)
			}
			return fmt.Sprint(s[0].HardwareAddr, s[0].Signal, s[0].SignalAverage), nil
		}, func() (string, error) {
			s, err := w.StationInfo(wap)
			if err != nil || len(s) != 1 {
				return "", fmt.Errorf("%d stations: %v", len(s), err)
			}
			return fmt.Sprint(s[0].HardwareAddr, s[0].Signal, s[0].SignalAverage), nil
		}},
	}
	for _, j := range jobs {
		a, errA := j.genlkit()
		b, errB := j.mdlay()
		if errA != nil || errB != nil || a != b {
			t.Errorf("%s: genlkit %q (%v), mdlayher/wifi %q (%v)", j.name, a, errA, b, errB)
		}
	}
	if t.Failed() {
		return
	}
	const rounds = 5
	t.Logf("%-18s %14s %14s %10s %10s %8s %8s", "job", "genlkit ns/op", "wifi ns/op", "g cpu-ns", "w cpu-ns", "g alloc", "w alloc")
	for _, j := range jobs {
		var gr, wr []testing.BenchmarkResult
		for r := range rounds {
			// Alternate which goes first.
			fs := []func() (string, error){j.genlkit, j.mdlay}
			if r%2 == 1 {
				fs[0], fs[1] = fs[1], fs[0]
			}
			var res [2]testing.BenchmarkResult
			for k, f := range fs {
				var failed error
				res[k] = testing.Benchmark(func(b *testing.B) {
					b.ReportAllocs()
					start := testutils.ProcessCPU()
					for b.Loop() {
						if _, err := f(); err != nil {
							failed = err
							b.FailNow()
						}
					}
					b.ReportMetric(float64(testutils.ProcessCPU()-start)/float64(b.N), "cpu-ns/op")
				})
				if failed != nil {
					t.Fatalf("%s: %v", j.name, failed)
				}
			}
			if r%2 == 1 {
				res[0], res[1] = res[1], res[0]
			}
			gr, wr = append(gr, res[0]), append(wr, res[1])
		}
		gm, wm := median(gr), median(wr)
		t.Logf("%-18s %14.0f %14.0f %10.0f %10.0f %8d %8d   wifi/genlkit: %.2fx wall, %.2fx cpu",
			j.name, gm.ns, wm.ns, gm.cpu, wm.cpu, gm.allocs, wm.allocs, wm.ns/gm.ns, wm.cpu/gm.cpu)
	}
}

type summary struct {
	ns, cpu float64
	allocs  int64
}

// median returns the median wall and CPU time per op and allocations of rs.
func median(rs []testing.BenchmarkResult) summary {
	var ns, cpu []float64
	var allocs []int64
	for _, r := range rs {
		ns = append(ns, float64(r.T.Nanoseconds())/float64(r.N))
		cpu = append(cpu, r.Extra["cpu-ns/op"])
		allocs = append(allocs, r.AllocsPerOp())
	}
	slices.Sort(ns)
	slices.Sort(cpu)
	slices.Sort(allocs)
	return summary{ns[len(ns)/2], cpu[len(cpu)/2], allocs[len(allocs)/2]}
}

package nl80211_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/nl80211"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests with an access point: hostapd runs one hwsim radio as an AP
// inside the test's namespace, the other radio scans for it and connects,
// and what the typed layer reads is checked against iw(8).

const apFreq = 2437 // channel 6

// startAP runs hostapd in the namespace with the given configuration
// lines (interface, driver and control directory added) until the test
// ends, and waits until it reports the AP enabled. hostapd exits when it
// cannot set up WPA, which it cannot while a freshly booted guest's
// random pool is not ready: it is started again until ctx ends.
func startAP(t *testing.T, ns *testutils.NS, ctx context.Context, c *nl80211.Client, ap *nl80211.Interface, lines ...string) {
	t.Helper()
	bin := testutils.RequireTool(t, "hostapd")
	dir := t.TempDir()
	conf := filepath.Join(dir, "hostapd.conf")
	text := strings.Join(append([]string{"interface=" + ap.Name, "driver=nl80211", "ctrl_interface=" + filepath.Join(dir, "ctrl"), "hw_mode=g", "channel=6"}, lines...), "\n") + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		out := new(syncBuffer)
		cmd := exec.Command("ip", "netns", "exec", ns.Name, bin, conf)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Signal(unix.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
		for running := true; running; {
			if strings.Contains(out.String(), "AP-ENABLED") {
				got, err := c.GetInterface(ctx, &nl80211.GetInterfaceRequest{Ifindex: nl80211.Some(uint32(ap.Index))})
				if err != nil || nl80211.InterfaceType(got.Iftype.Value) != nl80211.InterfaceTypeAP || got.WiphyFreq.Value != apFreq {
					t.Fatalf("hostapd enabled the AP, get-interface says %+v, %v", got, err)
				}
				return
			}
			select {
			case <-exited:
				t.Logf("hostapd exited (attempt %d):\n%s", attempt, out.String())
				running = false
			case <-ctx.Done():
				t.Fatalf("hostapd did not enable an AP on %s: %v\n%s", ap.Name, ctx.Err(), out.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("hostapd did not enable an AP on %s: %v", ap.Name, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// A syncBuffer is a bytes.Buffer safe for a writer and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scanFor scans on sta until a BSS with ssid shows up.
func scanFor(t *testing.T, ctx context.Context, c *nl80211.Client, sta *nl80211.Interface, ssid string) *nl80211.BSS {
	t.Helper()
	for {
		res, err := c.Scan(ctx, sta.Index, &nl80211.TriggerScanRequest{ScanFrequencies: []uint32{apFreq}, ScanSSIDs: [][]byte{[]byte(ssid)}})
		switch {
		case errors.Is(err, unix.EBUSY) || errors.Is(err, nl80211.ErrScanAborted):
		case err != nil:
			t.Fatalf("scan: %v", err)
		}
		if i := slices.IndexFunc(res, func(b *nl80211.BSS) bool { return b.SSID == ssid }); i >= 0 {
			return res[i]
		}
		select {
		case <-ctx.Done():
			for _, b := range res {
				t.Logf("found %s %q on %d MHz, elements error %v, IEs % x", b.BSSID, b.SSID, b.Frequency, b.ElementsErr, b.Attrs.InformationElements)
			}
			t.Fatalf("no scan found %q: %v (last scan: %d results, error %v)", ssid, ctx.Err(), len(res), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// apPair sets up the namespace and returns its two radios' interfaces,
// the first for the AP, the second for the station, with the station up.
func apPair(t *testing.T) (*testutils.NS, *nl80211.Client, context.Context, *nl80211.Interface, *nl80211.Interface) {
	ns, c, _, _ := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	ifaces, err := c.Interfaces(ctx)
	if err != nil || len(ifaces) < 2 {
		t.Fatalf("interfaces %v, %v; want two", ifaces, err)
	}
	slices.SortFunc(ifaces, func(a, b *nl80211.Interface) int { return a.PHY - b.PHY })
	ns.IP(t, "link", "set", ifaces[1].Name, "up")
	return ns, c, ctx, ifaces[0], ifaces[1]
}

// iwSection returns the part of iw output that starts at the line
// beginning with head, up to the next line beginning with the same word.
func iwSection(out, head string) string {
	i := strings.Index(out, head)
	if i < 0 {
		return ""
	}
	word := strings.Fields(head)[0] + " "
	rest := out[i+len(head):]
	if j := strings.Index(rest, "\n"+word); j >= 0 {
		rest = rest[:j]
	}
	return head + rest
}

// iwField returns the first submatch of re in s, or "".
func iwField(s, re string) string {
	if m := regexp.MustCompile(re).FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func TestKernelScanWPA2AccessPoint(t *testing.T) {
	ns, c, ctx, ap, sta := apPair(t)
	const ssid = "genlkit-wpa2"
	startAP(t, ns, ctx, c, ap, "ssid="+ssid, "beacon_int=100", "bss_load_update_period=10",
		"wpa=2", "wpa_key_mgmt=WPA-PSK", "rsn_pairwise=CCMP", "wpa_passphrase=genlkit-passphrase")
	b := scanFor(t, ctx, c, sta, ssid)
	if b.BSSID.String() != ap.HardwareAddr.String() || b.Frequency != apFreq || b.BeaconInterval != 100*1024*time.Microsecond {
		t.Errorf("BSS %s on %d MHz, beacon interval %v; want %s on %d, 102.4ms", b.BSSID, b.Frequency, b.BeaconInterval, ap.HardwareAddr, apFreq)
	}
	if b.ElementsErr != nil {
		t.Errorf("information elements: %v", b.ElementsErr)
	}
	if r := b.RSN; r == nil || r.Version != 1 || r.GroupCipher != nl80211.CipherCCMP128 ||
		!slices.Equal(r.PairwiseCiphers, []nl80211.Suite{nl80211.CipherCCMP128}) || !slices.Equal(r.AKMs, []nl80211.Suite{nl80211.AKMPSK}) {
		t.Errorf("RSN %+v, want CCMP-128 group and pairwise, PSK", r)
	}
	if b.Load == nil {
		t.Fatal("no BSS load element; hostapd sends one with bss_load_update_period")
	}

	// iw's view of the same scan results.
	dump := iw(t, ns, "dev", sta.Name, "scan", "dump")
	sec := iwSection(dump, "BSS "+b.BSSID.String())
	if sec == "" {
		t.Fatalf("iw scan dump lacks %s:\n%s", b.BSSID, dump)
	}
	want := map[string]string{
		`SSID: (.*)`:                                   b.SSID,
		`freq: (\d+)`:                                  strconv.Itoa(b.Frequency),
		`beacon interval: (\d+) TUs`:                   "100",
		`signal: (-?[\d.]+) dBm`:                       fmt.Sprintf("%.2f", float64(b.Signal)/100),
		`Group cipher: (.*)`:                           "CCMP",
		`Pairwise ciphers: (.*)`:                       "CCMP",
		`Authentication suites: (.*)`:                  "PSK",
		`station count: (\d+)`:                         strconv.Itoa(int(b.Load.StationCount)),
		`channel utilisation: (\d+)/255`:               strconv.Itoa(int(b.Load.ChannelUtilization)),
		`available admission capacity: (\d+) \[\*32us`: strconv.Itoa(int(b.Load.AvailableAdmissionCapacity)),
		`capability: .*\((0x[0-9a-f]+)\)`:              fmt.Sprintf("0x%04x", b.Capability),
	}
	for re, v := range want {
		if got := iwField(sec, re); got != v {
			t.Errorf("iw scan dump %s: %q, genlkit %q", re, got, v)
		}
	}
	if t.Failed() {
		t.Logf("iw scan dump:\n%s", sec)
	}
}

func TestKernelStationOnOpenAccessPoint(t *testing.T) {
	ns, c, ctx, ap, sta := apPair(t)
	const ssid = "genlkit-open"
	startAP(t, ns, ctx, c, ap, "ssid="+ssid, "bss_load_update_period=10")
	scanFor(t, ctx, c, sta, ssid)
	iw(t, ns, "dev", sta.Name, "connect", ssid, strconv.Itoa(apFreq))
	for !strings.Contains(iw(t, ns, "dev", sta.Name, "link"), "Connected to "+ap.HardwareAddr.String()) {
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not connect to %s", sta.Name, ssid)
		case <-time.After(200 * time.Millisecond):
		}
	}
	// Some traffic for the counters: the station sends a few frames.
	ns.IP(t, "addr", "add", "198.51.100.2/24", "dev", sta.Name)
	ns.ExecErr("ping", "-c", "3", "-i", "0.2", "-W", "1", "198.51.100.1")

	b, err := c.BSS(ctx, sta.Index)
	if err != nil || b.BSSID.String() != ap.HardwareAddr.String() || b.Status != nl80211.BSSStatusAssociated || b.SSID != ssid || b.RSN != nil {
		t.Errorf("BSS of %s: %+v, %v; want %s associated, without RSN", sta.Name, b, err, ap.HardwareAddr)
	}
	ifs, err := c.Interfaces(ctx)
	if i := slices.IndexFunc(ifs, func(i *nl80211.Interface) bool { return i.Index == ap.Index }); err != nil || i < 0 || ifs[i].Type != nl80211.InterfaceTypeAP || ifs[i].SSID != ssid || ifs[i].Frequency != apFreq {
		t.Errorf("interfaces %+v, %v: want %s an AP of %s on %d", ifs, err, ap.Name, ssid, apFreq)
	}

	for _, side := range []struct {
		iface *nl80211.Interface
		peer  string
	}{{sta, ap.HardwareAddr.String()}, {ap, sta.HardwareAddr.String()}} {
		// iw reads before and after genlkit: counters must lie between
		// the two reads, values that change (the rate control's bitrate,
		// the signal) must be one of them.
		dump := func() string {
			return iwSection(iw(t, ns, "dev", side.iface.Name, "station", "dump"), "Station "+side.peer)
		}
		before := dump()
		got, err := c.StationInfo(ctx, side.iface.Index)
		if err != nil || len(got) != 1 || got[0].HardwareAddr.String() != side.peer {
			t.Fatalf("stations of %s: %+v, %v; want %s", side.iface.Name, got, err, side.peer)
		}
		s := got[0]
		after := dump()
		num := func(out, re string) uint64 {
			v, err := strconv.ParseUint(iwField(out, re), 10, 64)
			if err != nil {
				t.Errorf("iw station dump %s: %v\n%s", re, err, out)
			}
			return v
		}
		for _, ctr := range []struct {
			name string
			re   string
			v    uint64
		}{
			{"rx bytes", `rx bytes:\s*(\d+)`, s.ReceivedBytes},
			{"tx bytes", `tx bytes:\s*(\d+)`, s.TransmittedBytes},
			{"rx packets", `rx packets:\s*(\d+)`, uint64(s.ReceivedPackets)},
			{"tx packets", `tx packets:\s*(\d+)`, uint64(s.TransmittedPackets)},
			{"tx retries", `tx retries:\s*(\d+)`, uint64(s.TransmitRetries)},
			{"tx failed", `tx failed:\s*(\d+)`, uint64(s.TransmitFailed)},
			{"connected time", `connected time:\s*(\d+) seconds`, uint64(s.Connected / time.Second)},
		} {
			if lo, hi := num(before, ctr.re), num(after, ctr.re); ctr.v < lo || ctr.v > hi {
				t.Errorf("%s %s: genlkit %d, iw %d before and %d after", side.iface.Name, ctr.name, ctr.v, lo, hi)
			}
		}
		if s.TransmittedPackets == 0 || s.ReceivedBytes == 0 {
			t.Errorf("%s: no traffic counted: %+v", side.iface.Name, s)
		}
		for _, v := range []struct {
			name, re, got string
		}{
			{"signal", `signal:\s*(-?\d+)`, strconv.Itoa(s.Signal)},
			{"signal avg", `signal avg:\s*(-?\d+)`, strconv.Itoa(s.SignalAverage)},
			{"tx bitrate", `tx bitrate:\s*([\d.]+) MBit/s`, fmt.Sprintf("%.1f", float64(s.TransmitBitrate)/1e6)},
			{"rx bitrate", `rx bitrate:\s*([\d.]+) MBit/s`, fmt.Sprintf("%.1f", float64(s.ReceiveBitrate)/1e6)},
		} {
			b, a := iwField(before, v.re), iwField(after, v.re)
			if (b != "" || a != "") && v.got != b && v.got != a {
				t.Errorf("%s %s: genlkit %s, iw %q before and %q after", side.iface.Name, v.name, v.got, b, a)
			}
		}
		out := after
		if t.Failed() {
			t.Logf("iw station dump of %s:\n%s", side.iface.Name, out)
		}
	}
}

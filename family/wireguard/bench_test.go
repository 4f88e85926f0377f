package wireguard_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/wireguard"
	"github.com/genlkit/genlkit/internal/testutils"
)

// Benchmarks against wgctrl-go (golang.zx2c4.com/wireguard/wgctrl) doing
// the same jobs on the same device in the same run. wgctrl runs in its own
// process, testdata/wgctrlpeer, a module of its own so that wgctrl stays
// out of this module's go.mod; the benchmarks build it (or take it
// prebuilt from the VM harness) and skip when it does not build. The jobs
// alternate, and each side's process CPU time (user and system: the
// kernel's share of the netlink traffic too) is reported per call.
//
//	go run ./internal/vmtest -kernel 7.3 -run '^$' -bench 'BenchmarkDevice|BenchmarkConfigureDevice' -benchtime 3x ./family/wireguard/

// benchConfig is the config testdata/wgctrlpeer's benchConfig builds: it
// replaces all peers with n peers, peer i with public key SHA-256(i as 4
// bytes big-endian), endpoint 198.51.100.(i%256):(10000+i%50000),
// keepalive 25 s, and allowed IPs 2001:db8:1:i::/64 and 2001:db8::i/128.
func benchConfig(n int) wireguard.Config {
	cfg := wireguard.Config{ReplacePeers: true, Peers: make([]wireguard.PeerConfig, n)}
	ka := 25 * time.Second
	for i := range cfg.Peers {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(i))
		cfg.Peers[i] = wireguard.PeerConfig{
			PublicKey:                   wireguard.Key(sha256.Sum256(b[:])),
			Endpoint:                    netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(10000+i%50000)),
			PersistentKeepaliveInterval: &ka,
			ReplaceAllowedIPs:           true,
			AllowedIPs: []netip.Prefix{
				netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, byte(i >> 8), byte(i)}), 64),
				netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)}), 128),
			},
		}
	}
	return cfg
}

// A wgctrlPeer is a running testdata/wgctrlpeer.
type wgctrlPeer struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

// startWgctrl runs testdata/wgctrlpeer in ns, building it first unless the
// VM harness prebuilt it; it skips b when the peer cannot be built.
func startWgctrl(b *testing.B, ns *testutils.NS) *wgctrlPeer {
	b.Helper()
	bin := testutils.Prebuilt("wgctrlpeer")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "wgctrlpeer")
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = filepath.Join("testdata", "wgctrlpeer")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Skipf("the wgctrl peer (testdata/wgctrlpeer) does not build, so there is nothing to compare with: %v: %s", err, out)
		}
	}
	cmd := exec.Command("ip", "netns", "exec", ns.Name, bin)
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return &wgctrlPeer{in: in, out: bufio.NewScanner(out)}
}

// do sends one command and returns the CPU time and result it reports.
func (p *wgctrlPeer) do(b *testing.B, format string, args ...any) (time.Duration, int) {
	if _, err := fmt.Fprintf(p.in, format+"\n", args...); err != nil {
		b.Fatal(err)
	}
	if !p.out.Scan() {
		b.Fatalf("wgctrl peer: no answer: %v", p.out.Err())
	}
	f := strings.Fields(p.out.Text())
	if len(f) != 3 || f[0] != "ok" {
		b.Fatalf("wgctrl peer: %s", p.out.Text())
	}
	ns, _ := strconv.ParseInt(f[1], 10, 64)
	n, _ := strconv.Atoi(f[2])
	return time.Duration(ns), n
}

// compare runs the job on both sides in alternation, genlkit's in this
// process and wgctrl's in the peer, and reports each side's CPU time per
// call and the ratio ("speedup": wgctrl's over genlkit's). reset, if not
// nil, runs untimed before each call, so that both start from the same
// state.
func compare(b *testing.B, reset func(), genlkit func() int, wgctrl func() (time.Duration, int), want int) {
	var cpu [2]time.Duration
	calls := 0
	for i := 0; b.Loop(); i++ {
		for k := range 2 {
			if reset != nil {
				b.StopTimer()
				reset()
				b.StartTimer()
			}
			switch (i + k) % 2 {
			case 0:
				start := testutils.ProcessCPU()
				if n := genlkit(); n != want {
					b.Fatalf("genlkit: %d peers, want %d", n, want)
				}
				cpu[0] += testutils.ProcessCPU() - start
			case 1:
				d, n := wgctrl()
				if n != want {
					b.Fatalf("wgctrl: %d peers, want %d", n, want)
				}
				cpu[1] += d
			}
		}
		calls++
	}
	b.ReportMetric(float64(cpu[0])/float64(calls), "genlkit-cpu-ns/op")
	b.ReportMetric(float64(cpu[1])/float64(calls), "wgctrl-cpu-ns/op")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "speedup")
}

// BenchmarkDevice reads a device of 10,000 peers: genlkit's Client.Device
// against wgctrl's Client.Device.
func BenchmarkDevice(b *testing.B) {
	ns, c, _ := setup(b)
	ctx := context.Background()
	const peers = 10000
	cfg := benchConfig(peers)
	if err := c.ConfigureDevice(ctx, "wg0", cfg); err != nil {
		b.Fatal(err)
	}
	wg := startWgctrl(b, ns)
	b.Run("genlkit-vs-wgctrl/peers=10000", func(b *testing.B) {
		compare(b, nil, func() int {
			d, err := c.Device(ctx, "wg0")
			if err != nil {
				b.Fatal(err)
			}
			return len(d.Peers)
		}, func() (time.Duration, int) { return wg.do(b, "device wg0 1") }, peers)
	})
}

// BenchmarkConfigureDevice replaces the peers of a device with N peers:
// genlkit's Client.ConfigureDevice against wgctrl's
// Client.ConfigureDevice, with the same config. Before each call the
// device is emptied, untimed (removing peers costs the kernel more than
// adding them, and the one removing would pay for them). The device has no
// private key, so the kernel computes no shared secrets, whose cost (the
// same for both) would hide the libraries' under emulated CPUs.
func BenchmarkConfigureDevice(b *testing.B) {
	ns, c, _ := setup(b)
	ctx := context.Background()
	wg := startWgctrl(b, ns)
	for _, n := range []int{100, 1000} {
		cfg := benchConfig(n)
		b.Run(fmt.Sprintf("genlkit-vs-wgctrl/peers=%d", n), func(b *testing.B) {
			empty := func() {
				if err := c.ConfigureDevice(ctx, "wg0", wireguard.Config{ReplacePeers: true}); err != nil {
					b.Fatal(err)
				}
			}
			compare(b, empty, func() int {
				if err := c.ConfigureDevice(ctx, "wg0", cfg); err != nil {
					b.Fatal(err)
				}
				return n
			}, func() (time.Duration, int) { return wg.do(b, "configure wg0 %d 1", n) }, n)
		})
	}
}

package wireguard_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/wireguard"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests of Device and ConfigureDevice: a device with 10,000 peers
// configured through them, read back, and compared with wg(8).

// liveConfig returns a config of n peers with documentation addresses, for
// a device without a private key (with one, the kernel computes a
// Curve25519 shared secret for every peer, which takes minutes for 10,000
// under the guests' emulated CPUs):
// peer i has a /128 of 2001:db8::/32, the first 256 a /32 of 192.0.2.0/24
// too, and every 1000th 3000 /128s more (more than one request or dump
// message holds); endpoints alternate between 198.51.100.0/24 and
// 2001:db8:ffff::/48, keepalives between off and 1..120 s, and every third
// peer has a preshared key.
func liveConfig(t *testing.T, n int) wireguard.Config {
	t.Helper()
	port, mark := 51820, 0x4d2
	cfg := wireguard.Config{ListenPort: &port, FirewallMark: &mark, ReplacePeers: true, Peers: make([]wireguard.PeerConfig, n)}
	for i := range cfg.Peers {
		pub, err := wireguard.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		ka := time.Duration(i%121) * time.Second
		p := wireguard.PeerConfig{PublicKey: pub, PersistentKeepaliveInterval: &ka, ReplaceAllowedIPs: true}
		if i%3 == 0 {
			psk, _ := wireguard.GenerateKey()
			p.PresharedKey = &psk
		}
		if i%2 == 0 {
			p.Endpoint = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(10000+i))
		} else {
			p.Endpoint = netip.MustParseAddrPort(fmt.Sprintf("[2001:db8:ffff::%x]:%d", i, 20000+i))
		}
		p.AllowedIPs = []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("2001:db8::%x/128", i+1))}
		if i < 256 {
			p.AllowedIPs = append(p.AllowedIPs, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 32))
		}
		if i%1000 == 0 {
			for j := range 3000 {
				p.AllowedIPs = append(p.AllowedIPs, netip.MustParsePrefix(fmt.Sprintf("2001:db8:2:%x::%x/128", i, j+1)))
			}
		}
		cfg.Peers[i] = p
	}
	return cfg
}

func sortedPrefixes(ps []netip.Prefix) []netip.Prefix {
	return slices.SortedFunc(slices.Values(ps), comparePrefix)
}

// checkDevice compares dev with what cfg set, peers in any order.
func checkDevice(t *testing.T, dev *wireguard.Device, cfg wireguard.Config) {
	t.Helper()
	var priv, pub wireguard.Key
	if cfg.PrivateKey != nil {
		priv, pub = *cfg.PrivateKey, cfg.PrivateKey.PublicKey()
	}
	if dev.PrivateKey != priv || dev.PublicKey != pub {
		t.Errorf("device keys %v %v, want %v %v", dev.PrivateKey, dev.PublicKey, priv, pub)
	}
	if dev.ListenPort != *cfg.ListenPort || dev.FirewallMark != *cfg.FirewallMark {
		t.Errorf("listen port %d fwmark %#x, want %d %#x", dev.ListenPort, dev.FirewallMark, *cfg.ListenPort, *cfg.FirewallMark)
	}
	if len(dev.Peers) != len(cfg.Peers) {
		t.Fatalf("read %d peers, want %d", len(dev.Peers), len(cfg.Peers))
	}
	byKey := make(map[wireguard.Key]*wireguard.Peer, len(dev.Peers))
	for i := range dev.Peers {
		byKey[dev.Peers[i].PublicKey] = &dev.Peers[i]
	}
	bad := 0
	for i, w := range cfg.Peers {
		p := byKey[w.PublicKey]
		var psk wireguard.Key
		if w.PresharedKey != nil {
			psk = *w.PresharedKey
		}
		switch {
		case p == nil:
			t.Errorf("peer %d (%v) not read back", i, w.PublicKey)
		case p.PresharedKey != psk || p.Endpoint != w.Endpoint || p.PersistentKeepaliveInterval != *w.PersistentKeepaliveInterval || p.ProtocolVersion != 1:
			t.Errorf("peer %d: psk %v endpoint %v keepalive %v version %d; want %v %v %v 1", i, p.PresharedKey, p.Endpoint, p.PersistentKeepaliveInterval, p.ProtocolVersion, psk, w.Endpoint, *w.PersistentKeepaliveInterval)
		case !slices.Equal(sortedPrefixes(p.AllowedIPs), sortedPrefixes(w.AllowedIPs)):
			t.Errorf("peer %d: %d allowed IPs, want %d", i, len(p.AllowedIPs), len(w.AllowedIPs))
		case !p.LastHandshakeTime.IsZero() || p.ReceiveBytes != 0 || p.TransmitBytes != 0:
			t.Errorf("peer %d of a device that is down: handshake %v rx %d tx %d", i, p.LastHandshakeTime, p.ReceiveBytes, p.TransmitBytes)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many mismatches")
		}
	}
}

// noneIfZero is k as wg(8) shows it.
func noneIfZero(k wireguard.Key) string {
	if k.IsZero() {
		return "(none)"
	}
	return k.String()
}

// compareWg compares dev with `wg show <name> dump`, field by field.
func compareWg(t *testing.T, ns *testutils.NS, name string, dev *wireguard.Device) {
	t.Helper()
	testutils.RequireTool(t, "wg")
	out := ns.Exec(t, "wg", "show", name, "dump")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{noneIfZero(dev.PrivateKey), noneIfZero(dev.PublicKey), strconv.Itoa(dev.ListenPort), "off"}
	if dev.FirewallMark != 0 {
		want[3] = fmt.Sprintf("0x%x", dev.FirewallMark)
	}
	if got := strings.Split(lines[0], "\t"); !slices.Equal(got, want) {
		t.Errorf("wg show dump device line %q, Device gives %q", got, want)
	}
	if len(lines)-1 != len(dev.Peers) {
		t.Fatalf("wg show dump lists %d peers, Device %d", len(lines)-1, len(dev.Peers))
	}
	byKey := make(map[string]*wireguard.Peer, len(dev.Peers))
	for i := range dev.Peers {
		byKey[dev.Peers[i].PublicKey.String()] = &dev.Peers[i]
	}
	bad := 0
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		p := byKey[f[0]]
		if len(f) != 8 || p == nil {
			t.Fatalf("wg show dump line %q names no peer Device read", l)
		}
		// public-key preshared-key endpoint allowed-ips latest-handshake rx tx keepalive
		psk, ep, ips, ka := noneIfZero(p.PresharedKey), "(none)", "(none)", "off"
		if p.Endpoint.IsValid() {
			ep = p.Endpoint.String()
		}
		if len(p.AllowedIPs) > 0 {
			var s []string
			for _, pfx := range sortedPrefixes(p.AllowedIPs) {
				s = append(s, pfx.String())
			}
			ips = strings.Join(s, ",")
		}
		if p.PersistentKeepaliveInterval != 0 {
			ka = strconv.Itoa(int(p.PersistentKeepaliveInterval / time.Second))
		}
		var wgIPs []netip.Prefix
		if f[3] != "(none)" {
			for _, s := range strings.Split(f[3], ",") {
				wgIPs = append(wgIPs, netip.MustParsePrefix(s))
			}
		}
		var wgIPText []string
		for _, pfx := range sortedPrefixes(wgIPs) {
			wgIPText = append(wgIPText, pfx.String())
		}
		if f[3] != "(none)" {
			f[3] = strings.Join(wgIPText, ",")
		}
		want := []string{f[0], psk, ep, ips, "0", strconv.FormatInt(p.ReceiveBytes, 10), strconv.FormatInt(p.TransmitBytes, 10), ka}
		if !slices.Equal(f, want) {
			t.Errorf("wg show dump peer %.12s…: %q, Device gives %q", f[0], f[1:], want[1:])
			if bad++; bad > 10 {
				t.Fatal("too many mismatches")
			}
		}
	}
}

func TestKernelDeviceTenThousandPeers(t *testing.T) {
	ns, c, _ := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // emulated CPUs are slow
	defer cancel()
	// Deleting the devices here, which waits until the kernel has freed
	// their peers, keeps that work out of the next test's time (it would
	// otherwise run after the namespace is gone, competing with it).
	t.Cleanup(func() {
		start := time.Now()
		for _, dev := range []string{"wg1", "wg0"} {
			ns.IPErr("link", "del", dev)
		}
		t.Logf("deleting the devices took %v", time.Since(start))
	})
	cfg := liveConfig(t, 10000)
	start := time.Now()
	if err := c.ConfigureDevice(ctx, "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	configured := time.Since(start)
	start = time.Now()
	dev, err := c.Device(ctx, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10,000 peers: ConfigureDevice %v, Device %v", configured, time.Since(start))
	if idx := ns.Ifindexes(t)["wg0"]; dev.Name != "wg0" || dev.Index != idx {
		t.Errorf("device %q %d, want wg0 %d", dev.Name, dev.Index, idx)
	}
	checkDevice(t, dev, cfg)
	compareWg(t, ns, "wg0", dev)
	byIndex, err := c.DeviceByIndex(ctx, dev.Index)
	if err != nil {
		t.Fatal(err)
	}
	if byIndex.Name != "wg0" || len(byIndex.Peers) != len(dev.Peers) {
		t.Errorf("DeviceByIndex: %q with %d peers", byIndex.Name, len(byIndex.Peers))
	}

	// Round trip: a device's Config on a second device gives the same
	// device; wg(8) sees the same on both. (Of the first 1,000 peers: every
	// peer the kernel adds or frees costs it several milliseconds in the
	// emulated 7.3 guest.)
	cfg.Peers = cfg.Peers[:1000]
	keep := make(map[wireguard.Key]bool)
	for _, p := range cfg.Peers {
		keep[p.PublicKey] = true
	}
	part := *dev
	part.Peers = slices.DeleteFunc(slices.Clone(dev.Peers), func(p wireguard.Peer) bool { return !keep[p.PublicKey] })
	ns.IP(t, "link", "add", "wg1", "type", "wireguard")
	if err := c.ConfigureDevice(ctx, "wg1", part.Config()); err != nil {
		t.Fatal(err)
	}
	wg1, err := c.Device(ctx, "wg1")
	if err != nil {
		t.Fatal(err)
	}
	checkDevice(t, wg1, cfg)
	compareWg(t, ns, "wg1", wg1)

	// Changing a few peers leaves the others alone: remove one, change
	// one's allowed IPs and keepalive, update-only for an unknown key.
	unknown, _ := wireguard.GenerateKey()
	ka := 7 * time.Second
	change := []wireguard.PeerConfig{
		{PublicKey: cfg.Peers[0].PublicKey, Remove: true},
		{PublicKey: cfg.Peers[1].PublicKey, ReplaceAllowedIPs: true, AllowedIPs: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}, PersistentKeepaliveInterval: &ka},
		{PublicKey: unknown, UpdateOnly: true, PersistentKeepaliveInterval: &ka},
	}
	if err := c.ConfigureDevice(ctx, "wg1", wireguard.Config{Peers: change}); err != nil {
		t.Fatal(err)
	}
	want := cfg
	want.Peers = slices.Clone(cfg.Peers[1:])
	want.Peers[0].AllowedIPs, want.Peers[0].PersistentKeepaliveInterval = change[1].AllowedIPs, &ka
	if wg1, err = c.Device(ctx, "wg1"); err != nil {
		t.Fatal(err)
	}
	checkDevice(t, wg1, want)
	compareWg(t, ns, "wg1", wg1)
}

func TestKernelDeviceNotExist(t *testing.T) {
	ns, c, ctx := setup(t)
	for name, err := range map[string]error{
		"Device(wg9)":          func() error { _, err := c.Device(ctx, "wg9"); return err }(),
		"Device(lo)":           func() error { _, err := c.Device(ctx, "lo"); return err }(),
		"DeviceByIndex(lo)":    func() error { _, err := c.DeviceByIndex(ctx, ns.Ifindexes(t)["lo"]); return err }(),
		"ConfigureDevice(wg9)": c.ConfigureDevice(ctx, "wg9", wireguard.Config{ReplacePeers: true}),
		"ConfigureDevice(lo)":  c.ConfigureDevice(ctx, "lo", wireguard.Config{ReplacePeers: true}),
	} {
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want an error matching os.ErrNotExist", name, err)
		}
	}
	// Other errors do not match it: a name too long for an interface.
	_, err := c.Device(ctx, "a-name-far-too-long-for-ifname")
	if err == nil || errors.Is(err, os.ErrNotExist) {
		t.Errorf("Device of a name too long: %v, want an error other than os.ErrNotExist", err)
	}
	// Removing one allowed IP, on kernels that know the flag.
	priv, _ := wireguard.GeneratePrivateKey()
	peer, _ := wireguard.GenerateKey()
	ips := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/28"), netip.MustParsePrefix("2001:db8::/64")}
	if err := c.ConfigureDevice(ctx, "wg0", wireguard.Config{PrivateKey: &priv, Peers: []wireguard.PeerConfig{{PublicKey: peer, AllowedIPs: ips}}}); err != nil {
		t.Fatal(err)
	}
	err = c.ConfigureDevice(ctx, "wg0", wireguard.Config{Peers: []wireguard.PeerConfig{{PublicKey: peer, RemoveAllowedIPs: ips[:1]}}})
	if errors.Is(err, unix.EINVAL) {
		t.Logf("removing an allowed IP refused (kernel without the flag): %v", err)
		return
	} else if err != nil {
		t.Fatal(err)
	}
	dev, err := c.Device(ctx, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	if len(dev.Peers) != 1 || !slices.Equal(dev.Peers[0].AllowedIPs, ips[1:]) {
		t.Errorf("after removing %v: %v", ips[0], dev.Peers)
	}
}

package wireguard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/wireguard"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// Unit tests of Device and ConfigureDevice against a fake kernel: fakeWG
// keeps one device, applies set-device requests to it as the kernel does
// and dumps it split as the kernel does, over messages of at most
// fakeWG.units peers-and-allowed-IPs.

const fakeFamilyID = 0x31

// A fakeWG is a fake wireguard family with one device, wg0 (ifindex 7).
type fakeWG struct {
	t     *testing.T
	units int // a message holds peers and allowed IPs worth this many units: 4 a peer, 1 an allowed IP
	dev   wireguard.Wgdevice
	sets  []wireguard.SetDeviceRequest // every set-device request, decoded
	dump  func(r genltest.Request) [][]byte
}

func newFake(t *testing.T) (*fakeWG, *wireguard.Client, context.Context) {
	t.Helper()
	f := &fakeWG{t: t, units: 40, dev: wireguard.Wgdevice{Ifindex: wireguard.Some(uint32(7)), Ifname: wireguard.Some("wg0")}}
	k := genltest.New()
	k.Controller(genltest.Family{ID: fakeFamilyID, Name: wireguard.FamilyName, Version: 1, Ops: []genltest.Op{
		{ID: wireguard.CmdGetDevice, Flags: unix.GENL_CMD_CAP_DUMP},
		{ID: wireguard.CmdSetDevice, Flags: unix.GENL_CMD_CAP_DO},
	}})
	k.Handle(f.serve)
	conn, err := genl.NewConn(k.Transport())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, err := wireguard.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return f, c, ctx
}

func (f *fakeWG) serve(k *genltest.Kernel, r genltest.Request) {
	var req wireguard.SetDeviceRequest // both ops name the device alike
	if err := req.UnmarshalAttrs(r.Data); err != nil {
		f.t.Errorf("request does not decode: %v", err)
		k.Push(genltest.Error(r, unix.EINVAL, nil))
		return
	}
	if (req.Ifname.Valid && req.Ifname.Value != "wg0") || (req.Ifindex.Valid && req.Ifindex.Value != 7) {
		k.Push(genltest.Error(r, unix.ENODEV, nil))
		return
	}
	switch r.Genl.Command {
	case wireguard.CmdGetDevice:
		msgs := f.split(r)
		if f.dump != nil {
			msgs = f.dump(r)
		}
		for _, m := range msgs {
			k.Push(m) // a datagram each, as the kernel sends a dump
		}
		k.Push(genltest.Done(r, 0, 0, nil))
	case wireguard.CmdSetDevice:
		f.sets = append(f.sets, req)
		f.apply(&req)
		k.Push(genltest.Ack(r))
	}
}

// apply changes the device as the kernel's set-device does.
func (f *fakeWG) apply(req *wireguard.SetDeviceRequest) {
	d := &f.dev
	if req.PrivateKey != nil {
		d.PrivateKey = req.PrivateKey
	}
	if req.ListenPort.Valid {
		d.ListenPort = req.ListenPort
	}
	if req.Fwmark.Valid {
		d.Fwmark = req.Fwmark
	}
	if req.Flags.Value&wireguard.WgdeviceFlagsReplacePeers != 0 {
		d.Peers = nil
	}
	for _, p := range req.Peers {
		i := slices.IndexFunc(d.Peers, func(q wireguard.Wgpeer) bool { return bytes.Equal(q.PublicKey, p.PublicKey) })
		flags := p.Flags.Value
		switch {
		case flags&wireguard.WgpeerFlagsRemoveMe != 0:
			if i >= 0 {
				d.Peers = slices.Delete(d.Peers, i, i+1)
			}
			continue
		case i < 0 && flags&wireguard.WgpeerFlagsUpdateOnly != 0:
			continue
		case i < 0:
			d.Peers = append(d.Peers, wireguard.Wgpeer{PublicKey: p.PublicKey, PresharedKey: make([]byte, 32), ProtocolVersion: wireguard.Some(uint32(1))})
			i = len(d.Peers) - 1
		}
		q := &d.Peers[i]
		if p.PresharedKey != nil {
			q.PresharedKey = p.PresharedKey
		}
		if p.Endpoint != nil {
			q.Endpoint = p.Endpoint
		}
		if p.PersistentKeepaliveInterval.Valid {
			q.PersistentKeepaliveInterval = p.PersistentKeepaliveInterval
		}
		if flags&wireguard.WgpeerFlagsReplaceAllowedips != 0 {
			q.Allowedips = nil
		}
		for _, a := range p.Allowedips {
			j := slices.IndexFunc(q.Allowedips, func(b wireguard.Wgallowedip) bool { return a.Ipaddr == b.Ipaddr && a.CidrMask == b.CidrMask })
			switch {
			case a.Flags.Value&wireguard.WgallowedipFlagsRemoveMe != 0:
				if j >= 0 {
					q.Allowedips = slices.Delete(q.Allowedips, j, j+1)
				}
			case j < 0:
				a.Flags = wireguard.Optional[wireguard.WgallowedipFlags]{}
				q.Allowedips = append(q.Allowedips, a)
			}
		}
	}
}

// split dumps the device as the kernel does: device attributes in the
// first message only; peers while they fit; a peer whose allowed IPs do
// not fit continues in the next message with its public key alone.
func (f *fakeWG) split(r genltest.Request) [][]byte {
	var msgs [][]byte
	cur := wireguard.Wgdevice{Ifindex: f.dev.Ifindex, Ifname: f.dev.Ifname, PrivateKey: f.dev.PrivateKey, PublicKey: f.dev.PublicKey, ListenPort: f.dev.ListenPort, Fwmark: f.dev.Fwmark}
	used := 0
	flush := func() {
		msgs = append(msgs, f.marshal(r, &cur))
		cur, used = wireguard.Wgdevice{}, 0
	}
	for _, p := range f.dev.Peers {
		if used+4 > f.units && len(cur.Peers) > 0 {
			flush()
		}
		part := p
		part.Allowedips = nil
		used += 4
		ips := p.Allowedips
		for {
			n := min(len(ips), max(0, f.units-used))
			part.Allowedips = append(part.Allowedips, ips[:n]...)
			used += n
			ips = ips[n:]
			cur.Peers = append(cur.Peers, part)
			if len(ips) == 0 {
				break
			}
			flush()
			part = wireguard.Wgpeer{PublicKey: p.PublicKey}
			used = 4
		}
	}
	flush()
	return msgs
}

func (f *fakeWG) marshal(r genltest.Request, d *wireguard.Wgdevice) []byte {
	var e attrs.Encoder
	if err := d.MarshalAttrs(&e); err != nil {
		f.t.Fatal(err)
	}
	return genltest.ReplyMulti(r, wireguard.CmdGetDevice, e.Bytes(), 0)
}

// testConfig returns a config of n peers, peer i with i%7*40 allowed IPs
// (up to 240: many span dump messages and some span requests).
func testConfig(t *testing.T, n int) wireguard.Config {
	t.Helper()
	priv, err := wireguard.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	port, mark := 51820, 0x42
	cfg := wireguard.Config{PrivateKey: &priv, ListenPort: &port, FirewallMark: &mark, ReplacePeers: true}
	for i := range n {
		pub, _ := wireguard.GenerateKey()
		psk, _ := wireguard.GenerateKey()
		ka := time.Duration(i%3) * 25 * time.Second
		p := wireguard.PeerConfig{PublicKey: pub, PresharedKey: &psk, PersistentKeepaliveInterval: &ka, ReplaceAllowedIPs: true}
		if i%2 == 0 {
			p.Endpoint = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(1000+i))
		} else {
			p.Endpoint = netip.MustParseAddrPort(fmt.Sprintf("[2001:db8::%x]:%d", i, 2000+i))
		}
		for j := range i % 7 * 40 {
			if j%2 == 0 {
				p.AllowedIPs = append(p.AllowedIPs, netip.MustParsePrefix(fmt.Sprintf("2001:db8:%x:%x::/64", i, j)))
			} else {
				p.AllowedIPs = append(p.AllowedIPs, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), byte(j), 0}), 24))
			}
		}
		cfg.Peers = append(cfg.Peers, p)
	}
	return cfg
}

// wantDevice is the device cfg gives wg0 in the fake.
func wantDevice(cfg wireguard.Config) *wireguard.Device {
	d := &wireguard.Device{Name: "wg0", Index: 7, PrivateKey: *cfg.PrivateKey, ListenPort: *cfg.ListenPort, FirewallMark: *cfg.FirewallMark}
	for _, p := range cfg.Peers {
		d.Peers = append(d.Peers, wireguard.Peer{
			PublicKey: p.PublicKey, PresharedKey: *p.PresharedKey, Endpoint: p.Endpoint,
			PersistentKeepaliveInterval: *p.PersistentKeepaliveInterval, AllowedIPs: p.AllowedIPs, ProtocolVersion: 1,
		})
	}
	return d
}

// TestConfigureAndRead configures a device large enough to need many
// set-device requests and dump messages, and reads it back.
func TestConfigureAndRead(t *testing.T) {
	f, c, ctx := newFake(t)
	cfg := testConfig(t, 600)
	if err := c.ConfigureDevice(ctx, "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	if len(f.sets) < 10 {
		t.Errorf("a config of %d peers went in %d set-device requests, want many", len(cfg.Peers), len(f.sets))
	}
	// Only the first request carries the device settings and replace-peers;
	// a peer's replace-allowedips is on its first part only.
	started := map[string]bool{}
	for i, s := range f.sets {
		if i > 0 && (s.Flags.Valid || s.PrivateKey != nil || s.ListenPort.Valid || s.Fwmark.Valid) {
			t.Fatalf("set-device request %d repeats device settings: flags %v", i, s.Flags)
		}
		if !s.Ifname.Valid || s.Ifname.Value != "wg0" {
			t.Fatalf("set-device request %d does not name wg0", i)
		}
		for _, p := range s.Peers {
			replace := p.Flags.Value&wireguard.WgpeerFlagsReplaceAllowedips != 0
			if replace == started[string(p.PublicKey)] {
				t.Fatalf("set-device request %d: peer %x: replace-allowedips %v on a part after the first %v", i, p.PublicKey, replace, started[string(p.PublicKey)])
			}
			started[string(p.PublicKey)] = true
		}
	}
	want := wantDevice(cfg)
	want.PublicKey = want.PrivateKey.PublicKey()
	f.dev.PublicKey = want.PublicKey[:] // the fake does no X25519
	eq := []cmp.Option{cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })}
	dev, err := c.Device(ctx, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, dev, eq...); diff != "" {
		t.Fatalf("device read back (-want +got):\n%s", diff)
	}
	if byIndex, err := c.DeviceByIndex(ctx, 7); err != nil || !cmp.Equal(dev, byIndex, eq...) {
		t.Fatalf("DeviceByIndex: %v, or another device than Device gave", err)
	}

	// The device's Config gives the same device again, from scratch.
	f.dev = wireguard.Wgdevice{Ifindex: f.dev.Ifindex, Ifname: f.dev.Ifname, PublicKey: f.dev.PublicKey}
	if err := c.ConfigureDeviceByIndex(ctx, 7, dev.Config()); err != nil {
		t.Fatal(err)
	}
	again, err := c.Device(ctx, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(dev, again, eq...) {
		t.Fatal("configuring a device's Config and reading it back gave another device")
	}
}

// TestConfigurePeerFlags: update-only, remove, and removing allowed IPs,
// including for a peer whose change spans requests.
func TestConfigurePeerFlags(t *testing.T) {
	f, c, ctx := newFake(t)
	cfg := testConfig(t, 3)
	if err := c.ConfigureDevice(ctx, "wg0", cfg); err != nil {
		t.Fatal(err)
	}
	unknown, _ := wireguard.GenerateKey()
	var many []netip.Prefix
	for i := range 2000 {
		many = append(many, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}), 32))
	}
	f.sets = nil
	err := c.ConfigureDevice(ctx, "wg0", wireguard.Config{Peers: []wireguard.PeerConfig{
		{PublicKey: cfg.Peers[0].PublicKey, Remove: true, AllowedIPs: many},
		{PublicKey: unknown, UpdateOnly: true, AllowedIPs: many},
		{PublicKey: cfg.Peers[2].PublicKey, UpdateOnly: true, AllowedIPs: many, RemoveAllowedIPs: cfg.Peers[2].AllowedIPs[:3]},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.sets) < 3 {
		t.Errorf("%d set-device requests for 4000 allowed IPs, want several", len(f.sets))
	}
	dev, err := c.Device(ctx, "wg0")
	if err != nil {
		t.Fatal(err)
	}
	if len(dev.Peers) != 2 || dev.Peers[0].PublicKey != cfg.Peers[1].PublicKey || dev.Peers[1].PublicKey != cfg.Peers[2].PublicKey {
		t.Fatalf("peers after remove and update-only: %v", dev.Peers)
	}
	want := append(slices.Clone(cfg.Peers[2].AllowedIPs[3:]), many...)
	if !slices.Equal(dev.Peers[1].AllowedIPs, want) {
		t.Errorf("peer 2 has %d allowed IPs, want %d", len(dev.Peers[1].AllowedIPs), len(want))
	}
}

func TestConfigureInvalid(t *testing.T) {
	f, c, ctx := newFake(t)
	bad := -1
	long := 70000 * time.Second
	for _, tc := range []struct {
		name string
		cfg  wireguard.Config
		want string
	}{
		{"port", wireguard.Config{ListenPort: &bad}, "listen port -1"},
		{"fwmark", wireguard.Config{FirewallMark: &bad}, "firewall mark -1"},
		{"keepalive", wireguard.Config{Peers: []wireguard.PeerConfig{{PersistentKeepaliveInterval: &long}}}, "peer 0 "},
		{"prefix", wireguard.Config{Peers: []wireguard.PeerConfig{{AllowedIPs: []netip.Prefix{{}}}}}, "allowed IP invalid Prefix"},
	} {
		if err := c.ConfigureDevice(ctx, "wg0", tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if len(f.sets) != 0 {
		t.Errorf("invalid configs sent %d requests", len(f.sets))
	}
}

func TestMissingDevice(t *testing.T) {
	f, c, ctx := newFake(t)
	_, err := c.Device(ctx, "wg9")
	if !errors.Is(err, os.ErrNotExist) || !errors.Is(err, unix.ENODEV) {
		t.Errorf("Device of a missing device: %v, want os.ErrNotExist and ENODEV", err)
	}
	if err := c.ConfigureDevice(ctx, "wg9", wireguard.Config{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ConfigureDevice of a missing device: %v, want os.ErrNotExist", err)
	}
	if _, err := c.DeviceByIndex(ctx, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DeviceByIndex(0): %v, want os.ErrNotExist", err)
	}
	if _, err := c.Device(ctx, ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Device(\"\"): %v, want os.ErrNotExist", err)
	}
	if err := c.ConfigureDeviceByIndex(ctx, -1, wireguard.Config{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ConfigureDeviceByIndex(-1): %v, want os.ErrNotExist", err)
	}
	// A device of another kind: EOPNOTSUPP, also os.ErrNotExist.
	f.dump = func(r genltest.Request) [][]byte { return nil }
	_, err = c.Device(ctx, "wg0")
	if err == nil || !strings.Contains(err.Error(), "without a message") {
		t.Errorf("Device of an empty dump: %v", err)
	}
}

// TestMalformedDump: replies the kernel would not give are errors that say
// what was wrong, never a panic or a half-read device.
func TestMalformedDump(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	key2 := bytes.Repeat([]byte{2}, 32)
	dev := func(peers ...wireguard.Wgpeer) wireguard.Wgdevice {
		return wireguard.Wgdevice{Ifindex: wireguard.Some(uint32(7)), Ifname: wireguard.Some("wg0"), Peers: peers}
	}
	ip := func(fam uint16, a string, bits uint8) wireguard.Wgallowedip {
		return wireguard.Wgallowedip{Family: wireguard.Some(fam), Ipaddr: netip.MustParseAddr(a), CidrMask: wireguard.Some(bits)}
	}
	for _, tc := range []struct {
		name string
		msgs []wireguard.Wgdevice
		raw  []byte // a message of raw attributes, after msgs
		want string
	}{
		{"no device", []wireguard.Wgdevice{{}}, nil, "lacks the device's ifindex"},
		{"short private key", []wireguard.Wgdevice{{Ifindex: wireguard.Some(uint32(7)), Ifname: wireguard.Some("wg0"), PrivateKey: []byte{1}}}, nil, "private-key: wireguard: a key is 32 bytes, got 1"},
		{"short peer key", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: []byte{1, 2, 3}})}, nil, "peers.0.public-key"},
		{"no peer key", []wireguard.Wgdevice{dev(wireguard.Wgpeer{})}, nil, "peers.0.public-key"},
		{"family", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: key, Allowedips: []wireguard.Wgallowedip{ip(unix.AF_INET6, "192.0.2.1", 32)}})}, nil, "allowedips.0: family 10 does not match address 192.0.2.1"},
		{"mask", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: key, Allowedips: []wireguard.Wgallowedip{ip(unix.AF_INET, "192.0.2.1", 33)}})}, nil, "cidr-mask 33 is too long"},
		{"no mask", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: key, Allowedips: []wireguard.Wgallowedip{{Ipaddr: netip.MustParseAddr("192.0.2.1")}}})}, nil, "lacks its ipaddr or cidr-mask"},
		{"endpoint", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: key, Endpoint: make([]byte, 16)})}, nil, "endpoint: socket address family 0"},
		{"short endpoint", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: key, Endpoint: []byte{10, 0, 0, 0}})}, nil, "sockaddr_in6 needs 28 bytes"},
		{"handshake", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: key, LastHandshakeTime: wireguard.Some(wireguard.KernelTimespec{Sec: 1, Nsec: 2e9})})}, nil, "last-handshake-time"},
		{"other device", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: key}), {Ifindex: wireguard.Some(uint32(8))}}, nil, "dump message 2: names ifindex 8"},
		{"bad continuation", []wireguard.Wgdevice{dev(wireguard.Wgpeer{PublicKey: key}), {Peers: []wireguard.Wgpeer{{PublicKey: key2, Allowedips: []wireguard.Wgallowedip{ip(unix.AF_INET, "192.0.2.1", 40)}}}}}, nil, "dump message 2: peers.0"},
		{"truncated", []wireguard.Wgdevice{dev()}, []byte{8, 0, 8, 0, 4, 0}, "wireguard get-device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c, ctx := newFake(t)
			f.dump = func(r genltest.Request) [][]byte {
				var out [][]byte
				for i := range tc.msgs {
					out = append(out, f.marshal(r, &tc.msgs[i]))
				}
				if tc.raw != nil {
					out = append(out, genltest.ReplyMulti(r, wireguard.CmdGetDevice, tc.raw, 0))
				}
				return out
			}
			dev, err := c.Device(ctx, "wg0")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Device: %v, %v; want an error containing %q", dev, err, tc.want)
			}
			if dev != nil {
				t.Errorf("Device returned %v with its error", dev)
			}
		})
	}
}

// A context that has ended sends nothing.
func TestEndedContext(t *testing.T) {
	f, c, ctx := newFake(t)
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.ConfigureDevice(ctx, "wg0", testConfig(t, 50)); !errors.Is(err, context.Canceled) {
		t.Errorf("ConfigureDevice: %v, want context.Canceled", err)
	}
	if _, err := c.Device(ctx, "wg0"); !errors.Is(err, context.Canceled) {
		t.Errorf("Device: %v, want context.Canceled", err)
	}
	if len(f.sets) != 0 {
		t.Errorf("%d set-device requests sent", len(f.sets))
	}
}

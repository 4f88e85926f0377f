package wireguard_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/wireguard"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated wireguard package against a kernel that has the
// wireguard module (the VM harness's guests), on a device in a private
// network namespace. The device stays down, so nothing is ever sent.

func TestMain(m *testing.M) { testutils.Main(m) }

// setup makes a namespace holding wireguard device wg0 and a Client there.
func setup(t testing.TB) (*testutils.NS, *wireguard.Client, context.Context) {
	t.Helper()
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := wireguard.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), wireguard.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "add", "wg0", "type", "wireguard")
	return ns, c, ctx
}

func key(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// sockaddr encodes ap as the struct sockaddr_in or sockaddr_in6 an endpoint
// attribute holds.
func sockaddr(ap netip.AddrPort) []byte {
	b, err := attrs.AppendSockaddr(nil, ap)
	if err != nil {
		panic(err)
	}
	return b
}

func allowedIP(p netip.Prefix) wireguard.Wgallowedip {
	fam := uint16(unix.AF_INET6)
	if p.Addr().Is4() {
		fam = unix.AF_INET
	}
	return wireguard.Wgallowedip{
		Family:   wireguard.Some(fam),
		Ipaddr:   p.Addr(),
		CidrMask: wireguard.Some(uint8(p.Bits())),
	}
}

// A peerWant is what a test set on a peer and expects to read back.
type peerWant struct {
	key       []byte
	endpoint  netip.AddrPort
	keepalive uint16
	ips       []netip.Prefix
}

// peerWants returns n peers with distinct keys and allowed IPs from the
// documentation ranges: a /128 and a /64 of 2001:db8::/32 each, and for the
// first 256 a /32 of 192.0.2.0/24; endpoints alternate between
// 198.51.100.0/24 and 2001:db8:ffff::/48.
func peerWants(t *testing.T, n int) []peerWant {
	t.Helper()
	ps := make([]peerWant, n)
	for i := range ps {
		p := &ps[i]
		p.key = key(t)
		p.keepalive = uint16(i%120 + 1)
		p.ips = []netip.Prefix{
			netip.MustParsePrefix(fmt.Sprintf("2001:db8::%x/128", i+1)),
			netip.MustParsePrefix(fmt.Sprintf("2001:db8:1:%x::/64", i)),
		}
		if i < 256 {
			p.ips = append(p.ips, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 32))
		}
		if i%2 == 0 {
			p.endpoint = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 256)}), uint16(10000+i))
		} else {
			p.endpoint = netip.MustParseAddrPort(fmt.Sprintf("[2001:db8:ffff::%x]:%d", i, 20000+i))
		}
	}
	return ps
}

func (p peerWant) wgpeer() wireguard.Wgpeer {
	w := wireguard.Wgpeer{
		PublicKey:                   p.key,
		Endpoint:                    sockaddr(p.endpoint),
		PersistentKeepaliveInterval: wireguard.Some(p.keepalive),
		Flags:                       wireguard.Some(wireguard.WgpeerFlagsReplaceAllowedips),
	}
	for _, ip := range p.ips {
		w.Allowedips = append(w.Allowedips, allowedIP(ip))
	}
	return w
}

// setPeers sends peers in set-device requests of at most chunk peers each,
// as wg(8) does; the first request also carries first's attributes. With no
// peers it sends first alone.
func setPeers(ctx context.Context, t *testing.T, c *wireguard.Client, peers []peerWant, chunk int, first *wireguard.SetDeviceRequest) {
	t.Helper()
	start := 0
	for {
		req := &wireguard.SetDeviceRequest{}
		if start == 0 && first != nil {
			*req = *first
		}
		req.Ifname = wireguard.Some("wg0")
		for _, p := range peers[start:min(start+chunk, len(peers))] {
			req.Peers = append(req.Peers, p.wgpeer())
		}
		if err := c.SetDevice(ctx, req); err != nil {
			t.Fatalf("set-device with peers %d..: %v", start, err)
		}
		if start += chunk; start >= len(peers) {
			return
		}
	}
}

// device reads wg0 back with a get-device dump, merging the messages it
// spans: a peer whose allowed IPs did not fit one message continues at the
// start of the next under the same public key. It returns the device and
// how many messages the dump took.
func device(ctx context.Context, t *testing.T, c *wireguard.Client) (*wireguard.Wgdevice, int) {
	t.Helper()
	var dev *wireguard.Wgdevice
	n := 0
	for m, err := range c.GetDeviceDump(ctx, &wireguard.GetDeviceDumpRequest{Ifname: wireguard.Some("wg0")}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if dev == nil {
			dev = m
			continue
		}
		// Only the first message names the device.
		if m.Ifindex.Valid || m.Ifname.Valid || m.PrivateKey != nil {
			t.Fatalf("dump message %d repeats the device attributes: %+v", n, m)
		}
		for _, p := range m.Peers {
			if last := len(dev.Peers) - 1; last >= 0 && bytes.Equal(dev.Peers[last].PublicKey, p.PublicKey) {
				dev.Peers[last].Allowedips = append(dev.Peers[last].Allowedips, p.Allowedips...)
				continue
			}
			dev.Peers = append(dev.Peers, p)
		}
	}
	if dev == nil {
		t.Fatal("get-device dump of wg0 gave no message")
	}
	return dev, n
}

func prefixes(t *testing.T, ips []wireguard.Wgallowedip) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, ip := range ips {
		want := uint16(unix.AF_INET6)
		if ip.Ipaddr.Is4() {
			want = unix.AF_INET
		}
		if ip.Family.Value != want {
			t.Errorf("allowed IP %v has family %d, want %d", ip.Ipaddr, ip.Family.Value, want)
		}
		out = append(out, netip.PrefixFrom(ip.Ipaddr, int(ip.CidrMask.Value)))
	}
	slices.SortFunc(out, comparePrefix)
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// checkPeers compares the peers read back with want, in any order.
func checkPeers(t *testing.T, got []wireguard.Wgpeer, want []peerWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read back %d peers, want %d", len(got), len(want))
	}
	byKey := make(map[string]wireguard.Wgpeer, len(got))
	for _, p := range got {
		byKey[string(p.PublicKey)] = p
	}
	bad := 0
	for i, w := range want {
		p, ok := byKey[string(w.key)]
		if !ok {
			t.Errorf("peer %d (%x) not read back", i, w.key)
			bad++
			continue
		}
		ep, err := attrs.ParseSockaddr(p.Endpoint)
		if err != nil || ep != w.endpoint {
			t.Errorf("peer %d endpoint %v (%v), want %v", i, ep, err, w.endpoint)
			bad++
		}
		if p.PersistentKeepaliveInterval.Value != w.keepalive {
			t.Errorf("peer %d keepalive %d, want %d", i, p.PersistentKeepaliveInterval.Value, w.keepalive)
			bad++
		}
		wantIPs := slices.SortedFunc(slices.Values(w.ips), comparePrefix)
		if gotIPs := prefixes(t, p.Allowedips); !slices.Equal(gotIPs, wantIPs) {
			t.Errorf("peer %d allowed IPs %v, want %v", i, gotIPs, wantIPs)
			bad++
		}
		if !p.ProtocolVersion.Valid || p.ProtocolVersion.Value != 1 {
			t.Errorf("peer %d protocol version %v, want 1", i, p.ProtocolVersion)
			bad++
		}
		if bad > 10 {
			t.Fatal("too many mismatches")
		}
	}
}

// wgDump runs `wg show wg0 dump` in ns: the device line and one line per
// peer, split into fields.
func wgDump(t *testing.T, ns *testutils.NS) (dev []string, peers map[string][]string) {
	t.Helper()
	testutils.RequireTool(t, "wg")
	out := ns.Exec(t, "wg", "show", "wg0", "dump")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	peers = make(map[string][]string)
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		peers[f[0]] = f
	}
	return strings.Split(lines[0], "\t"), peers
}

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

func TestKernelDeviceThousandPeers(t *testing.T) {
	ns, c, ctx := setup(t)
	priv := key(t)
	const port, mark = 51820, 0x1234
	peers := peerWants(t, 1000)
	setPeers(ctx, t, c, peers, 100, &wireguard.SetDeviceRequest{
		PrivateKey: priv,
		ListenPort: wireguard.Some(uint16(port)),
		Fwmark:     wireguard.Some(uint32(mark)),
		Flags:      wireguard.Some(wireguard.WgdeviceFlagsReplacePeers),
	})

	dev, msgs := device(ctx, t, c)
	if msgs < 2 {
		t.Errorf("a device with 1000 peers came back in %d dump message(s), want several", msgs)
	}
	t.Logf("get-device dump: %d messages for %d peers", msgs, len(dev.Peers))
	idx := ns.Ifindexes(t)["wg0"]
	if dev.Ifindex.Value != uint32(idx) || dev.Ifname.Value != "wg0" {
		t.Errorf("device %d %q, want %d wg0", dev.Ifindex.Value, dev.Ifname.Value, idx)
	}
	if dev.ListenPort.Value != port || dev.Fwmark.Value != mark {
		t.Errorf("listen port %d fwmark %#x, want %d %#x", dev.ListenPort.Value, dev.Fwmark.Value, port, mark)
	}
	// The kernel clamps the private key as Curve25519 requires.
	clamped := slices.Clone(priv)
	clamped[0] &= 248
	clamped[31] = clamped[31]&127 | 64
	if !bytes.Equal(dev.PrivateKey, clamped) {
		t.Errorf("private key %x, want %x (clamped)", dev.PrivateKey, clamped)
	}
	checkPeers(t, dev.Peers, peers)

	// wg(8) sees the same device.
	wgDev, wgPeers := wgDump(t, ns)
	wantDev := []string{b64(clamped), b64(dev.PublicKey), strconv.Itoa(port), fmt.Sprintf("0x%x", mark)}
	if !slices.Equal(wgDev, wantDev) {
		t.Errorf("wg show dump device line %q, want %q", wgDev, wantDev)
	}
	if len(wgPeers) != len(peers) {
		t.Errorf("wg show dump lists %d peers, want %d", len(wgPeers), len(peers))
	}
	for i, p := range peers {
		f := wgPeers[b64(p.key)]
		if len(f) != 8 {
			t.Fatalf("wg show dump line for peer %d: %q", i, f)
		}
		var ips []netip.Prefix
		for _, s := range strings.Split(f[3], ",") {
			ips = append(ips, netip.MustParsePrefix(s))
		}
		slices.SortFunc(ips, comparePrefix)
		wantIPs := slices.SortedFunc(slices.Values(p.ips), comparePrefix)
		if f[2] != p.endpoint.String() || !slices.Equal(ips, wantIPs) || f[7] != strconv.Itoa(int(p.keepalive)) {
			t.Errorf("wg show dump peer %d: endpoint %s ips %v keepalive %s; set %v %v %d", i, f[2], ips, f[7], p.endpoint, wantIPs, p.keepalive)
		}
	}
}

func TestKernelReplaceAndRemovePeers(t *testing.T) {
	ns, c, ctx := setup(t)
	peers := peerWants(t, 300)
	setPeers(ctx, t, c, peers, 300, nil)
	dev, _ := device(ctx, t, c)
	checkPeers(t, dev.Peers, peers)

	// Replace all peers with ten new ones.
	fresh := peerWants(t, 10)
	setPeers(ctx, t, c, fresh, 10, &wireguard.SetDeviceRequest{Flags: wireguard.Some(wireguard.WgdeviceFlagsReplacePeers)})
	dev, _ = device(ctx, t, c)
	checkPeers(t, dev.Peers, fresh)

	// Remove two peers; change another's allowed IPs and keepalive;
	// update-only for an unknown key creates nothing.
	removed := []wireguard.Wgpeer{
		{PublicKey: fresh[0].key, Flags: wireguard.Some(wireguard.WgpeerFlagsRemoveMe)},
		{PublicKey: fresh[1].key, Flags: wireguard.Some(wireguard.WgpeerFlagsRemoveMe)},
		{PublicKey: key(t), Flags: wireguard.Some(wireguard.WgpeerFlagsUpdateOnly), PersistentKeepaliveInterval: wireguard.Some(uint16(5))},
	}
	fresh[2].ips = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	fresh[2].keepalive = 0
	removed = append(removed, fresh[2].wgpeer())
	if err := c.SetDevice(ctx, &wireguard.SetDeviceRequest{Ifname: wireguard.Some("wg0"), Peers: removed}); err != nil {
		t.Fatal(err)
	}
	dev, _ = device(ctx, t, c)
	checkPeers(t, dev.Peers, fresh[2:])
	_, wgPeers := wgDump(t, ns)
	if len(wgPeers) != 8 {
		t.Errorf("wg show dump lists %d peers, want 8", len(wgPeers))
	}
	if f := wgPeers[b64(fresh[2].key)]; len(f) != 8 || f[3] != "198.51.100.0/24" || f[7] != "off" {
		t.Errorf("wg show dump peer 2: %q, want allowed IPs 198.51.100.0/24 and keepalive off", f)
	}

	// Removing one allowed IP by its flag.
	kept := fresh[3].ips
	fresh[3].ips = fresh[3].ips[1:]
	rm := allowedIP(kept[0])
	rm.Flags = wireguard.Some(wireguard.WgallowedipFlagsRemoveMe)
	err := c.SetDevice(ctx, &wireguard.SetDeviceRequest{Ifname: wireguard.Some("wg0"), Peers: []wireguard.Wgpeer{{PublicKey: fresh[3].key, Allowedips: []wireguard.Wgallowedip{rm}}}})
	if errors.Is(err, unix.EINVAL) {
		// Older kernels (6.12 here) have no allowed-IP flags attribute and
		// refuse it; nothing may change.
		t.Logf("allowed-IP remove-me refused: %v", err)
		fresh[3].ips = kept
	} else if err != nil {
		t.Fatal(err)
	}
	dev, _ = device(ctx, t, c)
	checkPeers(t, dev.Peers, fresh[2:])

	// Clearing every peer.
	setPeers(ctx, t, c, nil, 1, &wireguard.SetDeviceRequest{Flags: wireguard.Some(wireguard.WgdeviceFlagsReplacePeers)})
	dev, _ = device(ctx, t, c)
	if len(dev.Peers) != 0 {
		t.Errorf("%d peers after replace with none", len(dev.Peers))
	}
}

func TestKernelErrors(t *testing.T) {
	_, c, ctx := setup(t)
	// No such device: ENODEV.
	err := c.SetDevice(ctx, &wireguard.SetDeviceRequest{Ifname: wireguard.Some("wg9"), ListenPort: wireguard.Some(uint16(1))})
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("set-device on a missing device: %v, want ENODEV", err)
	}
	for _, err := range c.GetDeviceDump(ctx, &wireguard.GetDeviceDumpRequest{Ifname: wireguard.Some("wg9")}) {
		if !errors.Is(err, unix.ENODEV) {
			t.Errorf("get-device of a missing device: %v, want ENODEV", err)
		}
	}
	// A device that is no wireguard device: lo.
	for _, err := range c.GetDeviceDump(ctx, &wireguard.GetDeviceDumpRequest{Ifname: wireguard.Some("lo")}) {
		if !errors.Is(err, unix.EOPNOTSUPP) {
			t.Errorf("get-device of lo: %v, want EOPNOTSUPP", err)
		}
	}
	// A public key of the wrong length is refused by the kernel's policy
	// (ERANGE), with an error that names the op and the attribute the
	// extended ack points at.
	err = c.SetDevice(ctx, &wireguard.SetDeviceRequest{Ifname: wireguard.Some("wg0"), Peers: []wireguard.Wgpeer{{PublicKey: []byte{1, 2, 3}}}})
	// Older kernels (6.12 here) parse the nested peers without an extended ack,
	// so only newer ones point at the attribute.
	if !errors.Is(err, unix.ERANGE) || !strings.Contains(err.Error(), "set-device") {
		t.Errorf("set-device with a 3-byte public key: %v, want ERANGE naming set-device", err)
	}
	if err != nil && strings.Contains(err.Error(), "(attribute ") && !strings.Contains(err.Error(), "(attribute peers.0.public-key)") {
		t.Errorf("set-device with a 3-byte public key: %v, want the attribute path peers.0.public-key", err)
	}
}

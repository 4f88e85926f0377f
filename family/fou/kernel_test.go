package fou_test

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/fou"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated fou package against a kernel with the fou
// module (the VM harness's guests), in a private network namespace, checked
// against `ip fou show`.

func TestMain(m *testing.M) { testutils.Main(m) }

func TestKernelAddGetDumpDel(t *testing.T) {
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := fou.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), fou.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	// A local address to bind one port to, on a subnet (of a dummy, which
	// drops all it is given) that routes to its peer.
	ns.IP(t, "link", "add", "fou0", "type", "dummy")
	ns.IP(t, "addr", "add", "192.0.2.1/24", "dev", "fou0")
	ns.IP(t, "link", "set", "fou0", "up")

	ports := []*fou.Fou{
		{Port: fou.Some(uint16(5555)), Af: fou.Some(uint8(unix.AF_INET)), Ipproto: fou.Some(uint8(unix.IPPROTO_IPIP)), Type: fou.Some(uint8(fou.EncapTypeDirect))},
		{Port: fou.Some(uint16(5556)), Af: fou.Some(uint8(unix.AF_INET6)), Type: fou.Some(uint8(fou.EncapTypeGue))},
		{
			Port: fou.Some(uint16(5557)), Af: fou.Some(uint8(unix.AF_INET)), Ipproto: fou.Some(uint8(unix.IPPROTO_GRE)), Type: fou.Some(uint8(fou.EncapTypeDirect)),
			LocalV4: netip.MustParseAddr("192.0.2.1"), PeerV4: netip.MustParseAddr("192.0.2.2"), PeerPort: fou.Some(uint16(7777)),
		},
	}
	add := func(p *fou.Fou) error {
		return c.Add(ctx, &fou.AddRequest{Port: p.Port, Af: p.Af, Ipproto: p.Ipproto, Type: p.Type, LocalV4: p.LocalV4, PeerV4: p.PeerV4, PeerPort: p.PeerPort})
	}
	for _, p := range ports {
		if err := add(p); err != nil {
			t.Fatalf("add port %d: %v", p.Port.Value, err)
		}
	}
	// Adding a port twice is refused: its UDP socket cannot bind.
	if err := add(ports[0]); !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("adding port 5555 again: %v, want EADDRINUSE", err)
	}

	check := func(got, want *fou.Fou) {
		t.Helper()
		// The kernel sends the addresses of the port's family, unset ones
		// as 0.0.0.0 or ::, and an unset peer port as zero.
		var local4, peer4, local6, peer6 netip.Addr
		if want.Af.Value == unix.AF_INET {
			local4, peer4 = cmp.Or(want.LocalV4, netip.IPv4Unspecified()), cmp.Or(want.PeerV4, netip.IPv4Unspecified())
		} else {
			local6, peer6 = cmp.Or(want.LocalV6, netip.IPv6Unspecified()), cmp.Or(want.PeerV6, netip.IPv6Unspecified())
		}
		if got.Port != want.Port || got.Af != want.Af || got.Type != want.Type || got.PeerPort.Value != want.PeerPort.Value ||
			got.LocalV4 != local4 || got.PeerV4 != peer4 || got.LocalV6 != local6 || got.PeerV6 != peer6 {
			t.Errorf("port read back as %+v, want %+v", got, want)
		}
		if want.Ipproto.Valid && got.Ipproto != want.Ipproto {
			t.Errorf("port %d ipproto %v, want %v", want.Port.Value, got.Ipproto, want.Ipproto)
		}
	}
	for _, p := range ports {
		got, err := c.Get(ctx, &fou.GetRequest{Port: p.Port, Af: p.Af, LocalV4: p.LocalV4, PeerV4: p.PeerV4, PeerPort: p.PeerPort})
		if err != nil {
			t.Fatalf("get port %d: %v", p.Port.Value, err)
		}
		check(got, p)
	}
	var dumped []*fou.Fou
	for p, err := range c.GetDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		dumped = append(dumped, p)
	}
	if len(dumped) != len(ports) {
		t.Fatalf("dump gave %d ports, want %d", len(dumped), len(ports))
	}
	slices.SortFunc(dumped, func(a, b *fou.Fou) int { return int(a.Port.Value) - int(b.Port.Value) })
	for i := range ports {
		check(dumped[i], ports[i])
	}

	// ip fou show lists the same ports.
	show := ns.IP(t, "fou", "show")
	for _, want := range []string{
		"port 5555 ipproto 4",
		"port 5556 gue -6",
		"port 5557 ipproto 47 local 192.0.2.1 peer 192.0.2.2 peer_port 7777",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("ip fou show:\n%s\nlacks %q", show, want)
		}
	}

	// Delete one; get then fails, and ip agrees.
	if err := c.Del(ctx, &fou.DelRequest{Port: ports[0].Port, Af: ports[0].Af}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, &fou.GetRequest{Port: ports[0].Port, Af: ports[0].Af}); !errors.Is(err, unix.ESRCH) {
		t.Errorf("get of a deleted port: %v, want ESRCH", err)
	}
	if err := c.Del(ctx, &fou.DelRequest{Port: ports[0].Port, Af: ports[0].Af}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("deleting a deleted port: %v, want EINVAL", err)
	}
	if show := ns.IP(t, "fou", "show"); strings.Contains(show, "port 5555 ") {
		t.Errorf("ip fou show still lists port 5555:\n%s", show)
	}
	// A port ip adds is one the client reads.
	ns.IP(t, "fou", "add", "port", "6000", "gue")
	got, err := c.Get(ctx, &fou.GetRequest{Port: fou.Some(uint16(6000)), Af: fou.Some(uint8(unix.AF_INET))})
	if err != nil {
		t.Fatal(err)
	}
	if got.Type.Value != uint8(fou.EncapTypeGue) {
		t.Errorf("port added by ip: type %v, want gue", got.Type)
	}
}

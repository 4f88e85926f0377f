package seg6_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/family/seg6"
	"github.com/genlkit/genlkit/internal/testutils"
)

func TestMain(m *testing.M) { testutils.Main(m) }

// TestTunsrc sets the SRv6 encapsulation source address of a private
// namespace with the typed client and with iproute2, and reads each back
// with the other: `ip sr tunsrc show` and Client.GetTunsrc agree.
func TestTunsrc(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, seg6.FamilyName)
	conn, ctx := ns.Dial(t)
	c, err := seg6.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	ipShow := func() netip.Addr {
		out := strings.TrimSpace(ns.IP(t, "sr", "tunsrc", "show"))
		a, err := netip.ParseAddr(strings.TrimPrefix(out, "tunsrc addr "))
		if err != nil {
			t.Fatalf("ip sr tunsrc show: %q: %v", out, err)
		}
		return a
	}
	get := func() netip.Addr {
		rep, err := c.GetTunsrc(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Dst
	}
	if got, want := get(), ipShow(); got != want || got != netip.IPv6Unspecified() {
		t.Errorf("fresh namespace: typed %v, ip %v, want ::", got, want)
	}
	for _, s := range []string{"2001:db8::1", "2001:db8:ffff::42"} {
		a := netip.MustParseAddr(s)
		if err := c.SetTunsrc(ctx, &seg6.SetTunsrcRequest{Dst: a}); err != nil {
			t.Fatal(err)
		}
		if got, ip := get(), ipShow(); got != a || ip != a {
			t.Errorf("set %v with the typed client: typed %v, ip %v", a, got, ip)
		}
	}
	ns.IP(t, "sr", "tunsrc", "set", "2001:db8::7")
	if got := get(); got != netip.MustParseAddr("2001:db8::7") {
		t.Errorf("set 2001:db8::7 with ip: typed %v", got)
	}
	if err := c.SetTunsrc(ctx, &seg6.SetTunsrcRequest{Dst: netip.IPv6Unspecified()}); err != nil {
		t.Fatal(err)
	}
	if got, ip := get(), ipShow(); got != netip.IPv6Unspecified() || ip != got {
		t.Errorf("cleared: typed %v, ip %v", got, ip)
	}
}

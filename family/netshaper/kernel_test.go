package netshaper_test

import (
	"errors"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/netshaper"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated net-shaper package against a kernel that
// registers it (the VM harness's 7.3 guest). No device a VM can make
// (veth, dummy) implements shaping, so every operation on one fails with
// EOPNOTSUPP and the kernel's extended ack; shapers, groups and their
// capabilities need a driver with net_shaper_ops (netdevsim, iavf, ice).

func TestMain(m *testing.M) { testutils.Main(m) }

func TestKernelUnsupportedDevice(t *testing.T) {
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := netshaper.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), netshaper.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	v := ns.AddVeths(t, "sh", 1)[0]
	ifindex := netshaper.Some(uint32(v.Index))
	for _, err := range c.GetDump(ctx, &netshaper.GetDumpRequest{Ifindex: ifindex}) {
		if !errors.Is(err, unix.EOPNOTSUPP) {
			t.Errorf("get dump on a veth: %v, want EOPNOTSUPP", err)
		}
	}
	for _, err := range c.CapGetDump(ctx, &netshaper.CapGetDumpRequest{Ifindex: ifindex}) {
		if !errors.Is(err, unix.EOPNOTSUPP) {
			t.Errorf("cap-get dump on a veth: %v, want EOPNOTSUPP", err)
		}
	}
	_, err = c.Get(ctx, &netshaper.GetRequest{Ifindex: ifindex, Handle: &netshaper.Handle{Scope: netshaper.Some(netshaper.ScopeNetdev)}})
	if !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("get on a veth: %v, want EOPNOTSUPP", err)
	}
	err = c.Set(ctx, &netshaper.SetRequest{Ifindex: ifindex, Handle: &netshaper.Handle{Scope: netshaper.Some(netshaper.ScopeNetdev)}, BwMax: netshaper.Some(uint64(1e6))})
	if !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("set on a veth: %v, want EOPNOTSUPP", err)
	}
	// A request without a device is refused, the extended ack naming the
	// missing attribute.
	_, err = c.Get(ctx, &netshaper.GetRequest{Handle: &netshaper.Handle{Scope: netshaper.Some(netshaper.ScopeNetdev)}})
	if !errors.Is(err, unix.EINVAL) {
		t.Errorf("get without ifindex: %v, want EINVAL", err)
	}
	t.Logf("get without ifindex: %v", err)
}

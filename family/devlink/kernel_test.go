package devlink_test

import (
	"errors"
	"iter"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/devlink"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated devlink package against a kernel that
// registers devlink (the VM harness's guests). Debian's kernels under qemu
// have no devlink instance (no netdevsim, no hardware), so what can be
// checked is that every dump answers, empty, in a fresh namespace, that
// requests for a missing device fail with the kernel's error, and that the
// config group can be joined. Instances, ports, params, regions, health
// reporters, traps, rates and line cards need a driver that registers
// them.

func TestMain(m *testing.M) { testutils.Main(m) }

func count(t *testing.T, op string, seq iter.Seq2[*devlink.Devlink, error]) {
	t.Helper()
	n := 0
	for v, err := range seq {
		if errors.Is(err, family.ErrNotSupported) {
			t.Logf("%s: %v (older kernel)", op, err)
			return
		}
		if err != nil {
			t.Errorf("%s dump: %v", op, err)
			return
		}
		n++
		t.Logf("%s: %+v", op, v)
	}
	if n != 0 {
		t.Errorf("%s dump in a fresh namespace gave %d objects, want none", op, n)
	}
}

func TestKernelEmpty(t *testing.T) {
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := devlink.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), devlink.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	count(t, "get", c.GetDump(ctx))
	count(t, "port-get", c.PortGetDump(ctx, nil))
	count(t, "info-get", c.InfoGetDump(ctx))
	count(t, "param-get", c.ParamGetDump(ctx, nil))
	count(t, "region-get", c.RegionGetDump(ctx, nil))
	count(t, "health-reporter-get", c.HealthReporterGetDump(ctx, nil))
	count(t, "trap-get", c.TrapGetDump(ctx, nil))
	count(t, "rate-get", c.RateGetDump(ctx, nil))
	count(t, "linecard-get", c.LinecardGetDump(ctx, nil))
	count(t, "selftests-get", c.SelftestsGetDump(ctx))

	// A device that does not exist.
	_, err = c.Get(ctx, &devlink.GetRequest{BusName: devlink.Some("pci"), DevName: devlink.Some("0000:00:1f.7")})
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("get of a missing device: %v, want ENODEV", err)
	}
	// A request without the device's handle.
	if _, err := c.Get(ctx, &devlink.GetRequest{}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("get without bus and device names: %v, want EINVAL", err)
	}

	sub, err := c.Subscribe(ctx, "config")
	if err != nil {
		t.Fatalf("joining devlink's config group: %v", err)
	}
	if len(sub.Groups()) != 1 {
		t.Errorf("subscription groups %v", sub.Groups())
	}
	sub.Close()
}

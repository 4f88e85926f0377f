package dpll_test

import (
	"errors"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/dpll"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated dpll package against a kernel that registers
// dpll (the VM harness's 6.12 and 7.3 guests). A VM has no DPLL hardware:
// the dumps answer empty, lookups fail with the kernel's error, and the
// monitor group can be joined. Device and pin attributes, set operations
// and change notifications need a driver with a DPLL (ice, mlx5, zl3073x,
// ptp_ocp). The family lives in the initial network namespace only, so the
// test reads it there and changes nothing.

func TestMain(m *testing.M) { testutils.Main(m) }

func TestKernelEmpty(t *testing.T) {
	conn, ctx := testutils.DialInit(t)
	c, err := dpll.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), dpll.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for d, err := range c.DeviceGetDump(ctx) {
		if err != nil {
			t.Fatalf("device-get dump: %v", err)
		}
		n++
		t.Logf("device: %+v", d)
	}
	for p, err := range c.PinGetDump(ctx, nil) {
		if err != nil {
			t.Fatalf("pin-get dump: %v", err)
		}
		n++
		t.Logf("pin: %+v", p)
	}
	if n != 0 {
		t.Errorf("%d devices and pins in a VM, want none", n)
	}
	// Lookups of what does not exist.
	if _, err := c.DeviceGet(ctx, &dpll.DeviceGetRequest{ID: dpll.Some(uint32(0))}); !errors.Is(err, unix.ENODEV) && !errors.Is(err, unix.ENOENT) {
		t.Errorf("device-get of id 0: %v, want ENODEV or ENOENT", err)
	}
	// Kernels differ on an id lookup that matches nothing: 7.3 refuses
	// it, 6.12 acknowledges it with no device; neither names one.
	rep, err := c.DeviceIDGet(ctx, &dpll.DeviceIDGetRequest{ModuleName: dpll.Some("genlkit"), ClockID: dpll.Some(uint64(1))})
	if err == nil && rep.ID.Valid {
		t.Errorf("device-id-get of a module without devices named device %d", rep.ID.Value)
	}
	t.Logf("device-id-get of a module without devices: %+v, %v", rep, err)
	sub, err := c.Subscribe(ctx, dpll.GroupMonitor)
	if err != nil {
		t.Fatalf("joining dpll's monitor group: %v", err)
	}
	sub.Close()
}

package family_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/nlctrl"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// moduleFamily is a family that a module registers and nothing else uses,
// so the test can load and unload it: gtp (drivers/net/gtp.ko) is a module
// in every Debian kernel the VM harness boots.
const moduleFamily = "gtp"

// TestResolverFollowsModules loads and unloads a module in a VM harness
// guest and checks the nlctrl notify group's new-family and del-family
// notifications, and that a Resolver's cache follows them: a family that
// was absent is found once registered, is served from the cache while it
// stays, and is reported missing once unregistered.
func TestResolverFollowsModules(t *testing.T) {
	testutils.RequireKernel(t)
	if testutils.ModuleLoaded(moduleFamily) {
		testutils.Modprobe(t, moduleFamily, true)
	}
	ns := testutils.NetNS(t)
	c, ctx := ns.Dial(t)
	r, err := family.NewResolver(c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sub, err := c.Subscribe(family.NotifyGroup)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	if _, err := r.Family(ctx, moduleFamily); !errors.Is(err, family.ErrNotFound) {
		t.Fatalf("Family(%s) before the module is loaded: %v, want ErrNotFound", moduleFamily, err)
	}
	testutils.Modprobe(t, moduleFamily, false)
	t.Cleanup(func() {
		if testutils.ModuleLoaded(moduleFamily) {
			testutils.Modprobe(t, moduleFamily, true)
		}
	})
	id := waitFamilyEvent(ctx, t, sub, unix.CTRL_CMD_NEWFAMILY)
	f := waitResolved(ctx, t, r, true)
	if f.ID != id {
		t.Errorf("resolver: %s id %d, new-family notification said %d", moduleFamily, f.ID, id)
	}
	fetches := r.Fetches()
	if g, err := r.Family(ctx, moduleFamily); err != nil || g.ID != id {
		t.Fatalf("cached Family(%s) = %v, %v", moduleFamily, g, err)
	}
	if n := r.Fetches(); n != fetches {
		t.Errorf("a cached family reached the kernel: %d fetches, want %d", n, fetches)
	}

	testutils.Modprobe(t, moduleFamily, true)
	if got := waitFamilyEvent(ctx, t, sub, unix.CTRL_CMD_DELFAMILY); got != id {
		t.Errorf("del-family notification for id %d, want %d", got, id)
	}
	waitResolved(ctx, t, r, false)

	// Registered again, it is found again, through the kernel.
	testutils.Modprobe(t, moduleFamily, false)
	waitFamilyEvent(ctx, t, sub, unix.CTRL_CMD_NEWFAMILY)
	waitResolved(ctx, t, r, true)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

// waitFamilyEvent reads sub until nlctrl announces moduleFamily with cmd,
// and returns the family id it carries.
func waitFamilyEvent(ctx context.Context, t *testing.T, sub *genl.Subscription, cmd uint8) uint16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for nlctrl command %d on %s: %v", cmd, moduleFamily, err)
		}
		var a nlctrl.CtrlAttrs
		if err := a.UnmarshalAttrs(m.Data); err != nil {
			t.Fatalf("nlctrl notification %d: %v", m.Header.Command, err)
		}
		if m.Header.Command != cmd || a.FamilyName.Value != moduleFamily {
			continue
		}
		if !a.FamilyID.Valid || a.FamilyID.Value == 0 {
			t.Fatalf("nlctrl command %d on %s without a family id", cmd, moduleFamily)
		}
		return a.FamilyID.Value
	}
}

// waitResolved waits until r finds moduleFamily (present) or reports it
// missing with ErrNotFound: the resolver applies notifications on its own
// goroutine, a moment after they arrive.
func waitResolved(ctx context.Context, t *testing.T, r *family.Resolver, present bool) *family.Family {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := r.Family(ctx, moduleFamily)
		switch {
		case present && err == nil && f.Name == moduleFamily:
			return f
		case !present && errors.Is(err, family.ErrNotFound):
			return nil
		case err != nil && !errors.Is(err, family.ErrNotFound):
			t.Fatalf("Family(%s): %v", moduleFamily, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Family(%s) = %v, %v after 10s, want present=%v", moduleFamily, f, err, present)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package devenergymodel_test

import (
	"errors"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/devenergymodel"
	"github.com/genlkit/genlkit/internal/testutils"
)

// Live tests: the generated dev-energymodel package against a kernel that
// registers it (the VM harness's 7.3 guest). A qemu guest's CPUs have no
// energy model, so the perf-domain dump answers empty, a lookup fails with
// the kernel's error, and the event group can be joined; performance tables
// and their notifications need a platform with an energy model. The family
// lives in the initial network namespace, where the test only reads.

func TestMain(m *testing.M) { testutils.Main(m) }

func TestKernelEmpty(t *testing.T) {
	conn, ctx := testutils.DialInit(t)
	c, err := devenergymodel.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), devenergymodel.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for d, err := range c.GetPerfDomainsDump(ctx) {
		if err != nil {
			t.Fatalf("get-perf-domains dump: %v", err)
		}
		n++
		t.Logf("perf domain: %+v", d)
	}
	if n != 0 {
		t.Errorf("%d perf domains in a VM, want none", n)
	}
	if _, err := c.GetPerfDomains(ctx, &devenergymodel.GetPerfDomainsRequest{PerfDomainID: devenergymodel.Some(uint32(0))}); err == nil {
		t.Error("get-perf-domains of domain 0 succeeded in a VM without an energy model")
	} else {
		t.Logf("get-perf-domains 0: %v", err)
	}
	sub, err := c.Subscribe(ctx, devenergymodel.GroupEvent)
	if err != nil {
		t.Fatalf("joining the event group: %v", err)
	}
	sub.Close()
}

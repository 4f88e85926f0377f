package family_test

import (
	"errors"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
)

// psample has no spec: a client reaches it through the generic path,
// resolving it by name and joining its groups by the names the kernel
// gives. In a namespace without samplers (act_sample, openvswitch's
// psample action, a switch driver) its group dump answers empty.

// PSAMPLE_CMD_GET_GROUP from include/uapi/linux/psample.h.
const psampleCmdGetGroup = 1

func TestKernelPsample(t *testing.T) {
	conn, _ := dialNS(t)
	ctx := t.Context()
	fam, err := family.Get(ctx, conn, "psample")
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), "psample")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range conn.Dump(ctx, genl.Request{Family: fam.ID, Command: psampleCmdGetGroup, Version: uint8(fam.Version)}) {
		if err != nil {
			t.Fatalf("psample get-group dump: %v", err)
		}
		n++
	}
	if n != 0 {
		t.Errorf("psample lists %d groups in a fresh namespace, want none", n)
	}
	for _, name := range []string{"config", "packets"} {
		i := -1
		for j, g := range fam.Groups {
			if g.Name == name {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("psample has no %q group: %+v", name, fam.Groups)
		}
		if err := conn.JoinGroup(fam.Groups[i].ID); err != nil {
			t.Errorf("joining psample's %s group: %v", name, err)
		}
		if err := conn.LeaveGroup(fam.Groups[i].ID); err != nil {
			t.Errorf("leaving psample's %s group: %v", name, err)
		}
	}
}

package nlctrl_test

import (
	"context"
	"errors"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/family/nlctrl"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated nlctrl package reads the generic netlink
// controller; its answers must agree with package family's hand-written
// decoder.

func TestMain(m *testing.M) { testutils.Main(m) }

func setup(t *testing.T) (*genl.Conn, *nlctrl.Client, context.Context) {
	t.Helper()
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := nlctrl.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return conn, c, ctx
}

func TestGetfamily(t *testing.T) {
	conn, c, ctx := setup(t)
	got, err := c.Getfamily(ctx, &nlctrl.GetfamilyRequest{FamilyName: nlctrl.Some(netdev.FamilyName)})
	if err != nil {
		t.Fatal(err)
	}
	want, err := family.Get(ctx, conn, netdev.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	if got.FamilyID.Value != want.ID || got.FamilyName.Value != want.Name || got.Version.Value != want.Version ||
		got.Hdrsize.Value != want.HeaderSize || got.Maxattr.Value != want.MaxAttr {
		t.Errorf("getfamily: %+v, family.Get: %+v", got, want)
	}
	if len(got.Ops) != len(want.Ops) || len(got.McastGroups) != len(want.Groups) {
		t.Fatalf("getfamily: %d ops, %d groups; family.Get: %d, %d", len(got.Ops), len(got.McastGroups), len(want.Ops), len(want.Groups))
	}
	for i, o := range got.Ops {
		if o.ID.Value != want.Ops[i].ID || uint32(o.Flags.Value) != uint32(want.Ops[i].Flags) {
			t.Errorf("op %d: %+v, want %+v", i, o, want.Ops[i])
		}
	}
	for i, g := range got.McastGroups {
		if g.Name.Value != want.Groups[i].Name || g.ID.Value != want.Groups[i].ID {
			t.Errorf("group %d: %+v, want %+v", i, g, want.Groups[i])
		}
	}
	t.Logf("netdev: id %v version %v, %d ops, first op flags %v", got.FamilyID, got.Version, len(got.Ops), got.Ops[0].Flags)

	_, err = c.Getfamily(ctx, &nlctrl.GetfamilyRequest{FamilyName: nlctrl.Some("no-such-family")})
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("unknown family: %v", err)
	}

	names := map[string]bool{}
	for f, err := range c.GetfamilyDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names[f.FamilyName.Value] = true
	}
	for _, n := range []string{"nlctrl", "netdev", "ethtool"} {
		if !names[n] {
			t.Errorf("dump lacks %s: %v", n, names)
		}
	}
}

func TestGetpolicy(t *testing.T) {
	conn, c, ctx := setup(t)
	want, err := family.GetPolicy(ctx, conn, netdev.FamilyName, nil)
	if err != nil {
		t.Fatal(err)
	}
	ops, attrs := 0, 0
	for m, err := range c.GetpolicyDump(ctx, &nlctrl.GetpolicyDumpRequest{FamilyName: nlctrl.Some(netdev.FamilyName)}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range m.OpPolicy {
			ops++
			w, ok := want.Op(uint32(op.OpID))
			if op.OpID == 0 {
				// The kernel files an op without a do handler
				// (qstats-get) under command 0; family.GetPolicy files it
				// under its own command: find it by its dump table.
				ok = false
				for _, o := range want.Ops {
					if o.Do == nil && o.Dump != nil && op.Attrs.Dump.Valid && o.Dump.Index == op.Attrs.Dump.Value {
						w, ok = o, true
					}
				}
			}
			if !ok {
				t.Errorf("op %d not in family.GetPolicy", op.OpID)
				continue
			}
			if op.Attrs.Do.Valid != (w.Do != nil) || (w.Do != nil && op.Attrs.Do.Value != w.Do.Index) {
				t.Errorf("op %d do policy %v, want %+v", op.OpID, op.Attrs.Do, w.Do)
			}
		}
		for _, p := range m.Policy {
			attrs++
			set := want.Set(uint32(p.PolicyID))
			if set == nil {
				t.Errorf("policy %d not in family.GetPolicy", p.PolicyID)
				continue
			}
			a, ok := set.Attr(p.AttrID)
			if !ok || uint32(a.Type) != uint32(p.Attrs.Type.Value) {
				t.Errorf("policy %d attr %d: type %v, want %v", p.PolicyID, p.AttrID, p.Attrs.Type, a.Type)
			}
		}
	}
	if ops != len(want.Ops) || ops == 0 || attrs == 0 {
		t.Errorf("%d ops and %d attribute policies; family.GetPolicy has %d ops", ops, attrs, len(want.Ops))
	}
	t.Logf("netdev policy: %d ops, %d attribute policies", ops, attrs)
}

// TestNotifyGroup: nlctrl's spec omits its "notify" group; it is joined by
// name, and family registrations arrive as unknown notifications.
func TestNotifyGroup(t *testing.T) {
	_, c, ctx := setup(t)
	sub, err := c.Subscribe(ctx, "notify")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if len(sub.Groups()) != 1 || sub.Groups()[0] != family.NotifyGroup {
		t.Errorf("groups %v", sub.Groups())
	}
}

package family_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"

	// The host families (netdev, nlctrl: imported above) and those newer
	// than the 6.1 and 6.12 LTS kernels, described for family.Descriptors.
	_ "github.com/genlkit/genlkit/family/devenergymodel"
	_ "github.com/genlkit/genlkit/family/dpll"
	_ "github.com/genlkit/genlkit/family/ethtool"
	_ "github.com/genlkit/genlkit/family/handshake"
	_ "github.com/genlkit/genlkit/family/mptcppm"
	_ "github.com/genlkit/genlkit/family/netshaper"
	_ "github.com/genlkit/genlkit/family/ovpn"
	_ "github.com/genlkit/genlkit/family/tcpmetrics"
)

// On a kernel older than a spec, what the spec has and the kernel lacks is
// refused with a typed error: a family with ErrNotFound (when the client is
// made), an op with ErrNotSupported (before anything is sent), an
// attribute by the kernel itself, whose extended ACK names it.

// TestAbsentFamilies checks every family genlkit describes that the running
// kernel does not register: making a client for it fails with ErrNotFound,
// naming the family. Families the kernel is expected to have
// (GENLKIT_EXPECT_FAMILIES) must be there.
func TestAbsentFamilies(t *testing.T) {
	c, _ := dialNS(t)
	ctx := t.Context()
	fams, err := family.List(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range fams {
		have[f.Name] = true
	}
	var absent []string
	for _, d := range family.Descriptors() {
		if have[d.Name] {
			continue
		}
		if testutils.FamilyExpected(d.Name) {
			t.Errorf("family %s not registered, and %s lists it", d.Name, testutils.EnvExpectFamilies)
		}
		absent = append(absent, d.Name)
		_, err := family.NewClient(ctx, c, d.Name, d.Version)
		if !errors.Is(err, family.ErrNotFound) || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), `"`+d.Name+`"`) {
			t.Errorf("NewClient(%s) on a kernel without it: %v, want ErrNotFound naming it", d.Name, err)
		}
	}
	t.Logf("absent on this kernel: %s", strings.Join(absent, ", "))
	if !have["netdev"] {
		// A generated package says the same (netdev is 6.3 and newer).
		_, err := netdev.New(ctx, c)
		if !errors.Is(err, family.ErrNotFound) {
			t.Errorf("netdev.New on a kernel without netdev: %v, want ErrNotFound", err)
		}
	}
}

// TestMissingOps checks every op of every family genlkit describes that the
// running kernel registers with fewer ops: each missing request is refused
// with ErrNotSupported naming the family and the op, and each op the kernel
// has passes the same check.
func TestMissingOps(t *testing.T) {
	c, _ := dialNS(t)
	ctx := t.Context()
	fams, err := family.List(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		d, ok := family.Lookup(f.Name)
		if !ok {
			continue
		}
		cl, err := family.NewClient(ctx, c, d.Name, d.Version, family.WithFamily(f))
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, op := range d.Ops {
			for _, form := range []struct {
				msg  *family.OpMsgDesc
				dump bool
			}{{op.Do, false}, {op.Dump, true}} {
				if form.msg == nil {
					continue
				}
				cmd := op.Value
				if form.msg.RequestValue != 0 {
					cmd = form.msg.RequestValue
				}
				kop, has := f.Op(uint32(cmd))
				want := has && (form.dump && kop.Flags&family.OpDump != 0 || !form.dump && kop.Flags&family.OpDo != 0)
				_, err := cl.Check(ctx, cmd, op.Name, form.dump)
				switch {
				case want && err != nil:
					t.Errorf("%s %s (dump %v): the kernel has it, Check says %v", f.Name, op.Name, form.dump, err)
				case !want && (!errors.Is(err, family.ErrNotSupported) || !strings.Contains(err.Error(), f.Name) || !strings.Contains(err.Error(), op.Name)):
					t.Errorf("%s %s (dump %v): the kernel lacks it, Check says %v, want ErrNotSupported naming both", f.Name, op.Name, form.dump, err)
				case !want && !has:
					missing = append(missing, op.Name)
				}
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			t.Logf("%s: the kernel lacks %s", f.Name, strings.Join(slices.Compact(missing), ", "))
		}
	}
}

// TestUnknownAttributeExtack sends netdev dev-get with an attribute one past
// the last the running kernel's policy for it knows (what a request built
// from a newer spec carries): a strictly validating family refuses it, and
// the error carries the kernel's extended ACK pointing at the attribute.
func TestUnknownAttributeExtack(t *testing.T) {
	c, ns := dialNS(t)
	ctx := t.Context()
	f, err := family.Get(ctx, c, "netdev")
	if errors.Is(err, family.ErrNotFound) && !testutils.FamilyExpected("netdev") {
		t.Skip("netdev not registered: Linux 6.3 and newer have it")
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := uint32(netdev.CmdDevGet)
	pol, err := family.GetPolicy(ctx, c, "netdev", &cmd)
	if err != nil {
		t.Fatal(err)
	}
	op, ok := pol.Op(cmd)
	if !ok || op.Do == nil || len(op.Do.Attrs) == 0 {
		t.Fatalf("netdev dev-get: no do policy in %+v", pol)
	}
	unknown := op.Do.Attrs[len(op.Do.Attrs)-1].Attr + 1
	var e attrs.Encoder
	e.U32(1, uint32(ns.Ifindexes(t)["lo"])) // ifindex
	e.U32(unknown, 0)
	err = c.Do(ctx, genl.Request{Family: f.ID, Command: uint8(cmd), Version: 1, Attrs: e.Bytes(), ExpectReply: true}, nil)
	var ge *genl.Error
	if !errors.As(err, &ge) || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("dev-get with attribute %d: %v, want EINVAL from the kernel", unknown, err)
	}
	if ge.Message == "" || ge.Offset < 0 || len(ge.AttrTypes) == 0 || ge.AttrTypes[len(ge.AttrTypes)-1] != unknown {
		t.Errorf("extended ACK: message %q, offset %d, attribute types %v; want a message and attribute %d", ge.Message, ge.Offset, ge.AttrTypes, unknown)
	}
	t.Logf("kernel says: %v", err)
}

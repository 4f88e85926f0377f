package team_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/team"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated team package against a kernel with the team
// module (the VM harness's guests), on a team device with dummy ports in a
// private network namespace, checked against teamnl(8).
//
// The kernel answers options-get and port-list-get with one list-option or
// list-port nest holding an option or port nest per item; the project
// overlay marks those items repeated, so the typed replies hold them all.

func TestMain(m *testing.M) { testutils.Main(m) }

// Option types as the team family carries them: the kernel's NLA_* values.
const (
	nlaU32    = 3
	nlaString = 5
	nlaFlag   = 6
	nlaS32    = 14
)

// checkWhole fails t if rep, a reply or notification of team device
// ifindex, holds attributes beyond its fields: a second list nest, a
// repeat the types do not keep.
func checkWhole(t *testing.T, what string, rep *team.Team, ifindex int) {
	t.Helper()
	if rep.TeamIfindex.Value != uint32(ifindex) || len(rep.Extra) != 0 ||
		(rep.ListOption != nil && len(rep.ListOption.Extra) != 0) || (rep.ListPort != nil && len(rep.ListPort.Extra) != 0) {
		t.Errorf("%s: team %d with attributes beyond its fields: %+v", what, rep.TeamIfindex.Value, rep)
	}
}

func options(ctx context.Context, t *testing.T, c *team.Client, ifindex int) []team.AttrOption {
	t.Helper()
	rep, err := c.OptionsGet(ctx, &team.OptionsGetRequest{TeamIfindex: team.Some(uint32(ifindex))})
	if err != nil {
		t.Fatalf("options-get: %v", err)
	}
	checkWhole(t, "options-get", rep, ifindex)
	if rep.ListOption == nil {
		t.Fatalf("options-get: no option list: %+v", rep)
	}
	return rep.ListOption.Option
}

func ports(ctx context.Context, t *testing.T, c *team.Client, ifindex int) []team.AttrPort {
	t.Helper()
	rep, err := c.PortListGet(ctx, &team.PortListGetRequest{TeamIfindex: team.Some(uint32(ifindex))})
	if err != nil {
		t.Fatalf("port-list-get: %v", err)
	}
	checkWhole(t, "port-list-get", rep, ifindex)
	if rep.ListPort == nil {
		return nil
	}
	return rep.ListPort.Port
}

// find returns the option named name (of port port, 0 for the device).
func find(opts []team.AttrOption, name string, port int) *team.AttrOption {
	for i := range opts {
		if opts[i].Name.Value == name && opts[i].PortIfindex.Value == uint32(port) {
			return &opts[i]
		}
	}
	return nil
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func set(ctx context.Context, t *testing.T, c *team.Client, ifindex int, o *team.AttrOption) {
	t.Helper()
	_, err := c.OptionsSet(ctx, &team.OptionsSetRequest{
		TeamIfindex: team.Some(uint32(ifindex)),
		ListOption:  &team.ItemOption{Option: []team.AttrOption{*o}},
	})
	if err != nil {
		t.Fatalf("options-set %s: %v", o.Name.Value, err)
	}
}

// setup makes a namespace with team device team0 and a Client there.
func setup(t *testing.T) (*testutils.NS, *team.Client, context.Context) {
	t.Helper()
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := team.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), team.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "add", "team0", "type", "team")
	return ns, c, ctx
}

func TestKernelOptionsPortsEvents(t *testing.T) {
	ns, c, ctx := setup(t)
	ns.IP(t, "link", "add", "d0", "type", "dummy")
	ns.IP(t, "link", "add", "d1", "type", "dummy")
	idx := ns.Ifindexes(t)
	tm, d0, d1 := idx["team0"], idx["d0"], idx["d1"]

	// Noop answers with nothing to say.
	if _, err := c.Noop(ctx); err != nil {
		t.Errorf("noop: %v", err)
	}
	sub, err := c.Subscribe(ctx, team.GenlChangeEventMcGrpName)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	// A fresh team has no mode; set one, then add the ports.
	set(ctx, t, c, tm, &team.AttrOption{Name: team.Some("mode"), Type: team.Some(uint8(nlaString)), Data: []byte("activebackup\x00")})
	ns.IP(t, "link", "set", "d0", "master", "team0")
	ns.IP(t, "link", "set", "d1", "master", "team0")

	opts := options(ctx, t, c, tm)
	if o := find(opts, "mode", 0); o == nil || o.Type.Value != nlaString || strings.TrimRight(string(o.Data), "\x00") != "activebackup" {
		t.Errorf("mode option read back as %+v, want string activebackup", o)
	}
	for _, p := range []int{d0, d1} {
		if o := find(opts, "enabled", p); o == nil || o.Type.Value != nlaFlag {
			t.Errorf("port %d: enabled option %+v, want a flag option", p, o)
		}
	}
	if o := find(opts, "activeport", 0); o == nil || o.Type.Value != nlaU32 {
		t.Errorf("activeport option %+v, want a u32 option (activebackup mode)", o)
	}

	// A device option and a per-port one.
	set(ctx, t, c, tm, &team.AttrOption{Name: team.Some("mcast_rejoin_count"), Type: team.Some(uint8(nlaU32)), Data: u32(3)})
	set(ctx, t, c, tm, &team.AttrOption{Name: team.Some("priority"), Type: team.Some(uint8(nlaS32)), Data: u32(uint32(0xfffffffb)), PortIfindex: team.Some(uint32(d1))})
	set(ctx, t, c, tm, &team.AttrOption{Name: team.Some("activeport"), Type: team.Some(uint8(nlaU32)), Data: u32(uint32(d1))})
	opts = options(ctx, t, c, tm)
	for _, w := range []struct {
		name string
		port int
		val  uint32
	}{{"mcast_rejoin_count", 0, 3}, {"priority", d1, 0xfffffffb}, {"priority", d0, 0}, {"activeport", 0, uint32(d1)}} {
		o := find(opts, w.name, w.port)
		if o == nil || len(o.Data) != 4 || binary.NativeEndian.Uint32(o.Data) != w.val {
			t.Errorf("option %s (port %d) read back as %+v, want %d", w.name, w.port, o, int32(w.val))
		}
	}
	// An option is found by name and type: the wrong type finds none. A
	// type the family has no option type for is ignored: the kernel
	// acknowledges the request and changes nothing.
	for typ, want := range map[uint8]error{nlaString: unix.ENOENT, 99: nil} {
		_, err = c.OptionsSet(ctx, &team.OptionsSetRequest{TeamIfindex: team.Some(uint32(tm)), ListOption: &team.ItemOption{Option: []team.AttrOption{{
			Name: team.Some("mcast_rejoin_count"), Type: team.Some(typ), Data: []byte("x\x00")}}}})
		if !errors.Is(err, want) {
			t.Errorf("options-set of mcast_rejoin_count with type %d: %v, want %v", typ, err, want)
		}
	}
	if o := find(options(ctx, t, c, tm), "mcast_rejoin_count", 0); o == nil || binary.NativeEndian.Uint32(o.Data) != 3 {
		t.Errorf("mcast_rejoin_count after refused and ignored sets: %+v, want 3", o)
	}

	ps := ports(ctx, t, c, tm)
	got := map[uint32]bool{}
	for _, p := range ps {
		got[p.Ifindex.Value] = true
	}
	if len(ps) != 2 || !got[uint32(d0)] || !got[uint32(d1)] {
		t.Errorf("port list %+v, want d0 (%d) and d1 (%d)", ps, d0, d1)
	}

	// change_event told of the ports and the options.
	sawPort, sawOption := false, false
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for !sawPort || !sawOption {
		n, err := sub.Next(nctx)
		if err != nil {
			t.Fatalf("change_event: saw ports %v options %v: %v", sawPort, sawOption, err)
		}
		u, ok := n.(*team.UnknownNotification)
		if !ok {
			t.Fatalf("notification %T", n)
		}
		var ev team.Team
		if err := ev.UnmarshalAttrs(u.Data); err != nil {
			t.Fatalf("change_event command %d: %v", u.Command, err)
		}
		checkWhole(t, "change_event", &ev, tm)
		switch {
		case u.Command == team.CmdPortListGet && ev.ListPort != nil:
			for _, p := range ev.ListPort.Port {
				sawPort = sawPort || p.Ifindex.Value == uint32(d1) && p.Changed
			}
		case u.Command == team.CmdOptionsGet && ev.ListOption != nil:
			if o := find(ev.ListOption.Option, "mcast_rejoin_count", 0); o != nil && o.Changed && binary.NativeEndian.Uint32(o.Data) == 3 {
				sawOption = true
			}
		}
	}

	// teamnl sees the same.
	testutils.RequireTool(t, "teamnl")
	for _, w := range []struct{ args, want string }{
		{"team0 getoption mode", "activebackup"},
		{"team0 getoption mcast_rejoin_count", "3"},
		{"team0 getoption activeport", strconv.Itoa(d1)},
		{"-p d1 team0 getoption priority", "-5"},
	} {
		out := ns.Exec(t, "teamnl", strings.Fields(w.args)...)
		if strings.TrimSpace(out) != w.want {
			t.Errorf("teamnl team0 %s: %q, want %q", w.args, out, w.want)
		}
	}
	out := ns.Exec(t, "teamnl", "team0", "ports")
	for _, name := range []string{"d0", "d1"} {
		if !strings.Contains(out, strconv.Itoa(idx[name])+": "+name) {
			t.Errorf("teamnl team0 ports:\n%s\nlacks %s", out, name)
		}
	}
}

func TestKernelErrors(t *testing.T) {
	ns, c, ctx := setup(t)
	// No team device: lo is not one.
	_, err := c.OptionsGet(ctx, &team.OptionsGetRequest{TeamIfindex: team.Some(uint32(1))})
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "options-get") {
		t.Errorf("options-get on lo: %v, want EINVAL naming options-get", err)
	}
	// An unknown option name.
	tm := ns.Ifindexes(t)["team0"]
	_, err = c.OptionsSet(ctx, &team.OptionsSetRequest{TeamIfindex: team.Some(uint32(tm)), ListOption: &team.ItemOption{Option: []team.AttrOption{{
		Name: team.Some("no_such_option"), Type: team.Some(uint8(nlaU32)), Data: u32(1)}}}})
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("options-set of an unknown option: %v, want ENOENT", err)
	}
	// The typed PortListGet reads a team with one port exactly.
	ns.IP(t, "link", "add", "d0", "type", "dummy")
	ns.IP(t, "link", "set", "d0", "master", "team0")
	d0 := ns.Ifindexes(t)["d0"]
	rep, err := c.PortListGet(ctx, &team.PortListGetRequest{TeamIfindex: team.Some(uint32(tm))})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TeamIfindex.Value != uint32(tm) || rep.ListPort == nil || len(rep.ListPort.Port) != 1 || rep.ListPort.Port[0].Ifindex.Value != uint32(d0) {
		t.Errorf("port-list-get: %+v, want team %d with port %d", rep, tm, d0)
	}
}

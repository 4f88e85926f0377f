package family

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"testing"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
)

// genlCmd runs iproute2's genl, inside the namespace when ns is not nil.
func genlCmd(t *testing.T, ns *testutils.NS, args ...string) string {
	t.Helper()
	if ns != nil {
		return ns.Exec(t, "genl", args...)
	}
	out, err := exec.Command("genl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("genl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestListMatchesIproute2 compares every family, op and group with what
// `genl ctrl list` prints, in a private namespace and on the host (read
// only).
func TestListMatchesIproute2(t *testing.T) {
	testutils.RequireKernel(t)
	for _, where := range []string{"netns", "host"} {
		t.Run(where, func(t *testing.T) {
			var ns *testutils.NS
			var opts []genl.Option
			if where == "netns" {
				ns = testutils.NetNS(t)
				opts = append(opts, genl.WithNetNS(ns.Path))
			}
			c, err := genl.Dial(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got, err := List(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			want := parseCtrlList(t, genlCmd(t, ns, "ctrl", "list"))
			if len(want) < 5 {
				t.Fatalf("parsed only %d families from genl ctrl list", len(want))
			}
			if len(got) != len(want) {
				t.Errorf("%d families, genl ctrl list has %d", len(got), len(want))
			}
			checkedFlags := 0
			defer func() {
				if checkedFlags == 0 {
					t.Error("genl ctrl list printed no op capabilities to compare")
				}
			}()
			byName := map[string]*Family{}
			for _, f := range got {
				byName[f.Name] = f
			}
			for _, w := range want {
				g := byName[w.Name]
				if g == nil {
					t.Errorf("family %s missing", w.Name)
					continue
				}
				printed := 0
				for i := range w.Ops {
					if w.Ops[i].Flags == flagsUnknown && i < len(g.Ops) {
						w.Ops[i].Flags = g.Ops[i].Flags
					} else {
						printed++
					}
				}
				checkedFlags += printed
				if fmt.Sprint(*g) != fmt.Sprint(*w) {
					t.Errorf("family %s:\n got %+v\nwant %+v", w.Name, *g, *w)
				}
				// The same answer for a lookup by name and by id.
				byN, err := Get(context.Background(), c, w.Name)
				if err != nil || !reflect.DeepEqual(byN, g) {
					t.Errorf("Get(%s) = %+v, %v", w.Name, byN, err)
				}
				byID, err := GetByID(context.Background(), c, w.ID)
				if err != nil || !reflect.DeepEqual(byID, g) {
					t.Errorf("GetByID(%#x) = %+v, %v", w.ID, byID, err)
				}
			}
		})
	}
}

// TestPolicyMatchesIproute2 compares the policies of netdev, ethtool and
// mptcp_pm, for every op and attribute, with `genl ctrl policy`.
func TestPolicyMatchesIproute2(t *testing.T) {
	testutils.RequireKernel(t)
	ns := testutils.NetNS(t)
	c, err := genl.Dial(genl.WithNetNS(ns.Path))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, name := range []string{"netdev", "ethtool", "mptcp_pm", "nlctrl", "tcp_metrics"} {
		t.Run(name, func(t *testing.T) {
			p, err := GetPolicy(context.Background(), c, name, nil)
			if err != nil {
				testutils.RequireBuiltinFamily(t, !errors.Is(err, ErrNotFound), name)
				t.Fatal(err)
			}
			lines, wantAttrs := parseCtrlPolicy(t, genlCmd(t, ns, "ctrl", "policy", "name", name))
			if len(wantAttrs) == 0 {
				t.Fatal("genl ctrl policy printed no attributes")
			}
			f, err := Get(context.Background(), c, name)
			if err != nil {
				t.Fatal(err)
			}
			wantOps := fileIprouteOps(t, f, lines)
			gotOps := map[uint32]string{}
			for _, o := range p.Ops {
				s := ""
				if o.Do != nil {
					s += fmt.Sprintf("do=%d", o.Do.Index)
				}
				if o.Dump != nil {
					if s != "" {
						s += " "
					}
					s += fmt.Sprintf("dump=%d", o.Dump.Index)
				}
				gotOps[o.Op] = s
			}
			if !reflect.DeepEqual(gotOps, wantOps) {
				t.Errorf("ops:\n got %v\nwant %v", gotOps, wantOps)
			}
			gotAttrs := map[string]string{}
			for _, s := range p.Sets {
				for _, a := range s.Attrs {
					gotAttrs[fmt.Sprintf("policy[%d]:attr[%d]", s.Index, a.Attr)] = policyText(a)
				}
			}
			for k, w := range wantAttrs {
				if gotAttrs[k] != w {
					t.Errorf("%s: got %q, genl prints %q", k, gotAttrs[k], w)
				}
			}
			for k := range gotAttrs {
				if _, ok := wantAttrs[k]; !ok {
					t.Errorf("%s: genl does not print it", k)
				}
			}
		})
	}
}

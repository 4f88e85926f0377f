package family_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// dialNS returns a Conn inside a fresh network namespace.
func dialNS(t *testing.T) (*genl.Conn, *testutils.NS) {
	t.Helper()
	testutils.RequireKernel(t)
	ns := testutils.NetNS(t)
	c, err := genl.Dial(genl.WithNetNS(ns.Path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ns
}

func TestGetUnknownFamily(t *testing.T) {
	c, _ := dialNS(t)
	_, err := family.Get(context.Background(), c, "no-such-family")
	if !errors.Is(err, family.ErrNotFound) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	if want := `"no-such-family"`; !contains(err.Error(), want) {
		t.Fatalf("error %q does not name the family", err)
	}
	r, err := family.NewResolver(c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Family(context.Background(), "no-such-family"); !errors.Is(err, family.ErrNotFound) {
		t.Fatalf("resolver: got %v", err)
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestResolverSingleFlight(t *testing.T) {
	c, _ := dialNS(t)
	r, err := family.NewResolver(c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	names := []string{"nlctrl", "ethtool", "mptcp_pm", "tcp_metrics"}
	if _, err := family.Get(context.Background(), c, "netdev"); err == nil {
		names = append(names, "netdev") // 6.3 and newer
	} else if !errors.Is(err, family.ErrNotFound) || testutils.FamilyExpected("netdev") {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			name := names[i%len(names)]
			f, err := r.Family(context.Background(), name)
			if err != nil || f.Name != name {
				t.Errorf("Family(%s) = %v, %v", name, f, err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if n := r.Fetches(); n != uint64(len(names)) {
		t.Fatalf("%d kernel requests for %d names on a cold cache, want %[2]d", n, len(names))
	}
	// Cached now: no more requests.
	for _, n := range names {
		if _, err := r.Family(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.Fetches(); n != uint64(len(names)) {
		t.Fatalf("cached lookups reached the kernel: %d requests", n)
	}
}

// TestPolicyDumpOnlyOps checks that the policies of ops without a do
// handler, which nlctrl reports under command 0, are filed under their own
// command, in a dump of the whole family and of the one op.
func TestPolicyDumpOnlyOps(t *testing.T) {
	c, _ := dialNS(t)
	ctx := context.Background()
	cases := []struct {
		family string
		op     uint32
		attr   uint16 // an attribute the op's dump policy has
		typ    genl.AttrType
	}{
		{"netdev", netdev.CmdQstatsGet, netdev.AttrQstatsIfindex, genl.AttrTypeU32},
		{"nlctrl", unix.CTRL_CMD_GETPOLICY, unix.CTRL_ATTR_FAMILY_NAME, genl.AttrTypeNulString},
	}
	for _, tc := range cases {
		t.Run(tc.family, func(t *testing.T) {
			f, err := family.Get(ctx, c, tc.family)
			if err != nil {
				testutils.RequireBuiltinFamily(t, !errors.Is(err, family.ErrNotFound), tc.family)
				t.Fatal(err)
			}
			if o, ok := f.Op(tc.op); !ok || o.Flags&family.OpDo != 0 || o.Flags&family.OpHasPolicy == 0 {
				t.Fatalf("op %d is %+v, %v: not a dump-only op with a policy", tc.op, o, ok)
			}
			full, err := family.GetPolicy(ctx, c, tc.family, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := full.Op(0); ok {
				t.Errorf("policies filed under command 0: %+v", full.Ops)
			}
			var want []uint32
			for _, o := range f.Ops {
				if o.Flags&family.OpHasPolicy != 0 {
					want = append(want, o.ID)
				}
			}
			slices.Sort(want) // Policy.Ops are sorted by command
			var got []uint32
			for _, o := range full.Ops {
				got = append(got, o.Op)
			}
			if !slices.Equal(got, want) {
				t.Errorf("ops with a policy: got %v, GETFAMILY says %v", got, want)
			}
			all, ok := full.Op(tc.op)
			if !ok || all.Do != nil || all.Dump == nil {
				t.Fatalf("op %d in the whole dump: %+v", tc.op, all)
			}
			one, err := family.GetPolicy(ctx, c, tc.family, &tc.op)
			if err != nil {
				t.Fatal(err)
			}
			if len(one.Ops) != 1 || one.Ops[0].Op != tc.op || one.Ops[0].Do != nil || one.Ops[0].Dump == nil {
				t.Fatalf("op %d alone: %+v", tc.op, one.Ops)
			}
			// Table numbers are per dump; the attributes are the same.
			if a, b := policyAttrs(all.Dump), policyAttrs(one.Ops[0].Dump); !slices.Equal(a, b) {
				t.Errorf("op %d dump table: whole family %v, op alone %v", tc.op, a, b)
			}
			if a, ok := all.Dump.Attr(tc.attr); !ok || a.Type != tc.typ {
				t.Errorf("op %d dump attr %d: %v, %v", tc.op, tc.attr, a, ok)
			}
		})
	}
}

// policyAttrs describes a table's attributes without the table numbers
// they reference.
func policyAttrs(s *family.AttrSetPolicy) []string {
	var out []string
	for _, a := range s.Attrs {
		p := a.Policy
		p.PolicyIdx = 0
		out = append(out, fmt.Sprintf("%d: %v", a.Attr, p))
	}
	return out
}

// withoutUnvalidatedDumps returns want, the ops of f flagged has-policy,
// less those a kernel before 6.2 leaves out of the policy dump, got: ops
// with only a dump handler, whose dumps it does not validate (before the
// split ops of 6.2, GETFAMILY flags them from the family's policy alone).
func withoutUnvalidatedDumps(t *testing.T, f *family.Family, want, got []uint32) []uint32 {
	t.Helper()
	return slices.DeleteFunc(want, func(id uint32) bool {
		if slices.Contains(got, id) {
			return false
		}
		o, _ := f.Op(id)
		if o.Flags&family.OpDo != 0 {
			return false
		}
		t.Logf("%s: dump-only op %d flagged has-policy is not in the policy dump (kernel before 6.2)", f.Name, id)
		return true
	})
}

// TestPolicyEveryFamily dumps the policy of every family with an op that
// has one, on the host (read only) and in a namespace: each must line up
// with the family's op list.
func TestPolicyEveryFamily(t *testing.T) {
	testutils.RequireKernel(t)
	ctx := context.Background()
	for _, where := range []string{"netns", "host"} {
		t.Run(where, func(t *testing.T) {
			var opts []genl.Option
			if where == "netns" {
				opts = append(opts, genl.WithNetNS(testutils.NetNS(t).Path))
			}
			c, err := genl.Dial(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fams, err := family.List(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fams {
				var want []uint32
				for _, o := range f.Ops {
					if o.Flags&family.OpHasPolicy != 0 {
						want = append(want, o.ID)
					}
				}
				if len(want) == 0 {
					continue
				}
				slices.Sort(want) // Policy.Ops are sorted by command
				p, err := family.GetPolicy(ctx, c, f.Name, nil)
				if err != nil {
					t.Errorf("%s: %v", f.Name, err)
					continue
				}
				var got []uint32
				for _, o := range p.Ops {
					got = append(got, o.Op)
				}
				if !testutils.KernelAtLeast(t, "6.2") {
					want = withoutUnvalidatedDumps(t, f, want, got)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: ops with a policy %v, GETFAMILY says %v", f.Name, got, want)
				}
			}
		})
	}
}

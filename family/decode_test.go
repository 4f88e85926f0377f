package family

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// familyMessage encodes a CTRL_CMD_NEWFAMILY payload as the kernel builds
// it, with the fake controller's encoder.
func familyMessage(f Family) []byte {
	fake := genltest.Family{ID: f.ID, Name: f.Name, Version: f.Version, HeaderSize: f.HeaderSize, MaxAttr: f.MaxAttr}
	for _, o := range f.Ops {
		fake.Ops = append(fake.Ops, genltest.Op{ID: o.ID, Flags: uint32(o.Flags)})
	}
	for _, g := range f.Groups {
		fake.Groups = append(fake.Groups, genltest.Group{ID: g.ID, Name: g.Name})
	}
	return genltest.FamilyAttrs(fake)
}

func TestDecodeFamily(t *testing.T) {
	want := Family{ID: 0x14, Name: "netdev", Version: 1, MaxAttr: 9,
		Ops:    []Op{{ID: 1, Flags: OpDo | OpDump | OpHasPolicy}, {ID: 5, Flags: OpAdminPerm | OpDo}},
		Groups: []Group{{ID: 5, Name: "mgmt"}, {ID: 6, Name: "page-pool"}}}
	var got Family
	if err := decodeFamily(familyMessage(want), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name || got.ID != want.ID || got.Version != 1 || got.MaxAttr != 9 ||
		len(got.Ops) != 2 || got.Ops[1] != want.Ops[1] || len(got.Groups) != 2 || got.Groups[1] != want.Groups[1] {
		t.Fatalf("got %+v", got)
	}
	if g, err := got.Group("mgmt"); err != nil || g.ID != 5 {
		t.Fatalf("Group(mgmt) = %v, %v", g, err)
	}
	_, err := got.Group("nope")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "netdev") {
		t.Fatalf("Group(nope) = %v", err)
	}
	if err := got.CheckOp(5, "qstats", true); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("dump of a do-only op: %v", err)
	}
	if err := got.CheckOp(9, "nope", false); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("missing op: %v", err)
	}
	if err := got.CheckOp(1, "dev-get", true); err != nil {
		t.Fatal(err)
	}
	if s := got.Ops[0].Flags.String(); s != "do|dump|has-policy" {
		t.Fatalf("flags %q", s)
	}
}

// normal makes empty slices nil, for comparisons.
func normal(f Family) Family {
	if len(f.Ops) == 0 {
		f.Ops = nil
	}
	if len(f.Groups) == 0 {
		f.Groups = nil
	}
	return f
}

// big returns a family larger than every scratch and inline array.
func big() Family {
	f := Family{ID: 0x16, Name: "big", Version: 3}
	for i := range 70 {
		f.Ops = append(f.Ops, Op{ID: uint32(i + 1), Flags: OpDo})
	}
	for i := range 10 {
		f.Groups = append(f.Groups, Group{ID: uint32(0x30 + i), Name: strings.Repeat("g", 20+i)})
	}
	return f
}

// TestFamilyAlloc decodes families through one allocator, as List does,
// and checks each against the plain decoder and that they share nothing
// they should not.
func TestFamilyAlloc(t *testing.T) {
	fams := []Family{
		{ID: 0x10, Name: "nlctrl", Version: 2, Ops: []Op{{ID: 3, Flags: 0xe}, {ID: 10, Flags: 0xc}},
			Groups: []Group{{ID: 0x10, Name: "notify"}}},
		{ID: 0x11, Name: "VFS_DQUOT", Version: 1, MaxAttr: 7, Groups: []Group{{ID: 0x11, Name: "events"}}},
		{ID: 0x14, Name: "netdev", Version: 1, Ops: []Op{{ID: 1, Flags: 0xe}},
			Groups: []Group{{ID: 4, Name: "mgmt"}, {ID: 5, Name: strings.Repeat("long-name-", 30)}}},
		{ID: 0x15, Name: "bare"},
		big(),
	}
	for _, a := range []*familyAlloc{{}, listAlloc(), &newGetter().a} {
		var got []*Family
		for _, want := range fams {
			f, err := a.decode(familyMessage(want))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normal(*f), normal(want)) {
				t.Errorf("decoded %+v, want %+v", *f, want)
			}
			got = append(got, f)
		}
		// Appending to one family's slices must not write over another's.
		got[0].Ops = append(got[0].Ops, Op{ID: 99})
		got[0].Groups = append(got[0].Groups, Group{ID: 99})
		for i, f := range got[1:] {
			if !reflect.DeepEqual(normal(*f), normal(fams[i+1])) {
				t.Errorf("after appending to the first: %+v, want %+v", *f, fams[i+1])
			}
		}
	}
}

func TestDecodeFamilyErrors(t *testing.T) {
	var e attrs.Encoder
	e.String(unix.CTRL_ATTR_FAMILY_NAME, "x")
	e.U16(unix.CTRL_ATTR_FAMILY_ID, 0x20)
	ops := e.Nest(unix.CTRL_ATTR_OPS)
	n := e.Nest(1)
	e.U16(unix.CTRL_ATTR_OP_FLAGS, 3) // should be u32
	e.End(n)
	e.End(ops)
	var f Family
	err := decodeFamily(e.Bytes(), &f)
	if !errors.Is(err, attrs.ErrBadLength) || !strings.HasPrefix(err.Error(), "ops.1.flags: ") {
		t.Fatalf("got %v", err)
	}
	e.Reset(nil)
	e.String(unix.CTRL_ATTR_FAMILY_NAME, "x")
	if err := decodeFamily(e.Bytes(), &f); err == nil || !strings.Contains(err.Error(), "family-id") {
		t.Fatalf("missing id: %v", err)
	}
}

func FuzzDecodeFamily(f *testing.F) {
	f.Add(familyMessage(Family{ID: 0x10, Name: "nlctrl", Version: 2,
		Ops: []Op{{ID: 3, Flags: 0xe}}, Groups: []Group{{ID: 0x10, Name: "notify"}}}))
	f.Add(policyMessage())
	f.Fuzz(func(t *testing.T, b []byte) {
		var fam Family
		err := decodeFamily(b, &fam)
		// The two-pass decoder agrees with the plain one.
		for _, a := range []*familyAlloc{{}, listAlloc()} {
			got, err2 := a.decode(b)
			if (err == nil) != (err2 == nil) {
				t.Fatalf("decodeFamily: %v; familyAlloc.decode: %v", err, err2)
			}
			if err == nil && !reflect.DeepEqual(normal(*got), normal(fam)) {
				t.Fatalf("familyAlloc.decode %+v, decodeFamily %+v", *got, fam)
			}
		}
		var pb policyBuilder
		if pb.add(b) == nil {
			p := pb.policy()
			var sb strings.Builder
			_ = p.Print(&sb, nil)
		}
	})
}

// policyMessage encodes a GETPOLICY reply with an op table and two policy
// tables, the second nested in the first.
func policyMessage() []byte {
	var e attrs.Encoder
	e.U16(unix.CTRL_ATTR_FAMILY_ID, 0x14)
	ops := e.Nest(unix.CTRL_ATTR_OP_POLICY)
	op := e.Nest(1)
	e.U32(unix.CTRL_ATTR_POLICY_DO, 0)
	e.U32(unix.CTRL_ATTR_POLICY_DUMP, 1)
	e.End(op)
	e.End(ops)
	pol := e.Nest(unix.CTRL_ATTR_POLICY)
	t0 := e.Nest(0)
	a := e.Nest(1)
	e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_U32)
	e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U, unix.NL_POLICY_TYPE_ATTR_PAD, 1)
	e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U, unix.NL_POLICY_TYPE_ATTR_PAD, 4294967295)
	e.End(a)
	a = e.Nest(2)
	e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_NESTED)
	e.U32(unix.NL_POLICY_TYPE_ATTR_POLICY_IDX, 1)
	e.U32(unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, 3)
	e.End(a)
	e.End(t0)
	t1 := e.Nest(1)
	a = e.Nest(3)
	e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_NUL_STRING)
	e.U32(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH, 15)
	e.End(a)
	e.End(t1)
	e.End(pol)
	return e.Bytes()
}

func TestDecodePolicy(t *testing.T) {
	var b policyBuilder
	if err := b.add(policyMessage()); err != nil {
		t.Fatal(err)
	}
	p := b.policy()
	op, ok := p.Op(1)
	if !ok || op.Do == nil || op.Dump == nil || op.Do.Index != 0 || op.Dump.Index != 1 {
		t.Fatalf("op policy %+v", op)
	}
	a, ok := op.Do.Attr(2)
	if !ok || a.Nested == nil || a.Nested != p.Set(1) || a.PolicyMaxType != 3 {
		t.Fatalf("nested attr %+v", a)
	}
	var sb strings.Builder
	if err := p.Print(&sb, func(uint32) string { return "dev-get" }); err != nil {
		t.Fatal(err)
	}
	want := `op dev-get (1)
  do: policy 0
    attr 1: u32 range [1, 4294967295]
    attr 2: nested policy 1 maxattr 3
      attr 3: nul-string max-len 15
  dump: policy 1
    attr 3: nul-string max-len 15
`
	if sb.String() != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", sb.String(), want)
	}
}

func TestFileOps(t *testing.T) {
	do, dump, pol := OpDo, OpDump, OpHasPolicy
	fam := &Family{Name: "x", Ops: []Op{
		{ID: 1, Flags: do | dump | pol},
		{ID: 2, Flags: dump},       // no policy: not in the dump
		{ID: 3, Flags: dump | pol}, // dump only: under command 0
		{ID: 4, Flags: do | pol},
		{ID: 5, Flags: dump | pol}, // dump only: under command 0
	}}
	one := uint32(3)
	cases := []struct {
		name string
		op   *uint32
		f    *Family
		in   []uint32 // commands of the entries, in dump order
		want []uint32 // after filing; nil for an error
	}{
		{"whole family", nil, fam, []uint32{1, 0, 4, 0}, []uint32{1, 3, 4, 5}},
		{"already filed", nil, fam, []uint32{1, 3, 4, 5}, []uint32{1, 3, 4, 5}},
		{"one op under 0", &one, nil, []uint32{0}, []uint32{3}},
		{"no op list needed", nil, nil, []uint32{1, 4}, []uint32{1, 4}},
		{"an entry too many", nil, fam, []uint32{1, 0, 4, 0, 0}, nil},
		{"an entry too few", nil, fam, []uint32{1, 0, 4}, nil},
		{"wrong op", nil, fam, []uint32{1, 0, 6, 0}, nil},
		{"0 for an op with do", nil, fam, []uint32{0, 0, 4, 0}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b policyBuilder
			for _, op := range tc.in {
				b.p.Ops = append(b.p.Ops, OpPolicy{Op: op})
			}
			err := b.fileOps(tc.op, tc.f)
			if tc.want == nil {
				if !errors.Is(err, errOpsMismatch) {
					t.Fatalf("got %v, want errOpsMismatch", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []uint32
			for _, o := range b.policy().Ops {
				got = append(got, o.Op)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("filed under %v, want %v", got, tc.want)
			}
		})
	}
}

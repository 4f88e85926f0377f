package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/spec"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A fakeAttr is one attribute of a fake policy table: its number and its
// NL_POLICY_TYPE_ATTR_* attributes.
type fakeAttr struct {
	attr uint16
	enc  func(e *attrs.Encoder)
}

func pType(attr uint16, t genl.AttrType, more ...func(e *attrs.Encoder)) fakeAttr {
	return fakeAttr{attr, func(e *attrs.Encoder) {
		e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, uint32(t))
		for _, m := range more {
			m(e)
		}
	}}
}

func rangeU(lo, hi uint64) func(e *attrs.Encoder) {
	return func(e *attrs.Encoder) {
		e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U, unix.NL_POLICY_TYPE_ATTR_PAD, lo)
		e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U, unix.NL_POLICY_TYPE_ATTR_PAD, hi)
	}
}

func rangeS(lo, hi int64) func(e *attrs.Encoder) {
	return func(e *attrs.Encoder) {
		e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S, unix.NL_POLICY_TYPE_ATTR_PAD, uint64(lo))
		e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S, unix.NL_POLICY_TYPE_ATTR_PAD, uint64(hi))
	}
}

func lens(lo, hi uint32) func(e *attrs.Encoder) {
	return func(e *attrs.Encoder) {
		if lo != 0 {
			e.U32(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH, lo)
		}
		e.U32(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH, hi)
	}
}

func nestIdx(idx, maxType uint32) func(e *attrs.Encoder) {
	return func(e *attrs.Encoder) {
		e.U32(unix.NL_POLICY_TYPE_ATTR_POLICY_IDX, idx)
		e.U32(unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, maxType)
	}
}

func mask(m uint64) func(e *attrs.Encoder) {
	return func(e *attrs.Encoder) {
		e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MASK, unix.NL_POLICY_TYPE_ATTR_PAD, m)
	}
}

// A fakePolicy is what a fake nlctrl reports for one family.
type fakePolicy struct {
	fam    genltest.Family
	ops    map[uint32][2]int // command → do and dump table (-1: none)
	tables map[uint32][]fakeAttr
}

// messages encodes the policy as GETPOLICY replies: the op table, then
// one message per policy table.
func (p fakePolicy) messages() [][]byte {
	var msgs [][]byte
	var e attrs.Encoder
	e.U16(unix.CTRL_ATTR_FAMILY_ID, p.fam.ID)
	ops := e.Nest(unix.CTRL_ATTR_OP_POLICY)
	for _, cmd := range sortedKeys(p.ops) {
		n := e.Nest(uint16(cmd))
		if t := p.ops[cmd]; t[0] >= 0 {
			e.U32(unix.CTRL_ATTR_POLICY_DO, uint32(t[0]))
		}
		if t := p.ops[cmd]; t[1] >= 0 {
			e.U32(unix.CTRL_ATTR_POLICY_DUMP, uint32(t[1]))
		}
		e.End(n)
	}
	e.End(ops)
	msgs = append(msgs, e.Bytes())
	for _, idx := range sortedKeys(p.tables) {
		var e attrs.Encoder
		e.U16(unix.CTRL_ATTR_FAMILY_ID, p.fam.ID)
		pol := e.Nest(unix.CTRL_ATTR_POLICY)
		t := e.Nest(uint16(idx))
		for _, a := range p.tables[idx] {
			n := e.Nest(a.attr)
			a.enc(&e)
			e.End(n)
		}
		e.End(t)
		e.End(pol)
		msgs = append(msgs, e.Bytes())
	}
	return msgs
}

func sortedKeys[V any](m map[uint32]V) []uint32 {
	var ks []uint32
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// fakeDraft serves p from a fake kernel, asks it for the family and its
// policy as genlkit spec does, and drafts the spec.
func fakeDraft(t *testing.T, p fakePolicy, desc *family.Descriptor) ([]byte, error) {
	t.Helper()
	k := genltest.New()
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		switch r.Genl.Command {
		case unix.CTRL_CMD_GETFAMILY:
			msgs := [][]byte{genltest.Reply(r, unix.CTRL_CMD_NEWFAMILY, genltest.FamilyAttrs(p.fam))}
			if r.Header.Flags&netlink.Acknowledge != 0 {
				msgs = append(msgs, genltest.Ack(r))
			}
			k.Push(msgs...)
		case unix.CTRL_CMD_GETPOLICY:
			if p.ops == nil {
				// No op has a policy: the dump does not start.
				k.Push(genltest.Error(r, unix.ENODATA, nil))
				return
			}
			var msgs [][]byte
			for _, m := range p.messages() {
				msgs = append(msgs, genltest.ReplyMulti(r, unix.CTRL_CMD_GETPOLICY, m, 0))
			}
			k.Push(append(msgs, genltest.Done(r, 0, 0, nil))...)
		default:
			k.Push(genltest.Error(r, unix.EOPNOTSUPP, nil))
		}
	})
	c, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := family.Get(ctx, c, p.fam.Name)
	if err != nil {
		t.Fatal(err)
	}
	return draftLive(ctx, c, f, desc)
}

const (
	capDo   = unix.GENL_CMD_CAP_DO
	capDump = unix.GENL_CMD_CAP_DUMP
	capPol  = unix.GENL_CMD_CAP_HASPOL
)

// acmePolicy is a family whose policy has every shape a draft handles.
func acmePolicy() fakePolicy {
	return fakePolicy{
		fam: genltest.Family{ID: 0x30, Name: "ACME", Version: 2, MaxAttr: 12, HeaderSize: 4,
			Ops: []genltest.Op{
				{ID: 1, Flags: capDo | capPol | unix.GENL_ADMIN_PERM},
				{ID: 2, Flags: capDump | capPol | unix.GENL_UNS_ADMIN_PERM},
				{ID: 3, Flags: capDo | capDump | capPol},
				{ID: 4, Flags: capDo},
			},
			Groups: []genltest.Group{{ID: 0x31, Name: "acme_events"}}},
		ops: map[uint32][2]int{1: {0, -1}, 2: {-1, 1}, 3: {2, 3}},
		tables: map[uint32][]fakeAttr{
			0: {
				pType(1, genl.AttrTypeU32, rangeU(1, 100)),
				pType(2, genl.AttrTypeNulString, lens(0, 15)),
				pType(3, genl.AttrTypeNested, nestIdx(4, 2)),
				pType(4, genl.AttrTypeS32, rangeS(-5, 5)),
				pType(5, genl.AttrTypeU64, mask(0x5)),
				pType(6, genl.AttrTypeBinary, lens(4, 4)),
				pType(7, genl.AttrTypeNestedArray, nestIdx(4, 2)),
				pType(8, genl.AttrTypeFlag),
				pType(9, genl.AttrTypeBitfield32, func(e *attrs.Encoder) { e.U32(unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK, 3) }),
				pType(10, genl.AttrTypeNested),
				pType(11, genl.AttrTypeUint, rangeU(0, 1<<64-1)),
				pType(12, genl.AttrTypeSint, rangeS(-1<<63, 1<<63-1)),
			},
			// The dump of op 2: attribute 1 with the full range joins
			// table 0 (the bound widens to none).
			1:  {pType(1, genl.AttrTypeU32, rangeU(0, 1<<32-1)), pType(13, genl.AttrTypeNested, nestIdx(5, 2))},
			4:  {pType(1, genl.AttrTypeU16, rangeU(0, 65535)), pType(2, genl.AttrTypeNested, nestIdx(4, 2))},
			5:  {pType(1, genl.AttrTypeU16, rangeU(0, 65535)), pType(2, genl.AttrTypeNested, nestIdx(5, 2))},
			2:  {pType(1, genl.AttrTypeString, lens(0, 8)), pType(2, genl.AttrTypeU8, rangeU(0, 7))},
			3:  {pType(1, genl.AttrTypeU32), pType(2, genl.AttrTypeU8, rangeU(0, 7))},
			99: {pType(1, genl.AttrTypeU8)}, // unused
		},
	}
}

// TestDraftFakeKernel drafts a spec from a hand-built policy served by the
// fake kernel, and checks what the draft says and that the strict parser
// takes it.
func TestDraftFakeKernel(t *testing.T) {
	out, err := fakeDraft(t, acmePolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if again, err := fakeDraft(t, acmePolicy(), nil); err != nil || string(again) != string(out) {
			t.Fatalf("a second draft differs (%v):\n%s\nthe first:\n%s", err, again, out)
		}
	}
	f, err := spec.Parse("acme.yaml", out)
	if err != nil {
		t.Fatalf("the draft does not parse: %v\n%s", err, out)
	}
	d := f.Descriptor()
	if d.Protocol != "genetlink-legacy" || d.Version != 2 || !slices.Equal(d.Groups, []string{"acme_events"}) {
		t.Errorf("protocol %s, version %d, groups %v", d.Protocol, d.Version, d.Groups)
	}
	if h := d.Struct(d.Header); h == nil || len(h.Members) != 1 || h.Members[0].Len != 4 {
		t.Errorf("fixed header %q: %+v", d.Header, h)
	}
	// Ops: forms and permissions as the kernel says.
	for _, tc := range []struct {
		name, set string
		do, dump  []string // request attributes, nil for no form
		flags     []string
	}{
		{"cmd-1", "acme", []string{"attr-1", "attr-2", "attr-3", "attr-4", "attr-5", "attr-6", "attr-7", "attr-8", "attr-9", "attr-10", "attr-11", "attr-12"}, nil, []string{"admin-perm"}},
		{"cmd-2", "acme", nil, []string{"attr-1", "attr-13"}, []string{"uns-admin-perm"}},
		{"cmd-3", "acme-2", []string{"attr-1", "attr-2"}, []string{"attr-2"}, nil},
		{"cmd-4", "acme", []string{}, nil, nil},
	} {
		op := d.Op(tc.name)
		if op == nil {
			t.Errorf("no op %s:\n%s", tc.name, out)
			continue
		}
		req := func(m *family.OpMsgDesc) []string {
			if m == nil {
				return nil
			}
			return append([]string{}, m.Request...)
		}
		if op.Set != tc.set || !slices.Equal(req(op.Do), tc.do) || !slices.Equal(req(op.Dump), tc.dump) || !slices.Equal(op.Flags, tc.flags) {
			t.Errorf("op %s: set %s, do %v, dump %v, flags %v; want %s, %v, %v, %v", tc.name, op.Set, req(op.Do), req(op.Dump), op.Flags, tc.set, tc.do, tc.dump, tc.flags)
		}
	}
	if op := d.Op("cmd-3"); op == nil || !strings.Contains(f.Op("cmd-3").Doc, "attributes 1 disagree") {
		t.Errorf("cmd-3's doc does not say which dump attribute was left out:\n%s", out)
	}
	// Attributes: types and checks from the policy.
	set := d.Set("acme")
	for _, tc := range []struct {
		v               uint16
		typ, sub, check string
	}{
		{1, "u32", "", ""}, // widened by op 2's dump table
		{2, "string", "", "max-len 15"},
		{3, "nest", "", "nest acme-attr-3"},
		{4, "s32", "", "min -5 max 5"},
		{5, "u64", "", "enum acme-attr-5-mask"},
		{6, "binary", "", "exact-len 4"},
		{7, "indexed-array", "nest", "nest acme-attr-3"}, // table 4, shared
		{8, "flag", "", ""},
		{9, "bitfield32", "", "enum acme-attr-9-mask"},
		{10, "nest", "", "nest acme-attr-10"}, // no policy: an empty set
		{11, "uint", "", ""},
		{12, "sint", "", ""},
		{13, "nest", "", "nest acme-attr-3"}, // table 5 equals table 4
	} {
		a := set.AttrByValue(tc.v)
		if a == nil {
			t.Errorf("attribute %d missing", tc.v)
			continue
		}
		var got []string
		if a.Nested != "" {
			got = append(got, "nest "+a.Nested)
		}
		if a.Enum != "" {
			got = append(got, "enum "+a.Enum)
		}
		if c := a.Checks; c != nil {
			if c.Min.Set {
				got = append(got, "min "+c.Min.String())
			}
			if c.Max.Set {
				got = append(got, "max "+c.Max.String())
			}
			if c.MaxLen.Set {
				got = append(got, "max-len "+c.MaxLen.String())
			}
			if c.ExactLen.Set {
				got = append(got, "exact-len "+c.ExactLen.String())
			}
		}
		if a.Type != tc.typ || a.SubType != tc.sub || strings.Join(got, " ") != tc.check {
			t.Errorf("attribute %d: %s/%s %q, want %s/%s %q", tc.v, a.Type, a.SubType, strings.Join(got, " "), tc.typ, tc.sub, tc.check)
		}
	}
	if e := d.Enum("acme-attr-5-mask"); e == nil || !e.Flags || len(e.Entries) != 2 {
		t.Errorf("mask enum: %+v", e)
	}
	nested := d.Set("acme-attr-3")
	if a := nested.AttrByValue(2); a == nil || a.Nested != "acme-attr-3" {
		t.Errorf("the recursive nest: %+v", a)
	}
	if len(d.Sets) != 4 {
		var names []string
		for _, s := range d.Sets {
			names = append(names, s.Name)
		}
		t.Errorf("sets %v, want acme, acme-attr-3, acme-attr-10, acme-2", names)
	}
	validateSchema(t, map[string][]byte{"acme.yaml": out})
	generateAndVet(t, map[string][]byte{"acme.yaml": out})
}

// TestDraftKnownNames: a descriptor names what it knows where the kernel's
// types agree; an attribute whose type disagrees keeps its placeholder.
func TestDraftKnownNames(t *testing.T) {
	p := fakePolicy{
		fam: genltest.Family{ID: 0x30, Name: "kn", Version: 1,
			Ops: []genltest.Op{{ID: 1, Flags: capDo | capPol}, {ID: 2, Flags: capDo | capPol}}},
		ops: map[uint32][2]int{1: {0, -1}, 2: {0, -1}},
		tables: map[uint32][]fakeAttr{
			0: {pType(1, genl.AttrTypeU32), pType(2, genl.AttrTypeNested, nestIdx(1, 1)), pType(3, genl.AttrTypeU8)},
			1: {pType(1, genl.AttrTypeNulString)},
		},
	}
	desc := &family.Descriptor{Name: "kn", Protocol: "genetlink",
		Ops: []family.OpDesc{{Name: "get", Value: 1, Set: "main", Do: &family.OpMsgDesc{RequestValue: 1}}},
		Sets: []family.SetDesc{
			{Name: "main", Attrs: []family.AttrDesc{{Name: "id", Value: 1, Type: "u32"}, {Name: "info", Value: 2, Type: "nest", Nested: "info"}, {Name: "wide", Value: 3, Type: "u64"}}},
			{Name: "info", Attrs: []family.AttrDesc{{Name: "label", Value: 1, Type: "string"}}},
		}}
	out, err := fakeDraft(t, p, desc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := spec.Parse("kn.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d := f.Descriptor()
	if d.Protocol != "genetlink" || d.Op("get") == nil || d.Op("cmd-2") == nil || d.Op("get").Set != "main" {
		t.Fatalf("ops and protocol:\n%s", out)
	}
	main := d.Set("main")
	for v, want := range map[uint16]string{1: "id", 2: "info", 3: "attr-3"} {
		if a := main.AttrByValue(v); a == nil || a.Name != want {
			t.Errorf("attribute %d: %+v, want %s", v, a, want)
		}
	}
	if s := d.Set("info"); s == nil || s.AttrByValue(1) == nil || s.AttrByValue(1).Name != "label" {
		t.Errorf("nested set info: %+v\n%s", s, out)
	}
}

// TestDraftOddPolicies: policies a spec cannot express fail with an
// error naming the family, the op and the attribute; none panics.
func TestDraftOddPolicies(t *testing.T) {
	one := func(attrs ...fakeAttr) fakePolicy {
		return fakePolicy{
			fam:    genltest.Family{ID: 0x30, Name: "odd", Version: 1, Ops: []genltest.Op{{ID: 7, Flags: capDo | capPol}}},
			ops:    map[uint32][2]int{7: {0, -1}},
			tables: map[uint32][]fakeAttr{0: attrs, 1: {pType(1, genl.AttrType(77))}},
		}
	}
	drafts := map[string][]byte{}
	for _, tc := range []struct {
		name string
		p    fakePolicy
		want string // "" for a draft that parses and generates
	}{
		{"unknown type", one(pType(3, genl.AttrType(99))), "family odd: op cmd-7 (7) do: attribute 3: kernel policy type type(99) has no YNL type"},
		{"unknown type in a nest", one(pType(2, genl.AttrTypeNested, nestIdx(1, 1))), "op cmd-7 (7) do: attribute 2.1: kernel policy type type(77)"},
		{"attribute 0", one(pType(0, genl.AttrTypeU8)), "attribute 0: attribute type 0 cannot be in a spec"},
		{"empty range", one(pType(4, genl.AttrTypeU32, rangeU(9, 3))), "attribute 4: u32 range [9, 3] is empty or beyond the type"},
		{"range beyond the type", one(pType(4, genl.AttrTypeU8, rangeU(0, 1000))), "attribute 4: u8 range [0, 1000]"},
		{"signed range beyond the type", one(pType(4, genl.AttrTypeS8, rangeS(-1000, 0))), "attribute 4: s8 range [-1000, 0]"},
		{"empty lengths", one(pType(5, genl.AttrTypeBinary, lens(8, 4))), "attribute 5: binary length bounds min 8, max 4 are empty"},
		{"twice", one(pType(5, genl.AttrTypeU8), pType(5, genl.AttrTypeU8)), "attribute 5: the policy lists attribute 5 twice"},
		{"mask of nothing", one(pType(5, genl.AttrTypeU32, mask(0))), ""},
		{"bounds on a flag", one(pType(5, genl.AttrTypeFlag, rangeU(1, 2), lens(1, 2))), ""},
		{"nest of a missing table", one(pType(2, genl.AttrTypeNested, nestIdx(42, 3))), ""},
		{"no attributes", one(), ""},
		{"no policy at all", fakePolicy{fam: genltest.Family{ID: 0x30, Name: "odd", Version: 1,
			Ops: []genltest.Op{{ID: 1, Flags: capDump}, {ID: 2, Flags: capDo | unix.GENL_ADMIN_PERM}}}}, ""},
		{"no ops", fakePolicy{fam: genltest.Family{ID: 0x30, Name: "odd", Version: 1, Groups: []genltest.Group{{ID: 9, Name: "events"}}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := fakeDraft(t, tc.p, nil)
			if err == nil {
				drafts[strings.ReplaceAll(tc.name, " ", "-")+".yaml"] = out
			}
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := spec.Parse("odd.yaml", out); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
	validateSchema(t, drafts)
	generateAndVet(t, drafts)
}

// validateSchema checks drafts against the kernel's JSON schemas with
// python3's jsonschema, when it is installed.
func validateSchema(t *testing.T, drafts map[string][]byte) {
	t.Helper()
	const script = `
import sys, yaml, jsonschema
schemas = sys.argv[1]
bad = 0
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    schema = yaml.safe_load(open(schemas + "/" + doc.get("protocol", "genetlink") + ".yaml"))
    try:
        jsonschema.validate(doc, schema)
    except jsonschema.ValidationError as e:
        print(path, ":", e.message, "at", list(e.absolute_path))
        bad += 1
sys.exit(1 if bad else 0)
`
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Log("skipping the schema check: no python3")
		return
	}
	if err := exec.Command(py, "-c", "import yaml, jsonschema").Run(); err != nil {
		t.Log("skipping the schema check: python3 lacks yaml or jsonschema")
		return
	}
	dir := t.TempDir()
	args := []string{"-c", script, filepath.Join(specsDirOrSkip(t), "schemas")}
	for name, data := range drafts {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		t.Errorf("the drafts do not validate against the schema: %v\n%s", err, out)
	}
}

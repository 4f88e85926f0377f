package spec_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
)

// minimal is the smallest valid genetlink spec.
const minimal = `# SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
name: test
doc: Test family.
attribute-sets:
  -
    name: main
    attributes:
      -
        name: a
        type: u32
operations:
  list:
    -
      name: get
      doc: Get.
      attribute-set: main
      do:
        request:
          attributes: [a]
`

func mustParse(t *testing.T, src string) *spec.Family {
	t.Helper()
	f, err := spec.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func names(attrs []*spec.Attribute) string {
	var s []string
	for _, a := range attrs {
		s = append(s, a.Name)
	}
	return strings.Join(s, ",")
}

func pairs(vals []spec.NamedValue) string {
	var s []string
	for _, v := range vals {
		s = append(s, fmt.Sprintf("%s=%s", v.Name, v.Value))
	}
	return strings.Join(s, " ")
}

func attrValues(s *spec.AttributeSet) string {
	var out []string
	for _, a := range s.Attributes {
		out = append(out, fmt.Sprintf("%s=%d", a.Name, a.Value))
	}
	return strings.Join(out, " ")
}

func TestMinimal(t *testing.T) {
	f := mustParse(t, minimal)
	if f.Name != "test" || f.Protocol != spec.ProtocolGenetlink || f.Version != 1 || f.VersionSet {
		t.Errorf("family = %q %s v%d", f.Name, f.Protocol, f.Version)
	}
	if f.UAPIHeader != "linux/test.h" || f.KernelPolicy != spec.KernelPolicySplit || f.Operations.EnumModel != spec.EnumModelUnified {
		t.Errorf("defaults: %q %s %s", f.UAPIHeader, f.KernelPolicy, f.Operations.EnumModel)
	}
	if f.License != "((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)" {
		t.Errorf("License = %q", f.License)
	}
	op := f.Op("get")
	if op.RequestValue != 1 || op.ReplyValue != 1 || op.Set != f.AttributeSet("main") || names(op.Do.Request.Attributes) != "a" {
		t.Errorf("op = %+v", op)
	}
	if op.Do.Request.Value != 1 || !op.Do.Request.HasValue {
		t.Errorf("request value = %d", op.Do.Request.Value)
	}
	if p := op.Pos; p != (spec.Pos{File: "test.yaml", Line: 14, Col: 7}) {
		t.Errorf("op pos = %v", p)
	}
	if p := op.KeyPos("attribute-set"); p.String() != "test.yaml:16:22" {
		t.Errorf("attribute-set pos = %v", p)
	}
	if !op.Has("do") || op.Has("dump") {
		t.Error("Has")
	}
	if f.Definition("x") != nil || f.Op("x") != nil || f.AttributeSet("x") != nil || f.McastGroup("x") != nil {
		t.Error("lookup of unknown names must return nil")
	}
}

func TestAttributeValuesImplicitExplicit(t *testing.T) {
	f := mustParse(t, `
name: test
doc: d
attribute-sets:
  - name: s
    attributes:
      - {name: unspec, type: unused, value: 0}
      - {name: a, type: u8}
      - {name: b, type: u16, value: 5}
      - {name: c, type: string}
      - {name: d, type: flag, value: 3}
      - {name: e, type: u64}
operations:
  list: []
`)
	s := f.AttributeSet("s")
	if got := attrValues(s); got != "unspec=0 a=1 b=5 c=6 d=3 e=4" {
		t.Errorf("values = %s", got)
	}
	if s.ByValue(6).Name != "c" || s.ByValue(2) != nil || s.MaxValue() != 6 {
		t.Errorf("ByValue/MaxValue wrong")
	}
}

func TestEnumsAndFlags(t *testing.T) {
	f := mustParse(t, `
name: test
doc: d
definitions:
  - name: base
    type: const
    value: 100
  - name: e
    type: enum
    value-start: 10
    entries: [a, b, {name: c, value: 20, doc: C.}, d]
  - name: from-const
    type: enum
    value-start: base
    entries: [x, y]
  - name: fl
    type: flags
    value-start: 2
    entries: [p, q, {name: r, value: 7}, s]
  - name: plain
    type: flags
    entries: [one, two]
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u32, enum: e}
      - {name: b, type: u32, enum: e, enum-as-flags: true}
operations:
  list: []
`)
	e := f.Definition("e")
	if got := pairs(e.Values()); got != "a=10 b=11 c=20 d=21" {
		t.Errorf("enum = %s", got)
	}
	if e.Entry("c").Doc != "C." || e.ValueStart != 10 {
		t.Errorf("entry c = %+v", e.Entry("c"))
	}
	if got := pairs(f.Definition("from-const").Values()); got != "x=100 y=101" {
		t.Errorf("from-const = %s", got)
	}
	fl := f.Definition("fl")
	if got := pairs(fl.Values()); got != "p=4 q=8 r=128 s=256" {
		t.Errorf("flags = %s", got)
	}
	if fl.Entry("q").Value != 3 || fl.Mask() != 4|8|128|256 {
		t.Errorf("flag bit / mask = %d %#x", fl.Entry("q").Value, fl.Mask())
	}
	if got := pairs(f.Definition("plain").Values()); got != "one=1 two=2" {
		t.Errorf("plain flags = %s", got)
	}
	if got := pairs(e.FlagValues()); !strings.HasPrefix(got, "a=1024 b=2048") {
		t.Errorf("enum as flags = %s", got)
	}
	if b := f.AttributeSet("s").Attribute("b"); b.EnumDef != e || !b.EnumAsFlags {
		t.Errorf("b = %+v", b)
	}
}

func TestSubset(t *testing.T) {
	f := mustParse(t, `
name: test
doc: d
protocol: genetlink-c
attribute-sets:
  - name: outer
    attributes:
      - {name: id, type: u32, doc: The id., checks: {min: 1}}
      - {name: nest, type: nest, nested-attributes: outer}
      - {name: name, type: string, value: 10}
      - {name: flags, type: u32}
  - name: outer-sub
    subset-of: outer
    enum-name:
    attributes:
      - {name: name}
      - name: nest
        nested-attributes: outer-sub
      - {name: id, doc: Overridden., value: 1}
  - name: sub-sub
    subset-of: outer-sub
    attributes:
      - {name: nest}
operations:
  list:
    - name: get
      doc: Get.
      attribute-set: outer-sub
      do:
        request: {attributes: [id, nest]}
`)
	sub := f.AttributeSet("outer-sub")
	outer := f.AttributeSet("outer")
	if sub.Parent != outer || sub.EnumName == nil || *sub.EnumName != "" {
		t.Fatalf("parent = %v, enum-name %v", sub.Parent, sub.EnumName)
	}
	if got := attrValues(sub); got != "name=10 nest=2 id=1" {
		t.Errorf("subset values = %s", got)
	}
	id := sub.Attribute("id")
	if id.Type != spec.TypeU32 || id.Doc != "Overridden." || id.Checks == nil || id.Checks.Min.Value != spec.IntOf(1) || id.Set != sub || id.Parent != outer.Attribute("id") {
		t.Errorf("id = %+v", id)
	}
	if outer.Attribute("id").Doc != "The id." {
		t.Error("subset override leaked into the parent")
	}
	nest := sub.Attribute("nest")
	if nest.Type != spec.TypeNest || nest.Nested != sub || outer.Attribute("nest").Nested != outer {
		t.Errorf("nest nested = %v", nest.Nested)
	}
	if ss := f.AttributeSet("sub-sub"); ss.Root() != outer || ss.Attribute("nest").Nested != sub || ss.Attribute("nest").Value != 2 {
		t.Errorf("sub-sub = %+v", ss.Attribute("nest"))
	}
	if sub.Attribute("flags") != nil || sub.ByValue(11) != nil {
		t.Error("subset has attributes it does not list")
	}
	if op := f.Op("get"); op.Do.Request.Attributes[0] != id {
		t.Errorf("op request attrs not from the subset")
	}
}

func TestDirectional(t *testing.T) {
	f := mustParse(t, `
name: test
doc: d
protocol: genetlink-legacy
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u32}
operations:
  enum-model: directional
  list:
    - name: get
      doc: Get.
      attribute-set: s
      do:
        request: {value: 3, attributes: [a]}
        reply: {value: 1, attributes: [a]}
      dump:
        reply: {attributes: [a]}
    - name: set
      doc: Set, no reply.
      attribute-set: s
      do:
        request: {attributes: [a]}
    - name: ntf
      doc: Notification.
      notify: get
    - name: act
      doc: Request and reply.
      attribute-set: s
      do:
        request: {attributes: [a]}
        reply: {attributes: [a]}
    - name: ev
      doc: Event with explicit value.
      attribute-set: s
      value: 10
      event: {attributes: [a]}
    - name: odd
      doc: Dump with a different reply value.
      attribute-set: s
      do:
        request: {attributes: [a]}
        reply: {attributes: [a]}
      dump:
        request: {attributes: [a]}
        reply: {value: 1, attributes: [a]}
`)
	for _, tc := range []struct {
		op       string
		req, rsp int
	}{
		{"get", 3, 1},
		{"set", 4, -1},
		{"ntf", -1, 2},
		{"act", 5, 3},
		{"ev", -1, 10},
		{"odd", 6, 11},
	} {
		op := f.Op(tc.op)
		req, rsp := -1, -1
		if op.HasRequestValue {
			req = int(op.RequestValue)
		}
		if op.HasReplyValue {
			rsp = int(op.ReplyValue)
		}
		if req != tc.req || rsp != tc.rsp {
			t.Errorf("%s: request %d reply %d, want %d %d", tc.op, req, rsp, tc.req, tc.rsp)
		}
	}
	odd := f.Op("odd")
	if odd.Dump.Reply.Value != 1 || odd.Do.Reply.Value != 11 || odd.Dump.Request.Value != 6 {
		t.Errorf("odd message values: dump reply %d do reply %d", odd.Dump.Reply.Value, odd.Do.Reply.Value)
	}
	if f.Op("get").Dump.Reply.Value != 1 {
		t.Errorf("get dump reply = %d", f.Op("get").Dump.Reply.Value)
	}
	if ops := f.OpsByReplyValue(1); len(ops) != 2 || ops[0].Name != "get" || ops[1].Name != "odd" {
		t.Errorf("OpsByReplyValue(1) = %v", ops)
	}
	if f.OpByRequestValue(4).Name != "set" || f.OpByRequestValue(2) != nil {
		t.Error("OpByRequestValue")
	}
	if ntf := f.Op("ntf"); ntf.Set != f.AttributeSet("s") || names(ntf.NotifyAttributes()) != "a" {
		t.Errorf("ntf = %+v", ntf)
	}
}

func TestUnifiedValues(t *testing.T) {
	f := mustParse(t, `
name: test
doc: d
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u32}
mcast-groups:
  list:
    - name: mon
operations:
  list:
    - name: unspec
      doc: Reserved.
      value: 0
    - name: get
      doc: Get.
      attribute-set: s
      do: {request: {attributes: [a]}, reply: {attributes: [a]}}
    - name: ntf
      doc: Ntf.
      notify: get
      mcgrp: mon
    - name: set
      doc: Set.
      value: 8
      attribute-set: s
      dump: {request: {attributes: []}}
    - name: after
      doc: After.
      attribute-set: s
      event: {attributes: [a]}
`)
	got := []string{}
	for _, op := range f.Operations.List {
		got = append(got, fmt.Sprintf("%s=%d/%d", op.Name, op.RequestValue, op.ReplyValue))
	}
	if s := strings.Join(got, " "); s != "unspec=0/0 get=1/1 ntf=2/2 set=8/8 after=9/9" {
		t.Errorf("values = %s", s)
	}
	if !f.Op("unspec").IsReserved() || f.Op("unspec").Set != nil || !f.Op("ntf").IsAsync() || !f.Op("get").IsCall() {
		t.Error("op kinds")
	}
	if f.Op("ntf").McastGrp != f.McastGroup("mon") || f.Op("after").Event.Value != 9 {
		t.Error("ntf mcgrp / event value")
	}
	if req := f.Op("set").Dump.Request; req == nil || len(req.Attributes) != 0 || req.Value != 8 {
		t.Errorf("set dump request = %+v", req)
	}
}

func TestStructsAndBounds(t *testing.T) {
	f := mustParse(t, `
name: test
doc: d
protocol: genetlink-legacy
version: 3
kernel-policy: per-op
definitions:
  - {name: key-len, type: const, value: 32, name-prefix: xx-}
  - {name: big, type: const, value: 0xffffffffffffffff}
  - {name: str-const, type: const, value: "hello"}
  - {name: e, type: enum, entries: [a, b]}
  - name: inner
    type: struct
    members:
      - {name: x, type: u16}
      - {name: y, type: u16, byte-order: big-endian}
  - name: hdr
    type: struct
    members:
      - {name: a, type: u8}
      - {name: pad, type: u8}
      - {name: b, type: u16, enum: e}
      - {name: c, type: u32, display-hint: hex}
      - {name: key, type: binary, len: key-len}
      - {name: name, type: string, len: key-len - 1}
      - {name: nested, type: binary, struct: inner}
      - {name: raw, type: binary, len: 3}
      - {name: d, type: s64}
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u32, checks: {max: u32-max, min: 1}}
      - {name: b, type: s32, checks: {min: s32-min, max: s32-max}}
      - {name: c, type: u64, checks: {max: u64-max}}
      - {name: d, type: s64, checks: {min: s64-min}}
      - {name: e, type: u8, checks: {max: u8-max, min: u8-min}}
      - {name: f, type: binary, checks: {exact-len: key-len}}
      - {name: g, type: binary, checks: {max-len: xx-key-len, min-len: key-len - 1}}
      - {name: h, type: string, checks: {max-len: 15, unterminated-ok: true}}
      - {name: i, type: u64, checks: {max: big}}
      - {name: j, type: binary, struct: hdr}
      - {name: k, type: bitfield32, enum: e, checks: {flags-mask: e}}
operations:
  fixed-header: hdr
  list:
    - name: get
      doc: Get.
      attribute-set: s
      fixed-header: inner
      do: {request: {attributes: [a]}}
    - name: set
      doc: Set.
      attribute-set: s
      do: {request: {attributes: [a]}}
`)
	if f.Version != 3 || !f.VersionSet || f.KernelPolicy != spec.KernelPolicyPerOp {
		t.Errorf("version %d policy %s", f.Version, f.KernelPolicy)
	}
	hdr := f.Definition("hdr")
	var layout []string
	for _, m := range hdr.Members {
		layout = append(layout, fmt.Sprintf("%s@%d+%d", m.Name, m.Offset, m.Size))
	}
	if got := strings.Join(layout, " "); got != "a@0+1 pad@1+1 b@2+2 c@4+4 key@8+32 name@40+31 nested@71+4 raw@75+3 d@78+8" {
		t.Errorf("layout = %s", got)
	}
	if hdr.Size != 86 || f.Definition("inner").Size != 4 {
		t.Errorf("sizes = %d %d", hdr.Size, f.Definition("inner").Size)
	}
	if m := hdr.Members[4]; m.Len.Const != "key-len" || m.Len.Raw != "key-len" {
		t.Errorf("key len = %+v", m.Len)
	}
	if m := hdr.Members[2]; m.EnumDef != f.Definition("e") {
		t.Error("member enum unresolved")
	}
	if m := hdr.Members[1]; m.Name != "pad" || m.Type != spec.TypeU8 {
		t.Error("pad member")
	}
	if sc := f.Definition("str-const"); !sc.IsString || sc.StringValue != "hello" {
		t.Errorf("string const = %+v", sc)
	}
	s := f.AttributeSet("s")
	bounds := map[string]string{}
	for _, a := range s.Attributes {
		if c := a.Checks; c != nil {
			for k, b := range map[string]*spec.Bound{"min": c.Min, "max": c.Max, "min-len": c.MinLen, "max-len": c.MaxLen, "exact-len": c.ExactLen} {
				if b != nil {
					bounds[a.Name+"."+k] = b.Value.String()
				}
			}
		}
	}
	for k, want := range map[string]string{
		"a.max": "4294967295", "a.min": "1",
		"b.min": "-2147483648", "b.max": "2147483647",
		"c.max": "18446744073709551615", "d.min": "-9223372036854775808",
		"e.max": "255", "e.min": "0",
		"f.exact-len": "32", "g.max-len": "32", "g.min-len": "31",
		"h.max-len": "15", "i.max": "18446744073709551615",
	} {
		if bounds[k] != want {
			t.Errorf("%s = %q, want %s", k, bounds[k], want)
		}
	}
	if v, ok := s.Attribute("d").Checks.Min.Value.Int64(); !ok || v != -1<<63 {
		t.Errorf("s64-min as int64 = %d %v", v, ok)
	}
	if _, ok := s.Attribute("c").Checks.Max.Value.Int64(); ok {
		t.Error("u64-max fits an int64?")
	}
	if s.Attribute("a").Checks.Max.Limit != "u32-max" || s.Attribute("g").Checks.MaxLen.Const != "key-len" {
		t.Error("bound sources")
	}
	if !s.Attribute("h").Checks.UnterminatedOK || s.Attribute("k").Checks.FlagsMaskDef != f.Definition("e") {
		t.Error("unterminated-ok / flags-mask")
	}
	if s.Attribute("j").StructDef != hdr {
		t.Error("attribute struct")
	}
	if f.Op("get").FixedHeaderDef != f.Definition("inner") || f.Op("set").FixedHeaderDef != hdr || f.Op("set").FixedHeader != "hdr" {
		t.Error("fixed headers")
	}
}

func TestAliasesAndMergeKeys(t *testing.T) {
	f := mustParse(t, `
name: test
doc: d
attribute-sets:
  - name: s
    attributes:
      - &u32attr {name: a, type: u32, doc: base}
      - <<: *u32attr
        name: b
      - <<: [*u32attr, {multi-attr: true}]
        name: c
        doc: own
operations:
  list:
    - name: get
      doc: Get.
      attribute-set: s
      do: &get
        request:
          attributes: &attrs [a, b]
        reply:
          attributes: *attrs
      dump: *get
`)
	s := f.AttributeSet("s")
	if got := attrValues(s); got != "a=1 b=2 c=3" {
		t.Errorf("values = %s", got)
	}
	if b := s.Attribute("b"); b.Type != spec.TypeU32 || b.Doc != "base" || b.MultiAttr {
		t.Errorf("b = %+v", b)
	}
	if c := s.Attribute("c"); c.Doc != "own" || !c.MultiAttr {
		t.Errorf("c = %+v", c)
	}
	op := f.Op("get")
	if names(op.Dump.Reply.Attributes) != "a,b" || op.Dump == op.Do {
		t.Error("aliased modes")
	}
}

func TestErrorTypes(t *testing.T) {
	_, err := spec.Parse("dir/test.yaml", []byte(minimal+"bogus: 1\nother: 2\n"))
	var list spec.ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("errors.As ErrorList: %v", err)
	}
	var e *spec.Error
	if !errors.As(err, &e) || e.File != "test.yaml" || e.Line != 20 || e.Col != 1 || e.Msg != `unknown key "bogus" in family "test"` {
		t.Fatalf("errors.As *Error = %#v", e)
	}
	if want := "test.yaml:20:1: unknown key \"bogus\" in family \"test\"\ntest.yaml:21:1: unknown key \"other\" in family \"test\""; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if e.Pos().String() != "test.yaml:20:1" {
		t.Errorf("Pos = %v", e.Pos())
	}
}

// TestOlderSchemaForms checks forms that kernel specs written against older
// schemas use: '_' in names (mptcp.yaml's "if_idx", binder.yaml's
// "from_pid") and the "array-nest" attribute type, renamed to indexed-array
// with sub-type nest in Linux 6.9.
func TestOlderSchemaForms(t *testing.T) {
	f := mustParse(t, `name: old_fam
doc: d
attribute-sets:
  - name: main_set
    attributes:
      - {name: if_idx, type: u32}
      - {name: if-idx, type: u32}
      - {name: list, type: array-nest, nested-attributes: item_set}
  - name: item_set
    attributes:
      - {name: from_pid, type: u32}
operations:
  list:
    - name: get_it
      doc: G.
      attribute-set: main_set
      do:
        request: {attributes: [if_idx, if-idx]}
        reply: {attributes: [list]}
`)
	s := f.AttributeSets[0]
	if got := names(s.Attributes); got != "if_idx,if-idx,list" {
		t.Errorf("attributes %s", got)
	}
	l := s.Attributes[2]
	if l.Type != spec.TypeIndexedArray || l.SubType != spec.TypeNest || l.Nested == nil || l.Nested.Name != "item_set" {
		t.Errorf("array-nest read as type %q sub-type %q nested %v", l.Type, l.SubType, l.Nested)
	}
	if !l.Has("sub-type") {
		t.Error("array-nest: sub-type not recorded as written")
	}

	// array-nest says its sub-type; another one is an error, and it is
	// not a sub-type. Capitals in names stay errors.
	_, err := spec.Parse("bad.yaml", []byte(`name: bad
doc: d
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: array-nest, sub-type: u32, nested-attributes: s}
      - {name: b, type: indexed-array, sub-type: array-nest}
      - {name: C_d, type: u32}
operations:
  list: [{name: get, doc: G., attribute-set: s, do: {request: {attributes: [a]}}}]
`))
	want := []string{
		`bad.yaml:6:37: attribute "a" in set "s": key "sub-type" is not valid with type "array-nest"`,
		`bad.yaml:7:50: attribute "b" in set "s": invalid "sub-type" value "array-nest"`,
		`bad.yaml:8:16: attribute "C_d" in set "s": "name" value "C_d" does not match ^[0-9a-z_-]+$`,
	}
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\nlacks %q", err, w)
		}
	}
}

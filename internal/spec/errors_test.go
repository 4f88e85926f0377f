package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
)

// head is the start of the inline specs below; it takes lines 1-2.
const head = "name: test\ndoc: d\n"

// ops is a minimal operations section.
const ops = "operations:\n  list: []\n"

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string // "line:col: message" of errors that must be reported
	}{
		{
			name: "unknown top-level key",
			src:  head + "attribute-sets: []\n" + ops + "foo: bar\n",
			want: []string{`6:1: unknown key "foo" in family "test"`},
		},
		{
			name: "unknown attribute key",
			src: head + `attribute-sets:
  - name: s
    attributes:
      - name: a
        type: u32
        colour: red
` + ops,
			want: []string{`8:9: unknown key "colour" in attribute "a" in set "s"`},
		},
		{
			name: "unknown nested set",
			src: head + `attribute-sets:
  - name: s
    attributes:
      - name: foo
        type: nest
        nested-attributes: bar
` + ops,
			want: []string{`8:28: attribute "foo" in set "s" references unknown attribute set "bar"`},
		},
		{
			name: "unknown references",
			src: head + `definitions:
  - {name: c, type: const, value: 1}
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u32, enum: nope}
      - {name: b, type: u32, enum: c}
      - {name: d, type: u32, checks: {max: nope-max}}
      - {name: e, type: u32, checks: {flags-mask: c}}
operations:
  list:
    - name: get
      doc: Get.
      attribute-set: t
    - name: set
      doc: Set.
      attribute-set: s
      do: {request: {attributes: [a, zz]}}
    - name: ntf
      doc: Ntf.
      notify: nope
      mcgrp: nope
`,
			want: []string{
				`8:36: attribute "a" in set "s" references unknown enum "nope"`,
				`9:36: attribute "b" in set "s" references const "c", want an enum or flags`,
				`10:44: attribute "d" in set "s": "max" value "nope-max" is not a number, a const or a type limit`,
				`11:51: attribute "e" in set "s" checks references const "c", want an enum or flags`,
				`16:22: operation "get" references unknown attribute set "t"`,
				`20:38: operation "set" do request: unknown attribute "zz" in set "s"`,
				`23:15: operation "ntf" notifies unknown operation "nope"`,
				`24:14: operation "ntf" references unknown multicast group "nope"`,
			},
		},
		{
			name: "wrong value kinds",
			src: head + `attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u32, multi-attr: yes}
      - {name: b, type: [u32]}
      - {name: c, type: u32, value: -1}
      - {name: 7, type: u32}
      - name: d
operations: [x]
`,
			want: []string{
				`6:42: attribute "a" in set "s": "multi-attr" must be a boolean, not a string`,
				`7:25: attribute "b" in set "s": "type" must be a string, not a list`,
				`8:37: attribute "c" in set "s": "value" must not be negative, got -1`,
				`9:16: attributes[3] of set "s": "name" must be a string, not an integer`,
				`10:9: attribute "d" in set "s": missing required key "type"`,
				`11:13: operations must be a mapping, not a list`,
			},
		},
		{
			name: "invalid enum values",
			src: head + `definitions:
  - {name: x, type: bogus}
  - {name: y, type: const, value: 1, scope: global}
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u128}
      - {name: b, type: u32, byte-order: middle-endian}
      - {name: c, type: binary, display-hint: colour}
      - {name: d, type: indexed-array, sub-type: list}
operations:
  enum-model: sideways
  list:
    - {name: get, doc: G., flags: [root]}
    - {name: set, doc: S., dont-validate: [never]}
`,
			want: []string{
				`4:21: definition "x": invalid "type" value "bogus" (want one of const, enum, flags, struct)`,
				`5:45: definition "y": invalid "scope" value "global" (want one of uapi, kernel, user)`,
				`9:25: attribute "a" in set "s": invalid "type" value "u128"`,
				`10:42: attribute "b" in set "s": invalid "byte-order" value "middle-endian"`,
				`11:47: attribute "c" in set "s": invalid "display-hint" value "colour"`,
				`12:50: attribute "d" in set "s": invalid "sub-type" value "list"`,
				`14:15: operations: invalid "enum-model" value "sideways"`,
				`16:36: operation "get": invalid "flags" item "root" (want one of admin-perm, uns-admin-perm)`,
				`17:44: operation "set": invalid "dont-validate" item "never"`,
			},
		},
		{
			name: "netlink-raw",
			src:  "name: rt-link\nprotocol: netlink-raw\nprotonum: 0\n",
			want: []string{`2:11: protocol "netlink-raw" is not supported (want genetlink, genetlink-c or genetlink-legacy)`},
		},
		{
			name: "legacy keys in genetlink",
			src: head + `version: 2
kernel-policy: global
c-family-name: foo
definitions:
  - name: hdr
    type: struct
    members: [{name: a, type: u32}]
  - {name: e, type: enum, entries: [a], enum-name: foo}
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: bitfield32}
      - {name: b, type: binary, struct: hdr}
      - {name: c, type: string, checks: {unterminated-ok: true}}
operations:
  enum-model: directional
  fixed-header: hdr
  list:
    - name: get
      doc: Get.
      attribute-set: s
      fixed-header: hdr
      do: {request: {value: 2, attributes: [a]}}
mcast-groups:
  list: [{name: m, c-define-name: M}]
`,
			want: []string{
				`3:1: key "version" in family "test" is not allowed with protocol genetlink (genetlink-legacy only)`,
				`4:1: key "kernel-policy" in family "test" is not allowed with protocol genetlink (genetlink-legacy only)`,
				`5:1: key "c-family-name" in family "test" is not allowed with protocol genetlink (genetlink-c and genetlink-legacy only)`,
				`8:11: definition "hdr": type "struct" is not allowed with protocol genetlink (genetlink-legacy only)`,
				`9:5: key "members" in definition "hdr" is not allowed with protocol genetlink (genetlink-legacy only)`,
				`10:41: key "enum-name" in definition "e" is not allowed with protocol genetlink (genetlink-c and genetlink-legacy only)`,
				`14:25: attribute "a" in set "s": "type" value "bitfield32" is not allowed with protocol genetlink (genetlink-legacy only)`,
				`15:33: key "struct" in attribute "b" in set "s" is not allowed with protocol genetlink (genetlink-legacy only)`,
				`16:42: key "unterminated-ok" in checks of attribute "c" in set "s" is not allowed with protocol genetlink (genetlink-c and genetlink-legacy only)`,
				`18:15: operations: "enum-model" value "directional" is not allowed with protocol genetlink (genetlink-legacy only)`,
				`19:3: key "fixed-header" in operations is not allowed with protocol genetlink (genetlink-legacy only)`,
				`24:7: key "fixed-header" in operation "get" is not allowed with protocol genetlink (genetlink-legacy only)`,
				`25:22: key "value" in operation "get" do request is not allowed with protocol genetlink (genetlink-legacy only)`,
				`27:20: key "c-define-name" in multicast group "m" is not allowed with protocol genetlink (genetlink-c and genetlink-legacy only)`,
			},
		},
		{
			name: "genetlink-c value restrictions",
			src: `name: Test_Family
protocol: genetlink-c
doc: d
definitions:
  - {name: hdr, type: struct}
attribute-sets:
  - name: Set_Name
    attributes:
      - {name: A_b, type: u32}
operations:
  list:
    - {name: get, doc: G., flags: [uns-admin-perm]}
mcast-groups:
  list: [{name: m, flags: [uns-admin-perm]}]
`,
			want: []string{
				`5:23: definition "hdr": type "struct" is not allowed with protocol genetlink-c (genetlink-legacy only)`,
				`12:36: operation "get": invalid "flags" item "uns-admin-perm" (want one of admin-perm)`,
				`14:28: multicast group "m": invalid "flags" item "uns-admin-perm" (want one of admin-perm)`,
			},
		},
		{
			name: "genetlink names and nulls",
			src: `name: Test_Family
doc: d
attribute-sets:
  - name: s
    enum-name:
    attributes:
      - {name: A_b, type: u32}
operations:
  enum-name:
  list:
    - {name: get, doc: G., flags: [uns-admin-perm]}
`,
			want: []string{
				`1:7: family "Test_Family": "name" value "Test_Family" does not match ^[0-9a-z_-]+$`,
				`5:15: attribute set "s": "enum-name" must be a string with protocol genetlink, not null`,
				`7:16: attribute "A_b" in set "s": "name" value "A_b" does not match ^[0-9a-z_-]+$`,
				`9:13: operations: "enum-name" must be a string with protocol genetlink, not null`,
			},
		},
		{
			name: "missing required keys",
			src: `name: test
attribute-sets:
  - attributes: []
operations:
  list:
    - name: get
`,
			want: []string{
				`1:1: family "test": missing required key "doc"`,
				`3:5: attribute-sets[0]: missing required key "name"`,
				`6:7: operation "get": missing required key "doc"`,
			},
		},
		{
			name: "duplicates",
			src: head + `definitions:
  - {name: e, type: enum, entries: [a, b, a]}
  - {name: e, type: const, value: 1}
attribute-sets:
  - name: s
    attributes:
      - {name: unspec, type: unused, value: 0}
      - {name: a, type: u32}
      - {name: b, type: u32, value: 0}
      - {name: c, type: u32}
      - {name: c, type: u8, value: 9}
operations:
  list:
    - {name: x, doc: X.}
    - {name: x, doc: Y.}
    - {name: y, doc: Y., value: 1}
`,
			want: []string{
				`4:43: enum "e": duplicate entry "a" (first at test.yaml:4:37)`,
				`5:12: duplicate definition "e" (first defined at test.yaml:4:5)`,
				`11:9: set "s": attribute "b" has value 0, already used by "unspec"`,
				`12:9: set "s": attribute "c" has value 1, already used by "a"`,
				`13:9: set "s": duplicate attribute "c" (first at test.yaml:12:9)`,
				`17:14: duplicate operation "x" (first at test.yaml:16:7)`,
				`18:7: operation "y" has value 1, already used by operation "x"`,
			},
		},
		{
			name: "duplicate key",
			src:  head + "attribute-sets: []\n" + ops + "doc: again\n",
			want: []string{`6:1: family "test": duplicate key "doc"`},
		},
		{
			name: "subsets",
			src: head + `attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u32}
      - {name: b, type: u32}
  - name: sub
    subset-of: s
    attributes:
      - {name: a, value: 2}
      - {name: c}
  - name: orphan
    subset-of: nope
    attributes: [{name: a}]
` + ops,
			want: []string{
				`11:26: attribute "a" in set "sub": "value" 2 differs from the value 1 in parent set "s"`,
				`12:16: attribute "c" of subset "sub" is not in its parent set "s"`,
				`14:16: attribute set "orphan" is a subset of unknown set "nope"`,
			},
		},
		{
			name: "subset with name-prefix",
			src: head + `attribute-sets:
  - name: s
    attributes: [{name: a, type: u32}]
  - name: sub
    subset-of: s
    name-prefix: x-
    attributes: [{name: a}]
` + ops,
			want: []string{`8:18: attribute set "sub": "name-prefix" is not allowed in a subset (subsets inherit naming)`},
		},
		{
			name: "subset loop",
			src: head + `attribute-sets:
  - name: loop1
    subset-of: loop2
    attributes: [{name: a}]
  - name: loop2
    subset-of: loop1
    attributes: [{name: a}]
` + ops,
			want: []string{`5:16: attribute set "loop1" is a subset of itself (via "loop2")`},
		},
		{
			name: "definition keys",
			src: `name: test
doc: d
protocol: genetlink-legacy
definitions:
  - {name: e, type: enum, value: 3, entries: [a]}
  - {name: c, type: const}
  - {name: n, type: enum}
  - name: s
    type: struct
    members:
      - {name: d, type: pad}
attribute-sets: []
` + ops,
			want: []string{
				`5:27: definition "e": key "value" is not valid in a definition of type enum`,
				`6:5: definition "c": missing required key "value"`,
				`7:5: definition "n": missing required key "entries"`,
				`11:25: member "d" of definition "s": invalid "type" value "pad" (want one of u8, u16, u32, u64, s8, s16, s32, s64, string, binary)`,
			},
		},
		{
			name: "flag bits",
			src: head + `definitions:
  - {name: f, type: flags, entries: [{name: a, value: 64}]}
  - {name: g, type: flags, value-start: -1, entries: [a]}
  - {name: h, type: flags, value-start: nope, entries: [a]}
attribute-sets: []
` + ops,
			want: []string{
				`4:55: flags "f": entry "a" has bit number 64, want 0 to 63 (flags values are bit numbers)`,
				`5:55: flags "g": entry "a" has bit number -1, want 0 to 63`,
				`6:41: flags "h": "value-start" value "nope" is not a number, a const or a type limit`,
			},
		},
		{
			name: "struct and attribute semantics",
			src: `name: test
doc: d
protocol: genetlink-legacy
definitions:
  - {name: e, type: enum, entries: [a, b]}
  - {name: g, type: enum, value-start: 70, entries: [a]}
  - name: s
    type: struct
    members:
      - {name: a, type: binary}
      - {name: b, type: u32, len: 4}
      - {name: c, type: u32, struct: s}
      - {name: d, type: string, len: nope}
  - name: loop
    type: struct
    members: [{name: x, type: binary, struct: loop}]
attribute-sets:
  - name: s
    attributes:
      - {name: c, type: nest}
      - {name: d, type: indexed-array}
      - {name: e, type: u32, enum: g, enum-as-flags: true}
      - {name: f, type: indexed-array, sub-type: nest}
      - {name: g, type: binary, struct: e}
` + ops,
			want: []string{
				`10:9: member "a" of struct "s": a binary member needs "len" (or "struct") to have a size`,
				`11:35: member "b" of struct "s": "len" is only valid for string and binary members, not u32`,
				`12:38: member "c" of struct "s": "struct" is only valid for binary members, not u32`,
				`13:38: member "d" of struct "s": "len" value "nope" is not a number, a const or a type limit`,
				`14:5: struct "loop" contains itself`,
				`20:9: attribute "c" in set "s": type nest needs "nested-attributes"`,
				`21:9: attribute "d" in set "s": type indexed-array needs "sub-type"`,
				`22:54: attribute "e" in set "s": enum-as-flags, but entry "a" of "g" has value 70 (want 0 to 63)`,
				`23:9: attribute "f" in set "s": sub-type nest needs "nested-attributes"`,
				`24:41: attribute "g" in set "s" references enum "e", want a struct`,
			},
		},
		{
			name: "bounds syntax",
			src: head + `attribute-sets:
  - name: s
    attributes:
      - {name: a, type: binary, checks: {exact-len: -4}}
      - {name: b, type: binary, checks: {max-len: "a + 1"}}
      - {name: c, type: u32, checks: {max: "x - 1"}}
      - {name: d, type: u32, value: 99999}
` + ops,
			want: []string{
				`6:53: checks of attribute "a" in set "s": "exact-len" must not be negative, got -4`,
				`7:51: checks of attribute "b" in set "s": "max-len" value "a + 1" does not match ^[0-9A-Za-z_-]+( - 1)?$`,
				`8:44: checks of attribute "c" in set "s": "max" value "x - 1" does not match ^[0-9A-Za-z_-]+$`,
				`9:37: attribute "d" in set "s": "value" 99999 is out of range (netlink attribute types are at most 16383)`,
			},
		},
		{
			name: "operations semantics",
			src: `name: test
doc: d
protocol: genetlink-legacy
definitions:
  - {name: e, type: enum, entries: [a]}
attribute-sets:
  - name: s
    attributes: [{name: a, type: u32}]
operations:
  fixed-header: e
  list:
    - {name: get, doc: G., attribute-set: s, do: {request: {value: 1}}}
    - {name: noset, doc: N., do: {request: {attributes: [a]}}}
    - {name: ntf, doc: N., notify: ntf2}
    - {name: ntf2, doc: N., attribute-set: s, event: {attributes: [a]}}
`,
			want: []string{
				`10:17: operations fixed-header references enum "e", want a struct`,
				`12:68: operation "get": message "value" is only used with enum-model directional`,
				`13:7: operation "noset" needs an attribute-set`,
				`14:36: operation "ntf" notifies operation "ntf2", which has no do or dump to take the reply format from`,
			},
		},
		{
			name: "op value range",
			src:  head + "attribute-sets: []\noperations:\n  list:\n    - {name: big, doc: B., value: 300}\n",
			want: []string{`6:35: operation "big": "value" value 300 is out of range (max 255)`},
		},
		{
			name: "directional semantics",
			src: `name: test
doc: d
protocol: genetlink-legacy
attribute-sets:
  - name: s
    attributes: [{name: a, type: u32}]
operations:
  enum-model: directional
  list:
    - {name: get, doc: G., attribute-set: s, value: 4, do: {request: {value: 1}}}
    - {name: resv, doc: R.}
    - {name: dup, doc: D., attribute-set: s, dump: {request: {value: 1}}}
`,
			want: []string{
				`10:53: operation "get": operation "value" is not used with enum-model directional; write "value" in the do/dump request and reply`,
				`11:7: operation "resv" has no do, dump, notify or event, which enum-model directional cannot number`,
				`12:7: operation "dup" has value 1, already used by operation "get"`,
			},
		},
		{
			name: "yaml syntax",
			src:  head + "attribute-sets: [\n",
			want: []string{`3:1: invalid YAML: did not find expected node content`},
		},
		{
			name: "empty",
			src:  "# just a comment\n",
			want: []string{`empty spec`},
		},
		{
			name: "two documents",
			src:  minimal + "---\nname: other\n",
			want: []string{`20:1: spec must be a single YAML document`},
		},
		{
			name: "scalar root",
			src:  "hello\n",
			want: []string{`1:1: family must be a mapping, not a string`},
		},
		{
			name: "merge cycle and bad merge",
			src: head + `attribute-sets:
  - &x
    name: s
    <<: *x
    attributes:
      - <<: 5
        name: a
        type: u32
` + ops,
			want: []string{`8:13: attribute "a" in set "s": merge key value must be a mapping or a list of mappings, not an integer`},
		},
		{
			name: "enum values that do not fit their attribute",
			src: head + `protocol: genetlink-legacy
definitions:
  - name: big
    type: enum
    entries:
      - small
      - {name: huge, value: 4294967296}
  - name: wide
    type: flags
    entries:
      - {name: low, value: 0}
      - {name: high, value: 40}
  - name: neg
    type: enum
    entries:
      - {name: minus, value: -1}
  - name: hdr
    type: struct
    members:
      - {name: m, type: u16, enum: big}
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: u8, enum: big}
      - {name: b, type: u32, enum: wide}
      - {name: c, type: u64, enum: big}
      - {name: d, type: u32, enum: neg}
      - {name: e, type: s8, enum: neg}
      - {name: f, type: uint, enum: wide}
` + ops,
			want: []string{
				`26:35: attribute "a" in set "s" (u8) uses enum "big": entry "huge" (at test.yaml:9:9) has value 4294967296, which does not fit u8`,
				`27:36: attribute "b" in set "s" (u32) uses flags "wide": entry "high" (at test.yaml:14:9) is bit 40, which does not fit u32`,
				`29:36: attribute "d" in set "s" (u32) uses enum "neg": entry "minus" (at test.yaml:18:9) has value -1, which does not fit u32`,
				`22:36: member "m" of struct "hdr" (u16) uses enum "big": entry "huge"`,
			},
		},
		{
			name: "tags",
			src: head + `attribute-sets: !!set
  ? a
` + ops,
			want: []string{`3:17: family "test": "attribute-sets" must be a list, not a mapping`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := spec.Parse("test.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error; family %q", f.Name)
			}
			if f != nil {
				t.Error("non-nil family with an error")
			}
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not a non-empty ErrorList: %v", err, err)
			}
			got := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing error %q", w)
				}
			}
			if t.Failed() {
				t.Logf("got:\n%s", got)
			}
		})
	}
}

func TestErrorListFormat(t *testing.T) {
	var l spec.ErrorList
	if l.Err() != nil || l.Error() != "no errors" {
		t.Error("empty list")
	}
	for i := 0; i < 25; i++ {
		l = append(l, &spec.Error{File: "x.yaml", Line: i + 1, Col: 1, Msg: "bad"})
	}
	s := l.Err().Error()
	if !strings.HasPrefix(s, "x.yaml:1:1: bad\nx.yaml:2:1: bad") || !strings.HasSuffix(s, "x.yaml:20:1: bad\n(and 5 more errors)") {
		t.Errorf("Error() = %q", s)
	}
	if (&spec.Error{Msg: "m"}).Error() != "m" || (&spec.Error{File: "f", Msg: "m"}).Error() != "f: m" {
		t.Error("Error without position")
	}
}

// TestEnumFits: enum values and flag bits that fit their attribute's type
// are accepted, signed and variable-width types included.
func TestEnumFits(t *testing.T) {
	src := head + `definitions:
  - name: neg
    type: enum
    entries:
      - {name: minus, value: -128}
      - {name: top, value: 127}
  - name: wide
    type: flags
    entries:
      - {name: low, value: 0}
      - {name: high, value: 63}
  - name: byte
    type: enum
    entries:
      - {name: max, value: 255}
attribute-sets:
  - name: s
    attributes:
      - {name: a, type: s8, enum: neg}
      - {name: b, type: uint, enum: wide}
      - {name: c, type: u64, enum: wide}
      - {name: d, type: u8, enum: byte}
` + ops
	if _, err := spec.Parse("test.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
}

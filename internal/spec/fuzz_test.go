package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
)

// legacySeed exercises most genetlink-legacy features.
const legacySeed = `# SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
name: fuzz
protocol: genetlink-legacy
version: 2
doc: Fuzz seed.
kernel-policy: per-op
definitions:
  - {name: key-len, type: const, value: 16, name-prefix: fz-}
  - {name: e, type: enum, value-start: 1, entries: [a, {name: b, value: 5, doc: B}]}
  - {name: f, type: flags, entries: [x, y]}
  - name: hdr
    type: struct
    members:
      - {name: ifindex, type: u32}
      - {name: key, type: binary, len: key-len - 1}
attribute-sets:
  - name: main
    attributes:
      - {name: unspec, type: unused, value: 0}
      - {name: id, type: u32, checks: {min: 1, max: u32-max}}
      - {name: key, type: binary, checks: {exact-len: fz-key-len}}
      - {name: kind, type: u8, enum: e}
      - {name: fl, type: bitfield32, enum: f, enum-as-flags: true}
      - {name: nest, type: nest, nested-attributes: sub}
      - {name: arr, type: indexed-array, sub-type: nest, nested-attributes: sub}
      - {name: ntv, type: nest-type-value, type-value: [id], nested-attributes: sub}
      - {name: hdr, type: binary, struct: hdr}
  - name: sub
    subset-of: main
    attributes: [{name: id}, {name: key, doc: override}]
operations:
  enum-model: directional
  fixed-header: hdr
  list:
    - name: get
      doc: Get.
      attribute-set: main
      flags: [admin-perm]
      do: &get
        request: {value: 3, attributes: [id]}
        reply: {value: 1, attributes: [id, key, nest]}
      dump: *get
    - {name: ntf, doc: N., notify: get, mcgrp: mon}
    - {name: ev, doc: E., attribute-set: sub, event: {attributes: [id]}}
mcast-groups:
  list: [{name: mon, c-define-name: fuzz-mon}]
kernel-family: {headers: [a.h], sock-priv: struct x}
`

// FuzzParse parses arbitrary bytes. Parse must never panic, must return
// either a family or an ErrorList, and loaded families must be walkable.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(legacySeed))
	f.Add([]byte(strings.Replace(legacySeed, "genetlink-legacy", "genetlink-c", 1)))
	f.Add([]byte(strings.Replace(legacySeed, "protocol: genetlink-legacy", "", 1)))
	f.Add([]byte("name: x\nprotocol: netlink-raw\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("name: &n x\ndoc: *n\nattribute-sets: &s [{name: s, attributes: *s}]\noperations: {list: [*s]}\n"))
	f.Add([]byte("<<: {name: x, doc: d}\nattribute-sets: [{<<: [{name: s}, {attributes: []}]}]\noperations: {list: [], <<: &m {<<: *m}}\n"))
	f.Add([]byte("name: x\ndoc: d\nattribute-sets: [[[[[[[[[[[]]]]]]]]]]]\noperations: {list: {}}\n"))
	f.Add([]byte("name: x\ndoc: d\nattribute-sets: [{name: s, attributes: [{name: a, type: nest, nested-attributes: s, value: 16383}, {name: b, type: u8}]}]\noperations: {list: [{name: o, doc: o, value: 255}, {name: p, doc: p}]}\n"))
	f.Add([]byte("---\n...\n---\n"))
	f.Add([]byte("? [a]\n: b\n!!binary c: d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fam, err := spec.Parse("fuzz.yaml", data)
		if err != nil {
			if fam != nil {
				t.Fatal("family returned with an error")
			}
			var l spec.ErrorList
			if !errors.As(err, &l) || len(l) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %T %v", err, err)
			}
			for _, e := range l {
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("bad error %#v", e)
				}
			}
			_ = err.Error()
			return
		}
		walk(t, fam)
	})
}

// walk visits everything reachable from a family, calling every accessor.
func walk(t *testing.T, f *spec.Family) {
	t.Helper()
	for _, d := range f.Definitions {
		_ = f.Definition(d.Name)
		_ = d.Values()
		_ = d.FlagValues()
		_ = d.Mask()
		for _, e := range d.Entries {
			_ = d.Entry(e.Name)
			_ = e.Mask()
		}
		size := 0
		for _, m := range d.Members {
			if m.Offset != size {
				t.Fatalf("struct %s: member %s at %d, want %d", d.Name, m.Name, m.Offset, size)
			}
			size += m.Size
		}
		if d.Type == spec.DefStruct && size != d.Size {
			t.Fatalf("struct %s: size %d, members add up to %d", d.Name, d.Size, size)
		}
	}
	for _, s := range f.AttributeSets {
		_ = s.Root()
		_ = s.MaxValue()
		for _, a := range s.Attributes {
			if s.Attribute(a.Name) != a || s.ByValue(a.Value) != a || a.Set != s {
				t.Fatalf("set %s: lookup of %s inconsistent", s.Name, a.Name)
			}
			_ = a.KeyPos("type")
			_ = a.Type.FixedSize()
			if c := a.Checks; c != nil {
				for _, b := range []*spec.Bound{c.Min, c.Max, c.MinLen, c.MaxLen, c.ExactLen} {
					if b != nil {
						_, _ = b.Value.Int64()
						_ = b.Value.String()
					}
				}
			}
		}
	}
	for _, op := range f.Operations.List {
		if f.Op(op.Name) != op {
			t.Fatalf("Op(%q) inconsistent", op.Name)
		}
		_ = op.NotifyAttributes()
		_ = op.IsReserved()
		if op.HasRequestValue {
			_ = f.OpByRequestValue(op.RequestValue)
		}
		if op.HasReplyValue {
			_ = f.OpsByReplyValue(op.ReplyValue)
		}
	}
	for _, g := range f.MulticastGroups {
		_ = f.McastGroup(g.Name)
	}
}

// TestFuzzSeed checks that the main fuzz seed is a valid spec, so that the
// fuzzer starts from inputs reaching the resolver.
func TestFuzzSeed(t *testing.T) {
	f := mustParse(t, legacySeed)
	walk(t, f)
	if f.Op("ev").Event.Value != 3 || f.Op("ntf").ReplyValue != 2 || f.Definition("hdr").Size != 19 {
		t.Errorf("seed values: ev %d ntf %d hdr %d", f.Op("ev").Event.Value, f.Op("ntf").ReplyValue, f.Definition("hdr").Size)
	}
	if f.KernelFamily == nil || f.KernelFamily.SockPriv != "struct x" || f.McastGroup("mon").CDefineName != "fuzz-mon" {
		t.Error("kernel-family / mcast group")
	}
}

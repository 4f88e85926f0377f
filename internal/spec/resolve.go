package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// This file resolves a decoded family: it numbers implicit values, merges
// subsets with their parent sets, computes struct layouts and links every
// reference by name to its target, reporting what does not resolve.

type resolver struct {
	d      *decoder
	f      *Family
	cnames map[string]*Definition // consts by C name (name-prefix + name)
}

func (d *decoder) resolve(f *Family) {
	r := &resolver{d: d, f: f}
	if f.UAPIHeader == "" {
		f.UAPIHeader = "linux/" + f.Name + ".h"
	}
	if f.Operations == nil {
		f.Operations = &Operations{EnumModel: EnumModelUnified}
	}
	r.definitions()
	r.attributeSets()
	r.mcastGroups()
	r.operations()
}

func (r *resolver) errorf(p Pos, format string, args ...any) { r.d.errorf(p, format, args...) }

// warnf records a problem that the kernel's tooling tolerates.
func (r *resolver) warnf(p Pos, format string, args ...any) {
	r.f.Warnings = append(r.f.Warnings, &Error{File: p.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

// definitions indexes the definitions, numbers enum and flags entries and
// lays out structs.
func (r *resolver) definitions() {
	f := r.f
	f.defs = make(map[string]*Definition)
	for _, def := range f.Definitions {
		if prev := f.defs[def.Name]; prev != nil {
			r.errorf(def.KeyPos("name"), "duplicate definition %q (first defined at %s)", def.Name, prev.Pos)
			continue
		}
		f.defs[def.Name] = def
	}
	r.cnames = make(map[string]*Definition)
	for _, def := range f.Definitions {
		if def.Type == DefConst && def.NamePrefix != "" {
			if _, ok := r.cnames[def.NamePrefix+def.Name]; !ok {
				r.cnames[def.NamePrefix+def.Name] = def
			}
		}
	}
	for _, def := range f.Definitions {
		switch def.Type {
		case DefEnum, DefFlags:
			r.entries(def)
		case DefStruct:
			r.members(def)
		}
	}
	for _, def := range f.Definitions {
		for _, m := range def.Members {
			if m.EnumDef != nil {
				r.enumFits(m.EnumDef, false, m.Type, m.KeyPos("enum"), fmt.Sprintf("member %q of struct %q", m.Name, def.Name))
			}
		}
	}
	state := make(map[*Definition]int)
	for _, def := range f.Definitions {
		if def.Type == DefStruct {
			r.structSize(def, state)
		}
	}
}

func (r *resolver) entries(def *Definition) {
	what := fmt.Sprintf("%s %q", def.Type, def.Name)
	var start int64
	if b := def.start; b != nil {
		r.bound(b, what, "value-start", false)
		if v, ok := b.Value.Int64(); ok {
			start = v
		} else {
			r.errorf(b.Pos, "%s: \"value-start\" %s is out of range", what, b.Value)
		}
	}
	def.ValueStart = start
	def.entries = make(map[string]*Entry)
	for i, e := range def.Entries {
		switch {
		case e.Has("value"):
		case i == 0:
			e.Value = start
		default:
			prev := def.Entries[i-1].Value
			if prev == math.MaxInt64 {
				r.errorf(e.Pos, "%s: value of entry %q overflows", what, e.Name)
			} else {
				e.Value = prev + 1
			}
		}
		if def.Type == DefFlags && (e.Value < 0 || e.Value > 63) {
			r.errorf(e.KeyPos("value"), "%s: entry %q has bit number %d, want 0 to 63 (flags values are bit numbers)", what, e.Name, e.Value)
		}
		if prev := def.entries[e.Name]; prev != nil {
			r.errorf(e.Pos, "%s: duplicate entry %q (first at %s)", what, e.Name, prev.Pos)
			continue
		}
		def.entries[e.Name] = e
	}
}

// members resolves the references and lengths of a struct's members.
func (r *resolver) members(def *Definition) {
	seen := make(map[string]bool)
	for _, m := range def.Members {
		what := fmt.Sprintf("member %q of struct %q", m.Name, def.Name)
		if seen[m.Name] {
			r.errorf(m.Pos, "struct %q: duplicate member %q", def.Name, m.Name)
		}
		seen[m.Name] = true
		if m.Enum != "" {
			m.EnumDef = r.enumRef(m.Enum, m.KeyPos("enum"), what)
		}
		if m.Struct != "" {
			m.StructDef = r.structRef(m.Struct, m.KeyPos("struct"), what)
			if m.Type != TypeBinary {
				r.errorf(m.KeyPos("struct"), "%s: \"struct\" is only valid for binary members, not %s", what, m.Type)
			}
		}
		if m.Len != nil {
			r.bound(m.Len, what, "len", true)
			if m.Type != TypeString && m.Type != TypeBinary {
				r.errorf(m.Len.Pos, "%s: \"len\" is only valid for string and binary members, not %s", what, m.Type)
			}
		}
	}
}

// structSize computes the packed size of a struct and the offsets of its
// members. state: 0 unvisited, 1 in progress, 2 done.
func (r *resolver) structSize(def *Definition, state map[*Definition]int) int {
	switch state[def] {
	case 1:
		r.errorf(def.Pos, "struct %q contains itself", def.Name)
		state[def] = 2
		return 0
	case 2:
		return def.Size
	}
	state[def] = 1
	size := 0
	for _, m := range def.Members {
		what := fmt.Sprintf("member %q of struct %q", m.Name, def.Name)
		m.Offset = size
		switch {
		case m.Type.IsInteger():
			m.Size = m.Type.FixedSize()
		case m.StructDef != nil:
			m.Size = r.structSize(m.StructDef, state)
			if m.Len != nil {
				if l, ok := m.Len.Value.Int64(); !ok || int(l) != m.Size {
					r.errorf(m.Len.Pos, "%s: \"len\" %s differs from the size %d of struct %q", what, m.Len.Value, m.Size, m.Struct)
				}
			}
		case m.Len != nil:
			l, ok := m.Len.Value.Int64()
			if !ok || l > math.MaxInt32 {
				r.errorf(m.Len.Pos, "%s: \"len\" %s is out of range", what, m.Len.Value)
			} else {
				m.Size = int(l)
			}
		case m.Type == TypeString || m.Type == TypeBinary:
			r.errorf(m.Pos, "%s: a %s member needs \"len\" (or \"struct\") to have a size", what, m.Type)
		}
		if size > math.MaxInt32-m.Size {
			r.errorf(m.Pos, "%s: struct size overflows", what)
			break
		}
		size += m.Size
	}
	def.Size = size
	state[def] = 2
	return size
}

// constRef finds the const a bound names: by definition name, or by its C
// name (name-prefix + name; wireguard's checks use "wg-key-len" for the
// const "key-len" with name-prefix "wg-").
func (r *resolver) constRef(name string) (*Definition, bool) {
	if def := r.f.defs[name]; def != nil {
		return def, true
	}
	def, ok := r.cnames[name]
	return def, ok
}

var (
	limitPattern  = regexp.MustCompile(`^([us])(8|16|32|64)-(min|max)$`)
	digitsPattern = regexp.MustCompile(`^[0-9]+$`)
)

// limitValue returns the value of a type limit such as "u16-max" or "s8-min".
func limitValue(s string) (Int, bool) {
	m := limitPattern.FindStringSubmatch(s)
	if m == nil {
		return Int{}, false
	}
	bits, _ := strconv.Atoi(m[2])
	switch {
	case m[1] == "u" && m[3] == "min":
		return Int{}, true
	case m[1] == "u":
		if bits == 64 {
			return UintOf(math.MaxUint64), true
		}
		return UintOf(1<<bits - 1), true
	case m[3] == "max":
		return UintOf(1<<(bits-1) - 1), true
	}
	return Int{neg: true, abs: 1 << (bits - 1)}, true
}

// bound resolves a Bound written as a string: digits, a const name or a type
// limit, optionally followed by " - 1" if minus1 is allowed.
func (r *resolver) bound(b *Bound, what, key string, minus1 bool) {
	if b == nil || b.resolved {
		return
	}
	b.resolved = true
	raw := b.Raw
	sub := false
	if minus1 && strings.HasSuffix(raw, " - 1") {
		raw, sub = strings.TrimSuffix(raw, " - 1"), true
	}
	var v Int
	if digitsPattern.MatchString(raw) {
		u, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			r.errorf(b.Pos, "%s: %q value %q is out of range", what, key, b.Raw)
			return
		}
		v = UintOf(u)
	} else if def, ok := r.constRef(raw); ok {
		if def.Type != DefConst {
			r.errorf(b.Pos, "%s: %q refers to %s %q, want a const", what, key, def.Type, def.Name)
			return
		}
		if def.IsString {
			r.errorf(b.Pos, "%s: %q refers to const %q, which has a string value", what, key, def.Name)
			return
		}
		b.Const, v = def.Name, def.Value
	} else if lv, ok := limitValue(raw); ok {
		b.Limit, v = raw, lv
	} else {
		r.errorf(b.Pos, "%s: %q value %q is not a number, a const or a type limit (like u32-max)", what, key, b.Raw)
		return
	}
	if sub {
		var ok bool
		if v, ok = v.sub1(); !ok {
			r.errorf(b.Pos, "%s: %q value %q is out of range", what, key, b.Raw)
			return
		}
	}
	b.Value = v
}

// enumRef resolves the name of an enum or flags definition.
func (r *resolver) enumRef(name string, p Pos, what string) *Definition {
	def := r.f.defs[name]
	switch {
	case def == nil:
		r.errorf(p, "%s references unknown enum %q", what, name)
		return nil
	case def.Type != DefEnum && def.Type != DefFlags:
		r.errorf(p, "%s references %s %q, want an enum or flags", what, def.Type, name)
		return nil
	}
	return def
}

// structRef resolves the name of a struct definition.
func (r *resolver) structRef(name string, p Pos, what string) *Definition {
	def := r.f.defs[name]
	switch {
	case def == nil:
		r.errorf(p, "%s references unknown struct %q", what, name)
		return nil
	case def.Type != DefStruct:
		r.errorf(p, "%s references %s %q, want a struct", what, def.Type, name)
		return nil
	}
	return def
}

// attributeSets indexes the sets, numbers the attributes of full sets,
// merges subsets with their parents and resolves attribute references.
func (r *resolver) attributeSets() {
	f := r.f
	f.sets = make(map[string]*AttributeSet)
	for _, s := range f.AttributeSets {
		if prev := f.sets[s.Name]; prev != nil {
			r.errorf(s.KeyPos("name"), "duplicate attribute set %q (first defined at %s)", s.Name, prev.Pos)
			continue
		}
		f.sets[s.Name] = s
	}
	for _, s := range f.AttributeSets {
		if !s.IsSubset() {
			r.numberAttributes(s)
			for _, a := range s.Attributes {
				r.attribute(a, func(string) bool { return true })
			}
		}
	}
	state := make(map[*AttributeSet]int)
	for _, s := range f.AttributeSets {
		if s.IsSubset() {
			r.subset(s, state)
		}
	}
}

func attrWhat(a *Attribute) string {
	return fmt.Sprintf("attribute %q in set %q", a.Name, a.Set.Name)
}

func (r *resolver) numberAttributes(s *AttributeSet) {
	s.byName = make(map[string]*Attribute)
	s.byValue = make(map[uint16]*Attribute)
	next := 1
	for _, a := range s.Attributes {
		if a.Has("value") {
			next = int(a.Value)
		} else if next > maxAttrValue {
			r.errorf(a.Pos, "%s: implicit value %d is out of range (netlink attribute types are at most %d)", attrWhat(a), next, maxAttrValue)
		} else {
			a.Value = uint16(next)
		}
		next++
		r.index(s, a)
	}
}

// index adds a to the lookups of s, reporting duplicate names and values.
func (r *resolver) index(s *AttributeSet, a *Attribute) {
	if prev := s.byName[a.Name]; prev != nil {
		r.errorf(a.Pos, "set %q: duplicate attribute %q (first at %s)", s.Name, a.Name, prev.Pos)
		return
	}
	s.byName[a.Name] = a
	if prev := s.byValue[a.Value]; prev != nil {
		r.errorf(a.Pos, "set %q: attribute %q has value %d, already used by %q", s.Name, a.Name, a.Value, prev.Name)
		return
	}
	s.byValue[a.Value] = a
}

// subset merges the attributes of subset s with those of its parent set,
// reporting whether it could. state: 0 unvisited, 1 in progress, 2 done,
// 3 failed.
func (r *resolver) subset(s *AttributeSet, state map[*AttributeSet]int) bool {
	switch state[s] {
	case 1:
		r.errorf(s.KeyPos("subset-of"), "attribute set %q is a subset of itself (via %q)", s.Name, s.SubsetOf)
		state[s] = 3
		return false
	case 2:
		return true
	case 3:
		return false
	}
	state[s] = 1
	s.byName = make(map[string]*Attribute)
	s.byValue = make(map[uint16]*Attribute)
	p := r.f.sets[s.SubsetOf]
	if p == nil {
		r.errorf(s.KeyPos("subset-of"), "attribute set %q is a subset of unknown set %q", s.Name, s.SubsetOf)
		state[s] = 3
		return false
	}
	if p.IsSubset() && !r.subset(p, state) {
		state[s] = 3
		return false
	}
	s.Parent = p
	s.NamePrefix = p.NamePrefix
	attrs := s.Attributes[:0]
	for _, a := range s.Attributes {
		if prev := s.byName[a.Name]; prev != nil && len(a.keys) <= 1 {
			// devlink's dl-dpipe-table lists two attributes twice; the
			// kernel's tooling keeps one. Tolerate plain repeats.
			r.warnf(a.Pos, "subset %q lists attribute %q again (first at %s); ignoring the repeat", s.Name, a.Name, prev.Pos)
			continue
		}
		pa := p.Attribute(a.Name)
		if pa == nil {
			r.errorf(a.KeyPos("name"), "attribute %q of subset %q is not in its parent set %q", a.Name, s.Name, p.Name)
			continue
		}
		if a.Has("value") && a.Value != pa.Value {
			r.errorf(a.KeyPos("value"), "%s: \"value\" %d differs from the value %d in parent set %q (values are defined by the parent)", attrWhat(a), a.Value, pa.Value, p.Name)
		}
		m := mergeAttr(pa, a)
		m.Set = s
		attrs = append(attrs, m)
		r.attribute(m, a.Has)
		r.index(s, m)
	}
	s.Attributes = attrs
	state[s] = 2
	return true
}

// mergeAttr returns the attribute of a subset: the parent attribute pa with
// the keys written in the subset attribute a applied over it.
func mergeAttr(pa, a *Attribute) *Attribute {
	m := *pa
	m.Parent = pa
	m.Source = Source{Pos: a.Pos, keys: make(map[string]Pos, len(pa.keys)+len(a.keys))}
	for k, p := range pa.keys {
		m.keys[k] = p
	}
	for k, p := range a.keys {
		m.keys[k] = p
		switch k {
		case "type":
			m.Type = a.Type
		case "doc":
			m.Doc = a.Doc
		case "type-value":
			m.TypeValue = a.TypeValue
		case "byte-order":
			m.ByteOrder = a.ByteOrder
		case "multi-attr":
			m.MultiAttr = a.MultiAttr
		case "nested-attributes":
			m.NestedAttributes, m.Nested = a.NestedAttributes, nil
		case "enum":
			m.Enum, m.EnumDef = a.Enum, nil
		case "enum-as-flags":
			m.EnumAsFlags = a.EnumAsFlags
		case "checks":
			m.Checks = a.Checks
		case "sub-type":
			m.SubType = a.SubType
		case "display-hint":
			m.DisplayHint = a.DisplayHint
		case "name-prefix":
			m.NamePrefix = a.NamePrefix
		case "struct":
			m.Struct, m.StructDef = a.Struct, nil
		}
	}
	return &m
}

// attribute resolves the references of a, for the keys in written (for a
// subset attribute only the keys the subset overrides, the others being
// resolved in the parent), and checks the attribute's consistency.
func (r *resolver) attribute(a *Attribute, has func(key string) bool) {
	what := attrWhat(a)
	if has("nested-attributes") && a.NestedAttributes != "" {
		a.Nested = r.f.sets[a.NestedAttributes]
		if a.Nested == nil {
			r.errorf(a.KeyPos("nested-attributes"), "%s references unknown attribute set %q", what, a.NestedAttributes)
		}
	}
	if has("enum") && a.Enum != "" {
		a.EnumDef = r.enumRef(a.Enum, a.KeyPos("enum"), what)
	}
	if has("struct") && a.Struct != "" {
		a.StructDef = r.structRef(a.Struct, a.KeyPos("struct"), what)
	}
	if has("checks") && a.Checks != nil {
		c := a.Checks
		r.bound(c.Min, what, "min", false)
		r.bound(c.Max, what, "max", false)
		r.bound(c.MinLen, what, "min-len", true)
		r.bound(c.MaxLen, what, "max-len", true)
		r.bound(c.ExactLen, what, "exact-len", true)
		if c.FlagsMask != "" {
			c.FlagsMaskDef = r.enumRef(c.FlagsMask, c.KeyPos("flags-mask"), what+" checks")
		}
	}
	// Consistency of the merged attribute; reported once, where a key
	// involved was written.
	needs := func(key, cond string) {
		if !a.Has(key) {
			r.errorf(a.Pos, "%s: %s needs %q", what, cond, key)
		}
	}
	switch {
	case !has("type") && !has("nested-attributes") && !has("sub-type"):
	case a.Type == TypeNest || a.Type == TypeNestTypeValue:
		needs("nested-attributes", "type "+string(a.Type))
	case a.Type == TypeIndexedArray:
		needs("sub-type", "type indexed-array")
		if a.SubType == TypeNest {
			needs("nested-attributes", "sub-type nest")
		}
	}
	if has("enum-as-flags") && a.EnumAsFlags && a.EnumDef != nil {
		for _, e := range a.EnumDef.Entries {
			if e.Value < 0 || e.Value > 63 {
				r.errorf(a.KeyPos("enum-as-flags"), "%s: enum-as-flags, but entry %q of %q has value %d (want 0 to 63)", what, e.Name, a.Enum, e.Value)
				return
			}
		}
	}
	if a.EnumDef != nil && (has("enum") || has("type") || has("sub-type") || has("enum-as-flags")) {
		t := a.Type
		if t == TypeIndexedArray || t == TypeBinary {
			t = a.SubType
		}
		r.enumFits(a.EnumDef, a.EnumAsFlags, t, a.KeyPos("enum"), what)
	}
}

// enumFits reports the first entry of def whose value (or, for flags and
// enum-as-flags, whose bit) does not fit the integer type t of what uses
// it: generated code would truncate it.
func (r *resolver) enumFits(def *Definition, asFlags bool, t AttrType, p Pos, what string) {
	if !t.IsInteger() {
		return
	}
	bits := 64
	if n := t.FixedSize(); n > 0 {
		bits = 8 * n
	}
	for _, e := range def.Entries {
		if def.Type == DefFlags || asFlags {
			if e.Value >= int64(bits) {
				r.errorf(p, "%s (%s) uses %s %q: entry %q (at %s) is bit %d, which does not fit %s", what, t, def.Type, def.Name, e.Name, e.Pos, e.Value, t)
				return
			}
			continue
		}
		if !t.Fits(e.Value) {
			r.errorf(p, "%s (%s) uses %s %q: entry %q (at %s) has value %d, which does not fit %s", what, t, def.Type, def.Name, e.Name, e.Pos, e.Value, t)
			return
		}
	}
}

func (r *resolver) mcastGroups() {
	f := r.f
	f.mcgrps = make(map[string]*MulticastGroup)
	for _, g := range f.MulticastGroups {
		if prev := f.mcgrps[g.Name]; prev != nil {
			r.errorf(g.KeyPos("name"), "duplicate multicast group %q (first at %s)", g.Name, prev.Pos)
			continue
		}
		f.mcgrps[g.Name] = g
	}
}

// operations numbers the operations and resolves their references.
func (r *resolver) operations() {
	f := r.f
	ops := f.Operations
	f.ops = make(map[string]*Op)
	for _, op := range ops.List {
		if prev := f.ops[op.Name]; prev != nil {
			r.errorf(op.KeyPos("name"), "duplicate operation %q (first at %s)", op.Name, prev.Pos)
			continue
		}
		f.ops[op.Name] = op
	}
	if ops.FixedHeader != "" {
		ops.FixedHeaderDef = r.structRef(ops.FixedHeader, ops.KeyPos("fixed-header"), "operations fixed-header")
	}
	if ops.EnumModel == EnumModelDirectional {
		r.numberDirectional()
	} else {
		r.numberUnified()
	}
	// Own attribute sets and notify targets first: a notification may
	// precede the op it notifies (handshake's "ready" notifies "accept").
	for _, op := range ops.List {
		r.opRefs(op)
	}
	for _, op := range ops.List {
		r.op(op)
	}
	r.uniqueValues()
}

func opWhat(op *Op) string { return fmt.Sprintf("operation %q", op.Name) }

// messages returns the request and reply messages of the op's modes.
func (op *Op) messages() (reqs, reps []*Message) {
	for _, m := range []*Mode{op.Do, op.Dump} {
		if m == nil {
			continue
		}
		if m.Request != nil {
			reqs = append(reqs, m.Request)
		}
		if m.Reply != nil {
			reps = append(reps, m.Reply)
		}
	}
	return reqs, reps
}

// numberUnified numbers operations from 1 in list order; an explicit value
// restarts the count. Requests, replies and notifications share the value.
func (r *resolver) numberUnified() {
	next := 1
	for _, op := range r.f.Operations.List {
		if op.Has("value") {
			next = int(op.value)
		}
		if next > math.MaxUint8 {
			r.errorf(op.Pos, "%s: implicit value %d is out of range (at most 255)", opWhat(op), next)
		} else {
			op.RequestValue, op.ReplyValue = uint8(next), uint8(next)
			op.HasRequestValue, op.HasReplyValue = true, true
		}
		next++
		reqs, reps := op.messages()
		for _, m := range append(reqs, reps...) {
			if m.explicit {
				r.errorf(m.KeyPos("value"), "%s: message \"value\" is only used with enum-model directional", opWhat(op))
			}
		}
		r.messageValues(op)
	}
}

// numberDirectional numbers operations the way the kernel's YNL tooling
// (tools/net/ynl/pyynl/lib/nlspec.py) does for enum-model directional:
// request and reply values are counted separately from 1. A do/dump op takes
// the next request value and, if its do (or, without do, its dump) has a
// reply, the next reply value; values written in that do (or dump) request
// and reply restart the counts. A notification (notify or event) takes the
// next reply value; its "value" restarts the reply count.
func (r *resolver) numberDirectional() {
	req, rsp := 1, 1
	for _, op := range r.f.Operations.List {
		what := opWhat(op)
		switch {
		case op.IsAsync():
			if op.Has("value") {
				rsp = int(op.value)
			}
			r.setReply(op, rsp)
			rsp++
		case op.IsCall():
			if op.Has("value") {
				r.errorf(op.KeyPos("value"), "%s: operation \"value\" is not used with enum-model directional; write \"value\" in the do/dump request and reply", what)
			}
			mode := op.Do
			if mode == nil {
				mode = op.Dump
			}
			if mode.Request != nil && mode.Request.explicit {
				req = int(mode.Request.Value)
			}
			if mode.Reply != nil && mode.Reply.explicit {
				rsp = int(mode.Reply.Value)
			}
			if req > math.MaxUint8 {
				r.errorf(op.Pos, "%s: implicit request value %d is out of range (at most 255)", what, req)
			} else {
				op.RequestValue, op.HasRequestValue = uint8(req), true
			}
			req++
			if mode.Reply != nil {
				r.setReply(op, rsp)
				rsp++
			}
		default:
			r.errorf(op.Pos, "%s has no do, dump, notify or event, which enum-model directional cannot number", what)
		}
		r.messageValues(op)
	}
}

func (r *resolver) setReply(op *Op, v int) {
	if v > math.MaxUint8 {
		r.errorf(op.Pos, "%s: implicit reply value %d is out of range (at most 255)", opWhat(op), v)
		return
	}
	op.ReplyValue, op.HasReplyValue = uint8(v), true
}

// messageValues gives each message without an explicit value the op's.
func (r *resolver) messageValues(op *Op) {
	reqs, reps := op.messages()
	for _, m := range reqs {
		if !m.explicit {
			m.Value, m.HasValue = op.RequestValue, op.HasRequestValue
		}
	}
	for _, m := range reps {
		if !m.explicit {
			m.Value, m.HasValue = op.ReplyValue, op.HasReplyValue
		}
	}
	if op.Event != nil {
		op.Event.Value, op.Event.HasValue = op.ReplyValue, op.HasReplyValue
	}
}

// uniqueValues reports operations sharing a request value. Reply values
// may be shared with the directional model: devlink's "port-get" and
// "port-new" both reply with DEVLINK_CMD_PORT_NEW (7).
func (r *resolver) uniqueValues() {
	reqs := make(map[uint8]*Op)
	directional := r.f.Operations.EnumModel == EnumModelDirectional
	for _, op := range r.f.Operations.List {
		if !op.HasRequestValue || (directional && !op.IsCall()) {
			continue
		}
		if prev := reqs[op.RequestValue]; prev != nil {
			r.errorf(op.Pos, "%s has value %d, already used by operation %q", opWhat(op), op.RequestValue, prev.Name)
			continue
		}
		reqs[op.RequestValue] = op
	}
}

// opRefs resolves the op's own attribute set and its notify target.
func (r *resolver) opRefs(op *Op) {
	f := r.f
	what := opWhat(op)
	if op.AttributeSet != "" {
		op.Set = f.sets[op.AttributeSet]
		if op.Set == nil {
			r.errorf(op.KeyPos("attribute-set"), "%s references unknown attribute set %q", what, op.AttributeSet)
		}
	}
	if op.Notify != "" {
		op.NotifyOp = f.ops[op.Notify]
		switch t := op.NotifyOp; {
		case t == nil:
			r.errorf(op.KeyPos("notify"), "%s notifies unknown operation %q", what, op.Notify)
		case !t.IsCall():
			r.errorf(op.KeyPos("notify"), "%s notifies operation %q, which has no do or dump to take the reply format from", what, op.Notify)
		}
	}
}

// op resolves the remaining references of an operation.
func (r *resolver) op(op *Op) {
	f := r.f
	what := opWhat(op)
	switch {
	case op.AttributeSet != "":
	case op.NotifyOp != nil:
		op.Set = op.NotifyOp.Set
		if op.NotifyOp.AttributeSet == "" {
			r.errorf(op.KeyPos("notify"), "%s has no attribute-set and notifies operation %q, which has none either", what, op.Notify)
		}
	case op.IsCall() || op.Event != nil:
		r.errorf(op.Pos, "%s needs an attribute-set", what)
	}
	op.FixedHeader = cmpOr(op.FixedHeader, f.Operations.FixedHeader)
	switch {
	case op.Has("fixed-header"):
		op.FixedHeaderDef = r.structRef(op.FixedHeader, op.KeyPos("fixed-header"), what)
	case op.FixedHeader != "":
		op.FixedHeaderDef = f.Operations.FixedHeaderDef
	}
	if op.Mcgrp != "" {
		op.McastGrp = f.mcgrps[op.Mcgrp]
		if op.McastGrp == nil {
			r.errorf(op.KeyPos("mcgrp"), "%s references unknown multicast group %q", what, op.Mcgrp)
		}
	}
	for _, x := range []struct {
		m    *Mode
		name string
	}{{op.Do, "do"}, {op.Dump, "dump"}} {
		if x.m == nil {
			continue
		}
		r.messageAttrs(op, x.m.Request, what+" "+x.name+" request")
		r.messageAttrs(op, x.m.Reply, what+" "+x.name+" reply")
	}
	r.messageAttrs(op, op.Event, what+" event")
}

// messageAttrs resolves the attribute names of a message in the op's set.
func (r *resolver) messageAttrs(op *Op, m *Message, what string) {
	if m == nil || op.Set == nil {
		return
	}
	m.Attributes = m.Attributes[:0]
	for i, name := range m.attrNames {
		a := op.Set.Attribute(name)
		if a == nil {
			r.errorf(m.attrPos[i], "%s: unknown attribute %q in set %q", what, name, op.Set.Name)
			continue
		}
		m.Attributes = append(m.Attributes, a)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

package spec

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file decodes a spec document into the model, following the
// genetlink, genetlink-c and genetlink-legacy JSON schemas key by key.
// References between elements are resolved afterwards (resolve.go).

var (
	familyKeys = keySet{
		"name": flGenl, "doc": flGenl, "protocol": flGenl, "uapi-header": flGenl,
		"c-family-name": flC, "c-version-name": flC, "max-by-define": flC,
		"cmd-max-name": flC, "cmd-cnt-name": flC,
		"kernel-policy": flLegacy, "version": flLegacy,
		"definitions": flGenl, "attribute-sets": flGenl, "operations": flGenl,
		"mcast-groups": flGenl, "kernel-family": flGenl,
	}
	definitionKeys = keySet{
		"name": flGenl, "header": flGenl, "scope": flGenl, "type": flGenl, "doc": flGenl,
		"value": flGenl, "value-start": flGenl, "entries": flGenl, "render-max": flGenl,
		"enum-name": flC, "name-prefix": flC, "enum-cnt-name": flC,
		"members": flLegacy,
	}
	entryKeys  = keySet{"name": flGenl, "value": flGenl, "doc": flGenl}
	memberKeys = keySet{
		"name": flGenl, "type": flGenl, "len": flGenl, "byte-order": flGenl, "doc": flGenl,
		"enum": flGenl, "display-hint": flGenl, "struct": flGenl,
	}
	attrSetKeys = keySet{
		"name": flGenl, "name-prefix": flGenl, "enum-name": flGenl, "doc": flGenl,
		"subset-of": flGenl, "attributes": flGenl,
		"attr-cnt-name": flC, "attr-max-name": flC, "header": flC,
	}
	attrKeys = keySet{
		"name": flGenl, "type": flGenl, "doc": flGenl, "value": flGenl, "type-value": flGenl,
		"byte-order": flGenl, "multi-attr": flGenl, "nested-attributes": flGenl,
		"enum": flGenl, "enum-as-flags": flGenl, "checks": flGenl, "sub-type": flGenl,
		"display-hint": flGenl,
		"name-prefix":  flC,
		"struct":       flLegacy,
	}
	checksKeys = keySet{
		"flags-mask": flGenl, "min": flGenl, "max": flGenl,
		"min-len": flGenl, "max-len": flGenl, "exact-len": flGenl,
		"unterminated-ok": flC,
	}
	operationsKeys = keySet{
		"enum-model": flGenl, "name-prefix": flGenl, "enum-name": flGenl,
		"async-prefix": flGenl, "async-enum": flGenl, "list": flGenl,
		"fixed-header": flLegacy,
	}
	opKeys = keySet{
		"name": flGenl, "doc": flGenl, "value": flGenl, "attribute-set": flGenl,
		"flags": flGenl, "dont-validate": flGenl, "config-cond": flGenl,
		"do": flGenl, "dump": flGenl, "notify": flGenl, "event": flGenl, "mcgrp": flGenl,
		"fixed-header": flLegacy,
	}
	modeKeys         = keySet{"request": flGenl, "reply": flGenl, "pre": flGenl, "post": flGenl}
	messageKeys      = keySet{"attributes": flGenl, "value": flLegacy}
	eventKeys        = keySet{"attributes": flGenl}
	mcastKeys        = keySet{"list": flGenl}
	mcgrpKeys        = keySet{"name": flGenl, "flags": flGenl, "c-define-name": flC}
	kernelFamilyKeys = keySet{"headers": flGenl, "sock-priv": flGenl}
)

// The pattern of len-or-define and len-or-limit strings in the schemas.
var (
	lenOrDefinePattern = regexp.MustCompile(`^[0-9A-Za-z_-]+( - 1)?$`)
	lenOrLimitPattern  = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)
)

// unsupportedProtocolMsg is reported for protocols this package does not load.
const unsupportedProtocolMsg = "protocol %q is not supported (want genetlink, genetlink-c or genetlink-legacy)"

// opFlags returns the operation/multicast flags allowed by the spec's flavour.
// The genetlink-c schema only allows admin-perm.
func (d *decoder) opFlags() []string {
	if d.level == flC {
		return []string{"admin-perm"}
	}
	return []string{"admin-perm", "uns-admin-perm"}
}

// namesPattern reports whether the schema constrains element names (of
// definitions, attribute sets, attributes and operations) to [0-9a-z-]
// (namePattern also accepts '_', see there):
// the genetlink and genetlink-legacy schemas do, genetlink-c does not.
func (d *decoder) namesPattern() bool { return d.level != flC }

func (d *decoder) family(root *yaml.Node) *Family {
	f := &Family{Protocol: ProtocolGenetlink, Version: 1, KernelPolicy: KernelPolicySplit}
	o := d.object(root, "family")
	if o == nil {
		return nil
	}
	d.level, d.proto = flGenl, ProtocolGenetlink
	if o.has("protocol") {
		s, ok := o.str("protocol")
		if !ok {
			return nil
		}
		switch Protocol(s) {
		case ProtocolGenetlink:
		case ProtocolGenetlinkC:
			d.level = flC
		case ProtocolGenetlinkLegacy:
			d.level = flLegacy
		default:
			d.errorf(o.vpos("protocol"), unsupportedProtocolMsg, s)
			return nil
		}
		d.proto = Protocol(s)
		f.Protocol = d.proto
	}
	if nm := elemName(o, "name"); nm != "" {
		o.what = fmt.Sprintf("family %q", nm)
	}
	o.check(familyKeys)
	o.require("name", "doc", "attribute-sets", "operations")
	o.record(&f.Source, familyKeys)
	// Only the genetlink schema constrains the family name.
	f.Name = o.name("name", d.level == flGenl)
	o.setStr("doc", &f.Doc)
	o.setStr("uapi-header", &f.UAPIHeader)
	o.setStr("c-family-name", &f.CFamilyName)
	o.setStr("c-version-name", &f.CVersionName)
	o.boolean("max-by-define", &f.MaxByDefine)
	o.setStr("cmd-max-name", &f.CmdMaxName)
	o.setStr("cmd-cnt-name", &f.CmdCntName)
	if s, ok := o.enum("kernel-policy", kernelPolicies); ok {
		f.KernelPolicy = KernelPolicy(s)
	}
	if o.has("version") {
		if v, ok := o.integer("version"); ok {
			if u, ok := v.Uint64(); !ok || u < 1 || u > math.MaxUint8 {
				d.errorf(o.vpos("version"), "%s: \"version\" must be from 1 to 255, got %s", o.what, v)
			} else {
				f.Version, f.VersionSet = uint8(u), true
			}
		}
	}
	if o.has("kernel-family") {
		f.KernelFamily = d.kernelFamily(o.raw("kernel-family"))
	}
	if items, ok := o.list("definitions"); ok {
		for i, it := range items {
			if def := d.definition(it, i); def != nil {
				f.Definitions = append(f.Definitions, def)
			}
		}
	}
	if items, ok := o.list("attribute-sets"); ok {
		for i, it := range items {
			if s := d.attrSet(it, i); s != nil {
				f.AttributeSets = append(f.AttributeSets, s)
			}
		}
	}
	if o.has("operations") {
		f.Operations = d.operations(o.raw("operations"))
	}
	if o.has("mcast-groups") {
		f.MulticastGroups = d.mcastGroups(o.raw("mcast-groups"))
	}
	return f
}

func (d *decoder) kernelFamily(n *yaml.Node) *KernelFamily {
	o := d.object(n, "kernel-family")
	if o == nil {
		return nil
	}
	o.check(kernelFamilyKeys)
	k := &KernelFamily{}
	o.record(&k.Source, kernelFamilyKeys)
	k.Headers, _, _ = o.strList("headers", nil)
	o.setStr("sock-priv", &k.SockPriv)
	return k
}

// elemName reads the name of a list element early, for messages.
func elemName(o *object, key string) string {
	if n := o.val(key); isScalar(n, "!!str") {
		return n.Value
	}
	return ""
}

func (d *decoder) definition(n *yaml.Node, i int) *Definition {
	o := d.object(n, fmt.Sprintf("definitions[%d]", i))
	if o == nil {
		return nil
	}
	def := &Definition{Scope: ScopeUAPI}
	if nm := elemName(o, "name"); nm != "" {
		o.what = fmt.Sprintf("definition %q", nm)
	}
	o.check(definitionKeys)
	o.require("type", "name")
	o.record(&def.Source, definitionKeys)
	def.Name = o.name("name", d.namesPattern())
	types := []string{"const", "enum", "flags"}
	if d.level >= flLegacy {
		types = append(types, "struct")
	}
	if s, ok := o.str("type"); ok {
		if contains(types, s) {
			def.Type = DefType(s)
		} else if s == "struct" {
			d.errorf(o.vpos("type"), "%s: type \"struct\" is not allowed with protocol %s (genetlink-legacy only)", o.what, d.proto)
		} else {
			d.errorf(o.vpos("type"), "%s: invalid \"type\" value %q (want one of const, enum, flags, struct)", o.what, s)
		}
	}
	o.setStr("doc", &def.Doc)
	o.setStr("header", &def.Header)
	if s, ok := o.enum("scope", scopes); ok {
		def.Scope = Scope(s)
	}
	o.setStr("name-prefix", &def.NamePrefix)

	// Keys that only make sense for some definition types.
	only := func(key string, types ...DefType) {
		if !o.has(key) || def.Type == "" {
			return
		}
		for _, t := range types {
			if def.Type == t {
				return
			}
		}
		d.errorf(o.keyPos(key), "%s: key %q is not valid in a definition of type %s", o.what, key, def.Type)
	}
	only("value", DefConst)
	only("value-start", DefEnum, DefFlags)
	only("entries", DefEnum, DefFlags)
	only("render-max", DefEnum, DefFlags)
	only("enum-name", DefEnum, DefFlags)
	only("enum-cnt-name", DefEnum, DefFlags)
	only("members", DefStruct)

	switch def.Type {
	case DefConst:
		o.require("value")
	case DefEnum, DefFlags:
		o.require("entries")
	}
	if n := o.val("value"); n != nil {
		switch {
		case isScalar(n, "!!int"):
			if v, ok := o.integer("value"); ok {
				def.Value = v
			}
		case isScalar(n, "!!str"):
			def.StringValue, def.IsString = n.Value, true
		default:
			o.typeErr("value", "an integer or a string", n)
		}
	}
	if n := o.val("value-start"); n != nil {
		// [string, integer]: an integer or the name of a const.
		def.start = &Bound{Pos: o.vpos("value-start"), Raw: n.Value}
		switch {
		case isScalar(n, "!!int"):
			if v, ok := o.integer("value-start"); ok {
				def.start.Value, def.start.resolved = v, true
			} else {
				def.start = nil
			}
		case isScalar(n, "!!str"):
		default:
			o.typeErr("value-start", "an integer or a string", n)
			def.start = nil
		}
	}
	if items, ok := o.list("entries"); ok {
		for j, it := range items {
			if e := d.entry(it, j, o.what); e != nil {
				def.Entries = append(def.Entries, e)
			}
		}
	}
	o.boolean("render-max", &def.RenderMax)
	def.EnumName = o.optName("enum-name", true)
	o.setStr("enum-cnt-name", &def.EnumCntName)
	if items, ok := o.list("members"); ok {
		for j, it := range items {
			if m := d.member(it, j, o.what); m != nil {
				def.Members = append(def.Members, m)
			}
		}
	}
	return def
}

func (d *decoder) entry(n *yaml.Node, i int, parent string) *Entry {
	e := &Entry{}
	v := d.deref(n)
	if v == nil {
		return nil
	}
	// An entry is either a plain string (any string: the schema puts no
	// pattern on this form) or a mapping.
	if isScalar(v, "!!str") {
		e.Pos = d.pos(n)
		e.Name = v.Value
		return e
	}
	if v.Kind != yaml.MappingNode {
		d.errorf(d.pos(n), "%s: entries[%d] must be a string or a mapping, not %s", parent, i, kindName(v))
		return nil
	}
	o := d.object(n, fmt.Sprintf("entries[%d] of %s", i, parent))
	if o == nil {
		return nil
	}
	if nm := elemName(o, "name"); nm != "" {
		o.what = fmt.Sprintf("entry %q of %s", nm, parent)
	}
	o.check(entryKeys)
	o.require("name")
	o.record(&e.Source, entryKeys)
	e.Name = o.name("name", d.namesPattern())
	o.setStr("doc", &e.Doc)
	if v, ok := o.integer("value"); ok {
		if i, ok := v.Int64(); ok {
			e.Value = i
		} else {
			d.errorf(o.vpos("value"), "%s: \"value\" %s is out of range", o.what, v)
		}
	}
	return e
}

func (d *decoder) member(n *yaml.Node, i int, parent string) *Member {
	o := d.object(n, fmt.Sprintf("members[%d] of %s", i, parent))
	if o == nil {
		return nil
	}
	if nm := elemName(o, "name"); nm != "" {
		o.what = fmt.Sprintf("member %q of %s", nm, parent)
	}
	m := &Member{}
	o.check(memberKeys)
	o.require("name", "type")
	o.record(&m.Source, memberKeys)
	m.Name = o.name("name", true)
	if s, ok := o.enum("type", memberTypes); ok {
		m.Type = AttrType(s)
	}
	m.Len = d.rawBound(o, "len", true)
	if s, ok := o.enum("byte-order", byteOrders); ok {
		m.ByteOrder = ByteOrder(s)
	}
	o.setStr("doc", &m.Doc)
	o.setStr("enum", &m.Enum)
	if s, ok := o.enum("display-hint", displayHints); ok {
		m.DisplayHint = DisplayHint(s)
	}
	o.setStr("struct", &m.Struct)
	return m
}

// rawBound decodes a len-or-define (withMinus1) or len-or-limit value:
// a non-negative integer or a string matching the schema pattern. Strings
// are resolved later (resolveBound).
func (d *decoder) rawBound(o *object, key string, withMinus1 bool) *Bound {
	n := o.val(key)
	if n == nil {
		return nil
	}
	b := &Bound{Pos: o.vpos(key), Raw: n.Value}
	switch {
	case isScalar(n, "!!int"):
		v, ok := o.integer(key)
		if !ok {
			return nil
		}
		if v.Sign() < 0 {
			d.errorf(b.Pos, "%s: %q must not be negative, got %s", o.what, key, v)
			return nil
		}
		b.Value, b.resolved = v, true
	case isScalar(n, "!!str"):
		pat := lenOrLimitPattern
		if withMinus1 {
			pat = lenOrDefinePattern
		}
		if !pat.MatchString(n.Value) {
			d.errorf(b.Pos, "%s: %q value %q does not match %s", o.what, key, n.Value, pat)
			return nil
		}
	default:
		o.typeErr(key, "an integer or a string", n)
		return nil
	}
	return b
}

func (d *decoder) attrSet(n *yaml.Node, i int) *AttributeSet {
	o := d.object(n, fmt.Sprintf("attribute-sets[%d]", i))
	if o == nil {
		return nil
	}
	if nm := elemName(o, "name"); nm != "" {
		o.what = fmt.Sprintf("attribute set %q", nm)
	}
	s := &AttributeSet{}
	o.check(attrSetKeys)
	o.require("name", "attributes")
	o.record(&s.Source, attrSetKeys)
	s.Name = o.name("name", d.namesPattern())
	o.setStr("name-prefix", &s.NamePrefix)
	s.EnumName = o.optName("enum-name", d.level >= flC)
	o.setStr("doc", &s.Doc)
	o.setStr("subset-of", &s.SubsetOf)
	if o.has("subset-of") && o.has("name-prefix") {
		d.errorf(o.vpos("name-prefix"), "%s: \"name-prefix\" is not allowed in a subset (subsets inherit naming)", o.what)
	}
	o.setStr("attr-cnt-name", &s.AttrCntName)
	o.setStr("attr-max-name", &s.AttrMaxName)
	o.setStr("header", &s.Header)
	if items, ok := o.list("attributes"); ok {
		for j, it := range items {
			if a := d.attribute(it, j, s, o.has("subset-of")); a != nil {
				s.Attributes = append(s.Attributes, a)
			}
		}
	}
	return s
}

// legacyArrayNest is the attribute type the kernel's schemas had before
// Linux 6.9 for what is now "indexed-array" with "sub-type: nest".
const legacyArrayNest = "array-nest"

func (d *decoder) attrTypes() []string {
	if d.level >= flLegacy {
		return attrTypes
	}
	t := make([]string, 0, len(attrTypes))
	for _, s := range attrTypes {
		if s != string(TypeBitfield32) {
			t = append(t, s)
		}
	}
	return t
}

// attrType decodes "type" or "sub-type" of an attribute.
func (d *decoder) attrType(o *object, key string) AttrType {
	s, ok := o.str(key)
	if !ok {
		return ""
	}
	if contains(d.attrTypes(), s) {
		return AttrType(s)
	}
	if s == legacyArrayNest && key == "type" {
		return TypeIndexedArray // with sub-type nest, see attribute
	}
	if s == string(TypeBitfield32) {
		d.errorf(o.vpos(key), "%s: %q value \"bitfield32\" is not allowed with protocol %s (genetlink-legacy only)", o.what, key, d.proto)
		return ""
	}
	d.errorf(o.vpos(key), "%s: invalid %q value %q (want one of %s)", o.what, key, s, strings.Join(attrTypes, ", "))
	return ""
}

func (d *decoder) attribute(n *yaml.Node, i int, set *AttributeSet, subset bool) *Attribute {
	parent := fmt.Sprintf("set %q", set.Name)
	o := d.object(n, fmt.Sprintf("attributes[%d] of %s", i, parent))
	if o == nil {
		return nil
	}
	if nm := elemName(o, "name"); nm != "" {
		o.what = fmt.Sprintf("attribute %q in %s", nm, parent)
	}
	a := &Attribute{Set: set}
	o.check(attrKeys)
	o.require("name")
	if !subset {
		// The schema only requires a type outside subsets.
		o.require("type")
	}
	o.record(&a.Source, attrKeys)
	a.Name = o.name("name", d.namesPattern())
	a.Type = d.attrType(o, "type")
	o.setStr("doc", &a.Doc)
	if v, ok := o.uint("value", math.MaxUint64); ok {
		if v > maxAttrValue {
			d.errorf(o.vpos("value"), "%s: \"value\" %d is out of range (netlink attribute types are at most %d)", o.what, v, maxAttrValue)
		} else {
			a.Value = uint16(v)
		}
	}
	a.TypeValue, _, _ = o.strList("type-value", nil)
	if s, ok := o.enum("byte-order", byteOrders); ok {
		a.ByteOrder = ByteOrder(s)
	}
	o.boolean("multi-attr", &a.MultiAttr)
	o.setStr("nested-attributes", &a.NestedAttributes)
	o.setStr("enum", &a.Enum)
	o.boolean("enum-as-flags", &a.EnumAsFlags)
	if o.has("checks") {
		a.Checks = d.checks(o.raw("checks"), o.what)
	}
	if s, _ := o.str("type"); s == legacyArrayNest {
		// The kernel's schemas before the rename (Linux 6.9) had
		// "array-nest": an indexed-array of nests, written
		// "type: indexed-array, sub-type: nest" since. Older specs
		// (nlctrl, ethtool, ...) still say it; read it as the new form.
		a.Type = TypeIndexedArray
		if o.has("sub-type") {
			d.errorf(o.keyPos("sub-type"), "%s: key \"sub-type\" is not valid with type \"array-nest\" (an indexed-array of nests; write type indexed-array with sub-type instead)", o.what)
		}
		a.SubType = TypeNest
		a.Source.setKey("sub-type", o.vpos("type"))
	} else {
		a.SubType = d.attrType(o, "sub-type")
	}
	if s, ok := o.enum("display-hint", displayHints); ok {
		a.DisplayHint = DisplayHint(s)
	}
	o.setStr("name-prefix", &a.NamePrefix)
	o.setStr("struct", &a.Struct)
	return a
}

// maxAttrValue is the largest netlink attribute type (NLA_TYPE_MASK).
const maxAttrValue = 0x3fff

func (d *decoder) checks(n *yaml.Node, parent string) *Checks {
	o := d.object(n, "checks of "+parent)
	if o == nil {
		return nil
	}
	c := &Checks{}
	o.check(checksKeys)
	o.record(&c.Source, checksKeys)
	o.setStr("flags-mask", &c.FlagsMask)
	c.Min = d.rawBound(o, "min", false)
	c.Max = d.rawBound(o, "max", false)
	c.MinLen = d.rawBound(o, "min-len", true)
	c.MaxLen = d.rawBound(o, "max-len", true)
	c.ExactLen = d.rawBound(o, "exact-len", true)
	o.boolean("unterminated-ok", &c.UnterminatedOK)
	return c
}

func (d *decoder) operations(n *yaml.Node) *Operations {
	o := d.object(n, "operations")
	if o == nil {
		return nil
	}
	ops := &Operations{EnumModel: EnumModelUnified}
	o.check(operationsKeys)
	o.require("list")
	o.record(&ops.Source, operationsKeys)
	if s, ok := o.str("enum-model"); ok {
		switch {
		case s == string(EnumModelUnified):
			ops.EnumModel = EnumModelUnified
		case s == string(EnumModelDirectional) && d.level >= flLegacy:
			ops.EnumModel = EnumModelDirectional
		case s == string(EnumModelDirectional):
			d.errorf(o.vpos("enum-model"), "operations: \"enum-model\" value \"directional\" is not allowed with protocol %s (genetlink-legacy only)", d.proto)
		default:
			d.errorf(o.vpos("enum-model"), "operations: invalid \"enum-model\" value %q (want one of unified, directional)", s)
		}
	}
	o.setStr("name-prefix", &ops.NamePrefix)
	ops.EnumName = o.optName("enum-name", d.level >= flC)
	o.setStr("async-prefix", &ops.AsyncPrefix)
	ops.AsyncEnum = o.optName("async-enum", d.level >= flC)
	o.setStr("fixed-header", &ops.FixedHeader)
	if items, ok := o.list("list"); ok {
		for i, it := range items {
			if op := d.op(it, i); op != nil {
				ops.List = append(ops.List, op)
			}
		}
	}
	return ops
}

func (d *decoder) op(n *yaml.Node, i int) *Op {
	o := d.object(n, fmt.Sprintf("operations list[%d]", i))
	if o == nil {
		return nil
	}
	if nm := elemName(o, "name"); nm != "" {
		o.what = fmt.Sprintf("operation %q", nm)
	}
	op := &Op{}
	o.check(opKeys)
	o.require("name", "doc")
	o.record(&op.Source, opKeys)
	op.Name = o.name("name", d.namesPattern())
	o.setStr("doc", &op.Doc)
	if v, ok := o.uint("value", math.MaxUint8); ok {
		op.value = uint8(v)
	} else {
		delete(op.keys, "value") // invalid: do not use it for numbering
	}
	o.setStr("attribute-set", &op.AttributeSet)
	flags, _, _ := o.strList("flags", d.opFlags())
	for _, f := range flags {
		op.Flags = append(op.Flags, OpFlag(f))
	}
	dv, _, _ := o.strList("dont-validate", dontValidates)
	for _, f := range dv {
		op.DontValidate = append(op.DontValidate, DontValidate(f))
	}
	o.setStr("config-cond", &op.ConfigCond)
	o.setStr("fixed-header", &op.FixedHeader)
	if o.has("do") {
		op.Do = d.mode(o.raw("do"), o.what+" do")
	}
	if o.has("dump") {
		op.Dump = d.mode(o.raw("dump"), o.what+" dump")
	}
	o.setStr("notify", &op.Notify)
	if o.has("event") {
		op.Event = d.message(o.raw("event"), o.what+" event", eventKeys)
	}
	o.setStr("mcgrp", &op.Mcgrp)
	return op
}

func (d *decoder) mode(n *yaml.Node, what string) *Mode {
	o := d.object(n, what)
	if o == nil {
		return nil
	}
	m := &Mode{}
	o.check(modeKeys)
	o.record(&m.Source, modeKeys)
	if o.has("request") {
		m.Request = d.message(o.raw("request"), what+" request", messageKeys)
	}
	if o.has("reply") {
		m.Reply = d.message(o.raw("reply"), what+" reply", messageKeys)
	}
	o.setStr("pre", &m.Pre)
	o.setStr("post", &m.Post)
	return m
}

func (d *decoder) message(n *yaml.Node, what string, keys keySet) *Message {
	o := d.object(n, what)
	if o == nil {
		return nil
	}
	m := &Message{}
	o.check(keys)
	o.record(&m.Source, keys)
	m.attrNames, m.attrPos, _ = o.strList("attributes", nil)
	if v, ok := o.uint("value", math.MaxUint8); ok {
		m.Value, m.HasValue, m.explicit = uint8(v), true, true
	}
	return m
}

func (d *decoder) mcastGroups(n *yaml.Node) []*MulticastGroup {
	o := d.object(n, "mcast-groups")
	if o == nil {
		return nil
	}
	o.check(mcastKeys)
	o.require("list")
	items, _ := o.list("list")
	var out []*MulticastGroup
	for i, it := range items {
		g := d.mcastGroup(it, i)
		if g != nil {
			out = append(out, g)
		}
	}
	return out
}

func (d *decoder) mcastGroup(n *yaml.Node, i int) *MulticastGroup {
	o := d.object(n, fmt.Sprintf("mcast-groups list[%d]", i))
	if o == nil {
		return nil
	}
	if nm := elemName(o, "name"); nm != "" {
		o.what = fmt.Sprintf("multicast group %q", nm)
	}
	g := &MulticastGroup{}
	o.check(mcgrpKeys)
	o.require("name")
	o.record(&g.Source, mcgrpKeys)
	// Only the genetlink schema constrains multicast group names.
	g.Name = o.name("name", d.level == flGenl)
	o.setStr("c-define-name", &g.CDefineName)
	flags, _, _ := o.strList("flags", d.opFlags())
	for _, f := range flags {
		g.Flags = append(g.Flags, OpFlag(f))
	}
	return g
}

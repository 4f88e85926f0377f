package gen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/internal/spec"
)

// The plan is the middle stage of the generator: every Go name and type the
// emitters print, decided once from the spec model.

// A plan holds the Go shape of one family package.
type plan struct {
	spec     *spec.Family
	pkg      string
	specFile string // base name of the spec file, for the header
	specArg  string // the -spec argument recorded in the go:generate line
	docs     bool
	noClient bool

	top *namespace // package-level identifiers

	consts  []*constDef
	enums   []*enum
	structs []*cstruct
	sets    []*set // every attribute set, in spec order
	roots   []*set // the sets that define values (not subsets), table order
	ops     []*op
	notifs  []*notif
	groups  []*group
	msgs    []*msgType // fixed-header message wrappers

	enumBy   map[*spec.Definition]*enum
	structBy map[*spec.Definition]*cstruct
	setBy    map[*spec.AttributeSet]*set

	familyConst, versionConst string
	directional               bool

	helpers map[string]bool // runtime helpers the emitted code uses
}

type constDef struct {
	def  *spec.Definition
	name string
}

type enum struct {
	def     *spec.Definition
	name    string // Go type
	flags   bool   // values are masks
	under   string // underlying Go type
	values  []enumValue
	mask    string // companion mask type for enum-as-flags use of an enum, or ""
	maskUnd string
	namesV  string // unexported table for String
}

type enumValue struct {
	entry *spec.Entry
	name  string
	value int64  // for enums
	mask  uint64 // for flags
}

type cstruct struct {
	def     *spec.Definition
	name    string
	members []*member
	size    int
	sizeC   string // unexported size constant
}

type member struct {
	m     *spec.Member
	name  string
	typ   goType
	enum  *enum
	strct *cstruct
	addr  int  // 4 or 16: a netip.Addr (ipv4 / ipv6 display hint)
	mac   bool // a net.HardwareAddr (mac / fddi display hint)
}

// A kind is how one attribute payload is represented in Go.
type kind int

const (
	kInt kind = iota
	kString
	kBinary
	kFlag
	kBitfield32
	kStruct
	kArray
	kAddr4
	kAddr16
	kAddrAny
	kHWAddr
	kNest
)

// An elem describes one attribute payload: its wire form and Go type.
type elem struct {
	kind  kind
	wire  spec.AttrType // integer type of kInt, element type of kArray
	order spec.ByteOrder
	typ   goType // Go type of one value
	enum  *enum  // enum, flags or mask type, when typ is one
	strct *cstruct
	set   *set
}

type set struct {
	spec   *spec.AttributeSet
	name   string // Go type
	root   *set
	fields []*field
	index  int    // index of the root set in the tables
	namesV string // unexported names table (of the root)
	namerV string // unexported genl.AttrNamer, when an op uses it
	counts bool   // decode counts repeated attributes first
	entry  []*entryType
	wraps  []*msgType
	consts []attrConst // attribute type constants of a root set, in spec order
	extra  string      // field keeping attributes decoded nowhere else, or ""
	elem   bool        // element type of an ordered list: decodes one attribute at a time
	req    *reqOf      // for a request type: the op and form it is the request of
	pads   []*spec.Attribute
}

// A reqOf says which call a request type belongs to.
type reqOf struct {
	op   *op
	call *call
}

type attrConst struct {
	attr *spec.Attribute
	name string
}

type field struct {
	attr   *spec.Attribute
	name   string
	attrC  string // attribute type constant
	el     elem
	multi  bool
	opt    bool // Optional[T]
	ptr    bool // *T (single nest)
	idx    bool // indexed-array of el
	arrays bool // multi-attr indexed-array: a slice of arrays, one per occurrence
	list   bool // ordered nest: a slice of el.set values, one per attribute
	tv     *entryType
	typ    goType // the field's Go type
	countV string // local counter variable in decode
}

// An entryType is the Go type of one entry of a nest-type-value attribute
// (or of a scalar attribute with type-value): the keys, then the value.
type entryType struct {
	name   string
	keys   []string // Go field names of the keys, outermost first
	knames []string // spec names of the keys
	value  string   // Go field name of the value
	el     elem
}

type op struct {
	spec       *spec.Op
	name       string // Go base name
	cmdC       string
	replyC     string // directional: reply value constant, or ""
	set        *set
	header     *cstruct
	do, dump   *call
	methodBase string
}

type call struct {
	method   string
	dump     bool
	cmd      uint8
	cmdExpr  string
	req      *spec.Message
	reply    *spec.Message
	hasReq   bool // the method takes a request argument
	reqTyp   *set // the request type, when hasReq
	replyTyp string
	replyMsg *msgType // the fixed-header wrapper of the reply, if any
}

type notif struct {
	spec   *spec.Op
	name   string // Go type
	set    *set
	header *cstruct
	cmd    uint8
	cmdC   string
}

type group struct {
	g    *spec.MulticastGroup
	name string
}

// A msgType wraps a set with a family's fixed header, for ops that carry one.
type msgType struct {
	name   string
	header *cstruct
	set    *set
}

// reserved names: the package's fixed API.
var reservedTop = []string{
	"Client", "New", "Option", "WithResolver", "WithFamily", "Optional", "Some",
	"Subscription", "Notification", "UnknownNotification", "Descriptor",
	"FamilyName", "FamilyVersion",
}

var reservedMethods = []string{"Family", "Subscribe", "Conn"}

// wireLenField names the field of every struct type that records the
// length of a payload it was decoded from when that differs from the
// struct's size.
const wireLenField = "WireLen"

var reservedFields = []string{"MarshalAttrs", "UnmarshalAttrs", "String", extraField}

// extraField is the field of every attribute-set struct that keeps, raw and
// in wire order, the attributes that have no other place: types the spec
// does not define and repeats of attributes the spec does not mark
// multi-attr. Encoding sends them after the fields.
const extraField = "Extra"

func errorf(pos spec.Pos, format string, args ...any) error {
	return &spec.Error{File: pos.File, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}
}

func newPlan(f *spec.Family, cfg Config) (*plan, error) {
	p := &plan{
		spec:     f,
		pkg:      cfg.Package,
		docs:     cfg.Docs,
		noClient: cfg.NoClient,
		specArg:  cfg.SpecArg,
		top:      newNamespace(reservedTop...),
		enumBy:   make(map[*spec.Definition]*enum),
		structBy: make(map[*spec.Definition]*cstruct),
		setBy:    make(map[*spec.AttributeSet]*set),
		helpers:  make(map[string]bool),
	}
	if p.pkg == "" {
		p.pkg = pkgName(f.Name)
	}
	p.specFile = f.Pos.File
	if p.specFile == "" {
		p.specFile = f.Path
	}
	p.familyConst, p.versionConst = "FamilyName", "FamilyVersion"
	p.directional = f.Operations != nil && f.Operations.EnumModel == spec.EnumModelDirectional

	// Types first, in a fixed order of kinds, so that names collide the
	// same way every time: attribute sets, structs, enums.
	for _, s := range f.AttributeSets {
		st := &set{spec: s, name: p.top.claim(p.typeName(s.Name), "Attrs")}
		p.sets = append(p.sets, st)
		p.setBy[s] = st
	}
	for _, s := range p.sets {
		s.root = p.setBy[s.spec.Root()]
		if s.root == s {
			s.index = len(p.roots)
			p.roots = append(p.roots, s)
		}
	}
	for _, d := range f.Definitions {
		if d.Type == spec.DefStruct {
			cs := &cstruct{def: d, name: p.top.claim(p.typeName(d.Name), "Struct"), size: d.Size}
			p.structs = append(p.structs, cs)
			p.structBy[d] = cs
		}
	}
	for _, d := range f.Definitions {
		if d.Type == spec.DefEnum || d.Type == spec.DefFlags {
			e := &enum{def: d, name: p.top.claim(p.typeName(d.Name), "Enum"), flags: d.Type == spec.DefFlags}
			p.enums = append(p.enums, e)
			p.enumBy[d] = e
		}
	}
	if err := p.planEnums(); err != nil {
		return nil, err
	}
	if err := p.planStructs(); err != nil {
		return nil, err
	}
	if err := p.planSets(); err != nil {
		return nil, err
	}
	if err := p.planOps(); err != nil {
		return nil, err
	}
	// Constants last: they have prefixes and rarely collide.
	for _, d := range f.Definitions {
		if d.Type == spec.DefConst && d.Scope != spec.ScopeKernel {
			p.consts = append(p.consts, &constDef{def: d, name: p.top.claim(goName(d.Name), "Const")})
		}
	}
	for _, e := range p.enums {
		for i := range e.values {
			e.values[i].name = p.top.claim(e.name+goNameAfter(entryName(e.def, e.values[i].entry)), "Value")
		}
	}
	for _, g := range f.MulticastGroups {
		p.groups = append(p.groups, &group{g: g, name: p.top.claim("Group"+goName(g.Name), "")})
	}
	for _, s := range p.roots {
		pfx := p.attrPrefix(s.spec)
		i := 0
		for _, a := range s.spec.Attributes {
			c := p.top.claim("Attr"+goName(pfx+a.Name), "")
			s.consts = append(s.consts, attrConst{a, c})
			if i < len(s.fields) && s.fields[i].attr == a {
				s.fields[i].attrC = c
				i++
			}
			// pad and unused attributes have no field but a constant.
		}
	}
	for _, s := range p.sets {
		if s.root != s {
			for _, fl := range s.fields {
				for _, rf := range s.root.fields {
					if rf.attr.Value == fl.attr.Value {
						fl.attrC = rf.attrC
					}
				}
				if fl.attrC == "" {
					return nil, errorf(fl.attr.Pos, "attribute %q of subset %q has no counterpart in set %q", fl.attr.Name, s.spec.Name, s.root.spec.Name)
				}
			}
		}
		s.namesV = "names" + s.root.name
	}
	return p, nil
}

// intWidth returns the width in bits of an integer type, 64 for uint/sint.
func intWidth(t spec.AttrType) int {
	switch t {
	case spec.TypeU8, spec.TypeS8:
		return 8
	case spec.TypeU16, spec.TypeS16:
		return 16
	case spec.TypeU32, spec.TypeS32:
		return 32
	}
	return 64
}

func (p *plan) planEnums() error {
	// Widths: 32 bits unless a value or a user needs 64.
	wide := make(map[*spec.Definition]bool)
	maskUsed := make(map[*spec.Definition]bool)
	maskWide := make(map[*spec.Definition]bool)
	note := func(d *spec.Definition, t spec.AttrType, asFlags bool) {
		if d == nil || !t.IsInteger() {
			return
		}
		if asFlags && d.Type == spec.DefEnum {
			maskUsed[d] = true
			if intWidth(t) == 64 {
				maskWide[d] = true
			}
			return
		}
		if intWidth(t) == 64 {
			wide[d] = true
		}
	}
	for _, s := range p.spec.AttributeSets {
		for _, a := range s.Attributes {
			t := a.Type
			if t == spec.TypeIndexedArray || (t == spec.TypeBinary && a.SubType != "") {
				t = a.SubType
			}
			note(a.EnumDef, t, a.EnumAsFlags)
		}
	}
	for _, d := range p.spec.Definitions {
		for _, m := range d.Members {
			note(m.EnumDef, m.Type, false)
		}
	}
	for _, e := range p.enums {
		d := e.def
		signed := false
		for _, en := range d.Entries {
			v := enumValue{entry: en, value: en.Value}
			if e.flags {
				if en.Value < 0 || en.Value > 63 {
					return errorf(en.Pos, "flags entry %q: bit number %d is out of range 0..63", en.Name, en.Value)
				}
				v.mask = en.Mask()
				if en.Value >= 32 {
					wide[d] = true
				}
			} else {
				if en.Value < 0 {
					signed = true
				}
				if en.Value > 1<<31-1 || en.Value < -1<<31 {
					wide[d] = true
				}
			}
			e.values = append(e.values, v)
		}
		bits := "32"
		if wide[d] {
			bits = "64"
		}
		e.under = "uint" + bits
		if signed {
			e.under = "int" + bits
		}
		e.namesV = "names" + e.name
		if maskUsed[d] {
			e.mask = p.top.claim(e.name+"Mask", "")
			e.maskUnd = "uint32"
			for _, en := range d.Entries {
				if en.Value < 0 || en.Value > 63 {
					return errorf(en.Pos, "enum %q is used as flags, but entry %q (%d) is not a bit number 0..63", d.Name, en.Name, en.Value)
				}
				if en.Value >= 32 {
					maskWide[d] = true
				}
			}
			if maskWide[d] {
				e.maskUnd = "uint64"
			}
		}
	}
	return nil
}

func builtinInt(t spec.AttrType) string {
	switch t {
	case spec.TypeU8:
		return "uint8"
	case spec.TypeU16:
		return "uint16"
	case spec.TypeU32:
		return "uint32"
	case spec.TypeU64, spec.TypeUint:
		return "uint64"
	case spec.TypeS8:
		return "int8"
	case spec.TypeS16:
		return "int16"
	case spec.TypeS32:
		return "int32"
	case spec.TypeS64, spec.TypeSint:
		return "int64"
	}
	return ""
}

func (p *plan) planStructs() error {
	for _, cs := range p.structs {
		ns := newNamespace("MarshalBinary", "UnmarshalBinary", "AppendBinary", wireLenField)
		cs.sizeC = "size" + cs.name
		for _, m := range cs.def.Members {
			mb := &member{m: m, name: ns.claim(goName(m.Name), "Field")}
			switch {
			case (m.Type == spec.TypeU32 && m.ByteOrder == spec.ByteOrderBig || m.Type == spec.TypeBinary && m.Size == 4) && m.DisplayHint == spec.HintIPv4:
				mb.addr = 4
				mb.typ = typeOf(netipPkg.Ident("Addr"))
			case m.Type == spec.TypeBinary && m.Size == 16 && m.DisplayHint == spec.HintIPv6:
				mb.addr = 16
				mb.typ = typeOf(netipPkg.Ident("Addr"))
			case m.Type == spec.TypeBinary && m.StructDef == nil && (m.DisplayHint == spec.HintMAC || m.DisplayHint == spec.HintFDDI):
				mb.mac = true
				mb.typ = typeOf(netPkg.Ident("HardwareAddr"))
			case m.Type.IsInteger():
				mb.typ = typeOf(builtinInt(m.Type))
				if m.EnumDef != nil {
					mb.enum = p.enumBy[m.EnumDef]
					mb.typ = typeOf(mb.enum.name)
				}
			case m.Type == spec.TypeBinary && m.StructDef != nil:
				mb.strct = p.structBy[m.StructDef]
				if mb.strct.size != m.Size {
					return errorf(m.Pos, "member %q of struct %q: nested struct %q is %d bytes, the member %d", m.Name, cs.def.Name, m.Struct, mb.strct.size, m.Size)
				}
				mb.typ = typeOf(mb.strct.name)
			case m.Type == spec.TypeBinary:
				mb.typ = typeOf(fmt.Sprintf("[%d]byte", m.Size))
			case m.Type == spec.TypeString:
				mb.typ = typeOf("string")
			default:
				return errorf(m.Pos, "member %q of struct %q: type %q is not supported in structs", m.Name, cs.def.Name, m.Type)
			}
			if m.Size <= 0 {
				return errorf(m.Pos, "member %q of struct %q has no size", m.Name, cs.def.Name)
			}
			if m.Type.IsInteger() && m.Size != intWidth(m.Type)/8 {
				return errorf(m.Pos, "member %q of struct %q: %s member of %d bytes", m.Name, cs.def.Name, m.Type, m.Size)
			}
			cs.members = append(cs.members, mb)
		}
	}
	// Nested structs must not form a cycle (they are values).
	for _, cs := range p.structs {
		seen := map[*cstruct]bool{}
		var walk func(c *cstruct) error
		walk = func(c *cstruct) error {
			if seen[c] {
				return errorf(cs.def.Pos, "struct %q contains itself", cs.def.Name)
			}
			seen[c] = true
			for _, m := range c.members {
				if m.strct != nil {
					if err := walk(m.strct); err != nil {
						return err
					}
				}
			}
			delete(seen, c)
			return nil
		}
		if err := walk(cs); err != nil {
			return err
		}
	}
	return nil
}

// intElem returns the elem of an integer payload of type t for attribute a.
func (p *plan) intElem(a *spec.Attribute, t spec.AttrType) elem {
	el := elem{kind: kInt, wire: t, order: a.ByteOrder, typ: typeOf(builtinInt(t))}
	if a.EnumDef != nil {
		e := p.enumBy[a.EnumDef]
		switch {
		case a.EnumAsFlags && !e.flags:
			el.enum, el.typ = e, typeOf(e.mask)
		default:
			el.enum, el.typ = e, typeOf(e.name)
		}
	}
	return el
}

// baseElem returns the representation of one payload of attribute a,
// ignoring multi-attr.
func (p *plan) baseElem(a *spec.Attribute, t spec.AttrType) (elem, error) {
	switch {
	case t.IsInteger():
		if a.DisplayHint == spec.HintIPv4 && (t == spec.TypeU32 || t == spec.TypeS32) {
			return elem{kind: kAddr4, wire: t, typ: typeOf(netipPkg.Ident("Addr"))}, nil
		}
		return p.intElem(a, t), nil
	case t == spec.TypeString:
		return elem{kind: kString, typ: typeOf("string")}, nil
	case t == spec.TypeFlag:
		return elem{kind: kFlag, typ: typeOf("bool")}, nil
	case t == spec.TypeBitfield32:
		return elem{kind: kBitfield32, typ: typeOf(attrsPkg.Ident("Bitfield32"))}, nil
	case t == spec.TypeNest:
		if a.Nested == nil {
			return elem{}, errorf(a.Pos, "nest %q has no nested-attributes", a.Name)
		}
		s := p.setBy[a.Nested]
		return elem{kind: kNest, typ: typeOf(s.name), set: s}, nil
	case t == spec.TypeBinary:
		switch {
		case a.StructDef != nil:
			cs := p.structBy[a.StructDef]
			return elem{kind: kStruct, typ: typeOf(cs.name), strct: cs}, nil
		case a.SubType != "" && a.Type == spec.TypeBinary:
			if !a.SubType.IsInteger() || a.SubType == spec.TypeUint || a.SubType == spec.TypeSint {
				return elem{}, errorf(a.KeyPos("sub-type"), "binary attribute %q: sub-type %q is not supported (fixed-width integers only)", a.Name, a.SubType)
			}
			el := p.intElem(a, a.SubType)
			el.kind = kArray
			el.typ = typeOf("[]", el.typ)
			return el, nil
		case a.DisplayHint == spec.HintIPv4:
			return elem{kind: kAddr4, wire: spec.TypeBinary, typ: typeOf(netipPkg.Ident("Addr"))}, nil
		case a.DisplayHint == spec.HintIPv6:
			return elem{kind: kAddr16, typ: typeOf(netipPkg.Ident("Addr"))}, nil
		case a.DisplayHint == spec.HintIPv4OrV6:
			return elem{kind: kAddrAny, typ: typeOf(netipPkg.Ident("Addr"))}, nil
		case a.DisplayHint == spec.HintMAC || a.DisplayHint == spec.HintFDDI:
			return elem{kind: kHWAddr, typ: typeOf(netPkg.Ident("HardwareAddr"))}, nil
		}
		return elem{kind: kBinary, typ: typeOf("[]byte")}, nil
	}
	return elem{}, errorf(a.KeyPos("type"), "attribute %q: type %q is not supported here", a.Name, t)
}

func (p *plan) planSets() error {
	for _, s := range p.sets {
		ns := newNamespace(reservedFields...)
		s.extra = extraField
		for _, a := range s.spec.Attributes {
			if a.Type == spec.TypePad {
				s.pads = append(s.pads, a)
			}
			if a.Type == spec.TypePad || a.Type == spec.TypeUnused {
				continue
			}
			fl := &field{attr: a, name: ns.claim(goName(a.Name), "Attr")}
			if err := p.planField(s, fl); err != nil {
				return err
			}
			s.fields = append(s.fields, fl)
		}
	}
	return nil
}

func (p *plan) planField(s *set, fl *field) error {
	a := fl.attr
	switch {
	case a.Type == spec.TypeNestTypeValue && len(a.TypeValue) == 0:
		// Without type-value no level of nesting is keyed: the attribute
		// is a nest of its nested-attributes (as YNL decodes it).
		el, err := p.baseElem(a, spec.TypeNest)
		if err != nil {
			return err
		}
		fl.el = el
		if a.MultiAttr {
			fl.multi = true
			fl.typ = typeOf("[]", el.typ)
			s.counts = true
		} else {
			fl.ptr = true
			fl.typ = typeOf("*", el.typ)
		}
	case a.Type == spec.TypeNestTypeValue || (len(a.TypeValue) > 0 && a.Type != spec.TypeNest && a.Type != spec.TypeIndexedArray):
		// With multi-attr, the entries of every occurrence are collected
		// in wire order: a keyed attribute is a list of entries already.
		t := a.Type
		if t == spec.TypeNestTypeValue {
			t = spec.TypeNest
		}
		el, err := p.baseElem(a, t)
		if err != nil {
			return err
		}
		if el.kind == kFlag {
			return errorf(a.KeyPos("type-value"), "attribute %q: type-value on a flag is not supported", a.Name)
		}
		et := &entryType{name: p.top.claim(s.name+fl.name+"Entry", ""), el: el}
		fns := newNamespace()
		for _, k := range a.TypeValue {
			et.keys = append(et.keys, fns.claim(goName(k), "Key"))
			et.knames = append(et.knames, k)
		}
		if el.kind == kNest {
			et.value = fns.claim("Attrs", "")
		} else {
			et.value = fns.claim("Value", "")
		}
		fl.tv = et
		fl.el = el
		fl.multi = true
		s.entry = append(s.entry, et)
		fl.typ = typeOf("[]", et.name)
		s.counts = true
	case a.Type == spec.TypeIndexedArray:
		st := a.SubType
		switch {
		case st == spec.TypeNest, st == spec.TypeString, st == spec.TypeBinary, st.IsInteger():
		case st == "":
			return errorf(a.Pos, "indexed-array %q has no sub-type", a.Name)
		default:
			return errorf(a.KeyPos("sub-type"), "indexed-array %q: sub-type %q is not supported", a.Name, st)
		}
		el, err := p.baseElem(a, st)
		if err != nil {
			return err
		}
		fl.el, fl.idx = el, true
		fl.typ = typeOf("[]", el.typ)
		if a.MultiAttr {
			// Each occurrence is an array of its own.
			fl.arrays = true
			fl.typ = typeOf("[][]", el.typ)
		}
	default:
		el, err := p.baseElem(a, a.Type)
		if err != nil {
			return err
		}
		fl.el = el
		if a.Ordered {
			if el.kind != kNest {
				return errorf(a.Pos, "attribute %q: ordered (project overlay) applies to nests only", a.Name)
			}
			fl.list = true
			fl.typ = typeOf("[]", el.typ)
			el.set.elem = true
			break
		}
		if a.MultiAttr {
			if el.kind == kFlag {
				return errorf(a.KeyPos("multi-attr"), "attribute %q: multi-attr flag is not supported", a.Name)
			}
			fl.multi = true
			fl.typ = typeOf("[]", el.typ)
			s.counts = true
			break
		}
		switch el.kind {
		case kInt, kString, kBitfield32, kStruct:
			fl.opt = true
			fl.typ = typeOf("Optional[", el.typ, "]")
		case kNest:
			fl.ptr = true
			fl.typ = typeOf("*", el.typ)
		default:
			fl.typ = el.typ
		}
	}
	return nil
}

func (p *plan) planOps() error {
	f := p.spec
	if f.Operations == nil {
		return nil
	}
	methods := newNamespace(reservedMethods...)
	asyncCmds := map[uint8]*notif{}
	wraps := map[[2]any]*msgType{}
	wrap := func(h *cstruct, s *set) *msgType {
		k := [2]any{h, s}
		if m := wraps[k]; m != nil {
			return m
		}
		m := &msgType{header: h, set: s} // named below

		wraps[k] = m
		p.msgs = append(p.msgs, m)
		s.wraps = append(s.wraps, m)
		return m
	}
	for _, so := range f.Operations.List {
		if so.IsReserved() {
			continue
		}
		o := &op{spec: so, name: goName(so.Name)}
		o.cmdC = p.top.claim("Cmd"+o.name, "")
		if p.directional && so.HasRequestValue && so.HasReplyValue {
			o.replyC = p.top.claim("Cmd"+o.name+"Reply", "")
		}
		if so.Set != nil {
			o.set = p.setBy[so.Set]
		}
		if so.FixedHeaderDef != nil {
			o.header = p.structBy[so.FixedHeaderDef]
		}
		if so.IsCall() && o.set == nil {
			return errorf(so.Pos, "op %q has no attribute set", so.Name)
		}
		base := methods.claim(p.methodName(o.name), "Op")
		o.methodBase = base
		for _, m := range []struct {
			mode *spec.Mode
			dump bool
		}{{so.Do, false}, {so.Dump, true}} {
			if m.mode == nil {
				continue
			}
			c := &call{dump: m.dump, req: m.mode.Request, reply: m.mode.Reply}
			if m.dump {
				c.method = methods.claim(base+"Dump", "")
			} else {
				c.method = base
			}
			c.cmd = so.RequestValue
			if c.req != nil && c.req.HasValue {
				c.cmd = c.req.Value
			}
			c.cmdExpr = o.cmdC
			if c.cmd != so.RequestValue || !so.HasRequestValue {
				c.cmdExpr = fmt.Sprint(c.cmd)
			}
			c.hasReq = c.req != nil && len(c.req.Attributes) > 0
			if c.reply != nil || m.dump {
				c.replyTyp = o.set.name
				if o.header != nil {
					c.replyMsg = wrap(o.header, o.set)
				}
			}
			if m.dump {
				o.dump = c
			} else {
				o.do = c
			}
		}
		p.ops = append(p.ops, o)
		if so.IsAsync() {
			s := o.set
			if s == nil {
				return errorf(so.Pos, "notification %q has no attribute set", so.Name)
			}
			cmd := so.ReplyValue
			if so.Event != nil && so.Event.HasValue {
				cmd = so.Event.Value
			}
			n := &notif{spec: so, set: s, header: o.header, cmd: cmd, cmdC: o.cmdC}
			if o.replyC != "" {
				n.cmdC = o.replyC
			}
			if prev := asyncCmds[cmd]; prev != nil {
				// Two notifications with one command value cannot be told
				// apart; the first in the spec wins.
				continue
			}
			asyncCmds[cmd] = n
			p.notifs = append(p.notifs, n)
		}
	}
	// Message wrappers: those with the family's default fixed header get
	// the plain <Set>Message, whatever the op order; ops overriding the
	// header get <Set><Header>Message.
	var def *cstruct
	if f.Operations.FixedHeaderDef != nil {
		def = p.structBy[f.Operations.FixedHeaderDef]
	}
	for _, m := range p.msgs {
		if m.header == def {
			m.name = p.top.claim(m.set.name+"Message", "")
		}
	}
	for _, m := range p.msgs {
		if m.header != def {
			m.name = p.top.claim(m.set.name+m.header.name+"Message", "")
		}
	}
	for _, o := range p.ops {
		for _, c := range []*call{o.do, o.dump} {
			if c != nil && c.replyMsg != nil {
				c.replyTyp = c.replyMsg.name
			}
		}
	}
	for _, n := range p.notifs {
		n.name = p.top.claim(goName(n.spec.Name), "Notification")
	}
	// Request types, after every other type: one per call that takes
	// attributes, with exactly the attributes the spec lists for it.
	for _, o := range p.ops {
		for _, c := range []*call{o.do, o.dump} {
			if c == nil || !c.hasReq {
				continue
			}
			rs := p.requestType(o, c)
			c.reqTyp = rs
			p.sets = append(p.sets, rs)
		}
	}
	// Namers for the sets requests are encoded in.
	for _, o := range p.ops {
		if (o.do != nil && o.do.hasReq) || (o.dump != nil && o.dump.hasReq) {
			r := o.set.root
			if r.namerV == "" {
				r.namerV = "namer" + r.name
			}
		}
	}
	return nil
}

// attrList formats attribute names for comments.
func attrList(as []*spec.Attribute) string {
	if len(as) == 0 {
		return "none"
	}
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// constOf returns the attribute type constant of root set s for the
// attribute with a's value.
func (s *set) constOf(a *spec.Attribute) string {
	for _, c := range s.consts {
		if c.attr.Value == a.Value {
			return c.name
		}
	}
	return strconv.Itoa(int(a.Value))
}

// requestType plans the request type of call c of op o: the fields of the
// op's set for the attributes the spec lists in the request, in set order.
func (p *plan) requestType(o *op, c *call) *set {
	rs := &set{
		spec: o.set.spec,
		name: p.top.claim(c.method+"Request", "Type"),
		root: o.set.root,
		req:  &reqOf{op: o, call: c},
	}
	want := map[string]bool{}
	for _, a := range c.req.Attributes {
		want[a.Name] = true
	}
	for _, fl := range o.set.fields {
		if !want[fl.attr.Name] {
			continue
		}
		cp := *fl
		rs.fields = append(rs.fields, &cp)
		delete(want, fl.attr.Name)
	}
	// What is left (pad and unused attributes) has no field to send.
	return rs
}

// words splits a spec name into its lower-case words.
func words(name string) []string {
	return strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == '-' || r == '_' })
}

// typeName returns the Go name of a set, struct or enum before collisions
// are resolved: the spec name without the family's name in front
// ("ovpn-peer-new-input" in ovpn is PeerNewInput), or the whole name when
// nothing would be left ("ovpn"). The caller claims it with a suffix for
// the kind (PeerNewInputAttrs when a set peer-new-input came first).
func (p *plan) typeName(name string) string {
	fw, nw := words(p.spec.Name), words(name)
	if len(nw) > len(fw) && slices.Equal(nw[:len(fw)], fw) {
		return goName(strings.Join(nw[len(fw):], "-"))
	}
	return goName(name)
}

// attrPrefix returns what goes between "Attr" and an attribute's name in
// its type constant: the set's C enum prefix (name-prefix, by default
// "<family>-a-<set>-" or "<family>-a-" for the set named like the family)
// without the family's name (or its first word) in front and without the
// words "a", "attr" and "attrs", which "Attr" says already, and "genl",
// which every generic netlink family could say (thermal's
// "thermal-genl-attr-" gives AttrTzID). nl80211's
// "nl80211-attr-" gives AttrWiphy, ovs_flow's "ovs-action-attr-" gives
// AttrActionOutput, team's "team-attr-item-" gives AttrItemOption.
func (p *plan) attrPrefix(s *spec.AttributeSet) string {
	pfx := s.NamePrefix
	if pfx == "" {
		pfx = p.spec.Name + "-a-"
		if s.Name != p.spec.Name {
			pfx += s.Name + "-"
		}
	}
	w, fw := words(pfx), words(p.spec.Name)
	switch {
	case len(w) >= len(fw) && slices.Equal(w[:len(fw)], fw):
		w = w[len(fw):]
	case len(w) > 0 && len(fw) > 0 && w[0] == fw[0]:
		w = w[1:]
	}
	var out []string
	for _, x := range w {
		if x != "a" && x != "attr" && x != "attrs" && x != "genl" {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "-") + "-"
}

// entryName returns an enum or flags entry's name without the
// definition's name in front ("ovs-hash-alg-l4" of enum ovs-hash-alg is
// "l4"), so that the value's Go name does not repeat its type's.
func entryName(d *spec.Definition, e *spec.Entry) string {
	dw, ew := words(d.Name), words(e.Name)
	if len(ew) > len(dw) && slices.Equal(ew[:len(dw)], dw) {
		return strings.Join(ew[len(dw):], "-")
	}
	return e.Name
}

// methodName returns the Client method name of an op: its Go name, except
// that an op named like the package's constructor ("new" in ovs_flow)
// gets the last word of the family name after it (NewFlow), so that
// c.NewFlow and ovsflow.New cannot be confused.
func (p *plan) methodName(name string) string {
	if name != "New" {
		return name
	}
	fw := words(p.spec.Name)
	if len(fw) == 0 {
		return "NewObject"
	}
	return "New" + goName(fw[len(fw)-1])
}

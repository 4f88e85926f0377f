package gen

import (
	"strconv"

	"github.com/genlkit/genlkit/internal/spec"
)

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

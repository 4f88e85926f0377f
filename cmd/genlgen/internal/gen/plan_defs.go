package gen

import (
	"fmt"

	"github.com/genlkit/genlkit/internal/spec"
)

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

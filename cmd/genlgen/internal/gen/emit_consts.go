package gen

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/internal/spec"
)

func (g *generator) genConsts(f *file) {
	p := g.p
	s := p.spec
	f.P("const (")
	f.P("// ", p.familyConst, " is the name the kernel registers the family under.")
	f.P(p.familyConst, " = ", strconv.Quote(s.Name))
	verNote := "the spec's version"
	if !s.VersionSet {
		verNote = "the spec has none, so 1"
	}
	f.P("// ", p.versionConst, " is the version requests carry (", verNote, ").")
	f.P(p.versionConst, " = ", s.Version)
	f.P(")")
	f.P()

	if len(p.ops) > 0 {
		if p.directional {
			f.P("// Command values of the operations. The family numbers messages to the")
			f.P("// kernel and from the kernel separately: Cmd<Op> is the request value (the")
			f.P("// message value of a notification), Cmd<Op>Reply the reply value.")
		} else {
			f.P("// Command values of the operations.")
		}
		f.P("const (")
		for _, o := range p.ops {
			so := o.spec
			v := so.RequestValue
			if !so.HasRequestValue {
				v = so.ReplyValue
			}
			f.P("// ", o.cmdC, " is op ", so.Name, " (", opForms(so), ").", msgValues(so))
			if g.p.docs && so.Doc != "" {
				f.P("//")
				f.Comment(cleanDoc(so.Doc))
			}
			f.P(o.cmdC, " = ", v)
			if o.replyC != "" {
				f.P("// ", o.replyC, " is the reply value of op ", so.Name, ".")
				f.P(o.replyC, " = ", so.ReplyValue)
			}
		}
		f.P(")")
		f.P()
	}

	for _, st := range p.roots {
		if len(st.consts) == 0 {
			continue
		}
		f.P("// Attribute types of attribute set ", st.spec.Name, ".")
		f.P("const (")
		for _, c := range st.consts {
			f.P(c.name, " = ", c.attr.Value, " // ", c.attr.Name, ": ", g.wireDesc(c.attr))
		}
		f.P(")")
		f.P()
	}

	if len(p.consts) > 0 {
		f.P("// Constants of the spec's definitions.")
		f.P("const (")
		for _, c := range p.consts {
			d := c.def
			mech := fmt.Sprintf("%s is const %s.", c.name, d.Name)
			if d.Header != "" {
				mech = fmt.Sprintf("%s is const %s (defined in C by %s).", c.name, d.Name, d.Header)
			}
			g.doc(f, mech, d.Doc)
			if d.IsString {
				f.P(c.name, " = ", strconv.Quote(d.StringValue))
			} else {
				f.P(c.name, " = ", d.Value.String())
			}
		}
		f.P(")")
		f.P()
	}

	if len(p.groups) > 0 {
		f.P("// Multicast groups the spec declares, by name, for Client.Subscribe. A")
		f.P("// group the running kernel has but the spec omits can be joined by name too.")
		f.P("const (")
		for _, gr := range p.groups {
			f.P("// ", gr.name, " is multicast group ", gr.g.Name, ".")
			f.P(gr.name, " = ", strconv.Quote(gr.g.Name))
		}
		f.P(")")
	}
}

// opForms describes what an op is: do, dump, notify, event.
func opForms(o *spec.Op) string {
	var forms []string
	if o.Do != nil {
		forms = append(forms, "do")
	}
	if o.Dump != nil {
		forms = append(forms, "dump")
	}
	if o.Notify != "" {
		forms = append(forms, "notification in the format of "+o.Notify)
	}
	if o.Event != nil {
		forms = append(forms, "event")
	}
	if o.Mcgrp != "" {
		forms = append(forms, "group "+o.Mcgrp)
	}
	return strings.Join(forms, ", ")
}

// msgValues notes per-message command values that differ from the op's.
func msgValues(o *spec.Op) string {
	var notes []string
	for _, m := range []struct {
		name string
		mode *spec.Mode
	}{{"do", o.Do}, {"dump", o.Dump}} {
		if m.mode == nil {
			continue
		}
		if r := m.mode.Request; r != nil && r.HasValue && r.Value != o.RequestValue {
			notes = append(notes, fmt.Sprintf("%s requests use %d", m.name, r.Value))
		}
		if r := m.mode.Reply; r != nil && r.HasValue && r.Value != o.ReplyValue {
			notes = append(notes, fmt.Sprintf("%s replies use %d", m.name, r.Value))
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return " Per message: " + strings.Join(notes, "; ") + "."
}

// wireDesc describes an attribute's wire form for comments: type, byte
// order, nesting, enum, hint, checks.
func (g *generator) wireDesc(a *spec.Attribute) string {
	parts := []string{string(a.Type)}
	if a.SubType != "" {
		parts[0] += " of " + string(a.SubType)
	}
	switch {
	case a.MultiAttr && a.Overlaid:
		parts = append(parts, "multi-attr (overlay)")
	case a.MultiAttr:
		parts = append(parts, "multi-attr")
	case a.Ordered:
		parts = append(parts, "ordered list (overlay)")
	}
	overlay := ""
	if a.OverlayWire {
		overlay = " (overlay)"
	}
	if a.ByteOrder != "" {
		parts = append(parts, string(a.ByteOrder)+overlay)
	}
	if a.NestedAttributes != "" {
		parts = append(parts, "set "+a.NestedAttributes)
	}
	if len(a.TypeValue) > 0 {
		parts = append(parts, "keyed by "+strings.Join(a.TypeValue, ", "))
	}
	if a.Struct != "" {
		parts = append(parts, "struct "+a.Struct)
	}
	if a.Enum != "" {
		kind := "enum"
		if a.EnumDef != nil && a.EnumDef.Type == spec.DefFlags {
			kind = "flags"
		}
		if a.EnumAsFlags {
			kind += " as flags"
		}
		parts = append(parts, kind+" "+a.Enum)
	}
	if a.DisplayHint != "" {
		parts = append(parts, "display "+string(a.DisplayHint)+overlay)
	}
	if c := g.checksDesc(a); c != "" {
		parts = append(parts, "checks "+c)
	}
	return strings.Join(parts, ", ")
}

func (g *generator) checksDesc(a *spec.Attribute) string {
	c := a.Checks
	if c == nil {
		return ""
	}
	var out []string
	bound := func(name string, b *spec.Bound) {
		if b == nil {
			return
		}
		s := name + " " + b.Raw
		if b.Const != "" || b.Limit != "" {
			// A kernel-scope const has a dummy value in the spec.
			scopeKernel := false
			if d := g.p.spec.Definition(b.Const); d != nil {
				scopeKernel = d.Scope == spec.ScopeKernel
			}
			if !scopeKernel && b.Raw != b.Value.String() {
				s += " (" + b.Value.String() + ")"
			}
		}
		out = append(out, s)
	}
	bound("min", c.Min)
	bound("max", c.Max)
	bound("min-len", c.MinLen)
	bound("max-len", c.MaxLen)
	bound("exact-len", c.ExactLen)
	if c.FlagsMask != "" {
		out = append(out, "flags-mask "+c.FlagsMask)
	}
	if c.UnterminatedOK {
		out = append(out, "unterminated-ok")
	}
	return strings.Join(out, ", ")
}

func (g *generator) genEnums(f *file) {
	p := g.p
	for _, e := range p.enums {
		d := e.def
		if e.flags {
			mech := fmt.Sprintf("%s is the %s flags %s: a mask of the bits below.", e.name, p.spec.Name, d.Name)
			g.doc(f, mech, d.Doc)
		} else {
			mech := fmt.Sprintf("%s is the %s enum %s.", e.name, p.spec.Name, d.Name)
			g.doc(f, mech, d.Doc)
		}
		f.P("type ", e.name, " ", e.under)
		f.P()
		if len(e.values) > 0 {
			f.P("// Values of ", e.name, ".")
			f.P("const (")
			for _, v := range e.values {
				var mech, val string
				if e.flags {
					mech = fmt.Sprintf("%s is %s bit %d (%s).", v.name, d.Name, v.entry.Value, v.entry.Name)
					val = fmt.Sprintf("1 << %d", v.entry.Value)
				} else {
					mech = fmt.Sprintf("%s is %s entry %s.", v.name, d.Name, v.entry.Name)
					if v.entry.Text != "" {
						mech = fmt.Sprintf("%s is %s entry %s, %q.", v.name, d.Name, v.entry.Name, v.entry.Text)
					}
					val = strconv.FormatInt(v.value, 10)
				}
				g.doc(f, mech, v.entry.Doc)
				f.P(v.name, " ", e.name, " = ", val)
			}
			f.P(")")
			f.P()
		}
		if e.flags {
			g.genFlagsString(f, e.name, e.namesV, e.values)
		} else {
			if hasText(e.values) {
				f.P("// String returns what the family's tools print for v (the project overlay's")
				f.P("// text, else the spec's name), or ", e.name, "(N) for a value the spec does not")
				f.P("// define.")
			} else {
				f.P("// String returns the spec's name for v, or ", e.name, "(N) for a value the spec")
				f.P("// does not define.")
			}
			f.P("func (v ", e.name, ") String() string {")
			if len(e.values) > 0 {
				f.P("switch v {")
				seen := map[int64]bool{}
				for _, v := range e.values {
					if seen[v.value] {
						continue
					}
					seen[v.value] = true
					f.P("case ", v.name, ":")
					f.P("return ", strconv.Quote(cmp.Or(v.entry.Text, v.entry.Name)))
				}
				f.P("}")
			}
			if strings.HasPrefix(e.under, "int") {
				f.P("return ", strconv.Quote(e.name+"("), " + ", strconvPkg.Ident("FormatInt"), "(int64(v), 10) + \")\"")
			} else {
				f.P("return ", strconv.Quote(e.name+"("), " + ", strconvPkg.Ident("FormatUint"), "(uint64(v), 10) + \")\"")
			}
			f.P("}")
			f.P()
		}
		if e.mask != "" {
			f.P("// ", e.mask, " is a mask of ", e.name, " values (bit 1<<v for value v), as the")
			f.P("// spec's enum-as-flags attributes carry them.")
			f.P("type ", e.mask, " ", e.maskUnd)
			f.P()
			f.P("// Mask returns the ", e.mask, " with only v's bit set.")
			f.P("func (v ", e.name, ") Mask() ", e.mask, " { return 1 << v }")
			f.P()
			f.P("// Has reports whether m has the bit of v.")
			f.P("func (m ", e.mask, ") Has(v ", e.name, ") bool { return m&v.Mask() != 0 }")
			f.P()
			var masks []enumValue
			for _, v := range e.values {
				masks = append(masks, enumValue{entry: v.entry, name: v.name + ".Mask()", mask: v.entry.Mask()})
			}
			g.genFlagsString(f, e.mask, "names"+e.mask, masks)
		}
	}
}

// hasText reports whether the overlay gives any of values a text.
func hasText(values []enumValue) bool {
	for _, v := range values {
		if v.entry.Text != "" {
			return true
		}
	}
	return false
}

func (g *generator) genFlagsString(f *file, typ, table string, values []enumValue) {
	f.P("var ", table, " = [...]", attrsPkg.Ident("FlagName"), "{")
	for _, v := range values {
		f.P("{Mask: ", fmt.Sprintf("%#x", v.mask), ", Name: ", strconv.Quote(v.entry.Name), "},")
	}
	f.P("}")
	f.P()
	f.P("// String returns the names of the bits set in v joined with \"|\"; bits the")
	f.P("// spec does not name are shown in hex, and 0 as \"0\".")
	f.P("func (v ", typ, ") String() string { return ", attrsPkg.Ident("FormatFlags"), "(uint64(v), ", table, "[:]) }")
	f.P()
}

func (g *generator) genStructs(f *file) {
	p := g.p
	for _, cs := range p.structs {
		d := cs.def
		mech := fmt.Sprintf("%s is the %s struct %s, %d bytes in C layout (packed; padding is spelled out as members).", cs.name, p.spec.Name, d.Name, cs.size)
		if d.Header != "" {
			mech += fmt.Sprintf(" C defines it in %s.", d.Header)
		}
		g.doc(f, mech, d.Doc)
		f.P("type ", cs.name, " struct {")
		for _, m := range cs.members {
			desc := string(m.m.Type)
			if m.m.ByteOrder != "" {
				desc += ", " + string(m.m.ByteOrder)
			}
			if m.m.Enum != "" {
				desc += ", enum " + m.m.Enum
			}
			if m.m.Struct != "" {
				desc += ", struct " + m.m.Struct
			}
			if m.m.DisplayHint != "" {
				desc += ", display " + string(m.m.DisplayHint)
			}
			g.doc(f, fmt.Sprintf("%s is member %s: %s at offset %d, %d bytes.", m.name, m.m.Name, desc, m.m.Offset, m.m.Size), m.m.Doc)
			f.P(m.name, " ", m.typ)
		}
		f.Comment(wrap(wireLenField+" is the length of the payload the struct was decoded from when it differs from the struct's size: an older, shorter version of the struct (the members it does not hold completely are zero) or a newer, longer one (the bytes past the struct are ignored). It is 0 when the lengths match, and for a struct not decoded. When it is set, MarshalBinary and attribute encoding write that many bytes: the struct truncated, or followed by zeros. Fixed headers and nested struct members are always of the struct's size.", 76))
		f.P(wireLenField, " int")
		f.P("}")
		f.P()
		f.P("const ", cs.sizeC, " = ", cs.size)
		f.P()
		f.P("// put writes s into b, which holds at least ", cs.size, " bytes. It fails only")
		f.P("// for a member that does not fit its field (a string too long, an")
		f.P("// address of the wrong family).")
		f.P("func (s *", cs.name, ") put(b []byte) error {")
		for _, m := range cs.members {
			if m.m.Type == spec.TypeString {
				f.P("if len(s.", m.name, ") > ", m.m.Size, " {")
				f.P("return ", attrsPkg.Ident("FieldTooLong"), "(", strconv.Quote(m.m.Name), ", ", m.m.Size, ", len(s.", m.name, "))")
				f.P("}")
			}
		}
		f.P("w := ", attrsPkg.Ident("NewStructWriter"), "(b)")
		for _, m := range cs.members {
			g.structPut(f, m)
		}
		f.P("return w.Err()")
		f.P("}")
		f.P()
		f.P("// get reads the members of s that b holds completely, in C layout; the")
		f.P("// others read zero, bytes past the struct are ignored.")
		f.P("func (s *", cs.name, ") get(b []byte) {")
		f.P("r := ", attrsPkg.Ident("NewStructReader"), "(b)")
		for _, m := range cs.members {
			g.structGet(f, m)
		}
		f.P("}")
		f.P()
		f.P("// getWire sets s from the payload b of an attribute, of any length but")
		f.P("// 0, and records its length in ", wireLenField, ".")
		f.P("func (s *", cs.name, ") getWire(b []byte) {")
		f.P("*s = ", cs.name, "{}")
		f.P("s.get(b)")
		f.P("if len(b) != ", cs.sizeC, " {")
		f.P("s.", wireLenField, " = len(b)")
		f.P("}")
		f.P("}")
		f.P()
		f.P("// wireSize returns the length of s on the wire: ", wireLenField, " when set,")
		f.P("// else the struct's size.")
		f.P("func (s *", cs.name, ") wireSize() int {")
		f.P("if s.", wireLenField, " > 0 {")
		f.P("return s.", wireLenField)
		f.P("}")
		f.P("return ", cs.sizeC)
		f.P("}")
		f.P()
		f.P("// putWire writes s into b, which holds s.wireSize() bytes: the struct")
		f.P("// truncated to b, or followed by zeros.")
		f.P("func (s *", cs.name, ") putWire(b []byte) error {")
		f.P("if len(b) >= ", cs.sizeC, " {")
		f.P("clear(b[", cs.sizeC, ":])")
		f.P("return s.put(b)")
		f.P("}")
		f.P("var full [", cs.sizeC, "]byte")
		f.P("if err := s.put(full[:]); err != nil {")
		f.P("return err")
		f.P("}")
		f.P("copy(b, full[:])")
		f.P("return nil")
		f.P("}")
		f.P()
		f.P("// MarshalBinary returns s in its C layout, ", wireLenField, " bytes long when that is")
		f.P("// set.")
		f.P("func (s *", cs.name, ") MarshalBinary() ([]byte, error) {")
		f.P("b := make([]byte, s.wireSize())")
		f.P("if err := s.putWire(b); err != nil {")
		f.P("return nil, err")
		f.P("}")
		f.P("return b, nil")
		f.P("}")
		f.P()
		f.P("// UnmarshalBinary sets s from its C layout. A shorter b (an older version")
		f.P("// of the struct) sets the members it holds completely and zeroes the")
		f.P("// others; a longer one (a newer version) is read up to the struct's")
		f.P("// size. Either way ", wireLenField, " records len(b). An empty b is an error.")
		f.P("func (s *", cs.name, ") UnmarshalBinary(b []byte) error {")
		f.P("if len(b) == 0 {")
		f.P("return ", attrsPkg.Ident("EmptyStruct"), "(", strconv.Quote(d.Name), ")")
		f.P("}")
		f.P("s.getWire(b)")
		f.P("return nil")
		f.P("}")
		f.P()
	}
}

func (g *generator) structPut(f *file, m *member) {
	mm := m.m
	be := "false"
	if mm.ByteOrder == spec.ByteOrderBig {
		be = "true"
	}
	switch {
	case m.addr != 0:
		f.P("w.Addr", m.addr, "(s.", m.name, ")")
	case m.mac:
		f.P("w.Binary(s.", m.name, ", ", mm.Size, ")")
	case mm.Type.IsInteger():
		w := intWidth(mm.Type)
		ut := fmt.Sprintf("uint%d", w)
		if mm.ByteOrder == spec.ByteOrderLittle && w > 8 {
			f.P("w.UintN(uint64(s.", m.name, "), ", w/8, ", ", attrsPkg.Ident("LittleEndian"), ")")
			return
		}
		x := "s." + m.name
		if m.typ.str != ut {
			x = ut + "(" + x + ")"
		}
		if w == 8 {
			f.P("w.U8(", x, ")")
			return
		}
		f.P("w.U", w, "(", x, ", ", be, ")")
	case m.strct != nil:
		f.P("{")
		f.P("var nb [", m.strct.sizeC, "]byte")
		f.P("if err := s.", m.name, ".put(nb[:]); err != nil {")
		f.P("return ", attrsPkg.Ident("WithPath"), "(err, ", strconv.Quote(mm.Name), ")")
		f.P("}")
		f.P("w.Binary(nb[:], ", mm.Size, ")")
		f.P("}")
	case mm.Type == spec.TypeBinary:
		f.P("w.Binary(s.", m.name, "[:], ", mm.Size, ")")
	case mm.Type == spec.TypeString:
		f.P("w.Binary([]byte(s.", m.name, "), ", mm.Size, ")")
	}
}

func (g *generator) structGet(f *file, m *member) {
	mm := m.m
	be := "false"
	if mm.ByteOrder == spec.ByteOrderBig {
		be = "true"
	}
	switch {
	case m.addr != 0:
		f.P("s.", m.name, " = r.Addr", m.addr, "()")
	case m.mac:
		f.P("s.", m.name, " = ", netPkg.Ident("HardwareAddr"), "(", bytesPkg.Ident("Clone"), "(r.Binary(", mm.Size, ")))")
	case mm.Type.IsInteger():
		w := intWidth(mm.Type)
		var expr string
		switch {
		case mm.ByteOrder == spec.ByteOrderLittle && w > 8:
			expr = fmt.Sprintf("uint%d(r.UintN(%d, %s))", w, w/8, f.qual(attrsPkg.Ident("LittleEndian")))
		case w == 8:
			expr = "r.U8()"
		default:
			expr = fmt.Sprintf("r.U%d(%s)", w, be)
		}
		if m.typ.str != fmt.Sprintf("uint%d", w) {
			expr = m.typ.str + "(" + expr + ")"
		}
		f.P("s.", m.name, " = ", expr)
	case m.strct != nil:
		f.P("s.", m.name, ".get(r.Binary(", mm.Size, "))")
	case mm.Type == spec.TypeBinary:
		f.P("copy(s.", m.name, "[:], r.Binary(", mm.Size, "))")
	case mm.Type == spec.TypeString:
		f.P("s.", m.name, " = r.CString(", mm.Size, ")")
	}
}

package gen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/internal/spec"
)

// genTypes prints a struct per attribute set, the entry types of keyed
// (type-value) attributes and the fixed-header message wrappers.
func (g *generator) genTypes(f *file) {
	p := g.p
	for _, s := range p.sets {
		mech := fmt.Sprintf("%s holds the attributes of %s attribute set %s.", s.name, p.spec.Name, s.spec.Name)
		switch {
		case s.req != nil:
			form := "do"
			if s.req.call.dump {
				form = "dump"
			}
			mech = fmt.Sprintf("%s is the request of Client.%s (%s %s, %s): the attributes of set %s that the spec lists for it.",
				s.name, s.req.call.method, p.spec.Name, s.req.op.spec.Name, form, s.spec.Name)
			if r := s.req.call.req; r != nil && len(r.OverlayAttrs) > 0 {
				names := r.OverlayAttrs
				list := names[len(names)-1]
				if len(names) > 1 {
					list = strings.Join(names[:len(names)-1], ", ") + " and " + list
				}
				mech += " The project overlay adds " + list + ", which the kernel reads."
			}
		case s.root != s:
			mech = fmt.Sprintf("%s holds the attributes of %s attribute set %s, a subset of %s (attribute types are %s's).",
				s.name, p.spec.Name, s.spec.Name, s.spec.SubsetOf, s.root.spec.Name)
		}
		g.doc(f, mech, s.spec.Doc)
		f.P("type ", s.name, " struct {")
		for _, fl := range s.fields {
			g.doc(f, fmt.Sprintf("%s is attribute %s (%d): %s.", fl.name, fl.attr.Name, fl.attr.Value, g.wireDesc(fl.attr)), fl.attr.Doc)
			f.P(fl.name, " ", fl.typ)
		}
		if s.extra != "" {
			f.Comment(wrap(s.extra+" keeps, in wire order and undecoded, the attributes that have no field: types the set does not define, and repeats of attributes that are not multi-attr (the first occurrence fills the field). MarshalAttrs sends them after the fields.", 76))
			f.P(s.extra, " []", attrsPkg.Ident("Attr"))
		}
		f.P("}")
		f.P()
		for _, et := range s.entry {
			fl := fieldOfEntry(s, et)
			f.Comment(wrap(fmt.Sprintf("%s is one entry of attribute %s of set %s. On the wire its keys (%s) are the attribute types of the nests holding the value.",
				et.name, fl.attr.Name, s.spec.Name, strings.Join(et.knames, ", ")), 76))
			f.P("type ", et.name, " struct {")
			for i, k := range et.keys {
				f.P(k, " uint16 // ", et.knames[i])
			}
			f.P(et.value, " ", et.el.typ)
			f.P("}")
			f.P()
		}
	}
	for _, m := range p.msgs {
		f.P("// ", m.name, " is a message of attribute set ", m.set.spec.Name, " with the fixed header ", m.header.def.Name, ".")
		f.P("type ", m.name, " struct {")
		f.P("Header ", m.header.name)
		f.P(m.set.name)
		f.P("}")
		f.P()
	}
}

func fieldOfEntry(s *set, et *entryType) *field {
	for _, fl := range s.fields {
		if fl.tv == et {
			return fl
		}
	}
	return nil
}

// ---- encoding ----

func (g *generator) genEncode(f *file) {
	p := g.p
	for _, s := range p.sets {
		f.P("// MarshalAttrs appends the attributes of v that are present to e, in spec")
		f.P("// order, and returns the first error: a value that cannot be encoded (an")
		f.P("// attribute path says which) or the encoder's.")
		f.P("func (v *", s.name, ") MarshalAttrs(e *", attrsPkg.Ident("Encoder"), ") error {")
		f.P("if err := v.encode(e); err != nil {")
		f.P("return err")
		f.P("}")
		f.P("return e.Err()")
		f.P("}")
		f.P()
		f.P("func (v *", s.name, ") encode(e *", attrsPkg.Ident("Encoder"), ") error {")
		for _, fl := range s.fields {
			g.encodeField(f, fl)
		}
		if s.extra != "" {
			f.P("for i := range v.", s.extra, " {")
			f.P("e.Attr(v.", s.extra, "[i])")
			f.P("}")
		}
		f.P("return nil")
		f.P("}")
		f.P()
	}
}

func (g *generator) encodeField(f *file, fl *field) {
	x := "v." + fl.name
	t := fl.attrC
	name := fl.attr.Name
	switch {
	case fl.tv != nil:
		et := fl.tv
		f.P("for i := range ", x, " {")
		f.P("en := &", x, "[i]")
		f.P("n0 := e.Nest(", t, ")")
		keys := et.keys
		last := len(keys)
		if et.el.kind != kNest {
			last--
		}
		for i := 0; i < last; i++ {
			f.P("n", i+1, " := e.Nest(en.", keys[i], ")")
		}
		if et.el.kind == kNest {
			f.P("if err := en.", et.value, ".encode(e); err != nil {")
			f.P("return ", attrsPkg.Ident("WithPath"), "(err, ", strconv.Quote(name), ")")
			f.P("}")
		} else {
			g.encodeElem(f, et.el, "en."+keys[len(keys)-1], "en."+et.value, name)
		}
		for i := last; i > 0; i-- {
			f.P("e.End(n", i, ")")
		}
		f.P("e.End(n0)")
		f.P("}")
	case fl.list:
		f.P("if ", x, " != nil {")
		f.P("n := e.Nest(", t, ")")
		f.P("for i := range ", x, " {")
		f.P("if err := ", x, "[i].encode(e); err != nil {")
		f.P("return ", attrsPkg.Ident("WithPath"), "(err, ", strconv.Quote(name), ")")
		f.P("}")
		f.P("}")
		f.P("e.End(n)")
		f.P("}")
	case fl.arrays:
		f.P("for j := range ", x, " {")
		f.P("n := e.Nest(", t, ")")
		f.P("for i := range ", x, "[j] {")
		g.encodeElem(f, fl.el, "uint16(i)", x+"[j][i]", name)
		f.P("}")
		f.P("e.End(n)")
		f.P("}")
	case fl.idx:
		f.P("if ", x, " != nil {")
		f.P("n := e.Nest(", t, ")")
		f.P("for i := range ", x, " {")
		g.encodeElem(f, fl.el, "uint16(i)", x+"[i]", name)
		f.P("}")
		f.P("e.End(n)")
		f.P("}")
	case fl.multi:
		f.P("for i := range ", x, " {")
		g.encodeElem(f, fl.el, t, x+"[i]", name)
		f.P("}")
	case fl.opt:
		f.P("if ", x, ".Valid {")
		g.encodeElem(f, fl.el, t, x+".Value", name)
		f.P("}")
	case fl.ptr:
		f.P("if ", x, " != nil {")
		g.encodeElem(f, fl.el, t, x, name)
		f.P("}")
	case fl.el.kind == kFlag:
		f.P("if ", x, " {")
		f.P("e.Flag(", t, ")")
		f.P("}")
	case fl.el.kind == kAddr4 || fl.el.kind == kAddr16 || fl.el.kind == kAddrAny:
		f.P("if ", x, ".IsValid() {")
		g.encodeElem(f, fl.el, t, x, name)
		f.P("}")
	default: // slices: binary, arrays, hardware addresses
		f.P("if ", x, " != nil {")
		g.encodeElem(f, fl.el, t, x, name)
		f.P("}")
	}
}

// conv returns expr converted to Go type want unless el's type is it.
func conv(el elem, want, expr string) string {
	if el.typ.str == want {
		return expr
	}
	return want + "(" + expr + ")"
}

// encodeElem prints the encoding of one payload x of type t.
func (g *generator) encodeElem(f *file, el elem, t, x, name string) {
	wp := attrsPkg.Ident("WithPath")
	switch el.kind {
	case kInt:
		w := el.wire
		switch {
		case w == spec.TypeUint || w == spec.TypeSint:
			u := "uint64"
			if w == spec.TypeSint {
				u = "int64"
			}
			switch el.order {
			case spec.ByteOrderBig, spec.ByteOrderLittle:
				method := "UintOrder"
				if w == spec.TypeSint {
					method = "SintOrder"
				}
				f.P("e.", method, "(", t, ", ", conv(el, u, x), ", ", orderArg(el.order), ")")
			case spec.ByteOrderHost:
				method := "Uint"
				if w == spec.TypeSint {
					method = "Sint"
				}
				f.P("e.", method, "(", t, ", ", conv(el, u, x), ")")
			}
		default:
			bits := intWidth(w)
			signed := w.IsSigned()
			native := builtinInt(w)
			switch {
			case bits == 8:
				f.P("e.", strings.ToUpper(string(w[:1])), "8(", t, ", ", conv(el, native, x), ")")
			case el.order == spec.ByteOrderBig:
				f.P("e.U", bits, "BE(", t, ", uint", bits, "(", x, "))")
			case el.order == spec.ByteOrderLittle:
				f.P("e.UintN(", t, ", uint64(", x, "), ", bits/8, ", ", orderArg(el.order), ")")
			case signed:
				f.P("e.S", bits, "(", t, ", ", conv(el, native, x), ")")
			default:
				f.P("e.U", bits, "(", t, ", ", conv(el, native, x), ")")
			}
		}
	case kString:
		f.P("e.String(", t, ", ", x, ")")
	case kBinary, kHWAddr:
		f.P("e.Binary(", t, ", ", x, ")")
	case kFlag:
		f.P("e.Flag(", t, ")")
	case kBitfield32:
		f.P("e.Bitfield32(", t, ", ", x, ")")
	case kStruct:
		f.P("if b := e.Reserve(", t, ", ", x, ".wireSize()); b != nil {")
		f.P("if err := ", x, ".putWire(b); err != nil {")
		f.P("return ", wp, "(err, ", strconv.Quote(name), ")")
		f.P("}")
		f.P("}")
	case kArray:
		f.P(attrsPkg.Ident("EncodeArray"), "(e, ", t, ", ", x, ", ", intWidth(el.wire)/8, ", ", orderArg(el.order), ")")
	case kAddr4:
		f.P("if err := e.Addr4(", t, ", ", x, "); err != nil {")
		f.P("return ", wp, "(err, ", strconv.Quote(name), ")")
		f.P("}")
	case kAddr16:
		f.P("e.Addr16(", t, ", ", x, ")")
	case kAddrAny:
		f.P("e.Addr(", t, ", ", x, ")")
	case kNest:
		f.P("n := e.Nest(", t, ")")
		f.P("if err := ", x, ".encode(e); err != nil {")
		f.P("return ", wp, "(err, ", strconv.Quote(name), ")")
		f.P("}")
		f.P("e.End(n)")
	}
}

// orderArg is the attrs.ByteOrder argument for byte order o.
func orderArg(o spec.ByteOrder) goIdent {
	switch o {
	case spec.ByteOrderBig:
		return attrsPkg.Ident("BigEndian")
	case spec.ByteOrderLittle:
		return attrsPkg.Ident("LittleEndian")
	}
	return attrsPkg.Ident("HostEndian")
}

// ---- decoding ----

func (g *generator) genDecode(f *file) {
	p := g.p
	for _, s := range p.roots {
		f.P("var ", s.namesV, " = []string{")
		for _, a := range s.spec.Attributes {
			f.P(a.Value, ": ", strconv.Quote(a.Name), ",")
		}
		f.P("}")
		f.P()
	}
	if len(p.sets) > 0 {
		u := g.allocUses()
		g.genAlloc(f, u)
		g.genRecycle(f, u)
	}
	for _, s := range p.sets {
		f.P("// UnmarshalAttrs decodes attributes of set ", s.spec.Name, " from b into v,")
		if s.extra != "" {
			f.P("// replacing its contents. Attributes without a field go to ", s.extra, ";")
		} else {
			f.P("// replacing its contents. Attributes without a field are skipped;")
		}
		f.P("// a malformed one is an error naming its path. Strings and byte slices are")
		f.P("// copies: v does not refer to b.")
		f.P("func (v *", s.name, ") UnmarshalAttrs(b []byte) error {")
		f.P("*v = ", s.name, "{}")
		f.P("var d ", attrsPkg.Ident("Decoder"))
		f.P("d.Reset(b)")
		f.P("v.decode(&d, nil)")
		f.P("return d.Err()")
		f.P("}")
		f.P()
		g.genDecodeFunc(f, s)
		if g.fastSet(s) {
			g.genDecodeFast(f, s)
		}
	}
	for _, s := range p.sets {
		if !g.usesDecodeMessage(s) {
			continue
		}
		f.P("// decodeMessage decodes a message's attributes into v, adding to what v")
		f.P("// holds (a reply may come in several messages), taking values from a.")
		f.P("func (v *", s.name, ") decodeMessage(b []byte, a *allocator) error {")
		f.P("var d ", attrsPkg.Ident("Decoder"))
		f.P("d.Reset(b)")
		f.P("v.decode(&d, a)")
		f.P("return d.Err()")
		f.P("}")
		f.P()
		if g.setDecodesNew(s) {
			g.genDecodeNew(f, s)
		}
	}
	for _, m := range p.msgs {
		if p.noClient {
			break
		}
		f.P("// decodeMessage decodes a message's fixed header and attributes into v.")
		f.P("func (v *", m.name, ") decodeMessage(b []byte, a *allocator) error {")
		f.P("if len(b) < ", m.header.sizeC, " {")
		f.P("return ", attrsPkg.Ident("HeaderTooShort"), "(", strconv.Quote(m.header.def.Name), ", ", m.header.sizeC, ", len(b))")
		f.P("}")
		f.P("v.Header.get(b)")
		f.P("return v.", m.set.name, ".decodeMessage(b[", m.header.sizeC, ":], a)")
		f.P("}")
		f.P()
	}
}

// usesDecodeMessage reports whether a set is decoded from whole messages:
// as an op's reply or a notification, or inside a fixed-header message.
func (g *generator) usesDecodeMessage(s *set) bool {
	if g.p.noClient {
		return false
	}
	for _, o := range g.p.ops {
		for _, c := range []*call{o.do, o.dump} {
			if c != nil && c.replyTyp != "" && o.set == s {
				return true
			}
		}
	}
	for _, n := range g.p.notifs {
		if n.set == s {
			return true
		}
	}
	return false
}

// nestedByPointer reports whether a field of some set holds a pointer to
// a value of set s (see decodeField): whether s needs a decodeNest method.
func (g *generator) nestedByPointer(s *set) bool {
	for _, o := range g.p.sets {
		for _, fl := range o.fields {
			if fl.ptr && fl.el.set == s {
				return true
			}
		}
	}
	return false
}

func (g *generator) genDecodeFunc(f *file, s *set) {
	f.P("func (v *", s.name, ") decode(d *", attrsPkg.Ident("Decoder"), ", a *allocator) {")
	f.P("d.SetNames(", s.namesV, ")")
	var counted []*field
	for _, fl := range s.fields {
		if fl.multi && fl.tv == nil {
			counted = append(counted, fl)
		}
	}
	if len(counted) > 0 {
		// Count repeated attributes first, so that each slice is
		// allocated once, at its final size.
		var names []string
		for i, fl := range counted {
			fl.countV = "n" + strconv.Itoa(i)
			names = append(names, fl.countV)
		}
		f.P("var ", strings.Join(names, ", "), " int")
		f.P("c := *d")
		f.P("for c.Next() {")
		f.P("switch c.Type() {")
		for _, fl := range counted {
			f.P("case ", fl.attrC, ":")
			f.P(fl.countV, "++")
		}
		f.P("}")
		f.P("}")
		for _, fl := range counted {
			growCounted(f, fl, fl.countV)
		}
	}
	f.P("for range d.Types() {")
	if s.elem {
		f.P("v.decodeAttr(d, a)")
	} else {
		g.decodeSwitch(f, s, "continue")
	}
	f.P("}")
	f.P("}")
	f.P()
	if g.nestedByPointer(s) {
		f.P("// decodeNest decodes the nest that is d's current attribute into v: one")
		f.P("// call in the loops of the sets that hold a *", s.name, ".")
		f.P("func (v *", s.name, ") decodeNest(d *", attrsPkg.Ident("Decoder"), ", a *allocator) {")
		f.P("nd := d.Nested()")
		f.P("v.decode(&nd, a)")
		f.P("}")
		f.P()
	}
	if s.elem {
		f.P("// decodeAttr decodes the current attribute of d into v.")
		f.P("func (v *", s.name, ") decodeAttr(d *", attrsPkg.Ident("Decoder"), ", a *allocator) {")
		g.decodeSwitch(f, s, "return")
		f.P("}")
		f.P()
	}
}

// decodeSwitch prints the decoding of d's current attribute into v. With
// an Extra field, the attributes it keeps (repeats and types without a
// field) leave the switch for the one call that keeps them, after it, and
// the others end with done ("continue" in the decode loop, "return" in
// decodeAttr): one call in place of one per field keeps the loop body small
// enough for the compiler to inline into the loop of attrs.Decoder.Types.
func (g *generator) decodeSwitch(f *file, s *set, done string) {
	if len(s.fields) == 0 && s.extra == "" {
		return
	}
	f.P("switch d.Type() {")
	for _, fl := range s.fields {
		f.P("case ", fl.attrC, ":")
		g.decodeField(f, s, fl)
		if s.extra != "" {
			f.P(done)
		}
	}
	if len(s.pads) > 0 && s.extra != "" {
		f.P("case ", strings.Join(padConsts(s), ", "), ":")
		f.P(done, " // padding")
	}
	f.P("}")
	if s.extra != "" {
		f.P("v.", s.extra, " = d.AppendCopy(v.", s.extra, ")")
	}
}

// present returns the condition under which single-valued field fl holds
// a value, or "" for fields that take every occurrence (slices of
// repeated attributes).
func present(fl *field) string {
	x := "v." + fl.name
	switch {
	case fl.tv != nil, fl.multi, fl.arrays:
		return ""
	case fl.opt:
		return x + ".Valid"
	case fl.el.kind == kFlag:
		return x
	case fl.el.kind == kAddr4 || fl.el.kind == kAddr16 || fl.el.kind == kAddrAny:
		return x + ".IsValid()"
	}
	return x + " != nil" // pointers and slices
}

// repeatGuard prints, for a single-valued field of a set with an Extra
// field, the check that sends a repeat of fl's attribute to Extra (out of
// the decoding switch).
func repeatGuard(f *file, s *set, fl *field) {
	if cond := present(fl); cond != "" && s.extra != "" {
		f.P("if ", cond, " {")
		f.P("break // a repeat, kept in ", s.extra)
		f.P("}")
	}
}

// growCounted prints the growth of repeated field fl's slice to hold the
// count in variable n more values, once, before the decoding loop fills it.
func growCounted(f *file, fl *field, n string) {
	f.P("if ", n, " > 0 {")
	if t := slabElem(fl); t != "" {
		f.P("v.", fl.name, " = a.", slabMethod(t), "().Grow(v.", fl.name, ", ", n, ")")
	} else {
		f.P("v.", fl.name, " = ", slicesPkg.Ident("Grow"), "(v.", fl.name, ", ", n, ")")
	}
	f.P("}")
}

// padConsts returns the constants of s's pad attributes.
func padConsts(s *set) []string {
	var pads []string
	for _, a := range s.pads {
		pads = append(pads, s.root.constOf(a))
	}
	return pads
}

func (g *generator) decodeField(f *file, s *set, fl *field) {
	x := "v." + fl.name
	repeatGuard(f, s, fl)
	switch {
	case fl.list:
		es := fl.el.set
		f.P("nd := d.Nested()")
		f.P("nd.SetNames(", es.namesV, ")")
		f.P(x, " = a.", slabMethod(slabElem(fl)), "().Make(nd.Count())")
		f.P("for nd.Next() {")
		f.P(x, " = append(", x, ", ", fl.el.typ, "{})")
		f.P(x, "[len(", x, ")-1].decodeAttr(&nd, a)")
		f.P("}")
	case fl.tv != nil:
		et := fl.tv
		keys := et.keys
		// Levels of nests keyed by type; a scalar value sits at the last
		// key level, a nested set below it.
		f.P("k0 := d.Nested()")
		levels := len(keys)
		for i := 0; i < levels; i++ {
			dv := "k" + strconv.Itoa(i)
			f.P("for ", dv, ".Next() {")
			if i < levels-1 || et.el.kind == kNest {
				if i == levels-1 {
					var kv []string
					for j := range keys {
						kv = append(kv, keys[j]+": k"+strconv.Itoa(j)+".Type()")
					}
					f.P(x, " = append(", x, ", ", et.name, "{", strings.Join(kv, ", "), "})")
					f.P("k", i+1, " := ", dv, ".Nested()")
					f.P(x, "[len(", x, ")-1].", et.value, ".decode(&k", i+1, ", a)")
				} else {
					f.P("k", i+1, " := ", dv, ".Nested()")
				}
			} else {
				var kv []string
				for j := range keys {
					kv = append(kv, keys[j]+": k"+strconv.Itoa(j)+".Type()")
				}
				expr := g.decodeExpr(f, et.el, dv)
				f.P(x, " = append(", x, ", ", et.name, "{", strings.Join(kv, ", "), ", ", et.value, ": ", expr, "})")
			}
		}
		for i := 0; i < levels; i++ {
			f.P("}")
		}
	case fl.arrays:
		f.P("ad := d.Nested()")
		f.P("arr := make(", typeOf("[]", fl.el.typ), ", 0, ad.Count())")
		f.P("for ad.Next() {")
		g.decodeAppend(f, fl.el, "arr", "ad")
		f.P("}")
		f.P(x, " = append(", x, ", arr)")
	case fl.idx:
		f.P("ad := d.Nested()")
		if t := slabElem(fl); t != "" {
			f.P(x, " = a.", slabMethod(t), "().Grow(", x, ", ad.Count())")
		} else {
			f.P("if ", x, " == nil {")
			f.P(x, " = make(", fl.typ, ", 0, ad.Count())")
			f.P("} else {")
			f.P(x, " = ", slicesPkg.Ident("Grow"), "(", x, ", ad.Count())")
			f.P("}")
		}
		f.P("for ad.Next() {")
		g.decodeAppend(f, fl.el, x, "ad")
		f.P("}")
	case fl.multi:
		g.decodeAppend(f, fl.el, x, "d")
	case fl.opt:
		if fl.el.kind == kStruct {
			cs := fl.el.strct
			f.P("if b := d.Bytes(); len(b) > 0 {")
			f.P(x, ".Valid = true")
			f.P(x, ".Value.getWire(b)")
			f.P("} else {")
			f.P("d.Fail(", attrsPkg.Ident("EmptyStruct"), "(", strconv.Quote(cs.def.Name), "))")
			f.P("}")
		} else {
			f.P(x, ".Set(", g.decodeExpr(f, fl.el, "d"), ")")
		}
	case fl.ptr:
		alloc := "a." + slabMethod(slabElem(fl)) + "().New()"
		if s.extra != "" {
			f.P(x, " = ", alloc)
		} else {
			f.P("if ", x, " == nil {")
			f.P(x, " = ", alloc)
			f.P("}")
		}
		f.P(x, ".decodeNest(d, a)")
	default:
		f.P(x, " = ", g.decodeExpr(f, fl.el, "d"))
	}
}

// decodeAppend prints the decoding of the current attribute of decoder dv
// appended to slice x.
func (g *generator) decodeAppend(f *file, el elem, x, dv string) {
	switch el.kind {
	case kNest:
		f.P(x, " = append(", x, ", ", el.typ, "{})")
		f.P("nd := ", dv, ".Nested()")
		f.P(x, "[len(", x, ")-1].decode(&nd, a)")
	case kStruct:
		cs := el.strct
		f.P("if b := ", dv, ".Bytes(); len(b) > 0 {")
		f.P("var s ", el.typ)
		f.P("s.getWire(b)")
		f.P(x, " = append(", x, ", s)")
		f.P("} else {")
		f.P(dv, ".Fail(", attrsPkg.Ident("EmptyStruct"), "(", strconv.Quote(cs.def.Name), "))")
		f.P("}")
	default:
		f.P(x, " = append(", x, ", ", g.decodeExpr(f, el, dv), ")")
	}
}

// decodeExpr returns an expression reading the current attribute of
// decoder dv as el's Go type. Not for nests and structs.
func (g *generator) decodeExpr(f *file, el elem, dv string) string {
	switch el.kind {
	case kInt:
		w := el.wire
		var expr string
		switch {
		case w == spec.TypeUint || w == spec.TypeSint:
			switch el.order {
			case spec.ByteOrderHost:
				if w == spec.TypeSint {
					expr = dv + ".Sint()"
				} else {
					expr = dv + ".Uint()"
				}
			default:
				method := "UintOrder"
				if w == spec.TypeSint {
					method = "SintOrder"
				}
				expr = fmt.Sprintf("%s.%s(%s)", dv, method, f.qual(orderArg(el.order)))
			}
			if native := builtinInt(w); el.typ.str != native {
				expr = el.typ.str + "(" + expr + ")"
			}
			return expr
		default:
			bits := intWidth(w)
			native := builtinInt(w)
			switch {
			case bits == 8:
				expr = dv + "." + strings.ToUpper(string(w[:1])) + "8()"
			case el.order == spec.ByteOrderBig:
				expr = fmt.Sprintf("%s.U%dBE()", dv, bits)
				if w.IsSigned() {
					expr = native + "(" + expr + ")"
				}
			case el.order == spec.ByteOrderLittle:
				expr = fmt.Sprintf("%s(%s.UintN(%d, %s))", native, dv, bits/8, f.qual(orderArg(el.order)))
			case w.IsSigned():
				expr = fmt.Sprintf("%s.S%d()", dv, bits)
			default:
				expr = fmt.Sprintf("%s.U%d()", dv, bits)
			}
			if el.typ.str != native {
				expr = el.typ.str + "(" + expr + ")"
			}
			return expr
		}
	case kString:
		return "a.arena().String(" + dv + ".StringBytes())"
	case kBinary:
		return "a.arena().Bytes(" + dv + ".Bytes())"
	case kHWAddr:
		return f.qual(netPkg.Ident("HardwareAddr")) + "(a.arena().Bytes(" + dv + ".Bytes()))"
	case kFlag:
		return dv + ".Flag()"
	case kBitfield32:
		return dv + ".Bitfield32()"
	case kArray:
		elemT := strings.TrimPrefix(el.typ.str, "[]")
		return fmt.Sprintf("%s[%s](%s, %d, %s)", f.qual(attrsPkg.Ident("DecodeArray")), elemT, ptrOf(dv), intWidth(el.wire)/8, f.qual(orderArg(el.order)))
	case kAddr4:
		return dv + ".Addr4()"
	case kAddr16:
		return dv + ".Addr16()"
	case kAddrAny:
		return dv + ".Addr()"
	}
	panic(fmt.Sprintf("decodeExpr: kind %d", el.kind))
}

// ptrOf returns a pointer expression for decoder dv: d, the decode
// function's parameter, is a pointer already; the others are values.
func ptrOf(dv string) string {
	if dv == "d" {
		return "d"
	}
	return "&" + dv
}

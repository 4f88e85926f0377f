package gen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/internal/spec"
)

// The fast path. A set's decode method walks its attributes with an
// attrs.Decoder, which keeps the walk's state in memory, names the path of
// every error and takes a nest through a nested Decoder. For a message that
// is well formed, which is nearly every message a kernel sends, that
// bookkeeping costs more than the decoding itself. decodeFast decodes the
// common case straight from the bytes (the walk's state in registers, a
// nest through a slice of its payload) and gives up, reporting false, at
// anything it does not take as it comes: a malformed header or payload, a
// known attribute with flag bits it does not expect, trailing bytes. The
// caller then zeroes the value and decodes the message again with the
// Decoder, which reports the error with its path. For well-formed input the
// two agree field by field, Extra included (repeats and unknown types are
// kept there alike).
//
// A set gets a fast path when every field's form has one (fastSet); the
// others, and sets nested in themselves (the Decoder bounds their depth),
// decode through the Decoder only.

// fastState is what fastSet has worked out about a set.
type fastState int

const (
	fastUnknown fastState = iota
	fastYes
	fastNo
	fastPending // being worked out: met again, the set nests itself
)

// fastSet reports whether s has a decodeFast method.
func (g *generator) fastSet(s *set) bool {
	if g.fast == nil {
		g.fast = map[*set]fastState{}
	}
	switch g.fast[s] {
	case fastYes:
		return true
	case fastNo, fastPending:
		return false
	}
	g.fast[s] = fastPending
	ok := !s.elem && s.extra != ""
	for _, fl := range s.fields {
		if !ok {
			break
		}
		ok = g.fastField(fl)
	}
	g.fast[s] = fastNo
	if ok {
		g.fast[s] = fastYes
	}
	return ok
}

// fastField reports whether decodeFast can decode fl.
func (g *generator) fastField(fl *field) bool {
	switch {
	case fl.list, fl.tv != nil, fl.arrays, fl.idx:
		return false
	case fl.el.kind == kNest:
		return (fl.ptr || fl.multi) && g.fastSet(fl.el.set)
	case fl.multi && fl.el.kind == kFlag:
		return false
	case fl.el.kind == kStruct:
		return fl.opt || fl.multi
	}
	return fastElem(fl.el)
}

// fastElem reports whether decodeFast reads el's payload itself.
func fastElem(el elem) bool {
	switch el.kind {
	case kString, kBinary, kHWAddr, kFlag, kBitfield32, kAddr4, kAddr16, kAddrAny:
		return true
	case kInt:
		if el.wire == spec.TypeUint || el.wire == spec.TypeSint {
			return el.order == spec.ByteOrderHost
		}
		return intWidth(el.wire) == 8 || el.order != spec.ByteOrderLittle
	}
	return false
}

// hasDecodeNew reports whether type name, decoded from whole messages, has
// a decodeNew method: a set with a fast path. (A fixed-header message
// decodes through decodeMessage: no spec has one whose set has a fast
// path.)
func (g *generator) hasDecodeNew(name string) bool {
	for _, s := range g.p.sets {
		if s.name == name {
			return g.setDecodesNew(s)
		}
	}
	return false
}

// setDecodesNew reports whether set s gets a decodeNew method: it is
// decoded from whole messages and has a fast path.
func (g *generator) setDecodesNew(s *set) bool { return g.usesDecodeMessage(s) && g.fastSet(s) }

// decodeNewCall returns the method that decodes a whole message into a
// fresh value of type name: decodeNew where there is one.
func (g *generator) decodeNewCall(name string) string {
	if g.hasDecodeNew(name) {
		return "decodeNew"
	}
	return "decodeMessage"
}

// genDecodeNew prints decodeNew for set s, decoded from whole messages.
func (g *generator) genDecodeNew(f *file, s *set) {
	f.P("// decodeNew is decodeMessage for a v that holds nothing yet: decodeFast,")
	f.P("// or the Decoder once decodeFast gives up.")
	f.P("func (v *", s.name, ") decodeNew(b []byte, a *allocator) error {")
	f.P("if v.decodeFast(b, a) {")
	f.P("return nil")
	f.P("}")
	f.P("*v = ", s.name, "{}")
	f.P("return v.decodeMessage(b, a)")
	f.P("}")
	f.P()
}

// genDecodeFast prints decodeFast for s (see fastSet).
func (g *generator) genDecodeFast(f *file, s *set) {
	f.P("// decodeFast decodes the attributes in b into v without a Decoder and")
	f.P("// reports whether it could; when not, v is left part-decoded.")
	f.P("func (v *", s.name, ") decodeFast(b []byte, a *allocator) bool {")
	var counted []*field
	for _, fl := range s.fields {
		if fl.multi {
			counted = append(counted, fl)
		}
	}
	if len(counted) > 0 {
		// As decode does: each slice grows once, to its final size.
		var names []string
		for i := range counted {
			names = append(names, "n"+strconv.Itoa(i))
		}
		f.P("var ", strings.Join(names, ", "), " int")
		f.P("for c := b; ; {")
		f.P("t, _, rest, ok := ", attrsPkg.Ident("Cut"), "(c)")
		f.P("if !ok {")
		f.P("break")
		f.P("}")
		f.P("c = rest")
		f.P("switch t & ", attrsPkg.Ident("TypeMask"), " {")
		for i, fl := range counted {
			f.P("case ", fl.attrC, ":")
			f.P(names[i], "++")
		}
		f.P("}")
		f.P("}")
		for i, fl := range counted {
			growCounted(f, fl, names[i])
		}
	}
	f.P("for len(b) > 0 {")
	f.P("t, p, rest, ok := ", attrsPkg.Ident("Cut"), "(b)")
	f.P("if !ok {")
	f.P("return false")
	f.P("}")
	f.P("b = rest")
	f.P("switch t {")
	var known []string
	for _, fl := range s.fields {
		known = append(known, fl.attrC)
		if fl.el.kind == kNest {
			f.P("case ", fl.attrC, ", ", fl.attrC, " | ", attrsPkg.Ident("FlagNested"), ":")
		} else {
			f.P("case ", fl.attrC, ":")
		}
		g.fastField1(f, s, fl)
		f.P("continue")
	}
	if len(s.pads) > 0 {
		pads := padConsts(s)
		known = append(known, pads...)
		f.P("case ", strings.Join(pads, ", "), ":")
		f.P("continue // padding")
	}
	if len(known) > 0 {
		f.P("default:")
		f.P("switch t & ", attrsPkg.Ident("TypeMask"), " {")
		f.P("case ", strings.Join(known, ", "), ":")
		f.P("return false // flag bits the Decoder handles")
		f.P("}")
	}
	f.P("}")
	f.P("v.", s.extra, " = ", attrsPkg.Ident("AppendAttrCopy"), "(v.", s.extra, ", t, p)")
	f.P("}")
	f.P("return true")
	f.P("}")
	f.P()
}

// fastField1 prints the decoding of payload p into field fl, inside
// decodeFast's switch: a repeat leaves the switch for Extra, as in decode.
func (g *generator) fastField1(f *file, s *set, fl *field) {
	x := "v." + fl.name
	repeatGuard(f, s, fl) // fastSet: s has Extra
	switch {
	case fl.el.kind == kNest && fl.ptr:
		f.P(x, " = a.", slabMethod(slabElem(fl)), "().New()")
		f.P("if !", x, ".decodeFast(p, a) {")
		f.P("return false")
		f.P("}")
	case fl.el.kind == kNest: // multi
		f.P(x, " = append(", x, ", ", fl.el.typ, "{})")
		f.P("if !", x, "[len(", x, ")-1].decodeFast(p, a) {")
		f.P("return false")
		f.P("}")
	case fl.el.kind == kStruct:
		f.P("if len(p) == 0 {")
		f.P("return false")
		f.P("}")
		if fl.multi {
			f.P("var s ", fl.el.typ)
			f.P("s.getWire(p)")
			f.P(x, " = append(", x, ", s)")
		} else {
			f.P(x, ".Valid = true")
			f.P(x, ".Value.getWire(p)")
		}
	case fl.multi:
		f.P(x, " = append(", x, ", ", g.fastExpr(f, fl.el), ")")
	case fl.opt:
		f.P(x, ".Set(", g.fastExpr(f, fl.el), ")")
	default:
		f.P(x, " = ", g.fastExpr(f, fl.el))
	}
}

// fastExpr prints the length check of payload p for el, when it has one
// (giving up on a wrong length), and returns an expression reading p as
// el's Go type.
func (g *generator) fastExpr(f *file, el elem) string {
	wrap := func(expr, native string) string {
		if el.typ.str != native {
			return el.typ.str + "(" + expr + ")"
		}
		return expr
	}
	need := func(n int) {
		f.P("if len(p) != ", n, " {")
		f.P("return false")
		f.P("}")
	}
	switch el.kind {
	case kString:
		return "a.arena().String(" + f.qual(attrsPkg.Ident("CutNUL")) + "(p))"
	case kBinary:
		return "a.arena().Bytes(p)"
	case kHWAddr:
		return f.qual(netPkg.Ident("HardwareAddr")) + "(a.arena().Bytes(p))"
	case kFlag:
		need(0)
		return "true"
	case kAddr4:
		need(4)
		return f.qual(netipPkg.Ident("AddrFrom4")) + "([4]byte(p))"
	case kAddr16:
		need(16)
		return f.qual(netipPkg.Ident("AddrFrom16")) + "([16]byte(p))"
	case kAddrAny:
		f.P("var x ", f.qual(netipPkg.Ident("Addr")))
		f.P("switch len(p) {")
		f.P("case 4:")
		f.P("x = ", f.qual(netipPkg.Ident("AddrFrom4")), "([4]byte(p))")
		f.P("case 16:")
		f.P("x = ", f.qual(netipPkg.Ident("AddrFrom16")), "([16]byte(p))")
		f.P("default:")
		f.P("return false")
		f.P("}")
		return "x"
	case kBitfield32:
		need(8)
		ne := f.qual(binaryPkg.Ident("NativeEndian"))
		return f.qual(attrsPkg.Ident("Bitfield32")) + "{Value: " + ne + ".Uint32(p), Selector: " + ne + ".Uint32(p[4:])}"
	case kInt:
		w := el.wire
		native := builtinInt(w)
		if w == spec.TypeUint || w == spec.TypeSint {
			ne := f.qual(binaryPkg.Ident("NativeEndian"))
			f.P("var x ", native)
			f.P("switch len(p) {")
			f.P("case 4:")
			if w == spec.TypeSint {
				f.P("x = int64(int32(", ne, ".Uint32(p)))")
			} else {
				f.P("x = uint64(", ne, ".Uint32(p))")
			}
			f.P("case 8:")
			f.P("x = ", native, "(", ne, ".Uint64(p))")
			f.P("default:")
			f.P("return false")
			f.P("}")
			return wrap("x", native)
		}
		bits := intWidth(w)
		need(bits / 8)
		if bits == 8 {
			return wrap(native+"(p[0])", native)
		}
		order := f.qual(binaryPkg.Ident("NativeEndian"))
		if el.order == spec.ByteOrderBig {
			order = f.qual(binaryPkg.Ident("BigEndian"))
		}
		expr := fmt.Sprintf("%s.Uint%d(p)", order, bits)
		if w.IsSigned() {
			expr = native + "(" + expr + ")"
		}
		return wrap(expr, native)
	}
	panic(fmt.Sprintf("fastExpr: kind %d", el.kind))
}

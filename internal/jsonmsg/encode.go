package jsonmsg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
)

// An EncodeError reports a JSON value that cannot be encoded: where it is
// in the input and what is wrong with it.
type EncodeError struct {
	// Path locates the value in the input, jq style: ".dev.ifindex",
	// ".ops[1]". It is "." for the whole object.
	Path string
	// Attr describes the attribute the value is for, e.g. `u32 "ifindex"`;
	// "" when the key names no attribute.
	Attr string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *EncodeError) Error() string {
	if e.Attr != "" {
		return fmt.Sprintf("json %s (%s): %s", e.Path, e.Attr, e.Msg)
	}
	return fmt.Sprintf("json %s: %s", e.Path, e.Msg)
}

type encoder struct {
	c   *Codec
	enc attrs.Encoder
}

// EncodeRequest encodes msg, the JSON object of a request of op, into the
// fixed header (nil when op's messages have none) and the attributes of
// op's attribute set. Members of the fixed header are taken from msg's
// top-level keys, as YNL does, or from a "header" object when the set has
// no attribute of that name.
func (c *Codec) EncodeRequest(op *family.OpDesc, msg *Object) (header, attrBytes []byte, err error) {
	if msg == nil {
		msg = NewObject()
	}
	set := c.d.Set(op.Set)
	if set == nil && msg.Len() > 0 {
		return nil, nil, &EncodeError{Path: ".", Msg: fmt.Sprintf("operation %s has no attribute set", op.Name)}
	}
	body := msg
	if hname := c.HeaderName(op); hname != "" && c.d.Struct(hname) != nil {
		hdr := NewObject()
		body = NewObject()
		st := c.d.Struct(hname)
		hv, hasHdrKey := msg.Get("header")
		for _, k := range msg.Keys() {
			v, _ := msg.Get(k)
			switch {
			case set != nil && set.Attr(k) != nil:
				body.Set(k, v)
			case k == "header" && hasHdrKey:
				ho, ok := hv.(*Object)
				if !ok {
					return nil, nil, &EncodeError{Path: ".header", Attr: "fixed header " + hname, Msg: "want an object, got " + kindOf(hv)}
				}
				for _, hk := range ho.Keys() {
					x, _ := ho.Get(hk)
					hdr.Set(hk, x)
				}
			case memberOf(st, k):
				hdr.Set(k, v)
			default:
				body.Set(k, v)
			}
		}
		header = make([]byte, c.structSize(hname, 0))
		if err := c.encodeStruct(header, hname, hdr, ".", 0); err != nil {
			return nil, nil, err
		}
	}
	e := &encoder{c: c}
	if err := e.encodeSet(set, body, ""); err != nil {
		return nil, nil, err
	}
	if err := e.enc.Err(); err != nil {
		return nil, nil, &EncodeError{Path: ".", Msg: err.Error()}
	}
	return header, e.enc.Bytes(), nil
}

// EncodeAttrs encodes msg as attributes of the attribute set called set.
func (c *Codec) EncodeAttrs(set string, msg *Object) ([]byte, error) {
	s := c.d.Set(set)
	if s == nil {
		return nil, fmt.Errorf("unknown attribute set %q", set)
	}
	e := &encoder{c: c}
	if err := e.encodeSet(s, msg, ""); err != nil {
		return nil, err
	}
	if err := e.enc.Err(); err != nil {
		return nil, &EncodeError{Path: ".", Msg: err.Error()}
	}
	return e.enc.Bytes(), nil
}

func (e *encoder) encodeSet(set *family.SetDesc, obj *Object, path string) error {
	for _, k := range obj.Keys() {
		v, _ := obj.Get(k)
		p := path + "." + k
		var a *family.AttrDesc
		if set != nil {
			a = set.Attr(k)
		}
		if a == nil || a.Type == "unused" || a.Type == "pad" {
			return &EncodeError{Path: p, Msg: fmt.Sprintf("no attribute %q in set %s%s", k, setName(set), suggest(set, k))}
		}
		if err := e.encodeAttr(a, v, p, obj); err != nil {
			return err
		}
	}
	return nil
}

func setName(s *family.SetDesc) string {
	if s == nil {
		return "(none)"
	}
	return s.Name
}

// suggest returns "; did you mean …?" with the set's attribute closest to
// name, or "".
func suggest(set *family.SetDesc, name string) string {
	if set == nil {
		return ""
	}
	var names []string
	for _, a := range set.Attrs {
		if a.Type != "unused" && a.Type != "pad" {
			names = append(names, a.Name)
		}
	}
	if best := Closest(name, names); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf(" (its attributes: %s)", strings.Join(names, ", "))
}

func attrLabel(a *family.AttrDesc) string { return fmt.Sprintf("%s %q", a.Type, a.Name) }

func (e *encoder) fail(a *family.AttrDesc, path, format string, args ...any) error {
	return &EncodeError{Path: path, Attr: attrLabel(a), Msg: fmt.Sprintf(format, args...)}
}

func (e *encoder) encodeAttr(a *family.AttrDesc, v any, path string, scope *Object) error {
	if v == nil {
		return nil // null leaves the attribute out
	}
	if arr, ok := v.([]any); ok && a.Multi {
		for i, x := range arr {
			if err := e.encodeChecked(a, x, fmt.Sprintf("%s[%d]", path, i), scope); err != nil {
				return err
			}
		}
		return nil
	}
	return e.encodeChecked(a, v, path, scope)
}

// encodeChecked is encodeOne that blames the attribute at path for an error
// the attrs.Encoder records while encoding it (a payload too long for an
// attribute): the innermost attribute that broke is named, not the message.
func (e *encoder) encodeChecked(a *family.AttrDesc, v any, path string, scope *Object) error {
	if err := e.encodeOne(a, v, path, scope); err != nil {
		return err
	}
	if err := e.enc.Err(); err != nil {
		var ae *attrs.Error
		if errors.As(err, &ae) {
			return e.fail(a, path, "%s", ae.Msg)
		}
		return e.fail(a, path, "%v", err)
	}
	return nil
}

// nulMessage explains why a string with a NUL at byte i is refused.
func nulMessage(i int) string {
	return fmt.Sprintf("embedded NUL (\\u0000) at byte %d: the kernel would read the string only up to it", i)
}

func (e *encoder) encodeOne(a *family.AttrDesc, v any, path string, scope *Object) error {
	if v == nil {
		return nil
	}
	switch a.Type {
	case "flag":
		b, ok := v.(bool)
		if !ok {
			return e.fail(a, path, "want true or false, got %s", kindOf(v))
		}
		if b {
			e.enc.Flag(a.Value)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return e.fail(a, path, "want a string, got %s", kindOf(v))
		}
		if i := strings.IndexByte(s, 0); i >= 0 {
			return e.fail(a, path, "%s", nulMessage(i))
		}
		e.enc.String(a.Value, s)
	case "binary":
		b, err := e.c.binaryValue(a, v)
		if err != nil {
			return e.fail(a, path, "%v", err)
		}
		e.enc.Binary(a.Value, b)
	case "nest":
		if a.Ordered {
			return e.encodeList(a, v, path)
		}
		o, ok := v.(*Object)
		if !ok {
			return e.fail(a, path, "want an object, got %s", kindOf(v))
		}
		n := e.enc.Nest(a.Value)
		if err := e.encodeSet(e.c.d.Set(a.Nested), o, path); err != nil {
			return err
		}
		e.enc.End(n)
	case "indexed-array":
		return e.encodeArray(a, v, path)
	case "nest-type-value":
		return e.encodeTypeValue(a, v, path)
	case "bitfield32":
		o, ok := v.(*Object)
		if !ok {
			return e.fail(a, path, "want {\"value\": …, \"selector\": …}, got %s", kindOf(v))
		}
		var bf attrs.Bitfield32
		for _, k := range o.Keys() {
			x, _ := o.Get(k)
			u, err := e.c.intArg(a.Enum, a.EnumAsFlags, "", "u32", false, x)
			if err != nil {
				return e.fail(a, path+"."+k, "%v", err)
			}
			switch k {
			case "value":
				bf.Value = uint32(u)
			case "selector":
				bf.Selector = uint32(u)
			default:
				return e.fail(a, path+"."+k, "bitfield32 has only \"value\" and \"selector\"")
			}
		}
		e.enc.Bitfield32(a.Value, bf)
	case "sub-message":
		return e.encodeSubMessage(a, v, path, scope)
	default:
		if !isInt(a.Type) {
			return e.fail(a, path, "cannot encode attributes of type %s", a.Type)
		}
		u, err := e.c.intArg(a.Enum, a.EnumAsFlags, a.Hint, a.Type, a.BigEndian && looksLikeAddr(a.Name), v)
		if err != nil {
			return e.fail(a, path, "%v", err)
		}
		e.putInt(a.Value, a.Type, a.BigEndian, u)
	}
	return nil
}

// encodeList encodes an ordered nest (AttrDesc.Ordered) from an array of
// objects, each usually holding one attribute, in array order.
func (e *encoder) encodeList(a *family.AttrDesc, v any, path string) error {
	arr, ok := v.([]any)
	if !ok {
		return e.fail(a, path, "want an array of objects (an ordered list), got %s", kindOf(v))
	}
	n := e.enc.Nest(a.Value)
	for i, x := range arr {
		o, ok := x.(*Object)
		if !ok {
			return e.fail(a, fmt.Sprintf("%s[%d]", path, i), "want an object, got %s", kindOf(x))
		}
		if err := e.encodeSet(e.c.d.Set(a.Nested), o, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	e.enc.End(n)
	return nil
}

// putInt appends an integer attribute; u holds the value's bits (two's
// complement for signed types).
func (e *encoder) putInt(typ uint16, t string, be bool, u uint64) {
	o := byteOrder(be)
	switch t {
	case "uint":
		e.enc.UintOrder(typ, u, o)
	case "sint":
		e.enc.SintOrder(typ, int64(u), o)
	default:
		e.enc.UintN(typ, u, intSize(t), o)
	}
}

// encodeArray encodes an indexed array from a JSON array. Entries written
// {"<index>": value} use that index; others get their position (from 0,
// as YNL numbers them).
func (e *encoder) encodeArray(a *family.AttrDesc, v any, path string) error {
	arr, ok := v.([]any)
	if !ok {
		return e.fail(a, path, "want an array, got %s", kindOf(v))
	}
	n := e.enc.Nest(a.Value)
	for i, x := range arr {
		ip := fmt.Sprintf("%s[%d]", path, i)
		idx := uint64(i)
		if o, isObj := x.(*Object); isObj && o.Len() == 1 {
			if k, err := strconv.ParseUint(o.Keys()[0], 10, 16); err == nil {
				idx = k
				x, _ = o.Get(o.Keys()[0])
				ip += "." + o.Keys()[0]
			}
		}
		if idx > uint64(attrs.TypeMask) {
			return e.fail(a, ip, "index %d does not fit an attribute type", idx)
		}
		switch {
		case a.SubType == "nest" || a.SubType == "":
			o, isObj := x.(*Object)
			if !isObj {
				return e.fail(a, ip, "want an object, got %s", kindOf(x))
			}
			en := e.enc.Nest(uint16(idx))
			if err := e.encodeSet(e.c.d.Set(a.Nested), o, ip); err != nil {
				return err
			}
			e.enc.End(en)
		case isInt(a.SubType):
			u, err := e.c.intArg(a.Enum, a.EnumAsFlags, a.Hint, a.SubType, false, x)
			if err != nil {
				return e.fail(a, ip, "%v", err)
			}
			e.putInt(uint16(idx), a.SubType, a.BigEndian, u)
		case a.SubType == "string":
			s, isStr := x.(string)
			if !isStr {
				return e.fail(a, ip, "want a string, got %s", kindOf(x))
			}
			e.enc.String(uint16(idx), s)
		default:
			s, isStr := x.(string)
			if !isStr {
				return e.fail(a, ip, "want a hex string, got %s", kindOf(x))
			}
			b, err := parseBytes(s, a.Hint, false)
			if err != nil {
				return e.fail(a, ip, "%v", err)
			}
			e.enc.Binary(uint16(idx), b)
		}
	}
	e.enc.End(n)
	return nil
}

// encodeTypeValue encodes a nest-type-value attribute from the shape
// DecodeMessage gives it: an object (or an array of objects) holding the
// type-value numbers by name and the innermost attributes.
func (e *encoder) encodeTypeValue(a *family.AttrDesc, v any, path string) error {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	outer := e.enc.Nest(a.Value)
	for i, x := range items {
		ip := path
		if ok {
			ip = fmt.Sprintf("%s[%d]", path, i)
		}
		o, isObj := x.(*Object)
		if !isObj {
			return e.fail(a, ip, "want an object, got %s", kindOf(x))
		}
		inner := NewObject()
		types := make([]uint16, len(a.TypeValue))
		for ti, name := range a.TypeValue {
			tv, has := o.Get(name)
			if !has {
				return e.fail(a, ip, "missing %q", name)
			}
			u, err := e.c.intArg("", false, "", "u16", false, tv)
			if err != nil {
				return e.fail(a, ip+"."+name, "%v", err)
			}
			if u > uint64(attrs.TypeMask) {
				return e.fail(a, ip+"."+name, "%d does not fit an attribute type", u)
			}
			types[ti] = uint16(u)
		}
		for _, k := range o.Keys() {
			isTV := false
			for _, name := range a.TypeValue {
				isTV = isTV || name == k
			}
			if !isTV {
				val, _ := o.Get(k)
				inner.Set(k, val)
			}
		}
		nests := make([]attrs.Nest, len(types))
		for ti, t := range types {
			nests[ti] = e.enc.Nest(t)
		}
		if err := e.encodeSet(e.c.d.Set(a.Nested), inner, ip); err != nil {
			return err
		}
		for ti := len(nests) - 1; ti >= 0; ti-- {
			e.enc.End(nests[ti])
		}
	}
	e.enc.End(outer)
	return nil
}

func (e *encoder) encodeSubMessage(a *family.AttrDesc, v any, path string, scope *Object) error {
	o, ok := v.(*Object)
	if !ok {
		return e.fail(a, path, "want an object, got %s", kindOf(v))
	}
	f := e.c.subFormat(a, []*Object{scope})
	if f == nil {
		return e.fail(a, path, "the value of its selector %q does not name a format of %s", a.Selector, a.SubMessage)
	}
	body := NewObject()
	var hdr []byte
	if f.Header != "" {
		st := e.c.d.Struct(f.Header)
		hobj := NewObject()
		for _, k := range o.Keys() {
			x, _ := o.Get(k)
			if st != nil && memberOf(st, k) {
				hobj.Set(k, x)
			} else {
				body.Set(k, x)
			}
		}
		hdr = make([]byte, e.c.structSize(f.Header, 0))
		if err := e.c.encodeStruct(hdr, f.Header, hobj, path, 0); err != nil {
			return err
		}
	} else {
		body = o
	}
	if f.Set == "" {
		e.enc.Binary(a.Value, hdr)
		return nil
	}
	if len(hdr) == 0 {
		n := e.enc.Nest(a.Value)
		if err := e.encodeSet(e.c.d.Set(f.Set), body, path); err != nil {
			return err
		}
		e.enc.End(n)
		return nil
	}
	// A fixed header then attributes: the attributes are encoded on their
	// own and appended to the header as one payload.
	sub := &encoder{c: e.c}
	if err := sub.encodeSet(e.c.d.Set(f.Set), body, path); err != nil {
		return err
	}
	if err := sub.enc.Err(); err != nil {
		return e.fail(a, path, "%v", err)
	}
	e.enc.Binary(a.Value, append(hdr, sub.enc.Bytes()...))
	return nil
}

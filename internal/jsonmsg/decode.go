package jsonmsg

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
)

// DecodeMessage decodes the payload of one message of op (what follows the
// generic netlink header: the fixed header, if any, then attributes of op's
// attribute set). Members of the fixed header follow the attributes in the
// object, as YNL prints them. A nil op decodes every attribute as unknown.
func (c *Codec) DecodeMessage(op *family.OpDesc, payload []byte) (*Object, error) {
	hname := c.HeaderName(op)
	hsize := c.HeaderSize(op)
	if len(payload) < hsize {
		return nil, fmt.Errorf("message of %d bytes is shorter than its %d-byte fixed header %s", len(payload), hsize, hname)
	}
	set := ""
	if op != nil {
		set = op.Set
	}
	obj, err := c.DecodeAttrs(set, payload[hsize:])
	if err != nil {
		return nil, err
	}
	if hsize > 0 {
		if err := c.decodeStructInto(obj, hname, payload[:hsize], 0); err != nil {
			return nil, fmt.Errorf("header: %w", err)
		}
	}
	return obj, nil
}

// DecodeAttrs decodes the attributes in b as members of the attribute set
// called set ("" or an unknown set decodes every attribute as unknown).
// Errors name the attribute path.
func (c *Codec) DecodeAttrs(set string, b []byte) (*Object, error) {
	d := attrs.NewDecoder(b)
	obj := c.decodeSet(d, c.d.Set(set), nil)
	if err := d.Err(); err != nil {
		return nil, err
	}
	return obj, nil
}

// decodeSet decodes the attributes d walks as members of set. outer holds
// the enclosing objects, innermost first, for sub-message selectors.
func (c *Codec) decodeSet(d *attrs.Decoder, set *family.SetDesc, outer []*Object) *Object {
	obj := NewObject()
	if set != nil {
		d.SetNames(c.names[set.Name])
	}
	scopes := append([]*Object{obj}, outer...)
	rep := map[string]bool{}
	for d.Next() {
		if !c.decodeInto(obj, rep, d, set, scopes) {
			break
		}
	}
	return obj
}

// decodeInto decodes d's current attribute into obj; it returns false
// when decoding failed (d.Err says why).
func (c *Codec) decodeInto(obj *Object, rep map[string]bool, d *attrs.Decoder, set *family.SetDesc, scopes []*Object) bool {
	var a *family.AttrDesc
	if set != nil {
		a = set.AttrByValue(d.Type())
	}
	if a == nil || a.Type == "unused" {
		add(obj, rep, unknownKey(d.Type()), false, c.decodeUnknown(d))
		return true
	}
	if a.Type == "pad" {
		return true
	}
	v := c.decodeAttr(d, a, scopes)
	if d.Err() != nil {
		return false
	}
	add(obj, rep, a.Name, a.Multi, v)
	return true
}

// decodeList decodes an ordered nest (AttrDesc.Ordered) as an array with
// one single-key object per attribute, in wire order.
func (c *Codec) decodeList(d *attrs.Decoder, a *family.AttrDesc, scopes []*Object) any {
	set := c.d.Set(a.Nested)
	nd := d.Nested()
	if set != nil {
		nd.SetNames(c.names[set.Name])
	}
	out := []any{}
	for nd.Next() {
		obj := NewObject()
		if !c.decodeInto(obj, map[string]bool{}, &nd, set, append([]*Object{obj}, scopes...)) {
			break
		}
		out = append(out, obj)
	}
	return out
}

// add stores v under key: appended to an array for multi-attr attributes,
// and turned into an array when a single attribute repeats (rep records
// those keys), so that nothing is lost.
func add(obj *Object, rep map[string]bool, key string, multi bool, v any) {
	old, ok := obj.Get(key)
	switch {
	case multi && ok:
		obj.Set(key, append(old.([]any), v))
	case multi:
		obj.Set(key, []any{v})
	case !ok:
		obj.Set(key, v)
	case rep[key]:
		obj.Set(key, append(old.([]any), v))
	default:
		rep[key] = true
		obj.Set(key, []any{old, v})
	}
}

func (c *Codec) decodeUnknown(d *attrs.Decoder) any {
	a := d.Attr()
	if a.Nested() {
		nd := d.Nested()
		return c.decodeSet(&nd, nil, nil)
	}
	return hex.EncodeToString(a.Data)
}

func (c *Codec) decodeAttr(d *attrs.Decoder, a *family.AttrDesc, scopes []*Object) any {
	switch a.Type {
	case "flag":
		return true
	case "string":
		return string(d.StringBytes())
	case "binary":
		return c.decodeBinary(d, a)
	case "nest":
		if a.Ordered {
			return c.decodeList(d, a, scopes)
		}
		nd := d.Nested()
		return c.decodeSet(&nd, c.d.Set(a.Nested), scopes)
	case "indexed-array":
		return c.decodeArray(d, a, scopes)
	case "nest-type-value":
		return c.decodeTypeValue(d, a, scopes)
	case "bitfield32":
		bf := d.Bitfield32()
		if d.Err() != nil {
			return nil
		}
		return objectOf("value", c.intValue(a, uint64(bf.Value), 0, false),
			"selector", c.intValue(a, uint64(bf.Selector), 0, false))
	case "sub-message":
		return c.decodeSubMessage(d, a, scopes)
	}
	if isInt(a.Type) {
		u, s, signed := readInt(d, a.Type, a.BigEndian)
		if d.Err() != nil {
			return nil
		}
		return c.intValue(a, u, s, signed)
	}
	return hex.EncodeToString(d.Bytes())
}

// readInt reads an integer attribute of type t.
func readInt(d *attrs.Decoder, t string, be bool) (u uint64, s int64, signed bool) {
	o := byteOrder(be)
	switch t {
	case "uint":
		return d.UintOrder(o), 0, false
	case "sint":
		return 0, d.SintOrder(o), true
	}
	sz := intSize(t)
	if sz == 0 {
		return 0, 0, false
	}
	u = d.UintN(sz, o)
	if isSigned(t) {
		return 0, signExtend(u, sz), true
	}
	return u, 0, false
}

// intValue formats an integer by the attribute's enum or display hint.
func (c *Codec) intValue(a *family.AttrDesc, u uint64, s int64, signed bool) any {
	return c.formatInt(a.Enum, a.EnumAsFlags, a.Hint, u, s, signed)
}

func (c *Codec) formatInt(enum string, asFlags bool, hint string, u uint64, s int64, signed bool) any {
	if e := c.d.Enum(enum); e != nil {
		if signed {
			u = uint64(s)
		}
		if e.Flags || asFlags {
			return flagNames(e, !e.Flags, u)
		}
		for _, ent := range e.Entries {
			if ent.Value == u {
				return ent.Name
			}
		}
	}
	if signed {
		return s
	}
	switch hint {
	case "hex":
		return "0x" + strconv.FormatUint(u, 16)
	case "ipv4":
		if u <= 0xffffffff {
			return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, uint32(u)))).String()
		}
	}
	return u
}

// flagNames returns the sorted names of the bits set in v; bits without a
// name follow as numbers (their mask). bitNumbers says the entries' values
// are bit numbers (enum-as-flags) rather than masks (flags).
func flagNames(e *family.EnumDesc, bitNumbers bool, v uint64) []any {
	var names []string
	var rest []any
	for bit := range 64 {
		m := uint64(1) << bit
		if v&m == 0 {
			continue
		}
		name := ""
		for _, ent := range e.Entries {
			if (bitNumbers && ent.Value == uint64(bit)) || (!bitNumbers && ent.Value == m) {
				name = ent.Name
				break
			}
		}
		if name == "" {
			rest = append(rest, m)
		} else {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := make([]any, 0, len(names)+len(rest))
	for _, n := range names {
		out = append(out, n)
	}
	return append(out, rest...)
}

func (c *Codec) decodeBinary(d *attrs.Decoder, a *family.AttrDesc) any {
	b := d.Bytes()
	if a.Struct != "" && c.d.Struct(a.Struct) != nil {
		obj := NewObject()
		if err := c.decodeStructInto(obj, a.Struct, b, 0); err != nil {
			d.Fail(err)
			return nil
		}
		return obj
	}
	if sz := intSize(a.SubType); sz > 0 {
		if len(b)%sz != 0 {
			d.Fail(&attrs.Error{Offset: -1, Kind: attrs.ErrBadLength,
				Msg: fmt.Sprintf("array of %s needs a multiple of %d bytes, got %d", a.SubType, sz, len(b))})
			return nil
		}
		signed := isSigned(a.SubType)
		xs := attrs.DecodeArray[uint64](d, sz, byteOrder(a.BigEndian))
		out := make([]any, len(xs))
		for i, u := range xs {
			out[i] = c.intValue(a, u, signExtend(u, sz), signed)
		}
		return out
	}
	return formatBytes(b, a.Hint)
}

// formatBytes formats binary data by its display hint: mac, ipv4, ipv6,
// ipv4-or-v6, uuid, hex (space-separated bytes); plain lowercase hex
// otherwise or when the length does not fit the hint.
func formatBytes(b []byte, hint string) string {
	switch hint {
	case "mac":
		return net.HardwareAddr(b).String()
	case "hex":
		var sb strings.Builder
		for i, x := range b {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(hex.EncodeToString([]byte{x}))
		}
		return sb.String()
	case "ipv4", "ipv6", "ipv4-or-v6":
		if a, ok := netip.AddrFromSlice(b); ok {
			return a.String()
		}
	case "uuid":
		if len(b) == 16 {
			h := hex.EncodeToString(b)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		}
	}
	return hex.EncodeToString(b)
}

// decodeStructInto adds the members of struct name, read from b, to obj.
func (c *Codec) decodeStructInto(obj *Object, name string, b []byte, depth int) error {
	s := c.d.Struct(name)
	if s == nil {
		return fmt.Errorf("unknown struct %q", name)
	}
	if depth > 8 {
		return fmt.Errorf("struct %q nests too deep", name)
	}
	if len(b) == 0 && depth == 0 {
		return attrs.EmptyStruct(name)
	}
	// A shorter payload is an older version of the struct: the members it
	// holds completely are shown, the others left out. A longer one is a
	// newer version: the bytes past the known members are ignored.
	r := attrs.NewStructReader(b)
	for _, m := range s.Members {
		sz := c.memberSize(m, depth)
		if len(b)-r.Off() < sz {
			break
		}
		switch {
		case m.Type == "pad":
			r.Skip(sz)
		case intSize(m.Type) > 0:
			u := r.UintN(sz, byteOrder(m.BigEndian))
			s := signExtend(u, sz)
			obj.Set(m.Name, c.formatInt(m.Enum, false, m.Hint, u, s, isSigned(m.Type)))
		case m.Struct != "":
			sub := NewObject()
			if err := c.decodeStructInto(sub, m.Struct, r.Binary(sz), depth+1); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			obj.Set(m.Name, sub)
		case m.Type == "string":
			obj.Set(m.Name, r.CString(sz))
		default:
			obj.Set(m.Name, formatBytes(r.Binary(sz), m.Hint))
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("struct %s of %d bytes: %w", name, len(b), err)
	}
	return nil
}

// decodeArray decodes an indexed array: nests become single-key objects
// keyed by the index, scalars plain values.
func (c *Codec) decodeArray(d *attrs.Decoder, a *family.AttrDesc, scopes []*Object) any {
	out := []any{}
	nd := d.Nested()
	for nd.Next() {
		idx := strconv.Itoa(int(nd.Type()))
		switch {
		case a.SubType == "nest" || a.SubType == "":
			ed := nd.Nested()
			out = append(out, objectOf(idx, c.decodeSet(&ed, c.d.Set(a.Nested), scopes)))
		case isInt(a.SubType):
			u, s, signed := readInt(&nd, a.SubType, a.BigEndian)
			if nd.Err() != nil {
				return nil
			}
			out = append(out, c.intValue(a, u, s, signed))
		case a.SubType == "string":
			out = append(out, string(nd.StringBytes()))
		default:
			out = append(out, formatBytes(nd.Bytes(), a.Hint))
		}
	}
	return out
}

// decodeTypeValue decodes a nest-type-value attribute: the types of the
// nests in its payload are values (named by a.TypeValue, outermost first),
// the innermost payload attributes of a.Nested.
func (c *Codec) decodeTypeValue(d *attrs.Decoder, a *family.AttrDesc, scopes []*Object) any {
	var out []any
	var walk func(d *attrs.Decoder, level int, prefix []any)
	walk = func(d *attrs.Decoder, level int, prefix []any) {
		for d.Next() {
			p := append(slices.Clip(prefix), uint64(d.Type()))
			nd := d.Nested()
			if level+1 < len(a.TypeValue) {
				walk(&nd, level+1, p)
				continue
			}
			inner := c.decodeSet(&nd, c.d.Set(a.Nested), scopes)
			obj := NewObject()
			for i, v := range p {
				obj.Set(a.TypeValue[i], v)
			}
			for _, k := range inner.Keys() {
				v, _ := inner.Get(k)
				obj.Set(k, v)
			}
			out = append(out, obj)
		}
	}
	if len(a.TypeValue) == 0 {
		nd := d.Nested()
		return c.decodeSet(&nd, c.d.Set(a.Nested), scopes)
	}
	nd := d.Nested()
	walk(&nd, 0, nil)
	if len(out) == 1 {
		return out[0]
	}
	if out == nil {
		return []any{}
	}
	return out
}

// decodeSubMessage decodes a sub-message attribute, whose format is chosen
// by the value of its selector attribute, found in the enclosing objects.
func (c *Codec) decodeSubMessage(d *attrs.Decoder, a *family.AttrDesc, scopes []*Object) any {
	f := c.subFormat(a, scopes)
	b := d.Bytes()
	if f == nil {
		return hex.EncodeToString(b)
	}
	obj := NewObject()
	off := 0
	if f.Header != "" {
		off = c.structSize(f.Header, 0)
		if off > len(b) {
			d.Fail(fmt.Errorf("%d bytes are too short for header %s", len(b), f.Header))
			return nil
		}
		if err := c.decodeStructInto(obj, f.Header, b[:off], 0); err != nil {
			d.Fail(err)
			return nil
		}
	}
	if f.Set != "" {
		nd := d.Nested()
		nd.Reset(b[off:])
		inner := c.decodeSet(&nd, c.d.Set(f.Set), scopes)
		if err := nd.Err(); err != nil {
			d.Fail(err)
			return nil
		}
		for _, k := range inner.Keys() {
			v, _ := inner.Get(k)
			obj.Set(k, v)
		}
	}
	return obj
}

func (c *Codec) subFormat(a *family.AttrDesc, scopes []*Object) *family.FormatDesc {
	sm := c.d.SubMessage(a.SubMessage)
	if sm == nil || a.Selector == "" {
		return nil
	}
	for _, o := range scopes {
		v, ok := o.Get(a.Selector)
		if !ok {
			continue
		}
		sv := fmt.Sprint(v)
		for i := range sm.Formats {
			if sm.Formats[i].Value == sv {
				return &sm.Formats[i]
			}
		}
		return nil
	}
	return nil
}

func objectOf(kv ...any) *Object {
	o := NewObject()
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

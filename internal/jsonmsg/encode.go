package jsonmsg

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
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

func memberOf(s *family.StructDesc, name string) bool {
	for _, m := range s.Members {
		if m.Name == name && m.Type != "pad" {
			return true
		}
	}
	return false
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

// looksLikeAddr reports whether an attribute's name says it holds an IP
// address ("addr4", "saddr6", "local-v4", "addr-ipv6").
func looksLikeAddr(name string) bool {
	return strings.Contains(name, "addr") || strings.HasSuffix(name, "-v4") ||
		strings.HasSuffix(name, "-v6") || strings.Contains(name, "ipv4") || strings.Contains(name, "ipv6")
}

// intArg converts a JSON value to the bits of an integer of type t:
// a number, a numeric string ("0x1f" too), an enum name, a list of flag
// names, or, when addr is true or the hint is ipv4, a dotted IPv4 address.
func (c *Codec) intArg(enum string, asFlags bool, hint, t string, addr bool, v any) (uint64, error) {
	e := c.d.Enum(enum)
	if e != nil && (e.Flags || asFlags) {
		switch v := v.(type) {
		case []any:
			var mask uint64
			for _, x := range v {
				m, err := c.flagBit(e, !e.Flags, x)
				if err != nil {
					return 0, err
				}
				mask |= m
			}
			return checkRange(t, mask, 0, false)
		case string:
			if _, err := strconv.ParseUint(v, 0, 64); err != nil {
				m, err := c.flagBit(e, !e.Flags, v)
				if err != nil {
					return 0, err
				}
				return checkRange(t, m, 0, false)
			}
		}
	}
	switch v := v.(type) {
	case json.Number:
		return parseIntText(t, string(v))
	case uint64:
		return checkRange(t, v, 0, false)
	case int64:
		return checkRange(t, uint64(v), v, v < 0)
	case string:
		if e != nil {
			for _, ent := range e.Entries {
				if ent.Name == v {
					return checkRange(t, ent.Value, int64(ent.Value), false)
				}
			}
		}
		if u, err := parseIntText(t, v); err == nil {
			return u, nil
		}
		if (addr || hint == "ipv4") && intSize(t) == 4 {
			if ip, err := netip.ParseAddr(v); err == nil && ip.Is4() {
				b := ip.As4()
				return uint64(binary.BigEndian.Uint32(b[:])), nil
			}
			return 0, fmt.Errorf("%q is not an IPv4 address or a number", v)
		}
		if e != nil {
			return 0, fmt.Errorf("%q is not a value of enum %s%s", v, e.Name, suggestEnum(e, v))
		}
		return 0, fmt.Errorf("%q is not a number", v)
	}
	if e != nil && e.Flags {
		return 0, fmt.Errorf("want a number or a list of %s names, got %s", e.Name, kindOf(v))
	}
	return 0, fmt.Errorf("want a number, got %s", kindOf(v))
}

func suggestEnum(e *family.EnumDesc, v string) string {
	names := make([]string, len(e.Entries))
	for i, ent := range e.Entries {
		names[i] = ent.Name
	}
	if best := Closest(v, names); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

func (c *Codec) flagBit(e *family.EnumDesc, bitNumbers bool, x any) (uint64, error) {
	switch x := x.(type) {
	case string:
		for _, ent := range e.Entries {
			if ent.Name == x {
				if bitNumbers {
					if ent.Value > 63 {
						return 0, fmt.Errorf("flag %q has bit number %d", x, ent.Value)
					}
					return 1 << ent.Value, nil
				}
				return ent.Value, nil
			}
		}
		if u, err := strconv.ParseUint(x, 0, 64); err == nil {
			return u, nil
		}
		return 0, fmt.Errorf("%q is not a flag of %s%s", x, e.Name, suggestEnum(e, x))
	case json.Number:
		return strconv.ParseUint(string(x), 0, 64)
	case uint64:
		return x, nil
	}
	return 0, fmt.Errorf("want a flag name, got %s", kindOf(x))
}

func parseIntText(t, s string) (uint64, error) {
	if strings.HasPrefix(s, "-") {
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not an integer", s)
		}
		return checkRange(t, uint64(n), n, true)
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			return 0, fmt.Errorf("%s is not an integer", s)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return checkRange(t, u, int64(u), false)
}

// checkRange checks that a value fits type t and returns its bits.
func checkRange(t string, u uint64, s int64, neg bool) (uint64, error) {
	signed := isSigned(t)
	if neg && !signed {
		return 0, fmt.Errorf("%d is negative, %s is unsigned", s, t)
	}
	bits := 64
	if sz := intSize(t); sz > 0 {
		bits = sz * 8
	}
	if signed {
		if !neg && u > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range for %s", u, t)
		}
		if !neg {
			s = int64(u)
		}
		lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
		if bits == 64 {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		if s < lo || s > hi {
			return 0, fmt.Errorf("%d is out of range for %s", s, t)
		}
		return uint64(s), nil
	}
	if bits < 64 && u >= 1<<bits {
		return 0, fmt.Errorf("%d is out of range for %s", u, t)
	}
	return u, nil
}

// binaryValue converts a JSON value to the payload of a binary attribute.
func (c *Codec) binaryValue(a *family.AttrDesc, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		b, err := parseBytes(v, a.Hint, looksLikeAddr(a.Name))
		if err != nil {
			return nil, err
		}
		if want := ipVersion(a); want != 0 {
			if ip, perr := netip.ParseAddr(v); perr == nil && ip.Is4() != (want == 4) {
				return nil, fmt.Errorf("%q is an IPv%d address; %s holds an IPv%d address", v, 10-want, a.Name, want)
			}
		}
		return b, nil
	case *Object:
		if a.Struct == "" || c.d.Struct(a.Struct) == nil {
			return nil, fmt.Errorf("want a hex string, got an object")
		}
		b := make([]byte, c.structSize(a.Struct, 0))
		if err := c.encodeStruct(b, a.Struct, v, "", 0); err != nil {
			return nil, err
		}
		return b, nil
	case []any:
		sz := intSize(a.SubType)
		if sz == 0 {
			return nil, fmt.Errorf("want a hex string, got an array")
		}
		out := make([]byte, len(v)*sz)
		w := attrs.NewStructWriter(out)
		for i, x := range v {
			u, err := c.intArg(a.Enum, a.EnumAsFlags, "", a.SubType, false, x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			w.UintN(u, sz, byteOrder(a.BigEndian))
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a hex string, got %s", kindOf(v))
}

// ipVersion returns the IP version (4 or 6) of the addresses a binary
// attribute holds, from its display hint, its exact length or its name
// ("addr6", "saddr4", "local-v6", "addr-ipv4"); 0 when it does not say.
func ipVersion(a *family.AttrDesc) int {
	switch a.Hint {
	case "ipv4":
		return 4
	case "ipv6":
		return 6
	case "ipv4-or-v6":
		return 0
	}
	if !looksLikeAddr(a.Name) {
		return 0
	}
	if c := a.Checks; c != nil && c.ExactLen.Set {
		switch c.ExactLen.Abs {
		case 4:
			return 4
		case 16:
			return 6
		}
	}
	switch n := a.Name; {
	case strings.HasSuffix(n, "6"):
		return 6
	case strings.HasSuffix(n, "4"):
		return 4
	}
	return 0
}

// parseBytes parses binary data written as text: an address for the ip and
// mac hints (and for attributes named like addresses), a UUID for the uuid
// hint, otherwise hex, with or without ' ', ':' or '-' between bytes and an
// optional "0x".
func parseBytes(s, hint string, addrName bool) ([]byte, error) {
	switch hint {
	case "ipv4", "ipv6", "ipv4-or-v6":
		if ip, err := netip.ParseAddr(s); err == nil {
			if hint == "ipv4" && !ip.Is4() {
				return nil, fmt.Errorf("%q is not an IPv4 address", s)
			}
			return ip.AsSlice(), nil
		}
	case "mac":
		if mac, err := net.ParseMAC(s); err == nil {
			return mac, nil
		}
	}
	if addrName && (strings.Contains(s, ".") || strings.Contains(s, "::")) {
		if ip, err := netip.ParseAddr(s); err == nil {
			return ip.AsSlice(), nil
		}
	}
	if addrName && strings.Count(s, ":") >= 2 {
		if ip, err := netip.ParseAddr(s); err == nil {
			return ip.AsSlice(), nil
		}
	}
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	h = strings.NewReplacer(" ", "", ":", "", "-", "").Replace(h)
	b, err := hex.DecodeString(h)
	if err != nil {
		switch hint {
		case "ipv4", "ipv6", "ipv4-or-v6":
			return nil, fmt.Errorf("%q is not an IP address or hex", s)
		case "mac":
			return nil, fmt.Errorf("%q is not a MAC address or hex", s)
		}
		return nil, fmt.Errorf("%q is not hex", s)
	}
	return b, nil
}

// encodeStruct fills b with the struct name from obj's members; missing
// members are zero.
func (c *Codec) encodeStruct(b []byte, name string, obj *Object, path string, depth int) error {
	s := c.d.Struct(name)
	if s == nil || depth > 8 {
		return &EncodeError{Path: path, Msg: fmt.Sprintf("unknown struct %q", name)}
	}
	used := 0
	w := attrs.NewStructWriter(b)
	for _, m := range s.Members {
		sz := c.memberSize(m, depth)
		v, ok := obj.Get(m.Name)
		if ok && m.Type != "pad" {
			used++
		}
		mp := path + "." + m.Name
		lbl := fmt.Sprintf("%s member %q of %s", m.Type, m.Name, name)
		switch {
		case m.Type == "pad" || !ok || v == nil:
			w.Pad(sz)
		case intSize(m.Type) > 0:
			u, err := c.intArg(m.Enum, false, m.Hint, m.Type, false, v)
			if err != nil {
				return &EncodeError{Path: mp, Attr: lbl, Msg: err.Error()}
			}
			w.UintN(u, sz, byteOrder(m.BigEndian))
		case m.Struct != "":
			o, isObj := v.(*Object)
			if !isObj {
				return &EncodeError{Path: mp, Attr: lbl, Msg: "want an object, got " + kindOf(v)}
			}
			sub := make([]byte, sz)
			if err := c.encodeStruct(sub, m.Struct, o, mp, depth+1); err != nil {
				return err
			}
			w.Binary(sub, sz)
		case m.Type == "string":
			str, isStr := v.(string)
			if !isStr {
				return &EncodeError{Path: mp, Attr: lbl, Msg: "want a string, got " + kindOf(v)}
			}
			if len(str) >= sz {
				return &EncodeError{Path: mp, Attr: lbl, Msg: fmt.Sprintf("%d bytes do not fit %d with the NUL", len(str), sz)}
			}
			if i := strings.IndexByte(str, 0); i >= 0 {
				return &EncodeError{Path: mp, Attr: lbl, Msg: nulMessage(i)}
			}
			w.Binary([]byte(str), sz)
		default:
			str, isStr := v.(string)
			if !isStr {
				return &EncodeError{Path: mp, Attr: lbl, Msg: "want a hex string, got " + kindOf(v)}
			}
			raw, err := parseBytes(str, m.Hint, false)
			if err != nil {
				return &EncodeError{Path: mp, Attr: lbl, Msg: err.Error()}
			}
			if len(raw) > sz {
				return &EncodeError{Path: mp, Attr: lbl, Msg: fmt.Sprintf("%d bytes do not fit %d", len(raw), sz)}
			}
			w.Binary(raw, sz)
		}
	}
	if err := w.Err(); err != nil {
		return &EncodeError{Path: path, Msg: fmt.Sprintf("struct %s: %v", name, err)}
	}
	if used != obj.Len() {
		for _, k := range obj.Keys() {
			if !memberOf(s, k) {
				return &EncodeError{Path: path + "." + k, Msg: fmt.Sprintf("struct %s has no member %q", name, k)}
			}
		}
	}
	return nil
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

package jsonmsg

import (
	"fmt"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
)

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

func memberOf(s *family.StructDesc, name string) bool {
	for _, m := range s.Members {
		if m.Name == name && m.Type != "pad" {
			return true
		}
	}
	return false
}

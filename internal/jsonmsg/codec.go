// Package jsonmsg converts generic netlink messages to and from JSON, driven
// by a family's descriptor ([family.Descriptor]) rather than generated code.
// It is the codec of the genlkit CLI.
//
// The JSON has the shape of the Linux kernel's YNL tooling (cli.py
// --output-json), so that scripts can switch between the two:
//
//   - object keys are the spec's attribute names, in the order the
//     attributes arrived;
//   - integers are numbers; enums are names (unknown values stay numbers);
//     flags and enum-as-flags values are sorted lists of names;
//   - binary is a lowercase hex string, unless the attribute has a struct
//     (an object of its members), a sub-type (an array of numbers) or a
//     display hint (mac "aa:bb:…", ipv4/ipv6 text, uuid, hex "aa bb …");
//     integers with the hex hint print as "0x…";
//   - flag attributes are true; bitfield32 is {"value": …, "selector": …};
//   - nests are objects; multi-attr attributes are arrays; indexed arrays of
//     nests are arrays of single-key objects keyed by the index
//     ([{"1": {…}}, …]); indexed arrays of scalars are arrays of values;
//   - a nest-type-value attribute is an object holding the nested type
//     numbers under the names of its type-value list, then the innermost
//     attributes (an array of such objects when it carries several);
//   - members of a fixed header follow the attributes;
//   - attributes the descriptor does not know appear as
//     "UnknownAttr(<type>)": hex string (an object when nested), the form
//     YNL prints with --process-unknown. Nothing is dropped but pad.
//
// Encoding accepts the same shape, plus conveniences: enum values by name or
// number, flags as a list or a single name, hex with or without separators,
// and addresses as text ("192.0.2.1", "2001:db8::1", "02:00:00:00:00:01")
// where a display hint says the value is one, and for big-endian u32 and
// 4- or 16-byte binary attributes whose names say they are addresses.
//
// All attribute bytes are made and read with package attrs.
package jsonmsg

import (
	"fmt"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
)

// A Codec encodes and decodes the messages of one family as JSON. It is
// safe for concurrent use once made.
type Codec struct {
	d     *family.Descriptor
	names map[string][]string // set name → attribute names by type
}

// New returns a Codec for the family described by d.
func New(d *family.Descriptor) *Codec {
	c := &Codec{d: d, names: map[string][]string{}}
	for i := range d.Sets {
		s := &d.Sets[i]
		var hi uint16
		for _, a := range s.Attrs {
			hi = max(hi, a.Value)
		}
		names := make([]string, int(hi)+1)
		for _, a := range s.Attrs {
			names[a.Value] = a.Name
		}
		c.names[s.Name] = names
	}
	return c
}

// Descriptor returns the descriptor c was made from.
func (c *Codec) Descriptor() *family.Descriptor { return c.d }

// HeaderName returns the name of the fixed header struct of op's messages,
// or "" when they have none.
func (c *Codec) HeaderName(op *family.OpDesc) string {
	if op != nil && op.Header != "" {
		return op.Header
	}
	return c.d.Header
}

// HeaderSize returns the size in bytes of the fixed header of op's
// messages, 0 when they have none.
func (c *Codec) HeaderSize(op *family.OpDesc) int {
	return c.structSize(c.HeaderName(op), 0)
}

func (c *Codec) structSize(name string, depth int) int {
	s := c.d.Struct(name)
	if s == nil || depth > 8 {
		return 0
	}
	n := 0
	for _, m := range s.Members {
		n += c.memberSize(m, depth)
	}
	return n
}

func (c *Codec) memberSize(m family.MemberDesc, depth int) int {
	if sz := intSize(m.Type); sz > 0 {
		return sz
	}
	if m.Len > 0 {
		return m.Len
	}
	if m.Struct != "" {
		return c.structSize(m.Struct, depth+1)
	}
	return 0
}

// intSize returns the size of a fixed-width integer type, 0 for others.
func intSize(t string) int {
	switch t {
	case "u8", "s8":
		return 1
	case "u16", "s16":
		return 2
	case "u32", "s32":
		return 4
	case "u64", "s64":
		return 8
	}
	return 0
}

// byteOrder returns the byte order of an integer the spec declares
// big-endian (be) or leaves in host order.
func byteOrder(be bool) attrs.ByteOrder {
	if be {
		return attrs.BigEndian
	}
	return attrs.HostEndian
}

// signExtend returns the sz-byte integer u as signed.
func signExtend(u uint64, sz int) int64 {
	shift := 64 - 8*sz
	return int64(u<<shift) >> shift
}

func isInt(t string) bool { return intSize(t) > 0 || t == "uint" || t == "sint" }

func isSigned(t string) bool { return strings.HasPrefix(t, "s") && isInt(t) }

// OpByReply returns the first operation whose do or dump replies carry
// command number cmd, or nil. Notifications are not replies: see
// OpByNotify.
func (c *Codec) OpByReply(cmd uint8) *family.OpDesc {
	for i := range c.d.Ops {
		op := &c.d.Ops[i]
		for _, m := range []*family.OpMsgDesc{op.Do, op.Dump} {
			if m != nil && m.HasReply && m.ReplyValue == cmd {
				return op
			}
		}
	}
	return nil
}

// OpByNotify returns the notification (an op the spec, or the project
// overlay, marks notify or event) with command number cmd, or nil: a
// message no notification describes is unknown, even when a reply shares
// its command number (mptcp_pm's events number from 1 like its ops).
func (c *Codec) OpByNotify(cmd uint8) *family.OpDesc {
	for i := range c.d.Ops {
		op := &c.d.Ops[i]
		if (op.Notify || op.Event) && op.ReplyValue == cmd {
			return op
		}
	}
	return nil
}

// AttrNamer returns a genl.AttrNamer that names the attributes of op's
// requests, for the paths of kernel errors.
func (c *Codec) AttrNamer(op *family.OpDesc) genl.AttrNamer {
	return func(parents []uint16, typ uint16) string {
		set := c.d.Set(op.Set)
		inArray := false
		for _, p := range parents {
			if set == nil {
				return ""
			}
			if inArray {
				inArray = false
				continue // an index within an indexed array: the set stays
			}
			a := set.AttrByValue(p)
			if a == nil {
				return ""
			}
			switch a.Type {
			case "nest":
				set = c.d.Set(a.Nested)
			case "indexed-array":
				set = c.d.Set(a.Nested)
				inArray = true
			default:
				return ""
			}
		}
		if set == nil || inArray {
			return ""
		}
		if a := set.AttrByValue(typ); a != nil {
			return a.Name
		}
		return ""
	}
}

// unknownKey is the key of an attribute the descriptor does not describe.
func unknownKey(t uint16) string { return fmt.Sprintf("UnknownAttr(%d)", t) }

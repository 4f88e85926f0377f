package spec

import (
	"github.com/genlkit/genlkit/family"
)

// Descriptor returns the family's descriptor: the facts of its spec that a
// tool needs to encode and decode its messages (names, values, types,
// nesting), with references by name. The code generator compiles it into
// each family package; the CLI builds it from a spec file given at run time.
// Both therefore see the same facts.
func (f *Family) Descriptor() *family.Descriptor {
	d := &family.Descriptor{
		Name:     f.Name,
		Protocol: string(f.Protocol),
		Version:  f.Version,
	}
	if f.Operations != nil {
		d.Header = f.Operations.FixedHeader
	}
	for _, def := range f.Definitions {
		switch def.Type {
		case DefEnum, DefFlags:
			e := family.EnumDesc{Name: def.Name, Flags: def.Type == DefFlags}
			for i, v := range def.Values() {
				u, _ := v.Value.Uint64()
				e.Entries = append(e.Entries, family.EnumEntry{Name: v.Name, Value: u, Text: def.Entries[i].Text})
			}
			d.Enums = append(d.Enums, e)
		case DefStruct:
			s := family.StructDesc{Name: def.Name}
			for _, m := range def.Members {
				s.Members = append(s.Members, family.MemberDesc{
					Name: m.Name, Type: string(m.Type), Len: m.Size,
					BigEndian: m.ByteOrder == ByteOrderBig,
					Hint:      string(m.DisplayHint), Enum: m.Enum, Struct: m.Struct,
				})
			}
			d.Structs = append(d.Structs, s)
		}
	}
	for _, set := range f.AttributeSets {
		s := family.SetDesc{Name: set.Name}
		for _, a := range set.Attributes {
			s.Attrs = append(s.Attrs, attrDesc(a))
		}
		d.Sets = append(d.Sets, s)
	}
	if f.Operations != nil {
		for _, op := range f.Operations.List {
			if op.IsReserved() {
				continue
			}
			d.Ops = append(d.Ops, opDesc(op))
		}
	}
	for _, g := range f.MulticastGroups {
		d.Groups = append(d.Groups, g.Name)
	}
	return d
}

func opDesc(op *Op) family.OpDesc {
	o := family.OpDesc{
		Name:       op.Name,
		Value:      op.RequestValue,
		ReplyValue: op.ReplyValue,
		Header:     op.FixedHeader,
		Group:      op.Mcgrp,
		Notify:     op.Notify != "",
		Event:      op.Event != nil,
	}
	if op.Set != nil {
		o.Set = op.Set.Name
	}
	for _, fl := range op.Flags {
		o.Flags = append(o.Flags, string(fl))
	}
	o.Do = modeDesc(op, op.Do)
	o.Dump = modeDesc(op, op.Dump)
	if op.IsAsync() {
		o.EventAttrs = attrNames(op.NotifyAttributes())
	}
	return o
}

func modeDesc(op *Op, m *Mode) *family.OpMsgDesc {
	if m == nil {
		return nil
	}
	md := &family.OpMsgDesc{RequestValue: op.RequestValue, ReplyValue: op.ReplyValue}
	if m.Request != nil {
		md.Request = attrNames(m.Request.Attributes)
		if m.Request.HasValue {
			md.RequestValue = m.Request.Value
		}
	}
	if m.Reply != nil {
		md.HasReply = true
		md.Reply = attrNames(m.Reply.Attributes)
		if m.Reply.HasValue {
			md.ReplyValue = m.Reply.Value
		}
	}
	return md
}

func attrNames(as []*Attribute) []string {
	if len(as) == 0 {
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}

func attrDesc(a *Attribute) family.AttrDesc {
	ad := family.AttrDesc{
		Name:        a.Name,
		Value:       a.Value,
		Type:        string(a.Type),
		Nested:      a.NestedAttributes,
		SubType:     string(a.SubType),
		Multi:       a.MultiAttr,
		Ordered:     a.Ordered,
		BigEndian:   a.ByteOrder == ByteOrderBig,
		Hint:        string(a.DisplayHint),
		Enum:        a.Enum,
		EnumAsFlags: a.EnumAsFlags,
		Struct:      a.Struct,
		TypeValue:   a.TypeValue,
	}
	if a.EnumDef != nil && a.EnumDef.NumbersInJSON {
		ad.Enum, ad.TableEnum = "", a.Enum
	}
	if c := a.Checks; c != nil {
		ad.Checks = &family.ChecksDesc{
			Min: limit(c.Min), Max: limit(c.Max),
			MinLen: limit(c.MinLen), MaxLen: limit(c.MaxLen), ExactLen: limit(c.ExactLen),
			FlagsMask: c.FlagsMask, UnterminatedOK: c.UnterminatedOK,
		}
	}
	return ad
}

func limit(b *Bound) family.Limit {
	if b == nil {
		return family.Limit{}
	}
	if u, ok := b.Value.Uint64(); ok {
		return family.Limit{Set: true, Abs: u}
	}
	v, _ := b.Value.Int64()
	return family.Limit{Set: true, Neg: true, Abs: uint64(-(v + 1)) + 1}
}

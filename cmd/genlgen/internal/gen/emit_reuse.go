package gen

import "strconv"

// Dumps into reused memory. Beside each dump's iterator the client has an
// append-style method that decodes one element per reply into a slice the
// caller passes, reusing the elements between its length and capacity:
// before a reply is decoded into one, recycle hands what it refers to
// (values behind pointers, slices of nests and structs, byte slices,
// strings) to the allocator's free lists, where the reply's decoding finds
// them again. A warm caller then allocates (almost) nothing per reply.

// recycleSets returns the sets whose values dumps decode, directly or
// nested, in the order of p.sets: those that need a recycle method.
func (g *generator) recycleSets() []*set {
	if g.p.noClient {
		return nil
	}
	need := map[*set]bool{}
	var mark func(s *set)
	mark = func(s *set) {
		if need[s] {
			return
		}
		need[s] = true
		for _, fl := range s.fields {
			if recycleNest(fl) {
				mark(fl.el.set)
			}
		}
	}
	for _, o := range g.p.ops {
		if o.dump != nil {
			mark(o.set)
		}
	}
	var out []*set
	for _, s := range g.p.sets {
		if need[s] {
			out = append(out, s)
		}
	}
	return out
}

// recycleNest reports whether recycling field fl recycles values of a
// nested set: a pointer to one, or a slice of them.
func recycleNest(fl *field) bool {
	return fl.tv == nil && !fl.arrays && fl.el.kind == kNest && (fl.ptr || fl.list || fl.multi || fl.idx)
}

// genRecycle prints the recycle method of each set dumps decode, of the
// fixed-header messages dump replies come in, and for each dump reply type
// the allocator method that empties the free lists its recycle fills.
func (g *generator) genRecycle(f *file, u allocUse) {
	if !u.pool {
		return
	}
	done := map[string]bool{}
	for _, o := range g.p.ops {
		if o.dump != nil && o.dump.replyMsg == nil && !done[o.dump.replyTyp] {
			done[o.dump.replyTyp] = true
			g.genDropRecycled(f, o.dump.replyTyp, o.set)
		}
	}
	for _, s := range g.recycleSets() {
		f.P("// recycle hands the memory v refers to over to a, for decoding to take")
		f.P("// again, and zeroes v.")
		f.P("func (v *", s.name, ") recycle(a *allocator) {")
		if releases(s) {
			f.P("v.release(a)")
		}
		f.P("*v = ", s.name, "{}")
		f.P("}")
		f.P()
		if !releases(s) {
			continue
		}
		f.P("// release hands the memory v refers to over to a, for decoding to take")
		f.P("// again, and leaves v as it is: its holder zeroes it (recycle, or the")
		f.P("// slab it goes back to), so that no value is zeroed twice.")
		f.P("func (v *", s.name, ") release(a *allocator) {")
		for _, fl := range s.fields {
			g.recycleField(f, fl)
		}
		f.P("}")
		f.P()
	}
	for _, m := range g.p.msgs {
		if !g.dumpReply(m.name) {
			continue
		}
		g.genDropRecycled(f, m.name, m.set)
		f.P("// recycle hands the memory v refers to over to a, and zeroes v.")
		f.P("func (v *", m.name, ") recycle(a *allocator) {")
		if releases(m.set) {
			f.P("v.", m.set.name, ".release(a)")
		}
		f.P("*v = ", m.name, "{}")
		f.P("}")
		f.P()
	}
}

// releases reports whether values of set s refer to memory that recycling
// hands back (see recycleField): whether s has a release method.
func releases(s *set) bool {
	for _, fl := range s.fields {
		if fl.tv != nil || fl.arrays {
			continue
		}
		switch {
		case fl.ptr:
			return true
		case fl.list || fl.multi || fl.idx:
			switch fl.el.kind {
			case kNest, kStruct, kString, kBinary, kHWAddr:
				return true
			}
		default:
			switch fl.el.kind {
			case kString:
				return true
			case kBinary, kHWAddr:
				if !fl.opt {
					return true
				}
			}
		}
	}
	return false
}

// dropRecycledName names the allocator method that empties the free lists
// a recycled reply of Go type t can fill.
func dropRecycledName(t string) string { return "dropRecycled" + t }

// genDropRecycled prints the allocator method that forgets what recycling
// a reply of Go type t (of set s) handed to the free lists and decoding
// did not take again: only the free lists that recycle can fill, so that
// a package with many slabs does not pay for all of them per reply.
func (g *generator) genDropRecycled(f *file, t string, s *set) {
	slabs := map[string]bool{}
	arena := false
	seen := map[*set]bool{}
	var walk func(s *set)
	walk = func(s *set) {
		if seen[s] {
			return
		}
		seen[s] = true
		for _, fl := range s.fields {
			if fl.tv != nil || fl.arrays {
				continue
			}
			switch fl.el.kind {
			case kString, kBinary, kHWAddr:
				arena = true
			case kNest:
				if recycleNest(fl) {
					slabs[slabElem(fl)] = true
					walk(fl.el.set)
				}
			case kStruct:
				if fl.multi || fl.idx {
					slabs[slabElem(fl)] = true
				}
			}
		}
	}
	walk(s)
	f.Comment(wrap(dropRecycledName(t)+" forgets what recycling a "+t+" handed to a's free lists and decoding did not take again.", 76))
	f.P("func (a *allocator) ", dropRecycledName(t), "() {")
	if arena {
		f.P("a.copies.DropRecycled()")
	}
	for _, st := range g.allocUses().slabs {
		if slabs[st] {
			f.P("a.", slabField(st), ".DropRecycled()")
		}
	}
	f.P("}")
	f.P()
}

// dumpReply reports whether Go type t is the reply of a dump.
func (g *generator) dumpReply(t string) bool {
	for _, o := range g.p.ops {
		if o.dump != nil && o.dump.replyTyp == t {
			return true
		}
	}
	return false
}

// recycleField prints the recycling of field fl of v.
func (g *generator) recycleField(f *file, fl *field) {
	x := "v." + fl.name
	if fl.tv != nil || fl.arrays {
		return // dropped with v
	}
	leaf := func(y string) {
		switch fl.el.kind {
		case kString:
			f.P("a.arena().Keep(", y, ")")
		case kBinary:
			f.P("a.arena().Recycle(", y, ")")
		case kHWAddr:
			f.P("a.arena().Recycle([]byte(", y, "))")
		}
	}
	switch {
	case fl.ptr:
		f.P("if ", x, " != nil {")
		if releases(fl.el.set) {
			f.P(x, ".release(a)")
		}
		f.P("a.", slabMethod(slabElem(fl)), "().Put(", x, ")")
		f.P("}")
	case fl.list || fl.multi || fl.idx:
		switch fl.el.kind {
		case kNest:
			if releases(fl.el.set) {
				f.P("for i := range ", x, " {")
				f.P(x, "[i].release(a)")
				f.P("}")
			}
			f.P("a.", slabMethod(slabElem(fl)), "().PutSlice(", x, ")")
		case kStruct:
			f.P("a.", slabMethod(slabElem(fl)), "().PutSlice(", x, ")")
		case kString, kBinary, kHWAddr:
			f.P("for _, y := range ", x, " {")
			leaf("y")
			f.P("}")
		}
	case fl.opt:
		if fl.el.kind == kString {
			leaf(x + ".Value")
		}
	default:
		leaf(x)
	}
}

// genDumpAppend prints the append-style method of dump call c of op o;
// params are the iterator's parameters.
func (g *generator) genDumpAppend(f *file, o *op, c *call, params []any, hdrLen, namer string) {
	name := strconv.Quote(o.spec.Name)
	m := c.method + "Append"
	t := c.replyTyp
	args := "ctx"
	if o.header != nil {
		args += ", hdr"
	}
	if c.hasReq {
		args += ", req"
	}
	f.Comment(wrap(m+" sends what "+c.method+" sends and appends one "+t+" per reply message to dst, returning the extended slice, like append. Elements of dst between its length and its capacity are reused in place: "+m+" decodes into them, and the memory they refer to (values behind pointers, slices of nests and structs, the capacity of byte slices) is overwritten with later replies' values, so that a caller that passes the same slice back, as in dst, err = c."+m+"("+args+", dst[:0]), allocates almost nothing once warm. So do not keep, from one call to the next, an element in the reused range or anything it refers to (even through an element before len(dst), as after a shallow copy); elements before len(dst) are not touched themselves. Strings are never overwritten (they are immutable): an equal string from a reused element is kept rather than copied again.", 76))
	f.P("//")
	f.Comment(wrap("A reply that fails to decode is not appended; the dump goes on, and its error is returned at the end (with those of other such replies, joined with errors.Join). Any other error ends the dump: "+m+" returns dst with the replies decoded so far and that error, after those of replies that failed to decode. Errors name the family and op as the iterator's do. Unlike the iterator, "+m+" reads the whole dump before it returns.", 76))
	ret := "[]" + t
	f.P("func (c *Client) ", m, "(", params, ", dst ", ret, ") (", ret, ", error) {")
	g.startDump(f, o, c, hdrLen, namer, func(err string) string { return "return dst, " + err })
	f.P("var bad []error")
	f.P("for m, err := range c.core.Conn().Dump(ctx, r) {")
	f.P("if err != nil {")
	f.P("bad = append(bad, opError(", name, ", err))")
	f.P("break")
	f.P("}")
	f.P("n := len(dst)")
	f.P("if n < cap(dst) {")
	f.P("dst = dst[:n+1]")
	f.P("dst[n].recycle(a)")
	f.P("} else {")
	f.P("dst = append(dst, ", t, "{})")
	f.P("}")
	f.P("err := dst[n].", g.decodeNewCall(t), "(m.Data, a)")
	f.P("a.", dropRecycledName(t), "()")
	f.P("if err != nil {")
	f.P("dst = dst[:n]")
	f.P("bad = append(bad, opError(", name, ", err))")
	f.P("}")
	f.P("}")
	f.P("if len(bad) == 1 {")
	f.P("return dst, bad[0]")
	f.P("}")
	f.P("return dst, ", errorsPkg.Ident("Join"), "(bad...)")
	f.P("}")
	f.P()
}

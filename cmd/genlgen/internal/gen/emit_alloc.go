package gen

import "fmt"

// The allocator: what a package's decoders take their values from while
// decoding a dump. It has an attrs.Slab for each type the decoders make
// (reply values, nested sets behind pointers, elements of slices of sets
// and structs) and an attrs.Arena for strings and byte slices. Dumps take
// one from a pool for the whole dump; everything else passes a nil
// allocator, which allocates each value on its own.

// allocUse says what the decoders of a package take from an allocator.
type allocUse struct {
	slabs []string // Go types with a slab, in order of first use
	arena bool     // strings or byte slices are decoded
	pool  bool     // dumps take allocators from a pool
}

// slabField and slabMethod name the slab of Go type t and its accessor.
func slabField(t string) string  { return "slab" + t }
func slabMethod(t string) string { return "slabOf" + t }

// allocUses works out, before anything is printed, which slabs, whether
// the arena and whether the pool are used, so that nothing unused is
// generated.
func (g *generator) allocUses() allocUse {
	var u allocUse
	seen := map[string]bool{}
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			u.slabs = append(u.slabs, t)
		}
	}
	copies := func(el elem) bool {
		return el.kind == kString || el.kind == kBinary || el.kind == kHWAddr
	}
	for _, s := range g.p.sets {
		for _, fl := range s.fields {
			if t := slabElem(fl); t != "" {
				add(t)
			}
			if copies(fl.el) || (fl.tv != nil && copies(fl.tv.el)) {
				u.arena = true
			}
		}
	}
	if !g.p.noClient {
		for _, o := range g.p.ops {
			if o.dump != nil {
				add(o.dump.replyTyp)
				u.pool = true
			}
			if o.do != nil && o.do.replyTyp != "" {
				add(o.do.replyTyp)
				u.pool = true
			}
		}
	}
	return u
}

// slabElem returns the Go type that decoding field fl takes from a slab,
// or "": the set behind a pointer, or the element of a slice of sets or
// structs that is sized before it is filled.
func slabElem(fl *field) string {
	switch {
	case fl.tv != nil || fl.arrays:
		return ""
	case fl.ptr:
		return fl.el.typ.str
	case fl.list:
		return fl.el.typ.str
	case (fl.multi || fl.idx) && (fl.el.kind == kNest || fl.el.kind == kStruct):
		return fl.el.typ.str
	}
	return ""
}

// genAlloc prints the allocator type, its accessors and its pool.
func (g *generator) genAlloc(f *file, u allocUse) {
	doc := "An allocator is what decoders take their values from: a few shared chunks (attrs.Slab, attrs.Arena) for the values of many replies. A value is never written after it is handed out, but keeping one keeps its chunk alive. A nil *allocator allocates each value on its own."
	if u.pool {
		doc += " Dumps take one from allocators for the whole dump and do-requests one for their reply; everything else passes nil."
	}
	f.Comment(wrap(doc, 76))
	f.P("type allocator struct {")
	if u.arena {
		f.P("copies ", attrsPkg.Ident("Arena"))
	}
	for _, t := range u.slabs {
		f.P(slabField(t), " ", attrsPkg.Ident("Slab"), "[", t, "]")
	}
	f.P("}")
	f.P()
	if u.arena {
		f.P("// arena returns the allocator's arena for strings and byte slices, nil")
		f.P("// for a nil allocator.")
		f.P("func (a *allocator) arena() *", attrsPkg.Ident("Arena"), " {")
		f.P("if a == nil {")
		f.P("return nil")
		f.P("}")
		f.P("return &a.copies")
		f.P("}")
		f.P()
	}
	for _, t := range u.slabs {
		f.Comment(wrap(fmt.Sprintf("%s returns the allocator's slab of %s, nil for a nil allocator.", slabMethod(t), t), 76))
		f.P("func (a *allocator) ", slabMethod(t), "() *", attrsPkg.Ident("Slab"), "[", t, "] {")
		f.P("if a == nil {")
		f.P("return nil")
		f.P("}")
		f.P("return &a.", slabField(t))
		f.P("}")
		f.P()
	}
	if !u.pool {
		return
	}
	f.P("// allocators holds the allocators of finished calls for the next ones.")
	f.P("var allocators = ", syncPkg.Ident("Pool"), "{New: func() any { return new(allocator) }}")
	f.P()
}

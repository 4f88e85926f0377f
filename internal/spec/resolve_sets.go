package spec

import "fmt"

// This file resolves attribute sets: it numbers attributes, merges subsets
// with their parent sets and resolves attribute references.

// attributeSets indexes the sets, numbers the attributes of full sets,
// merges subsets with their parents and resolves attribute references.
func (r *resolver) attributeSets() {
	f := r.f
	f.sets = make(map[string]*AttributeSet)
	for _, s := range f.AttributeSets {
		if prev := f.sets[s.Name]; prev != nil {
			r.errorf(s.KeyPos("name"), "duplicate attribute set %q (first defined at %s)", s.Name, prev.Pos)
			continue
		}
		f.sets[s.Name] = s
	}
	for _, s := range f.AttributeSets {
		if !s.IsSubset() {
			r.numberAttributes(s)
			for _, a := range s.Attributes {
				r.attribute(a, func(string) bool { return true })
			}
		}
	}
	state := make(map[*AttributeSet]int)
	for _, s := range f.AttributeSets {
		if s.IsSubset() {
			r.subset(s, state)
		}
	}
}

func attrWhat(a *Attribute) string {
	return fmt.Sprintf("attribute %q in set %q", a.Name, a.Set.Name)
}

func (r *resolver) numberAttributes(s *AttributeSet) {
	s.byName = make(map[string]*Attribute)
	s.byValue = make(map[uint16]*Attribute)
	next := 1
	for _, a := range s.Attributes {
		if a.Has("value") {
			next = int(a.Value)
		} else if next > maxAttrValue {
			r.errorf(a.Pos, "%s: implicit value %d is out of range (netlink attribute types are at most %d)", attrWhat(a), next, maxAttrValue)
		} else {
			a.Value = uint16(next)
		}
		next++
		r.index(s, a)
	}
}

// index adds a to the lookups of s, reporting duplicate names and values.
func (r *resolver) index(s *AttributeSet, a *Attribute) {
	if prev := s.byName[a.Name]; prev != nil {
		r.errorf(a.Pos, "set %q: duplicate attribute %q (first at %s)", s.Name, a.Name, prev.Pos)
		return
	}
	s.byName[a.Name] = a
	if prev := s.byValue[a.Value]; prev != nil {
		r.errorf(a.Pos, "set %q: attribute %q has value %d, already used by %q", s.Name, a.Name, a.Value, prev.Name)
		return
	}
	s.byValue[a.Value] = a
}

// subset merges the attributes of subset s with those of its parent set,
// reporting whether it could. state: 0 unvisited, 1 in progress, 2 done,
// 3 failed.
func (r *resolver) subset(s *AttributeSet, state map[*AttributeSet]int) bool {
	switch state[s] {
	case 1:
		r.errorf(s.KeyPos("subset-of"), "attribute set %q is a subset of itself (via %q)", s.Name, s.SubsetOf)
		state[s] = 3
		return false
	case 2:
		return true
	case 3:
		return false
	}
	state[s] = 1
	s.byName = make(map[string]*Attribute)
	s.byValue = make(map[uint16]*Attribute)
	p := r.f.sets[s.SubsetOf]
	if p == nil {
		r.errorf(s.KeyPos("subset-of"), "attribute set %q is a subset of unknown set %q", s.Name, s.SubsetOf)
		state[s] = 3
		return false
	}
	if p.IsSubset() && !r.subset(p, state) {
		state[s] = 3
		return false
	}
	s.Parent = p
	s.NamePrefix = p.NamePrefix
	attrs := s.Attributes[:0]
	for _, a := range s.Attributes {
		if prev := s.byName[a.Name]; prev != nil && len(a.keys) <= 1 {
			// devlink's dl-dpipe-table lists two attributes twice; the
			// kernel's tooling keeps one. Tolerate plain repeats.
			r.warnf(a.Pos, "subset %q lists attribute %q again (first at %s); ignoring the repeat", s.Name, a.Name, prev.Pos)
			continue
		}
		pa := p.Attribute(a.Name)
		if pa == nil {
			r.errorf(a.KeyPos("name"), "attribute %q of subset %q is not in its parent set %q", a.Name, s.Name, p.Name)
			continue
		}
		if a.Has("value") && a.Value != pa.Value {
			r.errorf(a.KeyPos("value"), "%s: \"value\" %d differs from the value %d in parent set %q (values are defined by the parent)", attrWhat(a), a.Value, pa.Value, p.Name)
		}
		m := mergeAttr(pa, a)
		m.Set = s
		attrs = append(attrs, m)
		r.attribute(m, a.Has)
		r.index(s, m)
	}
	s.Attributes = attrs
	state[s] = 2
	return true
}

// mergeAttr returns the attribute of a subset: the parent attribute pa with
// the keys written in the subset attribute a applied over it.
func mergeAttr(pa, a *Attribute) *Attribute {
	m := *pa
	m.Parent = pa
	m.Source = Source{Pos: a.Pos, keys: make(map[string]Pos, len(pa.keys)+len(a.keys))}
	for k, p := range pa.keys {
		m.keys[k] = p
	}
	for k, p := range a.keys {
		m.keys[k] = p
		switch k {
		case "type":
			m.Type = a.Type
		case "doc":
			m.Doc = a.Doc
		case "type-value":
			m.TypeValue = a.TypeValue
		case "byte-order":
			m.ByteOrder = a.ByteOrder
		case "multi-attr":
			m.MultiAttr = a.MultiAttr
		case "nested-attributes":
			m.NestedAttributes, m.Nested = a.NestedAttributes, nil
		case "enum":
			m.Enum, m.EnumDef = a.Enum, nil
		case "enum-as-flags":
			m.EnumAsFlags = a.EnumAsFlags
		case "checks":
			m.Checks = a.Checks
		case "sub-type":
			m.SubType = a.SubType
		case "display-hint":
			m.DisplayHint = a.DisplayHint
		case "name-prefix":
			m.NamePrefix = a.NamePrefix
		case "struct":
			m.Struct, m.StructDef = a.Struct, nil
		}
	}
	return &m
}

// attribute resolves the references of a, for the keys in written (for a
// subset attribute only the keys the subset overrides, the others being
// resolved in the parent), and checks the attribute's consistency.
func (r *resolver) attribute(a *Attribute, has func(key string) bool) {
	what := attrWhat(a)
	if has("nested-attributes") && a.NestedAttributes != "" {
		a.Nested = r.f.sets[a.NestedAttributes]
		if a.Nested == nil {
			r.errorf(a.KeyPos("nested-attributes"), "%s references unknown attribute set %q", what, a.NestedAttributes)
		}
	}
	if has("enum") && a.Enum != "" {
		a.EnumDef = r.enumRef(a.Enum, a.KeyPos("enum"), what)
	}
	if has("struct") && a.Struct != "" {
		a.StructDef = r.structRef(a.Struct, a.KeyPos("struct"), what)
	}
	if has("checks") && a.Checks != nil {
		c := a.Checks
		r.bound(c.Min, what, "min", false)
		r.bound(c.Max, what, "max", false)
		r.bound(c.MinLen, what, "min-len", true)
		r.bound(c.MaxLen, what, "max-len", true)
		r.bound(c.ExactLen, what, "exact-len", true)
		if c.FlagsMask != "" {
			c.FlagsMaskDef = r.enumRef(c.FlagsMask, c.KeyPos("flags-mask"), what+" checks")
		}
	}
	// Consistency of the merged attribute; reported once, where a key
	// involved was written.
	needs := func(key, cond string) {
		if !a.Has(key) {
			r.errorf(a.Pos, "%s: %s needs %q", what, cond, key)
		}
	}
	switch {
	case !has("type") && !has("nested-attributes") && !has("sub-type"):
	case a.Type == TypeNest || a.Type == TypeNestTypeValue:
		needs("nested-attributes", "type "+string(a.Type))
	case a.Type == TypeIndexedArray:
		needs("sub-type", "type indexed-array")
		if a.SubType == TypeNest {
			needs("nested-attributes", "sub-type nest")
		}
	}
	if has("enum-as-flags") && a.EnumAsFlags && a.EnumDef != nil {
		for _, e := range a.EnumDef.Entries {
			if e.Value < 0 || e.Value > 63 {
				r.errorf(a.KeyPos("enum-as-flags"), "%s: enum-as-flags, but entry %q of %q has value %d (want 0 to 63)", what, e.Name, a.Enum, e.Value)
				return
			}
		}
	}
	if a.EnumDef != nil && (has("enum") || has("type") || has("sub-type") || has("enum-as-flags")) {
		t := a.Type
		if t == TypeIndexedArray || t == TypeBinary {
			t = a.SubType
		}
		r.enumFits(a.EnumDef, a.EnumAsFlags, t, a.KeyPos("enum"), what)
	}
}

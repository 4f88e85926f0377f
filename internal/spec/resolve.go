package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// This file resolves a decoded family: it numbers implicit values, merges
// subsets with their parent sets, computes struct layouts and links every
// reference by name to its target, reporting what does not resolve.

type resolver struct {
	d      *decoder
	f      *Family
	cnames map[string]*Definition // consts by C name (name-prefix + name)
}

func (d *decoder) resolve(f *Family) {
	r := &resolver{d: d, f: f}
	if f.UAPIHeader == "" {
		f.UAPIHeader = "linux/" + f.Name + ".h"
	}
	if f.Operations == nil {
		f.Operations = &Operations{EnumModel: EnumModelUnified}
	}
	r.definitions()
	r.attributeSets()
	r.mcastGroups()
	r.operations()
}

func (r *resolver) errorf(p Pos, format string, args ...any) { r.d.errorf(p, format, args...) }

// warnf records a problem that the kernel's tooling tolerates.
func (r *resolver) warnf(p Pos, format string, args ...any) {
	r.f.Warnings = append(r.f.Warnings, &Error{File: p.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

// definitions indexes the definitions, numbers enum and flags entries and
// lays out structs.
func (r *resolver) definitions() {
	f := r.f
	f.defs = make(map[string]*Definition)
	for _, def := range f.Definitions {
		if prev := f.defs[def.Name]; prev != nil {
			r.errorf(def.KeyPos("name"), "duplicate definition %q (first defined at %s)", def.Name, prev.Pos)
			continue
		}
		f.defs[def.Name] = def
	}
	r.cnames = make(map[string]*Definition)
	for _, def := range f.Definitions {
		if def.Type == DefConst && def.NamePrefix != "" {
			if _, ok := r.cnames[def.NamePrefix+def.Name]; !ok {
				r.cnames[def.NamePrefix+def.Name] = def
			}
		}
	}
	for _, def := range f.Definitions {
		switch def.Type {
		case DefEnum, DefFlags:
			r.entries(def)
		case DefStruct:
			r.members(def)
		}
	}
	for _, def := range f.Definitions {
		for _, m := range def.Members {
			if m.EnumDef != nil {
				r.enumFits(m.EnumDef, false, m.Type, m.KeyPos("enum"), fmt.Sprintf("member %q of struct %q", m.Name, def.Name))
			}
		}
	}
	state := make(map[*Definition]int)
	for _, def := range f.Definitions {
		if def.Type == DefStruct {
			r.structSize(def, state)
		}
	}
}

func (r *resolver) entries(def *Definition) {
	what := fmt.Sprintf("%s %q", def.Type, def.Name)
	var start int64
	if b := def.start; b != nil {
		r.bound(b, what, "value-start", false)
		if v, ok := b.Value.Int64(); ok {
			start = v
		} else {
			r.errorf(b.Pos, "%s: \"value-start\" %s is out of range", what, b.Value)
		}
	}
	def.ValueStart = start
	def.entries = make(map[string]*Entry)
	for i, e := range def.Entries {
		switch {
		case e.Has("value"):
		case i == 0:
			e.Value = start
		default:
			prev := def.Entries[i-1].Value
			if prev == math.MaxInt64 {
				r.errorf(e.Pos, "%s: value of entry %q overflows", what, e.Name)
			} else {
				e.Value = prev + 1
			}
		}
		if def.Type == DefFlags && (e.Value < 0 || e.Value > 63) {
			r.errorf(e.KeyPos("value"), "%s: entry %q has bit number %d, want 0 to 63 (flags values are bit numbers)", what, e.Name, e.Value)
		}
		if prev := def.entries[e.Name]; prev != nil {
			r.errorf(e.Pos, "%s: duplicate entry %q (first at %s)", what, e.Name, prev.Pos)
			continue
		}
		def.entries[e.Name] = e
	}
}

// members resolves the references and lengths of a struct's members.
func (r *resolver) members(def *Definition) {
	seen := make(map[string]bool)
	for _, m := range def.Members {
		what := fmt.Sprintf("member %q of struct %q", m.Name, def.Name)
		if seen[m.Name] {
			r.errorf(m.Pos, "struct %q: duplicate member %q", def.Name, m.Name)
		}
		seen[m.Name] = true
		if m.Enum != "" {
			m.EnumDef = r.enumRef(m.Enum, m.KeyPos("enum"), what)
		}
		if m.Struct != "" {
			m.StructDef = r.structRef(m.Struct, m.KeyPos("struct"), what)
			if m.Type != TypeBinary {
				r.errorf(m.KeyPos("struct"), "%s: \"struct\" is only valid for binary members, not %s", what, m.Type)
			}
		}
		if m.Len != nil {
			r.bound(m.Len, what, "len", true)
			if m.Type != TypeString && m.Type != TypeBinary {
				r.errorf(m.Len.Pos, "%s: \"len\" is only valid for string and binary members, not %s", what, m.Type)
			}
		}
	}
}

// structSize computes the packed size of a struct and the offsets of its
// members. state: 0 unvisited, 1 in progress, 2 done.
func (r *resolver) structSize(def *Definition, state map[*Definition]int) int {
	switch state[def] {
	case 1:
		r.errorf(def.Pos, "struct %q contains itself", def.Name)
		state[def] = 2
		return 0
	case 2:
		return def.Size
	}
	state[def] = 1
	size := 0
	for _, m := range def.Members {
		what := fmt.Sprintf("member %q of struct %q", m.Name, def.Name)
		m.Offset = size
		switch {
		case m.Type.IsInteger():
			m.Size = m.Type.FixedSize()
		case m.StructDef != nil:
			m.Size = r.structSize(m.StructDef, state)
			if m.Len != nil {
				if l, ok := m.Len.Value.Int64(); !ok || int(l) != m.Size {
					r.errorf(m.Len.Pos, "%s: \"len\" %s differs from the size %d of struct %q", what, m.Len.Value, m.Size, m.Struct)
				}
			}
		case m.Len != nil:
			l, ok := m.Len.Value.Int64()
			if !ok || l > math.MaxInt32 {
				r.errorf(m.Len.Pos, "%s: \"len\" %s is out of range", what, m.Len.Value)
			} else {
				m.Size = int(l)
			}
		case m.Type == TypeString || m.Type == TypeBinary:
			r.errorf(m.Pos, "%s: a %s member needs \"len\" (or \"struct\") to have a size", what, m.Type)
		}
		if size > math.MaxInt32-m.Size {
			r.errorf(m.Pos, "%s: struct size overflows", what)
			break
		}
		size += m.Size
	}
	def.Size = size
	state[def] = 2
	return size
}

// constRef finds the const a bound names: by definition name, or by its C
// name (name-prefix + name; wireguard's checks use "wg-key-len" for the
// const "key-len" with name-prefix "wg-").
func (r *resolver) constRef(name string) (*Definition, bool) {
	if def := r.f.defs[name]; def != nil {
		return def, true
	}
	def, ok := r.cnames[name]
	return def, ok
}

var (
	limitPattern  = regexp.MustCompile(`^([us])(8|16|32|64)-(min|max)$`)
	digitsPattern = regexp.MustCompile(`^[0-9]+$`)
)

// limitValue returns the value of a type limit such as "u16-max" or "s8-min".
func limitValue(s string) (Int, bool) {
	m := limitPattern.FindStringSubmatch(s)
	if m == nil {
		return Int{}, false
	}
	bits, _ := strconv.Atoi(m[2])
	switch {
	case m[1] == "u" && m[3] == "min":
		return Int{}, true
	case m[1] == "u":
		if bits == 64 {
			return UintOf(math.MaxUint64), true
		}
		return UintOf(1<<bits - 1), true
	case m[3] == "max":
		return UintOf(1<<(bits-1) - 1), true
	}
	return Int{neg: true, abs: 1 << (bits - 1)}, true
}

// bound resolves a Bound written as a string: digits, a const name or a type
// limit, optionally followed by " - 1" if minus1 is allowed.
func (r *resolver) bound(b *Bound, what, key string, minus1 bool) {
	if b == nil || b.resolved {
		return
	}
	b.resolved = true
	raw := b.Raw
	sub := false
	if minus1 && strings.HasSuffix(raw, " - 1") {
		raw, sub = strings.TrimSuffix(raw, " - 1"), true
	}
	var v Int
	if digitsPattern.MatchString(raw) {
		u, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			r.errorf(b.Pos, "%s: %q value %q is out of range", what, key, b.Raw)
			return
		}
		v = UintOf(u)
	} else if def, ok := r.constRef(raw); ok {
		if def.Type != DefConst {
			r.errorf(b.Pos, "%s: %q refers to %s %q, want a const", what, key, def.Type, def.Name)
			return
		}
		if def.IsString {
			r.errorf(b.Pos, "%s: %q refers to const %q, which has a string value", what, key, def.Name)
			return
		}
		b.Const, v = def.Name, def.Value
	} else if lv, ok := limitValue(raw); ok {
		b.Limit, v = raw, lv
	} else {
		r.errorf(b.Pos, "%s: %q value %q is not a number, a const or a type limit (like u32-max)", what, key, b.Raw)
		return
	}
	if sub {
		var ok bool
		if v, ok = v.sub1(); !ok {
			r.errorf(b.Pos, "%s: %q value %q is out of range", what, key, b.Raw)
			return
		}
	}
	b.Value = v
}

// enumRef resolves the name of an enum or flags definition.
func (r *resolver) enumRef(name string, p Pos, what string) *Definition {
	def := r.f.defs[name]
	switch {
	case def == nil:
		r.errorf(p, "%s references unknown enum %q", what, name)
		return nil
	case def.Type != DefEnum && def.Type != DefFlags:
		r.errorf(p, "%s references %s %q, want an enum or flags", what, def.Type, name)
		return nil
	}
	return def
}

// structRef resolves the name of a struct definition.
func (r *resolver) structRef(name string, p Pos, what string) *Definition {
	def := r.f.defs[name]
	switch {
	case def == nil:
		r.errorf(p, "%s references unknown struct %q", what, name)
		return nil
	case def.Type != DefStruct:
		r.errorf(p, "%s references %s %q, want a struct", what, def.Type, name)
		return nil
	}
	return def
}

// enumFits reports the first entry of def whose value (or, for flags and
// enum-as-flags, whose bit) does not fit the integer type t of what uses
// it: generated code would truncate it.
func (r *resolver) enumFits(def *Definition, asFlags bool, t AttrType, p Pos, what string) {
	if !t.IsInteger() {
		return
	}
	bits := 64
	if n := t.FixedSize(); n > 0 {
		bits = 8 * n
	}
	for _, e := range def.Entries {
		if def.Type == DefFlags || asFlags {
			if e.Value >= int64(bits) {
				r.errorf(p, "%s (%s) uses %s %q: entry %q (at %s) is bit %d, which does not fit %s", what, t, def.Type, def.Name, e.Name, e.Pos, e.Value, t)
				return
			}
			continue
		}
		if !t.Fits(e.Value) {
			r.errorf(p, "%s (%s) uses %s %q: entry %q (at %s) has value %d, which does not fit %s", what, t, def.Type, def.Name, e.Name, e.Pos, e.Value, t)
			return
		}
	}
}

func (r *resolver) mcastGroups() {
	f := r.f
	f.mcgrps = make(map[string]*MulticastGroup)
	for _, g := range f.MulticastGroups {
		if prev := f.mcgrps[g.Name]; prev != nil {
			r.errorf(g.KeyPos("name"), "duplicate multicast group %q (first at %s)", g.Name, prev.Pos)
			continue
		}
		f.mcgrps[g.Name] = g
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

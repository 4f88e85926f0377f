package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// Drafting a spec from the kernel (genlkit spec FAMILY).
//
// nlctrl tells a family's ops (command, do/dump, permissions), its
// multicast groups and, per op and form, the policy table that validates
// requests: attribute types, value ranges, lengths, masks and the tables of
// nested attributes. A YNL spec needs more structure than that: every op
// names one attribute set, and a set gives each attribute one type. The
// drafter turns tables into sets:
//
//   - A table is one set; a table the kernel shares (the same policy index)
//     stays one set.
//   - An op's do and dump tables join one set, the op's.
//   - The top-level sets of ops join as long as their attributes agree
//     (same number, same type, nests that agree in turn): most families
//     have one attribute space, and the kernel's per-op tables are subsets
//     of it. When a spec or compiled-in descriptor of the family names the
//     ops' sets, only ops of the same named set join.
//   - Nested tables that are identical are one set.
//
// Where two joined tables bound the same attribute differently, the set
// takes the wider bounds, so that the draft never rejects what the kernel
// accepts.

// A draftSet is an attribute set of a draft, built from one or more
// policy tables. Sets that join form a union-find forest; find returns the
// set that stands for all of them.
type draftSet struct {
	id     int
	parent *draftSet
	attrs  map[uint16]*draftAttr
	top    bool   // an op's set
	key    string // the descriptor's name for the ops' set, "" when unknown
	// opaque marks the placeholder set of a nest the kernel validates with
	// no policy: it joins with any set.
	opaque bool

	name  string
	known *family.SetDesc
}

// A draftAttr is one attribute of a draftSet.
type draftAttr struct {
	value  uint16
	ktype  genl.AttrType
	typ    string // YNL type
	sub    string // YNL sub-type of an indexed-array
	nested *draftSet
	pol    genl.Policy // bounds, widened over the joined tables
	name   string
}

func find(s *draftSet) *draftSet {
	for s.parent != nil {
		s = s.parent
	}
	return s
}

// A draftOp is one kernel op and its set.
type draftOp struct {
	op            family.Op
	name          string
	set           *draftSet
	doAttrs       *draftSet // the do table's set, nil without a do policy
	dumpAttrs     *draftSet
	doTbl, dumpTb *family.AttrSetPolicy
	// dropped lists the dump policy's attributes left out because they
	// disagree with the do policy's.
	dropped []uint16
}

// A drafter builds a draft from a family, its policy and, optionally, a
// descriptor that names what the kernel does not.
type drafter struct {
	f       *family.Family
	pol     *family.Policy
	desc    *family.Descriptor
	sets    []*draftSet
	byTable map[uint32]*draftSet
	ops     []*draftOp
	errs    []string
}

// ynlType maps a kernel policy type to the YNL type (and sub-type) of a
// spec attribute.
func ynlType(t genl.AttrType) (typ, sub string, ok bool) {
	switch t {
	case genl.AttrTypeFlag, genl.AttrTypeU8, genl.AttrTypeU16, genl.AttrTypeU32, genl.AttrTypeU64,
		genl.AttrTypeS8, genl.AttrTypeS16, genl.AttrTypeS32, genl.AttrTypeS64,
		genl.AttrTypeUint, genl.AttrTypeSint, genl.AttrTypeBinary, genl.AttrTypeBitfield32:
		return t.String(), "", true
	case genl.AttrTypeString, genl.AttrTypeNulString:
		return "string", "", true
	case genl.AttrTypeNested:
		return "nest", "", true
	case genl.AttrTypeNestedArray:
		return "indexed-array", "nest", true
	}
	return "", "", false
}

// intLimits returns the value range of a YNL integer type.
func intLimits(typ string) (lo int64, hi uint64) {
	bits := typeBits(typ)
	if strings.HasPrefix(typ, "s") {
		if bits == 64 {
			return math.MinInt64, math.MaxInt64
		}
		return -1 << (bits - 1), 1<<(bits-1) - 1
	}
	if bits == 64 {
		return 0, math.MaxUint64
	}
	return 0, 1<<bits - 1
}

func (d *drafter) errorf(path, format string, args ...any) {
	d.errs = append(d.errs, path+": "+fmt.Sprintf(format, args...))
}

func (d *drafter) newSet() *draftSet {
	s := &draftSet{id: len(d.sets), attrs: map[uint16]*draftAttr{}}
	d.sets = append(d.sets, s)
	return s
}

// setFor returns the set of policy table t, building it (and the sets of
// its nested tables) on first use. path names where t was reached, for
// errors.
func (d *drafter) setFor(t *family.AttrSetPolicy, path string) *draftSet {
	if s, ok := d.byTable[t.Index]; ok {
		return s
	}
	s := d.newSet()
	if len(t.Attrs) == 0 {
		// An empty table ties nothing together: the kernel shares one
		// among ops whose attributes differ.
		return s
	}
	d.byTable[t.Index] = s // before the nests: a table may nest itself
	for _, ap := range t.Attrs {
		p := path + strconv.Itoa(int(ap.Attr))
		if _, dup := s.attrs[ap.Attr]; dup {
			d.errorf(p, "the policy lists attribute %d twice", ap.Attr)
			continue
		}
		if a := d.attr(ap, p); a != nil {
			s.attrs[ap.Attr] = a
		}
	}
	return s
}

// attr converts one attribute's policy, checking that it can be written
// as a spec.
func (d *drafter) attr(ap family.AttrPolicy, path string) *draftAttr {
	if ap.Attr == 0 {
		d.errorf(path, "attribute type 0 cannot be in a spec (it is NLA_UNSPEC)")
		return nil
	}
	typ, sub, ok := ynlType(ap.Type)
	if !ok {
		d.errorf(path, "kernel policy type %s has no YNL type", ap.Type)
		return nil
	}
	a := &draftAttr{value: ap.Attr, ktype: ap.Type, typ: typ, sub: sub, pol: ap.Policy}
	a.pol.Present &= usefulPolicy(typ)
	if isIntType(typ) {
		lo, hi := intLimits(typ)
		if a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U) || a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U) {
			if !a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U) {
				a.pol.MaxValueU = hi
			}
			if a.pol.MinValueU > a.pol.MaxValueU || a.pol.MaxValueU > hi || lo < 0 && a.pol.MaxValueU > uint64(math.MaxInt64) {
				d.errorf(path, "%s range [%d, %d] is empty or beyond the type", typ, a.pol.MinValueU, a.pol.MaxValueU)
				return nil
			}
			a.pol.Present |= 1<<unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U | 1<<unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U
		}
		if a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S) || a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S) {
			if !a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S) {
				a.pol.MinValueS = lo
			}
			if !a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S) {
				a.pol.MaxValueS = int64(min(hi, math.MaxInt64))
			}
			if a.pol.MinValueS > a.pol.MaxValueS || a.pol.MinValueS < lo || a.pol.MaxValueS >= 0 && uint64(a.pol.MaxValueS) > hi {
				d.errorf(path, "%s range [%d, %d] is empty or beyond the type", typ, a.pol.MinValueS, a.pol.MaxValueS)
				return nil
			}
			a.pol.Present |= 1<<unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S | 1<<unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S
		}
	}
	if a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH) && a.pol.Has(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH) && a.pol.MinLength > a.pol.MaxLength {
		d.errorf(path, "%s length bounds min %d, max %d are empty", typ, a.pol.MinLength, a.pol.MaxLength)
		return nil
	}
	if typ == "nest" || typ == "indexed-array" {
		if ap.Nested != nil {
			a.nested = d.setFor(ap.Nested, path+".")
		} else {
			a.nested = d.newSet()
			a.nested.opaque = true
		}
	}
	return a
}

// usefulPolicy is the set of NL_POLICY_TYPE_ATTR_* fields a draft keeps
// for an attribute of YNL type typ; the others say nothing a spec can.
func usefulPolicy(typ string) uint32 {
	switch {
	case isIntType(typ) && strings.HasPrefix(typ, "s"):
		return 1<<unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S | 1<<unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S
	case isIntType(typ):
		return 1<<unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U | 1<<unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U | 1<<unix.NL_POLICY_TYPE_ATTR_MASK
	case typ == "string" || typ == "binary":
		return 1<<unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH | 1<<unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH
	case typ == "bitfield32":
		return 1 << unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK
	}
	return 0
}

// conflict says why sets a and b cannot join, or "" when they can.
func conflict(a, b *draftSet, seen map[[2]*draftSet]bool) string {
	a, b = find(a), find(b)
	if a == b || a.opaque || b.opaque || seen[[2]*draftSet{a, b}] {
		return ""
	}
	seen[[2]*draftSet{a, b}] = true
	for _, v := range slices.Sorted(maps.Keys(b.attrs)) {
		x, y := a.attrs[v], b.attrs[v]
		if x == nil {
			continue
		}
		if x.typ != y.typ {
			return fmt.Sprintf("attribute %d is %s in one table, %s in another", v, x.ktype, y.ktype)
		}
		if x.nested != nil {
			if why := conflict(x.nested, y.nested, seen); why != "" {
				return fmt.Sprintf("in attribute %d: %s", v, why)
			}
		}
	}
	return ""
}

// agreeing returns a new set holding the attributes of b that agree
// with a, and the numbers of those that do not.
func (d *drafter) agreeing(a, b *draftSet) (*draftSet, []uint16) {
	a, b = find(a), find(b)
	s := d.newSet()
	var dropped []uint16
	for _, v := range slices.Sorted(maps.Keys(b.attrs)) {
		x, y := a.attrs[v], b.attrs[v]
		if x != nil && (x.typ != y.typ || x.nested != nil && conflict(x.nested, y.nested, map[[2]*draftSet]bool{}) != "") {
			dropped = append(dropped, v)
			continue
		}
		s.attrs[v] = y
	}
	return s, dropped
}

// join merges set b into set a; they must not conflict.
func join(a, b *draftSet) {
	a, b = find(a), find(b)
	if a == b {
		return
	}
	if a.opaque && !b.opaque {
		a, b = b, a
	}
	b.parent = a
	a.top = a.top || b.top
	if a.key == "" {
		a.key = b.key
	}
	for _, v := range slices.Sorted(maps.Keys(b.attrs)) {
		y := b.attrs[v]
		x := a.attrs[v]
		if x == nil {
			a.attrs[v] = y
			continue
		}
		x.pol = widen(x.pol, y.pol)
		if x.nested != nil {
			join(x.nested, y.nested)
		}
	}
}

// widen returns the bounds that admit what either of p and q admits: a
// bound only one of them sets is dropped.
func widen(p, q genl.Policy) genl.Policy {
	r := p
	r.Present = p.Present & q.Present
	r.MinValueU, r.MaxValueU = min(p.MinValueU, q.MinValueU), max(p.MaxValueU, q.MaxValueU)
	r.MinValueS, r.MaxValueS = min(p.MinValueS, q.MinValueS), max(p.MaxValueS, q.MaxValueS)
	r.MinLength, r.MaxLength = min(p.MinLength, q.MinLength), max(p.MaxLength, q.MaxLength)
	r.Mask |= q.Mask
	r.Bitfield32Mask |= q.Bitfield32Mask
	return r
}

// build turns the family's policy into sets, one per op at the top.
func (d *drafter) build() error {
	d.byTable = map[uint32]*draftSet{}
	nameOf := opNamer(d.desc)
	names := map[string]bool{}
	for _, op := range d.f.Ops {
		dop := &draftOp{op: op, name: nameOf(op.ID)}
		if names[dop.name] {
			dop.name = "cmd-" + strconv.Itoa(int(op.ID))
		}
		names[dop.name] = true
		if op.ID > math.MaxUint8 {
			d.errorf(fmt.Sprintf("op %d", op.ID), "command %d does not fit the generic netlink header", op.ID)
			continue
		}
		d.ops = append(d.ops, dop)
		op2, _ := d.pol.Op(op.ID)
		where := "op " + dop.name + " (" + strconv.Itoa(int(op.ID)) + ")"
		if op.Flags&family.OpDo != 0 && op2.Do != nil {
			dop.doTbl, dop.doAttrs = op2.Do, d.setFor(op2.Do, where+" do: attribute ")
		}
		if op.Flags&family.OpDump != 0 && op2.Dump != nil {
			dop.dumpTb, dop.dumpAttrs = op2.Dump, d.setFor(op2.Dump, where+" dump: attribute ")
		}
		switch {
		case dop.doAttrs != nil && dop.dumpAttrs != nil:
			if conflict(dop.doAttrs, dop.dumpAttrs, map[[2]*draftSet]bool{}) != "" {
				// One op has one set: keep the do form's, and the dump
				// attributes that agree with it.
				dop.dumpAttrs, dop.dropped = d.agreeing(dop.doAttrs, dop.dumpAttrs)
			}
			join(dop.doAttrs, dop.dumpAttrs)
			dop.set = dop.doAttrs
		case dop.doAttrs != nil:
			dop.set = dop.doAttrs
		case dop.dumpAttrs != nil:
			dop.set = dop.dumpAttrs
		default:
			continue // no policy: the op takes the family's first set
		}
		s := find(dop.set)
		s.top = true
		if known := opSet(d.desc, op.ID); known != nil && s.key == "" {
			s.key = known.Name
		}
	}
	if len(d.errs) > 0 {
		return d.err()
	}
	// Join the ops' sets that agree, in op order.
	var tops []*draftSet
	for _, dop := range d.ops {
		if dop.set == nil {
			continue
		}
		s := find(dop.set)
		if slices.Contains(tops, s) {
			continue
		}
		joined := false
		for _, t := range tops {
			t = find(t)
			if t.key == s.key && conflict(t, s, map[[2]*draftSet]bool{}) == "" {
				join(t, s)
				joined = true
				break
			}
		}
		if !joined {
			tops = append(tops, s)
		}
	}
	d.dedup()
	return nil
}

func (d *drafter) err() error {
	return fmt.Errorf("draft a spec of family %s: %s", d.f.Name, strings.Join(d.errs, "; "))
}

// dedup joins nested sets that are identical.
func (d *drafter) dedup() {
	bySig := map[string]*draftSet{}
	for _, s := range d.sets {
		if s.parent != nil || s.top || s.opaque {
			continue
		}
		sig := signature(s, map[*draftSet]int{})
		if t, ok := bySig[sig]; ok && find(t) != s {
			join(t, s)
			continue
		}
		bySig[sig] = s
	}
}

// signature describes a set's attributes, nests included, so that equal
// signatures mean equal sets.
func signature(s *draftSet, open map[*draftSet]int) string {
	s = find(s)
	if s.opaque {
		return fmt.Sprintf("opaque#%d", s.id)
	}
	if depth, ok := open[s]; ok {
		return "^" + strconv.Itoa(len(open)-depth)
	}
	open[s] = len(open)
	defer delete(open, s)
	var sb strings.Builder
	for _, v := range slices.Sorted(maps.Keys(s.attrs)) {
		a := s.attrs[v]
		p := a.pol
		fmt.Fprintf(&sb, "%d:%s/%s/%x/%d/%d/%d/%d/%d/%d/%x/%x", v, a.typ, a.sub, p.Present, p.MinValueU, p.MaxValueU,
			p.MinValueS, p.MaxValueS, p.MinLength, p.MaxLength, p.Mask, p.Bitfield32Mask)
		if a.nested != nil {
			sb.WriteString("{" + signature(a.nested, open) + "}")
		}
		sb.WriteByte(';')
	}
	return sb.String()
}

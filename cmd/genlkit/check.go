package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/jsonmsg"
	"golang.org/x/sys/unix"
)

// A difference is one way the spec and the kernel disagree.
type difference struct {
	kind string   // op-missing, op-extra, op-form, group-missing, group-extra, attr-missing, attr-extra, attr-unknown, type, range, length, mask
	ops  []string // the ops ("dev-get do") it was found in, or none
	attr string   // attribute path, or ""
	text string
}

func (d difference) String() string {
	var sb strings.Builder
	switch {
	case len(d.ops) == 1 && d.attr != "":
		sb.WriteString(d.ops[0] + " " + d.attr + ": ")
	case len(d.ops) == 1:
		sb.WriteString(d.ops[0] + ": ")
	case d.attr != "":
		sb.WriteString(d.attr + ": ")
	}
	sb.WriteString(d.text)
	if len(d.ops) > 1 {
		const show = 3
		list := strings.Join(d.ops[:min(show, len(d.ops))], ", ")
		if len(d.ops) > show {
			list += fmt.Sprintf(" and %d more", len(d.ops)-show)
		}
		sb.WriteString(" (" + list + ")")
	}
	return sb.String()
}

// merge joins the differences found in several ops: same kind, attribute
// and text.
func merge(diffs []difference) []difference {
	var out []difference
	idx := map[string]int{}
	for _, d := range diffs {
		key := d.kind + "\x00" + d.attr + "\x00" + d.text
		if d.attr == "" {
			out = append(out, d)
			continue
		}
		if i, ok := idx[key]; ok {
			out[i].ops = append(out[i].ops, d.ops...)
			continue
		}
		idx[key] = len(out)
		out = append(out, d)
	}
	return out
}

type checker struct {
	d     *family.Descriptor
	f     *family.Family
	pol   *family.Policy
	diffs []difference
}

func (c *checker) add(kind, op, attr, format string, args ...any) {
	d := difference{kind: kind, attr: attr, text: fmt.Sprintf(format, args...)}
	if op != "" {
		d.ops = []string{op}
	}
	c.diffs = append(c.diffs, d)
}

func (a *app) cmdCheck(args []string) error {
	if err := wantArgs(a.cmd, args, 1, 1); err != nil {
		return err
	}
	f, desc, err := a.resolve(args[0], false)
	if err != nil {
		return err
	}
	ck := &checker{d: desc.desc, f: f}
	ctx, cancel := a.requestContext()
	defer cancel()
	pol, err := a.kernelPolicy(ctx, f)
	if err != nil {
		fmt.Fprintf(a.stderr, "Warning: no policy for %s: %v; comparing ops and groups only\n", f.Name, err)
	} else {
		ck.pol = pol
	}
	ck.checkOps()
	ck.checkGroups()
	if ck.pol != nil {
		ck.checkPolicies()
	}
	ck.diffs = merge(ck.diffs)

	if a.tableOutput() {
		w := a.stdout
		fmt.Fprintf(w, "%s: spec (%s) against the running kernel%s\n", f.Name, desc.source, a.nsNote())
		sections := []struct {
			title string
			kinds []string
		}{
			{"ops", []string{"op-missing", "op-extra", "op-form"}},
			{"groups", []string{"group-missing", "group-extra"}},
			{"policy", []string{"attr-missing", "attr-extra", "attr-unknown", "type", "range", "length", "mask"}},
		}
		for _, s := range sections {
			var lines []string
			for _, d := range ck.diffs {
				if slices.Contains(s.kinds, d.kind) {
					lines = append(lines, d.String())
				}
			}
			if len(lines) == 0 {
				fmt.Fprintf(w, "%s: agree\n", s.title)
				continue
			}
			fmt.Fprintf(w, "%s:\n", s.title)
			for _, l := range lines {
				fmt.Fprintf(w, "  - %s\n", l)
			}
		}
		if len(ck.diffs) == 0 {
			fmt.Fprintln(w, "the spec and the kernel agree")
		} else {
			fmt.Fprintf(w, "%d differences\n", len(ck.diffs))
		}
	} else {
		o := jsonmsg.NewObject()
		o.Set("family", f.Name)
		o.Set("spec", desc.source)
		o.Set("agree", len(ck.diffs) == 0)
		list := []any{}
		for _, d := range ck.diffs {
			e := jsonmsg.NewObject()
			e.Set("kind", d.kind)
			if len(d.ops) > 0 {
				e.Set("ops", strList(d.ops))
			}
			if d.attr != "" {
				e.Set("attr", d.attr)
			}
			e.Set("text", d.text)
			list = append(list, e)
		}
		o.Set("differences", list)
		if err := a.printJSON(o); err != nil {
			return err
		}
	}
	if len(ck.diffs) > 0 {
		return errSilent
	}
	return nil
}

type form struct {
	name string
	m    *family.OpMsgDesc
	flag family.OpFlags
}

func forms(op *family.OpDesc) []form {
	var out []form
	if op.Do != nil {
		out = append(out, form{"do", op.Do, family.OpDo})
	}
	if op.Dump != nil {
		out = append(out, form{"dump", op.Dump, family.OpDump})
	}
	return out
}

func (c *checker) checkOps() {
	specCmds := map[uint32]bool{}
	for i := range c.d.Ops {
		op := &c.d.Ops[i]
		for _, fm := range forms(op) {
			cmd := uint32(fm.m.RequestValue)
			specCmds[cmd] = true
			kop, ok := c.f.Op(cmd)
			if !ok {
				continue // reported once below
			}
			if kop.Flags&fm.flag == 0 {
				c.add("op-form", op.Name, "", "the spec has %s (cmd %d), the kernel does not accept it", fm.name, cmd)
			}
		}
		if fs := forms(op); len(fs) > 0 {
			cmd := uint32(fs[0].m.RequestValue)
			if _, ok := c.f.Op(cmd); !ok {
				c.add("op-missing", op.Name, "", "missing in the kernel (cmd %d, %s)", cmd, strings.Join(opKinds(op), ","))
			}
		}
	}
	for _, kop := range c.f.Ops {
		if !specCmds[kop.ID] {
			c.add("op-extra", "", "", "cmd %d (%s): in the kernel, not in the spec", kop.ID, strings.Join(opFlagNames(kop.Flags), ","))
			continue
		}
		// A form the kernel accepts that the spec lacks.
		for i := range c.d.Ops {
			op := &c.d.Ops[i]
			if op.Do != nil && uint32(op.Do.RequestValue) == kop.ID && op.Dump == nil && kop.Flags&family.OpDump != 0 &&
				!c.hasForm(kop.ID, "dump") {
				c.add("op-form", op.Name, "", "the kernel also accepts dump (cmd %d), the spec has none", kop.ID)
			}
			if op.Dump != nil && uint32(op.Dump.RequestValue) == kop.ID && op.Do == nil && kop.Flags&family.OpDo != 0 &&
				!c.hasForm(kop.ID, "do") {
				c.add("op-form", op.Name, "", "the kernel also accepts do (cmd %d), the spec has none", kop.ID)
			}
		}
	}
}

// hasForm reports whether any op of the spec has the form with request
// value cmd.
func (c *checker) hasForm(cmd uint32, name string) bool {
	for i := range c.d.Ops {
		for _, fm := range forms(&c.d.Ops[i]) {
			if fm.name == name && uint32(fm.m.RequestValue) == cmd {
				return true
			}
		}
	}
	return false
}

func (c *checker) checkGroups() {
	for _, g := range c.d.Groups {
		if _, err := c.f.Group(g); err != nil {
			c.add("group-missing", "", "", "group %s: in the spec, missing in the kernel", g)
		}
	}
	for _, g := range c.f.Groups {
		if !slices.Contains(c.d.Groups, g.Name) {
			c.add("group-extra", "", "", "group %s (id %d): in the kernel, not in the spec", g.Name, g.ID)
		}
	}
}

func (c *checker) checkPolicies() {
	for i := range c.d.Ops {
		op := &c.d.Ops[i]
		set := c.d.Set(op.Set)
		for _, fm := range forms(op) {
			cmd := uint32(fm.m.RequestValue)
			kop, ok := c.f.Op(cmd)
			if !ok || kop.Flags&fm.flag == 0 {
				continue
			}
			op2, ok := c.pol.Op(cmd)
			var t *family.AttrSetPolicy
			if ok && fm.name == "do" {
				t = op2.Do
			} else if ok {
				t = op2.Dump
			}
			label := op.Name + " " + fm.name
			if t == nil {
				if len(fm.m.Request) > 0 {
					c.add("attr-missing", label, "", "the spec's request has attributes (%s), the kernel reports no policy",
						strings.Join(fm.m.Request, ", "))
				}
				continue
			}
			for _, ap := range t.Attrs {
				var ad *family.AttrDesc
				if set != nil {
					ad = set.AttrByValue(ap.Attr)
				}
				switch {
				case ad == nil:
					c.add("attr-unknown", label, strconv.Itoa(int(ap.Attr)), "the kernel accepts attribute %d (%s), unknown to the spec", ap.Attr, ap.String())
					continue
				case !slices.Contains(fm.m.Request, ad.Name):
					c.add("attr-extra", label, ad.Name, "the kernel accepts it (%s), the spec's request does not list it", ap.String())
				}
				c.compareAttr(label, ad.Name, ad, ap, map[uint32]bool{t.Index: true})
			}
			for _, name := range fm.m.Request {
				ad := set.Attr(name)
				if ad == nil {
					continue
				}
				if _, ok := t.Attr(ad.Value); !ok {
					c.add("attr-missing", label, name, "in the spec's request, not in the kernel's policy (the kernel rejects it)")
				}
			}
		}
	}
}

// kernelTypes maps a spec type to the kernel policy types that implement it.
func kernelTypes(specType string) []genl.AttrType {
	switch specType {
	case "u8":
		return []genl.AttrType{genl.AttrTypeU8}
	case "u16":
		return []genl.AttrType{genl.AttrTypeU16}
	case "u32":
		return []genl.AttrType{genl.AttrTypeU32}
	case "u64":
		return []genl.AttrType{genl.AttrTypeU64}
	case "s8":
		return []genl.AttrType{genl.AttrTypeS8}
	case "s16":
		return []genl.AttrType{genl.AttrTypeS16}
	case "s32":
		return []genl.AttrType{genl.AttrTypeS32}
	case "s64":
		return []genl.AttrType{genl.AttrTypeS64}
	case "uint":
		return []genl.AttrType{genl.AttrTypeUint}
	case "sint":
		return []genl.AttrType{genl.AttrTypeSint}
	case "string":
		return []genl.AttrType{genl.AttrTypeNulString, genl.AttrTypeString}
	case "binary":
		return []genl.AttrType{genl.AttrTypeBinary}
	case "flag":
		return []genl.AttrType{genl.AttrTypeFlag}
	case "nest", "nest-type-value":
		return []genl.AttrType{genl.AttrTypeNested}
	case "indexed-array":
		return []genl.AttrType{genl.AttrTypeNestedArray}
	case "bitfield32":
		return []genl.AttrType{genl.AttrTypeBitfield32}
	}
	return nil
}

// compareAttr compares one attribute's spec with its kernel policy,
// recursing into nests.
func (c *checker) compareAttr(op, path string, ad *family.AttrDesc, ap family.AttrPolicy, seen map[uint32]bool) {
	want := kernelTypes(ad.Type)
	if !slices.Contains(want, ap.Type) {
		names := make([]string, len(want))
		for i, t := range want {
			names[i] = t.String()
		}
		c.add("type", op, path, "the spec says %s, the kernel's policy is %s", ad.Type, ap.String())
		return
	}
	switch {
	case isIntType(ad.Type):
		c.compareRange(op, path, ad, ap)
	case ad.Type == "string" || ad.Type == "binary":
		c.compareLength(op, path, ad, ap)
	case ad.Type == "nest" || ad.Type == "indexed-array":
		if ap.Nested == nil || seen[ap.Nested.Index] {
			return
		}
		sub := c.d.Set(ad.Nested)
		if sub == nil {
			return
		}
		seen[ap.Nested.Index] = true
		defer delete(seen, ap.Nested.Index)
		for _, np := range ap.Nested.Attrs {
			nd := sub.AttrByValue(np.Attr)
			if nd == nil {
				c.add("attr-unknown", op, path+"."+strconv.Itoa(int(np.Attr)), "the kernel accepts attribute %d (%s) in %s, unknown to the spec", np.Attr, np.String(), sub.Name)
				continue
			}
			c.compareAttr(op, path+"."+nd.Name, nd, np, seen)
		}
	}
}

func isIntType(t string) bool {
	switch t {
	case "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "uint", "sint":
		return true
	}
	return false
}

func typeBits(t string) int {
	switch t {
	case "u8", "s8":
		return 8
	case "u16", "s16":
		return 16
	case "u32", "s32":
		return 32
	}
	return 64
}

// compareRange compares an integer's spec checks (or the range its enum
// implies) with the kernel's range or mask.
func (c *checker) compareRange(op, path string, ad *family.AttrDesc, ap family.AttrPolicy) {
	bits := typeBits(ad.Type)
	signed := strings.HasPrefix(ad.Type, "s")
	var ch family.ChecksDesc
	if ad.Checks != nil {
		ch = *ad.Checks
	}
	e := c.d.Enum(ad.Enum)
	if ap.Has(unix.NL_POLICY_TYPE_ATTR_MASK) {
		var want uint64
		switch {
		case ch.FlagsMask != "":
			want = enumMask(c.d.Enum(ch.FlagsMask), false)
		case e != nil && (e.Flags || ad.EnumAsFlags):
			want = enumMask(e, ad.EnumAsFlags && !e.Flags)
		default:
			c.add("mask", op, path, "the kernel accepts only the bits %#x, the spec has no flags for it", ap.Mask)
			return
		}
		if want != ap.Mask {
			c.add("mask", op, path, "the kernel accepts the bits %#x, the spec's flags are %#x", ap.Mask, want)
		}
		return
	}
	if signed {
		if !ap.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S) && !ap.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S) {
			return
		}
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if bits < 64 {
			lo, hi = -1<<(bits-1), 1<<(bits-1)-1
		}
		if ch.Min.Set {
			lo = ch.Min.Int64()
		}
		if ch.Max.Set {
			hi = ch.Max.Int64()
		}
		if ap.MinValueS != lo || ap.MaxValueS != hi {
			c.add("range", op, path, "the kernel's range is [%d, %d], the spec's [%d, %d]", ap.MinValueS, ap.MaxValueS, lo, hi)
		}
		return
	}
	if !ap.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U) && !ap.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U) {
		return
	}
	lo, hi := uint64(0), uint64(math.MaxUint64)
	if bits < 64 {
		hi = 1<<bits - 1
	}
	if ch.Min.Set {
		lo = ch.Min.Abs
	}
	if ch.Max.Set {
		hi = ch.Max.Abs
	}
	if ap.MinValueU == lo && ap.MaxValueU == hi {
		return
	}
	// An enum without checks implies its range, as the kernel's generated
	// policies derive it.
	if e != nil && !ch.Min.Set && !ch.Max.Set && len(e.Entries) > 0 {
		elo, ehi := e.Entries[0].Value, e.Entries[0].Value
		for _, ent := range e.Entries {
			elo, ehi = min(elo, ent.Value), max(ehi, ent.Value)
		}
		if ap.MinValueU == elo && ap.MaxValueU == ehi {
			return
		}
		if ap.MinValueU == 0 && ap.MaxValueU == ehi {
			return
		}
		c.add("range", op, path, "the kernel's range is [%d, %d], the spec's enum %s spans [%d, %d]", ap.MinValueU, ap.MaxValueU, e.Name, elo, ehi)
		return
	}
	c.add("range", op, path, "the kernel's range is [%d, %d], the spec's [%d, %d]", ap.MinValueU, ap.MaxValueU, lo, hi)
}

func enumMask(e *family.EnumDesc, bitNumbers bool) uint64 {
	if e == nil {
		return 0
	}
	var m uint64
	for _, ent := range e.Entries {
		if bitNumbers {
			if ent.Value < 64 {
				m |= 1 << ent.Value
			}
		} else {
			m |= ent.Value
		}
	}
	return m
}

// compareLength compares a string's or binary's length checks with the
// kernel's.
func (c *checker) compareLength(op, path string, ad *family.AttrDesc, ap family.AttrPolicy) {
	var ch family.ChecksDesc
	if ad.Checks != nil {
		ch = *ad.Checks
	}
	specMin, specMax := ch.MinLen, ch.MaxLen
	if ch.ExactLen.Set {
		specMin, specMax = ch.ExactLen, ch.ExactLen
	}
	str := func(has bool, v uint32) string {
		if !has {
			return "none"
		}
		return strconv.FormatUint(uint64(v), 10)
	}
	lim := func(l family.Limit) string {
		if !l.Set {
			return "none"
		}
		return l.String()
	}
	kMin := ap.Has(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH) && ap.MinLength != 0
	kMax := ap.Has(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH)
	minOK := (!kMin && (!specMin.Set || specMin.Abs == 0)) || (kMin && specMin.Set && specMin.Abs == uint64(ap.MinLength))
	maxOK := (!kMax && !specMax.Set) || (kMax && specMax.Set && specMax.Abs == uint64(ap.MaxLength))
	if !minOK || !maxOK {
		c.add("length", op, path, "the kernel's length bounds are min %s, max %s; the spec's min %s, max %s",
			str(kMin, ap.MinLength), str(kMax, ap.MaxLength), lim(specMin), lim(specMax))
	}
}

// kernelPolicy returns the kernel's policy of f, every op's tables filed
// under its own command (family.GetPolicy sorts out the dump-only ops that
// nlctrl reports under command 0).
func (a *app) kernelPolicy(ctx context.Context, f *family.Family) (*family.Policy, error) {
	return family.GetPolicy(ctx, a.conn, f.Name, nil)
}

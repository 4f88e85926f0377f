package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"
)

// The YAML layout of a drafted spec, in the key order of the kernel's specs.
type (
	yamlSpec struct {
		Name        string      `yaml:"name"`
		Protocol    string      `yaml:"protocol,omitempty"`
		Doc         string      `yaml:"doc"`
		Version     uint32      `yaml:"version,omitempty"`
		Definitions []yamlDef   `yaml:"definitions,omitempty"`
		AttrSets    []yamlSet   `yaml:"attribute-sets"`
		Operations  yamlOps     `yaml:"operations"`
		McastGroups *yamlGroups `yaml:"mcast-groups,omitempty"`
	}
	yamlDef struct {
		Name    string       `yaml:"name"`
		Type    string       `yaml:"type"`
		Doc     string       `yaml:"doc,omitempty"`
		Value   *int64       `yaml:"value,omitempty"`
		Entries []yamlEntry  `yaml:"entries,omitempty"`
		Members []yamlMember `yaml:"members,omitempty"`
	}
	yamlEntry struct {
		Name  string `yaml:"name"`
		Value int    `yaml:"value"`
	}
	yamlMember struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
		Len  uint32 `yaml:"len"`
	}
	yamlSet struct {
		Name       string     `yaml:"name"`
		Attributes []yamlAttr `yaml:"attributes"`
	}
	yamlAttr struct {
		Name    string      `yaml:"name"`
		Value   uint16      `yaml:"value"`
		Type    string      `yaml:"type"`
		SubType string      `yaml:"sub-type,omitempty"`
		Nested  string      `yaml:"nested-attributes,omitempty"`
		Enum    string      `yaml:"enum,omitempty"`
		Checks  *yamlChecks `yaml:"checks,omitempty"`
	}
	yamlChecks struct {
		Min      any     `yaml:"min,omitempty"`
		Max      any     `yaml:"max,omitempty"`
		MinLen   *uint32 `yaml:"min-len,omitempty"`
		MaxLen   *uint32 `yaml:"max-len,omitempty"`
		ExactLen *uint32 `yaml:"exact-len,omitempty"`
	}
	yamlOps struct {
		FixedHeader string   `yaml:"fixed-header,omitempty"`
		List        []yamlOp `yaml:"list"`
	}
	yamlOp struct {
		Name  string    `yaml:"name"`
		Doc   string    `yaml:"doc"`
		Value uint32    `yaml:"value"`
		Set   string    `yaml:"attribute-set,omitempty"`
		Flags []string  `yaml:"flags,omitempty,flow"`
		Do    *yamlForm `yaml:"do,omitempty"`
		Dump  *yamlForm `yaml:"dump,omitempty"`
	}
	yamlForm struct {
		Request *yamlMsg `yaml:"request,omitempty"`
		Reply   *yamlMsg `yaml:"reply,omitempty"`
	}
	yamlMsg struct {
		Attributes []string `yaml:"attributes,flow"`
	}
	yamlGroups struct {
		List []yamlGroup `yaml:"list"`
	}
	yamlGroup struct {
		Name string `yaml:"name"`
	}
)

// plainName is the name pattern of the plain genetlink protocol.
var plainName = regexp.MustCompile(`^[0-9a-z-]+$`)

// setBase derives a set name from a family name: "NLBL_MGMT" is
// "nlbl-mgmt".
func setBase(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	s := strings.Trim(string(b), "-")
	if s == "" {
		return "family"
	}
	return s
}

// draftSpec drafts a YNL spec of family f from its kernel policy pol; desc,
// if not nil, names the ops, sets and attributes it knows whose kernel
// policy agrees with it.
func draftSpec(f *family.Family, pol *family.Policy, desc *family.Descriptor) ([]byte, error) {
	d := &drafter{f: f, pol: pol, desc: desc}
	if err := d.build(); err != nil {
		return nil, err
	}
	return d.emit()
}

// namer hands out names unique within one scope.
type namer map[string]bool

func (n namer) unique(name string) string {
	c := name
	for i := 2; n[c]; i++ {
		c = name + "-" + strconv.Itoa(i)
	}
	n[c] = true
	return c
}

// nameSets names the sets reachable from the ops, in op order, and their
// attributes; it returns the sets in that order.
func (d *drafter) nameSets() []*draftSet {
	sets := namer{}
	var order []*draftSet
	var visit func(s *draftSet, name string, known *family.SetDesc)
	visit = func(s *draftSet, name string, known *family.SetDesc) {
		s = find(s)
		if s.name != "" {
			return
		}
		s.name, s.known = sets.unique(name), known
		order = append(order, s)
		attrs := namer{}
		values := slices.Sorted(maps.Keys(s.attrs))
		knownAttr := map[uint16]*family.AttrDesc{}
		for _, v := range values {
			a := s.attrs[v]
			a.name = "attr-" + strconv.Itoa(int(v))
			if known != nil {
				if ad := known.AttrByValue(v); ad != nil && slices.Contains(kernelTypes(ad.Type), a.ktype) && !attrs[ad.Name] {
					a.name, knownAttr[v] = ad.Name, ad
				}
			}
			a.name = attrs.unique(a.name)
		}
		for _, v := range values {
			a := s.attrs[v]
			if a.nested == nil {
				continue
			}
			var sub *family.SetDesc
			if ad := knownAttr[v]; ad != nil && d.desc != nil {
				sub = d.desc.Set(ad.Nested)
			}
			if sub != nil {
				visit(a.nested, sub.Name, sub)
			} else {
				visit(a.nested, s.name+"-"+a.name, nil)
			}
		}
	}
	base := setBase(d.f.Name)
	for _, op := range d.ops {
		if op.set == nil {
			continue
		}
		s := find(op.set)
		var known *family.SetDesc
		if s.key != "" && d.desc != nil {
			known = d.desc.Set(s.key)
		}
		if known != nil {
			visit(s, known.Name, known)
		} else {
			visit(s, base, nil)
		}
	}
	if len(order) == 0 || !order[0].top {
		// Ops without a policy (or a family without ops) still name a set.
		s := &draftSet{attrs: map[uint16]*draftAttr{}, top: true, name: sets.unique(base)}
		order = append([]*draftSet{s}, order...)
	}
	return order
}

// emit writes the draft as YAML.
func (d *drafter) emit() ([]byte, error) {
	sets := d.nameSets()
	legacy := d.f.Version != 1 || d.f.HeaderSize != 0 || !plainName.MatchString(d.f.Name)
	spec := yamlSpec{Name: d.f.Name}
	// Definitions and sets become Go types of one package: their names
	// must not meet.
	defs := namer{}
	for _, s := range sets {
		defs[s.name] = true
	}
	for _, s := range sets {
		ys := yamlSet{Name: s.name, Attributes: []yamlAttr{}}
		for _, v := range slices.Sorted(maps.Keys(s.attrs)) {
			a := s.attrs[v]
			ya := yamlAttr{Name: a.name, Value: v, Type: a.typ, SubType: a.sub}
			if a.nested != nil {
				ya.Nested = find(a.nested).name
			}
			if a.typ == "bitfield32" {
				legacy = true
			}
			var def *yamlDef
			ya.Checks, ya.Enum, def = d.checks(s, a, defs)
			if def != nil {
				spec.Definitions = append(spec.Definitions, *def)
			}
			if ya.Checks != nil && ya.Checks.Min != nil {
				if c, ok := ya.Checks.Min.(*yamlDef); ok {
					spec.Definitions = append(spec.Definitions, *c)
					ya.Checks.Min = c.Name
				}
			}
			if ya.Checks != nil && ya.Checks.Max != nil {
				if c, ok := ya.Checks.Max.(*yamlDef); ok {
					spec.Definitions = append(spec.Definitions, *c)
					ya.Checks.Max = c.Name
				}
			}
			ys.Attributes = append(ys.Attributes, ya)
		}
		spec.AttrSets = append(spec.AttrSets, ys)
	}
	if d.f.HeaderSize != 0 {
		name := defs.unique(setBase(d.f.Name) + "-header")
		spec.Definitions = append(spec.Definitions, yamlDef{Name: name, Type: "struct",
			Doc:     "The family's fixed header: the kernel reports its size only.",
			Members: []yamlMember{{Name: "data", Type: "binary", Len: d.f.HeaderSize}}})
		spec.Operations.FixedHeader = name
	}
	spec.Operations.List = []yamlOp{}
	for _, op := range d.ops {
		spec.Operations.List = append(spec.Operations.List, d.op(op, sets[0]))
	}
	if len(d.f.Groups) > 0 {
		spec.McastGroups = &yamlGroups{}
		for _, g := range d.f.Groups {
			if !plainName.MatchString(g.Name) {
				legacy = true
			}
			spec.McastGroups.List = append(spec.McastGroups.List, yamlGroup{Name: g.Name})
		}
	}
	if legacy {
		spec.Protocol = "genetlink-legacy"
		if d.f.Version > 1 { // a spec cannot declare version 0 (the schema's minimum is 1)
			spec.Version = d.f.Version
		}
	}
	spec.Doc = fmt.Sprintf("Draft of generic netlink family %s, from what the running kernel's nlctrl reports: ops, "+
		"request policies and multicast groups. Names such as attr-N and cmd-N are placeholders; "+
		"the kernel does not describe replies or notifications.", d.f.Name)
	var buf bytes.Buffer
	buf.WriteString("# Drafted by 'genlkit spec " + d.f.Name + "' from the running kernel. Review it before use:\n")
	buf.WriteString("# replies are assumed to use the op's attribute set, names are placeholders\n")
	buf.WriteString("# unless a spec or compiled-in descriptor of the family agrees with the kernel.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(spec); err != nil {
		return nil, fmt.Errorf("draft a spec of family %s: %w", d.f.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// op writes one op; ops without a policy use the first set.
func (d *drafter) op(op *draftOp, first *draftSet) yamlOp {
	set := first
	if op.set != nil {
		set = find(op.set)
	}
	var words []string
	var flags []string
	for _, w := range opFlagNames(op.op.Flags) {
		switch w {
		case "admin-perm", "uns-admin-perm":
			flags = append(flags, w)
		}
		words = append(words, w)
	}
	yo := yamlOp{Name: op.name, Value: op.op.ID, Set: set.name, Flags: flags,
		Doc: fmt.Sprintf("Command %d; the kernel's flags: %s.", op.op.ID, strings.Join(words, ", "))}
	if len(op.dropped) > 0 {
		yo.Doc += fmt.Sprintf(" Its dump policy's attributes %s disagree with the do policy's and are left out.", joinValues(op.dropped))
	}
	reply := &yamlMsg{Attributes: []string{}}
	for _, v := range slices.Sorted(maps.Keys(set.attrs)) {
		reply.Attributes = append(reply.Attributes, set.attrs[v].name)
	}
	form := func(tbl *family.AttrSetPolicy) *yamlForm {
		f := &yamlForm{Reply: reply}
		if tbl != nil {
			f.Request = &yamlMsg{Attributes: []string{}}
			for _, ap := range tbl.Attrs {
				if tbl == op.dumpTb && slices.Contains(op.dropped, ap.Attr) {
					continue
				}
				f.Request.Attributes = append(f.Request.Attributes, set.attrs[ap.Attr].name)
			}
		}
		return f
	}
	if op.op.Flags&family.OpDo != 0 {
		yo.Do = form(op.doTbl)
	}
	if op.op.Flags&family.OpDump != 0 {
		yo.Dump = form(op.dumpTb)
	}
	return yo
}

// checks writes an attribute's kernel bounds as spec checks, a flags
// definition for a mask (returned to be added) and const definitions
// for negative bounds (in Min and Max, as *yamlDef).
func (d *drafter) checks(s *draftSet, a *draftAttr, defs namer) (*yamlChecks, string, *yamlDef) {
	p := a.pol
	var c yamlChecks
	switch {
	case p.Has(unix.NL_POLICY_TYPE_ATTR_MASK) || p.Has(unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK):
		mask := p.Mask
		if a.typ == "bitfield32" {
			mask = uint64(p.Bitfield32Mask)
		}
		if mask == 0 {
			return nil, "", nil
		}
		def := &yamlDef{Name: defs.unique(s.name + "-" + a.name + "-mask"), Type: "flags",
			Doc: fmt.Sprintf("The bits the kernel accepts in %s of %s (mask %#x).", a.name, s.name, mask)}
		for m := mask; m != 0; m &= m - 1 {
			b := bits.TrailingZeros64(m)
			def.Entries = append(def.Entries, yamlEntry{Name: "bit-" + strconv.Itoa(b), Value: b})
		}
		return nil, def.Name, def
	case p.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U):
		_, hi := intLimits(a.typ)
		if p.MinValueU != 0 {
			c.Min = p.MinValueU
		}
		if p.MaxValueU != hi {
			c.Max = p.MaxValueU
		}
	case p.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S):
		lo, hi := intLimits(a.typ)
		bound := func(v int64, what string) any {
			if v >= 0 {
				return uint64(v)
			}
			// The schema takes no negative numbers: a const holds them.
			return &yamlDef{Name: defs.unique(s.name + "-" + a.name + "-" + what), Type: "const", Value: &v}
		}
		if p.MinValueS != lo {
			c.Min = bound(p.MinValueS, "min")
		}
		if p.MaxValueS != int64(hi) {
			c.Max = bound(p.MaxValueS, "max")
		}
	default:
		minLen := p.Has(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH) && p.MinLength != 0
		maxLen := p.Has(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH)
		switch {
		case minLen && maxLen && p.MinLength == p.MaxLength:
			c.ExactLen = &p.MinLength
		default:
			if minLen {
				c.MinLen = &p.MinLength
			}
			if maxLen {
				c.MaxLen = &p.MaxLength
			}
		}
	}
	if c == (yamlChecks{}) {
		return nil, "", nil
	}
	return &c, "", nil
}

func (a *app) cmdSpec(args []string) error {
	if err := wantArgs(a.cmd, args, 1, 1); err != nil {
		return err
	}
	f, desc, err := a.resolve(args[0], true)
	if err != nil {
		return err
	}
	var d *family.Descriptor
	if desc != nil && !a.placeholders {
		d = desc.desc
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	ctx, cancel := a.requestContext()
	defer cancel()
	out, err := draftLive(ctx, c, f, d)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(out)
	return err
}

// draftLive asks the kernel on c for the policy of f and drafts its spec.
func draftLive(ctx context.Context, c *genl.Conn, f *family.Family, desc *family.Descriptor) ([]byte, error) {
	pol, err := family.GetPolicy(ctx, c, f.Name, nil)
	if errors.Is(err, unix.ENODATA) {
		// No op has a policy (psample), or there are no ops (VFS_DQUOT).
		pol, err = &family.Policy{Family: f.Name}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get the policy of %s: %w", f.Name, err)
	}
	return draftSpec(f, pol, desc)
}

func joinValues(vs []uint16) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(int(v))
	}
	return strings.Join(s, ", ")
}

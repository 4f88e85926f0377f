package spec

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"slices"
	"sync"

	"go.yaml.in/yaml/v3"
)

// The project overlay (overlay/*.yaml) states facts about kernel families
// that their specs leave out: attributes the kernel repeats although the
// spec does not mark them multi-attr, nests whose attributes form an
// ordered list, events whose commands reuse request values (which the
// schema cannot say, for the project's own specs too). Each entry cites
// the kernel source that sends the attribute. Parse applies the overlay of a family (matched by the spec's
// "name") to the resolved model; the spec files themselves stay as the
// kernel ships them.
//
//go:embed overlay/*.yaml
var overlayFS embed.FS

// An overlay is one overlay file.
type overlay struct {
	file          string
	Family        string       `yaml:"family"`
	AttributeSets []overlaySet `yaml:"attribute-sets"`
	// Definitions adds enums the spec does not have (values from the
	// kernel's uapi headers), for attributes to name with "enum".
	Definitions []overlayDef `yaml:"definitions"`
	// McastGroups adds multicast groups the spec does not list.
	McastGroups []string `yaml:"mcast-groups"`
	// Events describes notifications the spec has no ops for: one event
	// per entry of an enum (its value is the command), carrying the
	// attributes of a set, sent to a group.
	Events []overlayEvents `yaml:"events"`
	// Operations adds to ops' requests attributes the kernel reads that
	// the spec does not list for them.
	Operations []overlayOp `yaml:"operations"`
	// Add holds spec text the spec lacks, in the spec's own syntax:
	// attribute sets (the nests the kernel sends inside attributes the
	// spec types as binary) and operations (commands the spec has no op
	// for). They are decoded and resolved with the spec, before the rest
	// of the overlay applies.
	Add struct {
		AttributeSets []yaml.Node `yaml:"attribute-sets"`
		Operations    []yaml.Node `yaml:"operations"`
	} `yaml:"add"`
}

type overlayOp struct {
	Name string       `yaml:"name"`
	Do   *overlayMode `yaml:"do"`
	Dump *overlayMode `yaml:"dump"`
}

type overlayMode struct {
	Request struct {
		Attributes []string `yaml:"attributes"`
	} `yaml:"request"`
}

type overlayDef struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // enum
	Doc  string `yaml:"doc"`
	// JSON says how tools print the values in JSON: "numbers" keeps them
	// numbers (as YNL prints the attribute, having no enum), while Go
	// types and human tables get the names.
	JSON    string `yaml:"json"`
	Entries []struct {
		Name  string `yaml:"name"`
		Value int64  `yaml:"value"`
		// Text is the word the family's own tools print for the value
		// (ethtool's "Twisted Pair", the kernel's link mode name
		// "1000baseT/Full"); String methods and tables show it.
		Text string `yaml:"text"`
	} `yaml:"entries"`
}

type overlayEvents struct {
	Enum         string `yaml:"enum"`
	AttributeSet string `yaml:"attribute-set"`
	Mcgrp        string `yaml:"mcgrp"`
}

type overlaySet struct {
	Name       string        `yaml:"name"`
	Attributes []overlayAttr `yaml:"attributes"`
}

type overlayAttr struct {
	Name string `yaml:"name"`
	// Enum names a definition (of the spec or the overlay) whose values
	// the attribute holds.
	Enum string `yaml:"enum"`
	// MultiAttr marks an attribute the kernel repeats.
	MultiAttr bool `yaml:"multi-attr"`
	// Ordered marks a nest whose attributes are a list in wire order (the
	// kernel acts on them in that order, and may repeat any of them).
	Ordered bool `yaml:"ordered"`
	// ByteOrder and DisplayHint replace the spec's: an integer the kernel
	// reads in network order, an address the spec types as a plain
	// integer or binary.
	ByteOrder   ByteOrder   `yaml:"byte-order"`
	DisplayHint DisplayHint `yaml:"display-hint"`
	// Type, NestedAttributes and SubType retype an attribute the spec
	// types as binary whose payload is in fact a nest (type nest, with
	// nested-attributes) or an indexed array (type indexed-array, with
	// sub-type, and nested-attributes for a sub-type nest).
	Type             AttrType `yaml:"type"`
	NestedAttributes string   `yaml:"nested-attributes"`
	SubType          AttrType `yaml:"sub-type"`
}

var overlays = sync.OnceValues(loadOverlays)

// loadOverlays reads the embedded overlay files, keyed by family name.
func loadOverlays() (map[string]*overlay, error) {
	entries, err := overlayFS.ReadDir("overlay")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*overlay)
	for _, e := range entries {
		name := path.Join("overlay", e.Name())
		data, err := overlayFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		o := &overlay{file: name}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(o); err != nil {
			return nil, fmt.Errorf("spec: %s: %w", name, err)
		}
		if o.Family == "" {
			return nil, fmt.Errorf("spec: %s: no family", name)
		}
		if out[o.Family] != nil {
			return nil, fmt.Errorf("spec: %s: family %q has an overlay already", name, o.Family)
		}
		out[o.Family] = o
	}
	return out, nil
}

// overlayOf returns the overlay of f's family, or nil.
func overlayOf(f *Family) (*overlay, error) {
	all, err := overlays()
	if err != nil {
		return nil, err
	}
	return all[f.Name], nil
}

// OverlayFile returns the name of the overlay file applied to the family
// (e.g. "overlay/team.yaml"), or "" when the project has none for it.
func (f *Family) OverlayFile() string { return f.overlay }

// OverlayMisses lists the overlay entries ("set" or "set.attribute") that
// name nothing in the spec and were skipped.
func (f *Family) OverlayMisses() []string { return f.overlayMisses }

// applyOverlay applies the project overlay of f's family. Entries naming a
// set or an attribute the spec does not have are skipped: specs of other
// kernel versions may lack them (TestOverlayMatchesSpecs checks the
// overlay against the specs of the tree).
func applyOverlay(f *Family) error {
	o, err := overlayOf(f)
	if o == nil || err != nil {
		return err
	}
	f.overlay = o.file
	for _, od := range o.Definitions {
		if err := f.addDefinition(o.file, od); err != nil {
			return err
		}
	}
	for _, g := range o.McastGroups {
		if f.McastGroup(g) == nil {
			mg := &MulticastGroup{Name: g}
			f.MulticastGroups = append(f.MulticastGroups, mg)
			if f.mcgrps == nil {
				f.mcgrps = make(map[string]*MulticastGroup)
			}
			f.mcgrps[g] = mg
		}
	}
	for _, ev := range o.Events {
		f.addEvents(ev)
	}
	for _, os := range o.AttributeSets {
		s := f.AttributeSet(os.Name)
		if s == nil {
			f.overlayMisses = append(f.overlayMisses, os.Name)
			continue
		}
		for _, oa := range os.Attributes {
			a := s.Attribute(oa.Name)
			if a == nil {
				f.overlayMisses = append(f.overlayMisses, os.Name+"."+oa.Name)
				continue
			}
			if oa.Ordered && (a.Type != TypeNest || a.MultiAttr || oa.MultiAttr) {
				return fmt.Errorf("spec: %s: attribute %q of set %q: ordered applies to a nest that is not multi-attr", o.file, a.Name, s.Name)
			}
			if err := checkWire(o.file, s, a, oa); err != nil {
				return err
			}
			var def *Definition
			if oa.Enum != "" {
				if def = f.Definition(oa.Enum); def == nil || (def.Type != DefEnum && def.Type != DefFlags) || !a.Type.IsInteger() {
					return fmt.Errorf("spec: %s: attribute %q of set %q: enum %q is not an enum of the family, or the attribute no integer", o.file, a.Name, s.Name, oa.Enum)
				}
			}
			for _, t := range f.attrAndCopies(a) {
				if def != nil {
					t.Enum, t.EnumDef = def.Name, def
				}
				t.MultiAttr = t.MultiAttr || oa.MultiAttr
				t.Ordered = t.Ordered || oa.Ordered
				t.Overlaid = true
				if oa.ByteOrder != "" {
					t.ByteOrder, t.OverlayWire = oa.ByteOrder, true
				}
				if oa.DisplayHint != "" {
					t.DisplayHint, t.OverlayWire = oa.DisplayHint, true
				}
			}
		}
	}
	for _, oo := range o.Operations {
		if err := f.addRequestAttrs(o.file, oo); err != nil {
			return err
		}
	}
	return nil
}

// overlaySpec adds the overlay's spec text (sets and operations) to the
// decoded family f and retypes the binary attributes the overlay says are
// nests, before f is resolved; errors in the added text name the overlay
// file.
func (d *decoder) overlaySpec(f *Family) error {
	o, err := overlayOf(f)
	if o == nil || err != nil {
		return err
	}
	file := d.file
	d.file = o.file
	defer func() { d.file = file }()
	for i := range o.Add.AttributeSets {
		if s := d.attrSet(&o.Add.AttributeSets[i], i); s != nil {
			f.AttributeSets = append(f.AttributeSets, s)
		}
	}
	if len(o.Add.Operations) > 0 && f.Operations == nil {
		return fmt.Errorf("spec: %s: operations to add, but the spec has no operations", o.file)
	}
	for i := range o.Add.Operations {
		if op := d.op(&o.Add.Operations[i], i); op != nil {
			f.Operations.List = append(f.Operations.List, op)
		}
	}
	for _, os := range o.AttributeSets {
		for _, oa := range os.Attributes {
			if oa.Type == "" && oa.NestedAttributes == "" && oa.SubType == "" {
				continue
			}
			if err := retype(o.file, f, os.Name, oa); err != nil {
				return err
			}
		}
	}
	return nil
}

// retype makes the binary attribute oa of set setName a nest or an
// indexed array. A set or attribute the spec lacks is left alone (the
// overlay pass records it as a miss).
func retype(file string, f *Family, setName string, oa overlayAttr) error {
	for _, s := range f.AttributeSets {
		if s.Name != setName {
			continue
		}
		for _, a := range s.Attributes {
			if a.Name != oa.Name {
				continue
			}
			ok := a.Type == TypeBinary && a.Struct == "" && !s.IsSubset()
			switch oa.Type {
			case TypeNest:
				ok = ok && oa.NestedAttributes != "" && oa.SubType == ""
			case TypeIndexedArray:
				ok = ok && oa.SubType != "" && (oa.SubType == TypeNest) == (oa.NestedAttributes != "")
			default:
				ok = false
			}
			if !ok {
				return fmt.Errorf("spec: %s: attribute %q of set %q: type applies to a binary of a full set, as nest with nested-attributes or indexed-array with sub-type (and nested-attributes for nests)", file, a.Name, s.Name)
			}
			a.Type, a.NestedAttributes, a.SubType = oa.Type, oa.NestedAttributes, oa.SubType
			if a.NestedAttributes != "" {
				a.setKey("nested-attributes", a.KeyPos("type"))
			}
			if a.SubType != "" {
				a.setKey("sub-type", a.KeyPos("type"))
			}
		}
	}
	return nil
}

// checkWire checks an overlay entry's byte order and display hint against
// the attribute they apply to.
func checkWire(file string, s *AttributeSet, a *Attribute, oa overlayAttr) error {
	switch oa.ByteOrder {
	case "", ByteOrderBig, ByteOrderLittle:
	default:
		return fmt.Errorf("spec: %s: attribute %q of set %q: unknown byte-order %q", file, a.Name, s.Name, oa.ByteOrder)
	}
	if oa.ByteOrder != "" && !a.Type.IsInteger() {
		return fmt.Errorf("spec: %s: attribute %q of set %q: byte-order applies to integers, not %s", file, a.Name, s.Name, a.Type)
	}
	order := cmpOr(string(oa.ByteOrder), string(a.ByteOrder))
	ok := true
	switch oa.DisplayHint {
	case "":
	case HintIPv4:
		ok = a.Type == TypeBinary || a.Type == TypeU32 && order == string(ByteOrderBig)
	case HintIPv6:
		ok = a.Type == TypeBinary
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("spec: %s: attribute %q of set %q: display-hint %q does not fit a %s %s (the overlay sets ipv4 on big-endian u32 or binary, ipv6 on binary)", file, a.Name, s.Name, oa.DisplayHint, cmpOr(order, "host-order"), a.Type)
	}
	return nil
}

// addRequestAttrs adds the attributes of oo to the requests of op oo.Name,
// each where it stands in the op's set. An op, mode or attribute the spec
// lacks, and an attribute the request lists already, are misses.
func (f *Family) addRequestAttrs(file string, oo overlayOp) error {
	op := f.Op(oo.Name)
	for _, x := range []struct {
		name string
		om   *overlayMode
		m    func() *Mode
	}{{"do", oo.Do, func() *Mode { return op.Do }}, {"dump", oo.Dump, func() *Mode { return op.Dump }}} {
		if x.om == nil {
			continue
		}
		what := "operations " + oo.Name + "." + x.name
		if op == nil || op.Set == nil || x.m() == nil || x.m().Request == nil {
			f.overlayMisses = append(f.overlayMisses, what)
			continue
		}
		if len(x.om.Request.Attributes) == 0 {
			return fmt.Errorf("spec: %s: %s: no request attributes to add", file, what)
		}
		req := x.m().Request
		for _, name := range x.om.Request.Attributes {
			a := op.Set.Attribute(name)
			if a == nil || slices.Contains(req.Attributes, a) {
				f.overlayMisses = append(f.overlayMisses, what+"."+name)
				continue
			}
			i := 0
			for i < len(req.Attributes) && req.Attributes[i].Value < a.Value {
				i++
			}
			req.Attributes = slices.Insert(req.Attributes, i, a)
			req.OverlayAttrs = append(req.OverlayAttrs, a.Name)
		}
	}
	return nil
}

// attrAndCopies returns a and the attributes of subsets that merge it.
func (f *Family) attrAndCopies(a *Attribute) []*Attribute {
	out := []*Attribute{a}
	for _, s := range f.AttributeSets {
		for _, b := range s.Attributes {
			for p := b.Parent; p != nil; p = p.Parent {
				if p == a {
					out = append(out, b)
					break
				}
			}
		}
	}
	return out
}

// OverlayNames lists the families the project overlay has entries for.
func OverlayNames() ([]string, error) {
	all, err := overlays()
	if err != nil {
		return nil, err
	}
	var out []string
	for n := range all {
		out = append(out, n)
	}
	return out, nil
}

// addEvents adds a notification op per entry of ev's enum (but entries of
// value 0, "unspec"): named like the entry, with the entry's value as its
// command and every attribute of ev's set.
func (f *Family) addEvents(ev overlayEvents) {
	def, set, grp := f.Definition(ev.Enum), f.AttributeSet(ev.AttributeSet), f.McastGroup(ev.Mcgrp)
	if def == nil || def.Type != DefEnum || set == nil || grp == nil {
		f.overlayMisses = append(f.overlayMisses, "events "+ev.Enum)
		return
	}
	if f.Operations == nil {
		f.Operations = &Operations{}
	}
	var as []*Attribute
	for _, a := range set.Attributes {
		if a.Type != TypePad && a.Type != TypeUnused {
			as = append(as, a)
		}
	}
	for _, e := range def.Entries {
		if e.Value <= 0 || e.Value > 255 {
			continue
		}
		if f.ops[e.Name] != nil {
			f.overlayMisses = append(f.overlayMisses, "events "+ev.Enum+"."+e.Name+" (an op has that name)")
			continue
		}
		op := &Op{
			Source: Source{Pos: e.Pos}, Name: e.Name, Doc: e.Doc,
			ReplyValue: uint8(e.Value), HasReplyValue: true,
			AttributeSet: set.Name, Set: set,
			Event: &Message{Source: Source{Pos: e.Pos}, Value: uint8(e.Value), HasValue: true, Attributes: as},
			Mcgrp: grp.Name, McastGrp: grp,
		}
		f.Operations.List = append(f.Operations.List, op)
		if f.ops == nil {
			f.ops = make(map[string]*Op)
		}
		f.ops[e.Name] = op
	}
}

// addDefinition adds an enum of the overlay to f.
func (f *Family) addDefinition(file string, od overlayDef) error {
	if od.Type != "enum" || od.Name == "" {
		return fmt.Errorf("spec: %s: definition %q: only enums can be added", file, od.Name)
	}
	if f.Definition(od.Name) != nil {
		return fmt.Errorf("spec: %s: definition %q: the spec has one", file, od.Name)
	}
	d := &Definition{Name: od.Name, Type: DefEnum, Doc: od.Doc, NumbersInJSON: od.JSON == "numbers", entries: map[string]*Entry{}}
	for _, e := range od.Entries {
		en := &Entry{Name: e.Name, Value: e.Value, Text: e.Text}
		d.Entries = append(d.Entries, en)
		d.entries[e.Name] = en
	}
	f.Definitions = append(f.Definitions, d)
	if f.defs == nil {
		f.defs = make(map[string]*Definition)
	}
	f.defs[d.Name] = d
	return nil
}

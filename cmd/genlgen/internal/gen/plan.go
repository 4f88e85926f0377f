package gen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/genlkit/genlkit/internal/spec"
)

// The plan is the middle stage of the generator: every Go name and type the
// emitters print, decided once from the spec model.

// A plan holds the Go shape of one family package.
type plan struct {
	spec     *spec.Family
	pkg      string
	specFile string // base name of the spec file, for the header
	specArg  string // the -spec argument recorded in the go:generate line
	docs     bool
	noClient bool

	top *namespace // package-level identifiers

	consts  []*constDef
	enums   []*enum
	structs []*cstruct
	sets    []*set // every attribute set, in spec order
	roots   []*set // the sets that define values (not subsets), table order
	ops     []*op
	notifs  []*notif
	groups  []*group
	msgs    []*msgType // fixed-header message wrappers

	enumBy   map[*spec.Definition]*enum
	structBy map[*spec.Definition]*cstruct
	setBy    map[*spec.AttributeSet]*set

	familyConst, versionConst string
	directional               bool

	helpers map[string]bool // runtime helpers the emitted code uses
}

// reserved names: the package's fixed API.
var reservedTop = []string{
	"Client", "New", "Option", "WithResolver", "WithFamily", "Optional", "Some",
	"Subscription", "Notification", "UnknownNotification", "Descriptor",
	"FamilyName", "FamilyVersion",
}

var reservedMethods = []string{"Family", "Subscribe", "Conn"}

// wireLenField names the field of every struct type that records the
// length of a payload it was decoded from when that differs from the
// struct's size.
const wireLenField = "WireLen"

var reservedFields = []string{"MarshalAttrs", "UnmarshalAttrs", "String", extraField}

// extraField is the field of every attribute-set struct that keeps, raw and
// in wire order, the attributes that have no other place: types the spec
// does not define and repeats of attributes the spec does not mark
// multi-attr. Encoding sends them after the fields.
const extraField = "Extra"

func errorf(pos spec.Pos, format string, args ...any) error {
	return &spec.Error{File: pos.File, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}
}

func newPlan(f *spec.Family, cfg Config) (*plan, error) {
	p := &plan{
		spec:     f,
		pkg:      cfg.Package,
		docs:     cfg.Docs,
		noClient: cfg.NoClient,
		specArg:  cfg.SpecArg,
		top:      newNamespace(reservedTop...),
		enumBy:   make(map[*spec.Definition]*enum),
		structBy: make(map[*spec.Definition]*cstruct),
		setBy:    make(map[*spec.AttributeSet]*set),
		helpers:  make(map[string]bool),
	}
	if p.pkg == "" {
		p.pkg = pkgName(f.Name)
	}
	p.specFile = f.Pos.File
	if p.specFile == "" {
		p.specFile = f.Path
	}
	p.familyConst, p.versionConst = "FamilyName", "FamilyVersion"
	p.directional = f.Operations != nil && f.Operations.EnumModel == spec.EnumModelDirectional

	// Types first, in a fixed order of kinds, so that names collide the
	// same way every time: attribute sets, structs, enums.
	for _, s := range f.AttributeSets {
		st := &set{spec: s, name: p.top.claim(p.typeName(s.Name), "Attrs")}
		p.sets = append(p.sets, st)
		p.setBy[s] = st
	}
	for _, s := range p.sets {
		s.root = p.setBy[s.spec.Root()]
		if s.root == s {
			s.index = len(p.roots)
			p.roots = append(p.roots, s)
		}
	}
	for _, d := range f.Definitions {
		if d.Type == spec.DefStruct {
			cs := &cstruct{def: d, name: p.top.claim(p.typeName(d.Name), "Struct"), size: d.Size}
			p.structs = append(p.structs, cs)
			p.structBy[d] = cs
		}
	}
	for _, d := range f.Definitions {
		if d.Type == spec.DefEnum || d.Type == spec.DefFlags {
			e := &enum{def: d, name: p.top.claim(p.typeName(d.Name), "Enum"), flags: d.Type == spec.DefFlags}
			p.enums = append(p.enums, e)
			p.enumBy[d] = e
		}
	}
	if err := p.planEnums(); err != nil {
		return nil, err
	}
	if err := p.planStructs(); err != nil {
		return nil, err
	}
	if err := p.planSets(); err != nil {
		return nil, err
	}
	if err := p.planOps(); err != nil {
		return nil, err
	}
	// Constants last: they have prefixes and rarely collide.
	for _, d := range f.Definitions {
		if d.Type == spec.DefConst && d.Scope != spec.ScopeKernel {
			p.consts = append(p.consts, &constDef{def: d, name: p.top.claim(goName(d.Name), "Const")})
		}
	}
	for _, e := range p.enums {
		for i := range e.values {
			e.values[i].name = p.top.claim(e.name+goNameAfter(entryName(e.def, e.values[i].entry)), "Value")
		}
	}
	for _, g := range f.MulticastGroups {
		p.groups = append(p.groups, &group{g: g, name: p.top.claim("Group"+goName(g.Name), "")})
	}
	for _, s := range p.roots {
		pfx := p.attrPrefix(s.spec)
		i := 0
		for _, a := range s.spec.Attributes {
			c := p.top.claim("Attr"+goName(pfx+a.Name), "")
			s.consts = append(s.consts, attrConst{a, c})
			if i < len(s.fields) && s.fields[i].attr == a {
				s.fields[i].attrC = c
				i++
			}
			// pad and unused attributes have no field but a constant.
		}
	}
	for _, s := range p.sets {
		if s.root != s {
			for _, fl := range s.fields {
				for _, rf := range s.root.fields {
					if rf.attr.Value == fl.attr.Value {
						fl.attrC = rf.attrC
					}
				}
				if fl.attrC == "" {
					return nil, errorf(fl.attr.Pos, "attribute %q of subset %q has no counterpart in set %q", fl.attr.Name, s.spec.Name, s.root.spec.Name)
				}
			}
		}
		s.namesV = "names" + s.root.name
	}
	return p, nil
}

// attrList formats attribute names for comments.
func attrList(as []*spec.Attribute) string {
	if len(as) == 0 {
		return "none"
	}
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

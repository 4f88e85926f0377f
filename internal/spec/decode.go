package spec

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file holds the schema-independent machinery for walking a yaml.Node
// tree: alias and merge-key handling, scalar kinds, key checks, errors.

// A flavor is the schema level of a protocol; each level allows the keys of
// the lower ones.
type flavor int

const (
	flGenl   flavor = iota // genetlink
	flC                    // genetlink-c
	flLegacy               // genetlink-legacy
)

// keySet maps the keys an object may have to the lowest flavor allowing them.
type keySet map[string]flavor

const (
	// maxVisits bounds the node visits per document, and so the work and
	// memory that alias expansion can cause. ethtool.yaml, the largest
	// kernel spec here, takes about 6000.
	maxVisits = 200000
	maxErrors = 200 // errors collected per document before giving up
	maxDerefs = 64  // alias hops followed from one node
)

// namePattern is the pattern of element names (family, definitions,
// entries, attribute sets, attributes, operations) where the schema
// constrains them. The kernel's schemas here say ^[0-9a-z-]+$; '_' is
// accepted too, because older schemas had no pattern and kernel specs
// written against them use it (mptcp.yaml's "if_idx", binder.yaml's
// "from_pid" before their renames), and the kernel's own tools map '_' and
// '-' alike. Capitals and other characters are still errors.
var namePattern = regexp.MustCompile(`^[0-9a-z_-]+$`)

// A decoder holds the state of decoding one spec document.
type decoder struct {
	file   string // base name of the spec file, for positions
	level  flavor
	proto  Protocol
	errs   ErrorList
	visits int
	broken bool // budget exceeded: stop walking
}

func (d *decoder) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(p Pos, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		if len(d.errs) == maxErrors {
			d.errs = append(d.errs, &Error{File: d.file, Msg: "too many errors"})
		}
		d.broken = true
		return
	}
	d.errs = append(d.errs, &Error{File: p.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases and counts the visit against the budget. It returns
// nil (having reported why, if needed) when there is nothing to look at.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	if d.broken || n == nil {
		return nil
	}
	d.visits++
	if d.visits > maxVisits {
		d.errorf(d.pos(n), "document too large or too many alias expansions")
		d.broken = true
		return nil
	}
	for i := 0; n.Kind == yaml.AliasNode; i++ {
		if n.Alias == nil || i == maxDerefs {
			d.errorf(d.pos(n), "unresolvable alias %q", n.Value)
			return nil
		}
		n = n.Alias
	}
	return n
}

// kindName describes a node's kind for error messages.
func kindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch t := n.ShortTag(); t {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		case "!!float":
			return "a float"
		case "!!timestamp":
			return "a timestamp"
		case "!!binary":
			return "binary data"
		default:
			return "a scalar tagged " + t
		}
	}
	return "an unknown node"
}

func isScalar(n *yaml.Node, tag string) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == tag
}

// A pair is a key and its value in a mapping.
type pair struct {
	name string
	key  *yaml.Node
	val  *yaml.Node
}

// An object is a YAML mapping being decoded as one model element.
type object struct {
	d     *decoder
	node  *yaml.Node // the node as written (maybe an alias)
	what  string     // description for messages, e.g. `attribute "foo" in set "bar"`
	pairs []pair
	idx   map[string]int
	// pending holds problems found while reading the mapping, reported by
	// check once the element's name (for what) is known.
	pending []func()
}

// object returns n as an object, or nil after reporting an error if n is
// not a mapping.
func (d *decoder) object(n *yaml.Node, what string) *object {
	m := d.deref(n)
	if m == nil {
		if !d.broken {
			d.errorf(d.pos(n), "%s must be a mapping", what)
		}
		return nil
	}
	if m.Kind != yaml.MappingNode {
		d.errorf(d.pos(n), "%s must be a mapping, not %s", what, kindName(m))
		return nil
	}
	if t := m.ShortTag(); t != "!!map" {
		d.errorf(d.pos(n), "%s has unsupported tag %s", what, t)
		return nil
	}
	o := &object{d: d, node: n, what: what, idx: make(map[string]int)}
	merges := o.add(m, false)
	seen := map[*yaml.Node]bool{m: true}
	for _, mv := range merges {
		o.merge(mv, seen, 0)
	}
	return o
}

// merge adds the keys of the merge-key value n ("<<: *anchor" or
// "<<: [*a, *b]") that the object does not have yet.
func (o *object) merge(n *yaml.Node, seen map[*yaml.Node]bool, depth int) {
	d := o.d
	m := d.deref(n)
	if m == nil {
		return
	}
	switch {
	case m.Kind == yaml.SequenceNode && depth == 0:
		for _, c := range m.Content {
			o.merge(c, seen, depth+1)
		}
		return
	case m.Kind != yaml.MappingNode:
		o.later(d.pos(n), "merge key value must be a mapping or a list of mappings, not %s", kindName(m))
		return
	}
	if seen[m] {
		return
	}
	seen[m] = true
	for _, mv := range o.add(m, true) {
		o.merge(mv, seen, 0)
	}
}

// add adds the string-keyed pairs of mapping m to the object and returns
// the values of its merge keys ("<<"). A key the object already has is an
// error, or, if merged (m is the value of a merge key), left as it is.
func (o *object) add(m *yaml.Node, merged bool) []*yaml.Node {
	d := o.d
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := d.deref(m.Content[i]), m.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if !isScalar(k, "!!str") {
			o.later(d.pos(m.Content[i]), "key must be a string, not %s", kindName(k))
			continue
		}
		if _, dup := o.idx[k.Value]; dup {
			if !merged {
				o.later(d.pos(m.Content[i]), "duplicate key %q", k.Value)
			}
			continue
		}
		o.idx[k.Value] = len(o.pairs)
		o.pairs = append(o.pairs, pair{name: k.Value, key: m.Content[i], val: v})
	}
	return merges
}

// later records a problem with the mapping, reported by check as
// "<what>: <message>".
func (o *object) later(p Pos, format string, args ...any) {
	o.pending = append(o.pending, func() {
		o.d.errorf(p, "%s: %s", o.what, fmt.Sprintf(format, args...))
	})
}

// check reports the problems found reading the mapping, keys not in keys,
// and keys whose flavor is above the spec's.
func (o *object) check(keys keySet) {
	for _, f := range o.pending {
		f()
	}
	o.pending = nil
	for _, p := range o.pairs {
		fl, ok := keys[p.name]
		switch {
		case !ok:
			o.d.errorf(o.d.pos(p.key), "unknown key %q in %s", p.name, o.what)
		case fl > o.d.level:
			only := "genetlink-legacy only"
			if fl == flC {
				only = "genetlink-c and genetlink-legacy only"
			}
			o.d.errorf(o.d.pos(p.key), "key %q in %s is not allowed with protocol %s (%s)", p.name, o.what, o.d.proto, only)
		}
	}
}

// require reports missing keys.
func (o *object) require(keys ...string) {
	for _, k := range keys {
		if !o.has(k) {
			o.d.errorf(o.d.pos(o.node), "%s: missing required key %q", o.what, k)
		}
	}
}

func (o *object) has(key string) bool {
	_, ok := o.idx[key]
	return ok
}

// val returns the dereferenced value of key, or nil if absent.
func (o *object) val(key string) *yaml.Node {
	i, ok := o.idx[key]
	if !ok {
		return nil
	}
	return o.d.deref(o.pairs[i].val)
}

// raw returns the value of key as written (maybe an alias), or nil.
func (o *object) raw(key string) *yaml.Node {
	if i, ok := o.idx[key]; ok {
		return o.pairs[i].val
	}
	return nil
}

// keyPos returns the position of key itself.
func (o *object) keyPos(key string) Pos {
	if i, ok := o.idx[key]; ok {
		return o.d.pos(o.pairs[i].key)
	}
	return o.d.pos(o.node)
}

// vpos returns the position of the value of key as written.
func (o *object) vpos(key string) Pos {
	if i, ok := o.idx[key]; ok {
		return o.d.pos(o.pairs[i].val)
	}
	return o.d.pos(o.node)
}

// record sets the element's position and the positions of its known keys.
func (o *object) record(s *Source, keys keySet) {
	s.Pos = o.d.pos(o.node)
	for _, p := range o.pairs {
		if _, ok := keys[p.name]; ok {
			s.setKey(p.name, o.d.pos(p.val))
		}
	}
}

// typeErr reports that key has the wrong kind of value.
func (o *object) typeErr(key, want string, got *yaml.Node) {
	o.d.errorf(o.vpos(key), "%s: %q must be %s, not %s", o.what, key, want, kindName(got))
}

// str decodes a string value. ok is false if the key is absent or invalid.
func (o *object) str(key string) (s string, ok bool) {
	n := o.val(key)
	if n == nil {
		return "", false
	}
	if !isScalar(n, "!!str") {
		o.typeErr(key, "a string", n)
		return "", false
	}
	return n.Value, true
}

// setStr stores a string value in *dst if present and valid.
func (o *object) setStr(key string, dst *string) {
	if s, ok := o.str(key); ok {
		*dst = s
	}
}

// name decodes a name, checking the schema's name pattern if pattern is set.
func (o *object) name(key string, pattern bool) string {
	s, ok := o.str(key)
	if ok && pattern && !namePattern.MatchString(s) {
		o.d.errorf(o.vpos(key), "%s: %q value %q does not match %s", o.what, key, s, namePattern)
	}
	return s
}

// optName decodes a "[string, null]" value: nil when absent, "" for null.
// Null is only allowed when nullOK is set.
func (o *object) optName(key string, nullOK bool) *string {
	n := o.val(key)
	if n == nil {
		return nil
	}
	if isScalar(n, "!!null") {
		if !nullOK {
			o.d.errorf(o.vpos(key), "%s: %q must be a string with protocol %s, not null (null is allowed in genetlink-c and genetlink-legacy)", o.what, key, o.d.proto)
			return nil
		}
		s := ""
		return &s
	}
	if !isScalar(n, "!!str") {
		want := "a string"
		if nullOK {
			want = "a string or null"
		}
		o.typeErr(key, want, n)
		return nil
	}
	s := n.Value
	return &s
}

// boolean decodes a boolean value.
func (o *object) boolean(key string, dst *bool) {
	n := o.val(key)
	if n == nil {
		return
	}
	if !isScalar(n, "!!bool") {
		o.typeErr(key, "a boolean", n)
		return
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		o.d.errorf(o.vpos(key), "%s: %q: %v", o.what, key, err)
		return
	}
	*dst = b
}

// decodeInt decodes an integer scalar, which may not fit in an int64.
func decodeInt(n *yaml.Node) (Int, bool) {
	if !isScalar(n, "!!int") {
		return Int{}, false
	}
	var i int64
	if err := n.Decode(&i); err == nil {
		return IntOf(i), true
	}
	var u uint64
	if err := n.Decode(&u); err == nil {
		return UintOf(u), true
	}
	return Int{}, false
}

// integer decodes an integer value.
func (o *object) integer(key string) (Int, bool) {
	n := o.val(key)
	if n == nil {
		return Int{}, false
	}
	if !isScalar(n, "!!int") {
		o.typeErr(key, "an integer", n)
		return Int{}, false
	}
	v, ok := decodeInt(n)
	if !ok {
		o.d.errorf(o.vpos(key), "%s: %q value %s is out of range", o.what, key, n.Value)
	}
	return v, ok
}

// uint decodes a non-negative integer ($defs/uint) no larger than max.
func (o *object) uint(key string, max uint64) (uint64, bool) {
	v, ok := o.integer(key)
	if !ok {
		return 0, false
	}
	u, ok := v.Uint64()
	if !ok {
		o.d.errorf(o.vpos(key), "%s: %q must not be negative, got %s", o.what, key, v)
		return 0, false
	}
	if u > max {
		o.d.errorf(o.vpos(key), "%s: %q value %d is out of range (max %d)", o.what, key, u, max)
		return 0, false
	}
	return u, true
}

// enum decodes a string that must be one of allowed.
func (o *object) enum(key string, allowed []string) (string, bool) {
	s, ok := o.str(key)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	o.d.errorf(o.vpos(key), "%s: invalid %q value %q (want one of %s)", o.what, key, s, strings.Join(allowed, ", "))
	return "", false
}

// list decodes a sequence, returning its items as written.
func (o *object) list(key string) ([]*yaml.Node, bool) {
	n := o.val(key)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		o.typeErr(key, "a list", n)
		return nil, false
	}
	return n.Content, true
}

// strList decodes a list of strings, returning the strings and their
// positions. Items not in allowed (if non-nil) are reported.
func (o *object) strList(key string, allowed []string) ([]string, []Pos, bool) {
	items, ok := o.list(key)
	if !ok {
		return nil, nil, false
	}
	out := make([]string, 0, len(items))
	pos := make([]Pos, 0, len(items))
	for i, it := range items {
		n := o.d.deref(it)
		if n == nil {
			continue
		}
		if !isScalar(n, "!!str") {
			o.d.errorf(o.d.pos(it), "%s: %q item %d must be a string, not %s", o.what, key, i, kindName(n))
			continue
		}
		if allowed != nil && !contains(allowed, n.Value) {
			o.d.errorf(o.d.pos(it), "%s: invalid %q item %q (want one of %s)", o.what, key, n.Value, strings.Join(allowed, ", "))
			continue
		}
		out = append(out, n.Value)
		pos = append(pos, o.d.pos(it))
	}
	return out, pos, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

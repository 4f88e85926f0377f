package family

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"golang.org/x/sys/unix"
)

// An AttrType is the type of an attribute in a kernel policy
// (enum netlink_attribute_type, NL_ATTR_TYPE_*).
type AttrType uint32

// Policy attribute types. NL_ATTR_TYPE_UINT and NL_ATTR_TYPE_SINT are newer
// than golang.org/x/sys/unix, so their values come from linux/netlink.h.
const (
	TypeInvalid     AttrType = unix.NL_ATTR_TYPE_INVALID
	TypeFlag        AttrType = unix.NL_ATTR_TYPE_FLAG
	TypeU8          AttrType = unix.NL_ATTR_TYPE_U8
	TypeU16         AttrType = unix.NL_ATTR_TYPE_U16
	TypeU32         AttrType = unix.NL_ATTR_TYPE_U32
	TypeU64         AttrType = unix.NL_ATTR_TYPE_U64
	TypeS8          AttrType = unix.NL_ATTR_TYPE_S8
	TypeS16         AttrType = unix.NL_ATTR_TYPE_S16
	TypeS32         AttrType = unix.NL_ATTR_TYPE_S32
	TypeS64         AttrType = unix.NL_ATTR_TYPE_S64
	TypeBinary      AttrType = unix.NL_ATTR_TYPE_BINARY
	TypeString      AttrType = unix.NL_ATTR_TYPE_STRING
	TypeNulString   AttrType = unix.NL_ATTR_TYPE_NUL_STRING
	TypeNested      AttrType = unix.NL_ATTR_TYPE_NESTED
	TypeNestedArray AttrType = unix.NL_ATTR_TYPE_NESTED_ARRAY
	TypeBitfield32  AttrType = unix.NL_ATTR_TYPE_BITFIELD32
	TypeSint        AttrType = 16 // NL_ATTR_TYPE_SINT
	TypeUint        AttrType = 17 // NL_ATTR_TYPE_UINT
)

var attrTypeNames = [...]string{
	TypeInvalid: "invalid", TypeFlag: "flag", TypeU8: "u8", TypeU16: "u16", TypeU32: "u32",
	TypeU64: "u64", TypeS8: "s8", TypeS16: "s16", TypeS32: "s32", TypeS64: "s64",
	TypeBinary: "binary", TypeString: "string", TypeNulString: "nul-string",
	TypeNested: "nested", TypeNestedArray: "nested-array", TypeBitfield32: "bitfield32",
	TypeSint: "sint", TypeUint: "uint",
}

// String returns the type's name, as the kernel's YAML specs spell types
// where they have one ("u32", "nested", "nul-string").
func (t AttrType) String() string {
	if int(t) < len(attrTypeNames) && attrTypeNames[t] != "" {
		return attrTypeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// PolicyFields says which optional fields of an [AttrPolicy] the kernel sent.
type PolicyFields uint16

// Optional policy fields.
const (
	HasMinValueS PolicyFields = 1 << iota
	HasMaxValueS
	HasMinValueU
	HasMaxValueU
	HasMinLength
	HasMaxLength
	HasNested
	HasBitfield32Mask
	HasMask
)

// An AttrPolicy is the kernel's validation policy for one attribute.
type AttrPolicy struct {
	// Attr is the attribute type number the policy is for.
	Attr uint16
	// Type is the attribute's type.
	Type AttrType
	// Has says which of the fields below were reported.
	Has PolicyFields
	// MinValueS and MaxValueS bound a signed integer.
	MinValueS, MaxValueS int64
	// MinValueU and MaxValueU bound an unsigned integer.
	MinValueU, MaxValueU uint64
	// MinLength and MaxLength bound a binary or string payload.
	MinLength, MaxLength uint32
	// Nested is the policy of a nest's attributes (a nested array's
	// entries); NestedIndex is its index and NestedMaxType its highest
	// attribute type. Nested is nil when the kernel reported no policy.
	Nested        *AttrSetPolicy
	NestedIndex   uint32
	NestedMaxType uint32
	// Bitfield32Mask is the set of valid bits of a bitfield32.
	Bitfield32Mask uint32
	// Mask is the set of valid bits of an unsigned integer.
	Mask uint64
}

// An AttrSetPolicy is one policy table: the policies of the attributes that
// may appear together at one level, sorted by attribute type.
type AttrSetPolicy struct {
	// Index is the table's number within its [Policy].
	Index uint32
	// Attrs are the attribute policies, sorted by Attr.
	Attrs []AttrPolicy
}

// Attr returns the policy of attribute type t.
func (s *AttrSetPolicy) Attr(t uint16) (AttrPolicy, bool) {
	i, ok := slices.BinarySearchFunc(s.Attrs, t, func(a AttrPolicy, t uint16) int { return int(a.Attr) - int(t) })
	if !ok {
		return AttrPolicy{}, false
	}
	return s.Attrs[i], true
}

// An OpPolicy names the policy tables an operation validates its do and
// dump requests with. A nil table means the kernel reported none.
type OpPolicy struct {
	Op   uint32
	Do   *AttrSetPolicy
	Dump *AttrSetPolicy
}

// A Policy is a family's attribute validation policy as the kernel reports
// it (CTRL_CMD_GETPOLICY): per operation, the top-level table for do and for
// dump requests, and the nested tables they reference.
type Policy struct {
	// Family is the family the policy belongs to.
	Family string
	// Ops are the operations' tables, sorted by Op.
	Ops []OpPolicy
	// Sets are all tables, sorted by Index.
	Sets []*AttrSetPolicy
}

// Op returns the tables of operation cmd.
func (p *Policy) Op(cmd uint32) (OpPolicy, bool) {
	for _, o := range p.Ops {
		if o.Op == cmd {
			return o, true
		}
	}
	return OpPolicy{}, false
}

// Set returns table number idx.
func (p *Policy) Set(idx uint32) *AttrSetPolicy {
	for _, s := range p.Sets {
		if s.Index == idx {
			return s
		}
	}
	return nil
}

// String describes one attribute's policy on one line, for example
// "u32 range [1, 4294967295]" or "nested policy 9 maxattr 3".
func (a AttrPolicy) String() string {
	var b strings.Builder
	b.WriteString(a.Type.String())
	if a.Has&(HasMinValueS|HasMaxValueS) != 0 {
		fmt.Fprintf(&b, " range [%d, %d]", a.MinValueS, a.MaxValueS)
	}
	if a.Has&(HasMinValueU|HasMaxValueU) != 0 {
		fmt.Fprintf(&b, " range [%d, %d]", a.MinValueU, a.MaxValueU)
	}
	if a.Has&HasMinLength != 0 {
		fmt.Fprintf(&b, " min-len %d", a.MinLength)
	}
	if a.Has&HasMaxLength != 0 {
		fmt.Fprintf(&b, " max-len %d", a.MaxLength)
	}
	if a.Has&HasMask != 0 {
		fmt.Fprintf(&b, " mask %#x", a.Mask)
	}
	if a.Has&HasBitfield32Mask != 0 {
		fmt.Fprintf(&b, " bitfield32-mask %#x", a.Bitfield32Mask)
	}
	if a.Has&HasNested != 0 {
		fmt.Fprintf(&b, " policy %d maxattr %d", a.NestedIndex, a.NestedMaxType)
	}
	return b.String()
}

// Print writes the policy as an indented tree: each operation, its do and
// dump tables, and nested tables under the attribute that references them.
// opName, when not nil, names operations by command number.
func (p *Policy) Print(w io.Writer, opName func(uint32) string) error {
	pw := &printer{w: w}
	for _, o := range p.Ops {
		name := strconv.Itoa(int(o.Op))
		if opName != nil {
			if n := opName(o.Op); n != "" {
				name = n + " (" + name + ")"
			}
		}
		pw.printf("op %s\n", name)
		for _, k := range []struct {
			kind string
			set  *AttrSetPolicy
		}{{"do", o.Do}, {"dump", o.Dump}} {
			if k.set == nil {
				continue
			}
			pw.printf("  %s: policy %d\n", k.kind, k.set.Index)
			pw.set(k.set, 1, map[uint32]bool{})
		}
	}
	return pw.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) set(s *AttrSetPolicy, depth int, seen map[uint32]bool) {
	if seen[s.Index] {
		p.printf("%s(policy %d, recursive)\n", strings.Repeat("  ", depth+1), s.Index)
		return
	}
	seen[s.Index] = true
	defer delete(seen, s.Index)
	for _, a := range s.Attrs {
		p.printf("%sattr %d: %s\n", strings.Repeat("  ", depth+1), a.Attr, a)
		if a.Nested != nil {
			p.set(a.Nested, depth+1, seen)
		}
	}
}

// policyBuilder collects the messages of a GETPOLICY dump.
type policyBuilder struct {
	p    Policy
	sets map[uint32]*AttrSetPolicy
}

var policyAttrNames = []string{
	unix.NL_POLICY_TYPE_ATTR_TYPE:            "type",
	unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S:     "min-value-s",
	unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S:     "max-value-s",
	unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U:     "min-value-u",
	unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U:     "max-value-u",
	unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH:      "min-length",
	unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH:      "max-length",
	unix.NL_POLICY_TYPE_ATTR_POLICY_IDX:      "policy-idx",
	unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE:  "policy-maxtype",
	unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK: "bitfield32-mask",
	unix.NL_POLICY_TYPE_ATTR_PAD:             "pad",
	unix.NL_POLICY_TYPE_ATTR_MASK:            "mask",
}

var opPolicyAttrNames = []string{unix.CTRL_ATTR_POLICY_DO: "do", unix.CTRL_ATTR_POLICY_DUMP: "dump"}

// add decodes the attributes of one GETPOLICY reply message.
func (b *policyBuilder) add(msg []byte) error {
	if b.sets == nil {
		b.sets = make(map[uint32]*AttrSetPolicy)
	}
	d := attrs.NewDecoder(msg)
	d.SetNames(ctrlAttrNames)
	for d.Next() {
		switch d.Type() {
		case unix.CTRL_ATTR_FAMILY_NAME:
			b.p.Family = d.String()
		case unix.CTRL_ATTR_OP_POLICY:
			ops := d.Nested()
			for ops.Next() {
				op := OpPolicy{Op: uint32(ops.Type())}
				od := ops.Nested()
				od.SetNames(opPolicyAttrNames)
				for od.Next() {
					switch od.Type() {
					case unix.CTRL_ATTR_POLICY_DO:
						op.Do = b.set(od.U32())
					case unix.CTRL_ATTR_POLICY_DUMP:
						op.Dump = b.set(od.U32())
					}
				}
				b.p.Ops = append(b.p.Ops, op)
			}
		case unix.CTRL_ATTR_POLICY:
			sets := d.Nested()
			for sets.Next() {
				s := b.set(uint32(sets.Type()))
				ad := sets.Nested()
				for ad.Next() {
					a := AttrPolicy{Attr: ad.Type()}
					pd := ad.Nested()
					pd.SetNames(policyAttrNames)
					for pd.Next() {
						b.field(&pd, &a)
					}
					s.Attrs = append(s.Attrs, a)
				}
			}
		}
	}
	return d.Err()
}

func (b *policyBuilder) field(pd *attrs.Decoder, a *AttrPolicy) {
	switch pd.Type() {
	case unix.NL_POLICY_TYPE_ATTR_TYPE:
		a.Type = AttrType(pd.U32())
	case unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S:
		a.MinValueS, a.Has = pd.S64(), a.Has|HasMinValueS
	case unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S:
		a.MaxValueS, a.Has = pd.S64(), a.Has|HasMaxValueS
	case unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U:
		a.MinValueU, a.Has = pd.U64(), a.Has|HasMinValueU
	case unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
		a.MaxValueU, a.Has = pd.U64(), a.Has|HasMaxValueU
	case unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH:
		a.MinLength, a.Has = pd.U32(), a.Has|HasMinLength
	case unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH:
		a.MaxLength, a.Has = pd.U32(), a.Has|HasMaxLength
	case unix.NL_POLICY_TYPE_ATTR_POLICY_IDX:
		a.NestedIndex, a.Has = pd.U32(), a.Has|HasNested
		a.Nested = b.set(a.NestedIndex)
	case unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE:
		a.NestedMaxType = pd.U32()
	case unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK:
		a.Bitfield32Mask, a.Has = pd.U32(), a.Has|HasBitfield32Mask
	case unix.NL_POLICY_TYPE_ATTR_MASK:
		a.Mask, a.Has = pd.Uint(), a.Has|HasMask
	}
}

// set returns table idx, creating it on first reference.
func (b *policyBuilder) set(idx uint32) *AttrSetPolicy {
	if s, ok := b.sets[idx]; ok {
		return s
	}
	s := &AttrSetPolicy{Index: idx}
	b.sets[idx] = s
	return s
}

// policy sorts and returns the collected policy.
func (b *policyBuilder) policy() *Policy {
	for _, s := range b.sets {
		slices.SortFunc(s.Attrs, func(x, y AttrPolicy) int { return int(x.Attr) - int(y.Attr) })
		b.p.Sets = append(b.p.Sets, s)
	}
	slices.SortFunc(b.p.Sets, func(x, y *AttrSetPolicy) int { return cmpU32(x.Index, y.Index) })
	slices.SortStableFunc(b.p.Ops, func(x, y OpPolicy) int { return cmpU32(x.Op, y.Op) })
	p := b.p
	return &p
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

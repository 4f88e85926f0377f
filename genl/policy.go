package genl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"golang.org/x/sys/unix"
)

// An AttrType is the type of an attribute in a kernel validation policy
// (enum netlink_attribute_type, NL_ATTR_TYPE_*).
type AttrType uint32

// Policy attribute types. NL_ATTR_TYPE_SINT and NL_ATTR_TYPE_UINT are newer
// than golang.org/x/sys/unix, so their values come from linux/netlink.h.
const (
	AttrTypeInvalid     AttrType = unix.NL_ATTR_TYPE_INVALID
	AttrTypeFlag        AttrType = unix.NL_ATTR_TYPE_FLAG
	AttrTypeU8          AttrType = unix.NL_ATTR_TYPE_U8
	AttrTypeU16         AttrType = unix.NL_ATTR_TYPE_U16
	AttrTypeU32         AttrType = unix.NL_ATTR_TYPE_U32
	AttrTypeU64         AttrType = unix.NL_ATTR_TYPE_U64
	AttrTypeS8          AttrType = unix.NL_ATTR_TYPE_S8
	AttrTypeS16         AttrType = unix.NL_ATTR_TYPE_S16
	AttrTypeS32         AttrType = unix.NL_ATTR_TYPE_S32
	AttrTypeS64         AttrType = unix.NL_ATTR_TYPE_S64
	AttrTypeBinary      AttrType = unix.NL_ATTR_TYPE_BINARY
	AttrTypeString      AttrType = unix.NL_ATTR_TYPE_STRING
	AttrTypeNulString   AttrType = unix.NL_ATTR_TYPE_NUL_STRING
	AttrTypeNested      AttrType = unix.NL_ATTR_TYPE_NESTED
	AttrTypeNestedArray AttrType = unix.NL_ATTR_TYPE_NESTED_ARRAY
	AttrTypeBitfield32  AttrType = unix.NL_ATTR_TYPE_BITFIELD32
	AttrTypeSint        AttrType = 16 // NL_ATTR_TYPE_SINT
	AttrTypeUint        AttrType = 17 // NL_ATTR_TYPE_UINT
)

var attrTypeNames = [...]string{
	AttrTypeInvalid: "invalid", AttrTypeFlag: "flag", AttrTypeU8: "u8", AttrTypeU16: "u16",
	AttrTypeU32: "u32", AttrTypeU64: "u64", AttrTypeS8: "s8", AttrTypeS16: "s16",
	AttrTypeS32: "s32", AttrTypeS64: "s64", AttrTypeBinary: "binary", AttrTypeString: "string",
	AttrTypeNulString: "nul-string", AttrTypeNested: "nested", AttrTypeNestedArray: "nested-array",
	AttrTypeBitfield32: "bitfield32", AttrTypeSint: "sint", AttrTypeUint: "uint",
}

// String returns the type's name, as the kernel's YAML specs spell types
// where they have one ("u32", "nested", "nul-string"), or "type(N)".
func (t AttrType) String() string {
	if int(t) < len(attrTypeNames) && attrTypeNames[t] != "" {
		return attrTypeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// A Policy is the kernel's validation policy for one attribute, in the
// layout of NL_POLICY_TYPE_ATTR_* attributes that the kernel uses in two
// places: nlctrl's policy dump (CTRL_CMD_GETPOLICY, each attribute of a
// CTRL_ATTR_POLICY table) and an extended ACK's description of the rule a
// rejected attribute broke (NLMSGERR_ATTR_POLICY, see [Error]).
// [DecodePolicy] decodes both.
//
// Present has bit 1<<t set for each NL_POLICY_TYPE_ATTR_* type t the kernel
// sent; [Policy.Has] tests it. A field whose bit is clear is zero and means
// "no such bound", not "bound at zero".
type Policy struct {
	Present uint32
	// Type is the attribute's type.
	Type AttrType
	// MinValueS and MaxValueS bound a signed integer.
	MinValueS, MaxValueS int64
	// MinValueU and MaxValueU bound an unsigned integer.
	MinValueU, MaxValueU uint64
	// MinLength and MaxLength bound a binary or string payload.
	MinLength, MaxLength uint32
	// PolicyIdx is the index, within the same policy dump, of the table
	// that validates a nest's attributes (a nested array's entries), and
	// PolicyMaxType that table's highest attribute type.
	PolicyIdx, PolicyMaxType uint32
	// Bitfield32Mask is the set of valid bits of a bitfield32.
	Bitfield32Mask uint32
	// Mask is the set of valid bits of an unsigned integer.
	Mask uint64
}

// Has reports whether the policy attribute of type t (an
// unix.NL_POLICY_TYPE_ATTR_* value) was given.
func (p Policy) Has(t int) bool { return t >= 0 && t < 32 && p.Present&(1<<t) != 0 }

// String describes the policy on one line, such as
// "u32 range [1, 4294967295]", "nul-string max-len 15" or
// "nested policy 9 maxattr 3".
func (p Policy) String() string {
	var b strings.Builder
	b.WriteString(p.Type.String())
	if p.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S) || p.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S) {
		fmt.Fprintf(&b, " range [%d, %d]", p.MinValueS, p.MaxValueS)
	}
	if p.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U) || p.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U) {
		fmt.Fprintf(&b, " range [%d, %d]", p.MinValueU, p.MaxValueU)
	}
	if p.Has(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH) {
		fmt.Fprintf(&b, " min-len %d", p.MinLength)
	}
	if p.Has(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH) {
		fmt.Fprintf(&b, " max-len %d", p.MaxLength)
	}
	if p.Has(unix.NL_POLICY_TYPE_ATTR_MASK) {
		fmt.Fprintf(&b, " mask %#x", p.Mask)
	}
	if p.Has(unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK) {
		fmt.Fprintf(&b, " bitfield32-mask %#x", p.Bitfield32Mask)
	}
	if p.Has(unix.NL_POLICY_TYPE_ATTR_POLICY_IDX) {
		fmt.Fprintf(&b, " policy %d maxattr %d", p.PolicyIdx, p.PolicyMaxType)
	}
	return b.String()
}

// policyAttrNames names NL_POLICY_TYPE_ATTR_* types in decoding errors.
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

// DecodePolicy decodes one attribute's policy from the NL_POLICY_TYPE_ATTR_*
// attributes that d walks: the payload of an NLMSGERR_ATTR_POLICY nest, or
// of one attribute's nest in a CTRL_ATTR_POLICY table (pass the Decoder
// that Nested returns, so that errors carry the attribute path). Unknown
// attributes are skipped. A malformed attribute is recorded in d (see
// attrs.Decoder.Err), ends decoding and is left out of Present; what was
// decoded before it is kept. DecodePolicy allocates nothing on well-formed
// input.
func DecodePolicy(d *attrs.Decoder) Policy {
	var p Policy
	d.SetNames(policyAttrNames)
	for d.Next() {
		t := d.Type()
		switch t {
		case unix.NL_POLICY_TYPE_ATTR_TYPE:
			p.Type = AttrType(d.U32())
		case unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S:
			p.MinValueS = d.S64()
		case unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S:
			p.MaxValueS = d.S64()
		case unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U:
			p.MinValueU = d.U64()
		case unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
			p.MaxValueU = d.U64()
		case unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH:
			p.MinLength = d.U32()
		case unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH:
			p.MaxLength = d.U32()
		case unix.NL_POLICY_TYPE_ATTR_POLICY_IDX:
			p.PolicyIdx = d.U32()
		case unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE:
			p.PolicyMaxType = d.U32()
		case unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK:
			p.Bitfield32Mask = d.U32()
		case unix.NL_POLICY_TYPE_ATTR_MASK:
			p.Mask = d.Uint()
		default:
			continue
		}
		if d.Err() != nil {
			break
		}
		p.Present |= 1 << t
	}
	return p
}

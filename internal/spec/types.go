package spec

import (
	"math"
	"strconv"
)

// A Protocol is the schema flavour a spec is written in (its "protocol" key).
type Protocol string

// The supported protocols. Each allows everything the previous one does plus
// more keys (see the kernel's Documentation/netlink/genetlink*.yaml schemas),
// with a few value-level differences noted where they matter.
const (
	ProtocolGenetlink       Protocol = "genetlink"
	ProtocolGenetlinkC      Protocol = "genetlink-c"
	ProtocolGenetlinkLegacy Protocol = "genetlink-legacy"
)

// An AttrType is the netlink type of an attribute, of an attribute's
// sub-type, or of a struct member.
type AttrType string

// The attribute types known to the genetlink schemas. TypeBitfield32 is only
// valid in genetlink-legacy specs. Struct members only use the fixed-width
// integers, TypeString and TypeBinary.
const (
	TypeUnused        AttrType = "unused"
	TypePad           AttrType = "pad"
	TypeFlag          AttrType = "flag"
	TypeBinary        AttrType = "binary"
	TypeBitfield32    AttrType = "bitfield32"
	TypeUint          AttrType = "uint"
	TypeSint          AttrType = "sint"
	TypeU8            AttrType = "u8"
	TypeU16           AttrType = "u16"
	TypeU32           AttrType = "u32"
	TypeU64           AttrType = "u64"
	TypeS8            AttrType = "s8"
	TypeS16           AttrType = "s16"
	TypeS32           AttrType = "s32"
	TypeS64           AttrType = "s64"
	TypeString        AttrType = "string"
	TypeNest          AttrType = "nest"
	TypeIndexedArray  AttrType = "indexed-array"
	TypeNestTypeValue AttrType = "nest-type-value"
)

// IsInteger reports whether t is an integer type: fixed-width (u8..s64) or
// variable-width (uint, sint).
func (t AttrType) IsInteger() bool {
	switch t {
	case TypeUint, TypeSint, TypeU8, TypeU16, TypeU32, TypeU64, TypeS8, TypeS16, TypeS32, TypeS64:
		return true
	}
	return false
}

// IsSigned reports whether t is a signed integer type.
func (t AttrType) IsSigned() bool {
	switch t {
	case TypeSint, TypeS8, TypeS16, TypeS32, TypeS64:
		return true
	}
	return false
}

// Fits reports whether the integer type t can hold v.
func (t AttrType) Fits(v int64) bool {
	n := t.FixedSize()
	if !t.IsInteger() {
		return false
	}
	if n < 0 || n == 8 { // uint, sint, u64, s64
		return t.IsSigned() || v >= 0
	}
	bits := 8 * n
	if t.IsSigned() {
		return v >= -1<<(bits-1) && v < 1<<(bits-1)
	}
	return v >= 0 && v < 1<<bits
}

// FixedSize returns the payload size in bytes of the fixed-size types
// (1, 2, 4 or 8 for u8..s64, 8 for bitfield32, 0 for flag) and -1 for types
// whose size varies (uint and sint are 4 or 8 bytes on the wire; binary,
// string and nested types depend on their content).
func (t AttrType) FixedSize() int {
	switch t {
	case TypeU8, TypeS8:
		return 1
	case TypeU16, TypeS16:
		return 2
	case TypeU32, TypeS32:
		return 4
	case TypeU64, TypeS64, TypeBitfield32:
		return 8
	case TypeFlag:
		return 0
	}
	return -1
}

var attrTypes = []string{
	"unused", "pad", "flag", "binary", "bitfield32",
	"uint", "sint", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
	"string", "nest", "indexed-array", "nest-type-value",
}

var memberTypes = []string{"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "string", "binary"}

// A ByteOrder is the byte order of an integer attribute or member. The zero
// value means host byte order.
type ByteOrder string

// The byte orders; ByteOrderHost is the default when "byte-order" is absent.
const (
	ByteOrderHost   ByteOrder = ""
	ByteOrderLittle ByteOrder = "little-endian"
	ByteOrderBig    ByteOrder = "big-endian"
)

var byteOrders = []string{"little-endian", "big-endian"}

// A DisplayHint suggests how to format a value for humans; it does not
// change the encoding. The zero value means no hint.
type DisplayHint string

// The display hints allowed by the schemas.
const (
	HintNone     DisplayHint = ""
	HintHex      DisplayHint = "hex"
	HintMAC      DisplayHint = "mac"
	HintFDDI     DisplayHint = "fddi"
	HintIPv4     DisplayHint = "ipv4"
	HintIPv6     DisplayHint = "ipv6"
	HintIPv4OrV6 DisplayHint = "ipv4-or-v6"
	HintUUID     DisplayHint = "uuid"
)

var displayHints = []string{"hex", "mac", "fddi", "ipv4", "ipv6", "ipv4-or-v6", "uuid"}

// A DefType is the kind of a definition.
type DefType string

// The definition kinds. DefStruct is only valid in genetlink-legacy specs.
const (
	DefConst  DefType = "const"
	DefEnum   DefType = "enum"
	DefFlags  DefType = "flags"
	DefStruct DefType = "struct"
)

// A Scope says where a definition is rendered in C ("scope" key).
type Scope string

// The scopes; ScopeUAPI is the default.
const (
	ScopeUAPI   Scope = "uapi"
	ScopeKernel Scope = "kernel"
	ScopeUser   Scope = "user"
)

var scopes = []string{"uapi", "kernel", "user"}

// A KernelPolicy says how the kernel's input policy is organised
// (genetlink-legacy "kernel-policy" key).
type KernelPolicy string

// The kernel policies; KernelPolicySplit is the default.
const (
	KernelPolicySplit  KernelPolicy = "split"
	KernelPolicyPerOp  KernelPolicy = "per-op"
	KernelPolicyGlobal KernelPolicy = "global"
)

var kernelPolicies = []string{"split", "per-op", "global"}

// An EnumModel is the way operation (command) values are assigned.
type EnumModel string

// The enum models; EnumModelUnified is the default. EnumModelDirectional is
// only valid in genetlink-legacy specs.
const (
	// EnumModelUnified: requests, replies and notifications of an operation
	// share one value; values count from 1 in list order, an explicit
	// "value" restarts the count.
	EnumModelUnified EnumModel = "unified"
	// EnumModelDirectional: messages to the kernel and messages from the
	// kernel are numbered separately (see Op.RequestValue).
	EnumModelDirectional EnumModel = "directional"
)

// An OpFlag is a flag of an operation or multicast group.
type OpFlag string

// The operation flags. genetlink-c specs only allow OpFlagAdminPerm.
const (
	OpFlagAdminPerm    OpFlag = "admin-perm"
	OpFlagUnsAdminPerm OpFlag = "uns-admin-perm"
)

// A DontValidate is a kernel validation flag of an operation
// ("dont-validate" key).
type DontValidate string

// The dont-validate flags.
const (
	DontValidateStrict     DontValidate = "strict"
	DontValidateDump       DontValidate = "dump"
	DontValidateDumpStrict DontValidate = "dump-strict"
)

var dontValidates = []string{"strict", "dump", "dump-strict"}

// An Int is an integer from a spec. It holds any value from math.MinInt64 to
// math.MaxUint64, enough for every limit ("s64-min", "u64-max") and
// constant. The zero value is 0.
type Int struct {
	neg bool   // value < 0
	abs uint64 // magnitude
}

// IntOf returns v as an Int.
func IntOf(v int64) Int {
	if v < 0 {
		return Int{neg: true, abs: uint64(-(v + 1)) + 1}
	}
	return Int{abs: uint64(v)}
}

// UintOf returns v as an Int.
func UintOf(v uint64) Int { return Int{abs: v} }

// Sign returns -1, 0 or 1.
func (i Int) Sign() int {
	switch {
	case i.neg:
		return -1
	case i.abs == 0:
		return 0
	}
	return 1
}

// Int64 returns the value as an int64 and whether it fits.
func (i Int) Int64() (int64, bool) {
	if i.neg {
		if i.abs > 1<<63 {
			return 0, false
		}
		return -int64(i.abs-1) - 1, true
	}
	if i.abs > math.MaxInt64 {
		return 0, false
	}
	return int64(i.abs), true
}

// Uint64 returns the value as a uint64 and whether it fits (it is not negative).
func (i Int) Uint64() (uint64, bool) {
	if i.neg {
		return 0, false
	}
	return i.abs, true
}

// Cmp compares i and j, returning -1, 0 or 1.
func (i Int) Cmp(j Int) int {
	switch {
	case i.neg && !j.neg:
		return -1
	case !i.neg && j.neg:
		return 1
	case i.abs == j.abs:
		return 0
	case (i.abs < j.abs) != i.neg:
		return -1
	}
	return 1
}

// String formats the value in decimal.
func (i Int) String() string {
	s := strconv.FormatUint(i.abs, 10)
	if i.neg {
		return "-" + s
	}
	return s
}

// sub1 returns i-1 and whether the result is in range.
func (i Int) sub1() (Int, bool) {
	switch {
	case i.neg:
		if i.abs == 1<<63 {
			return Int{}, false
		}
		return Int{neg: true, abs: i.abs + 1}, true
	case i.abs == 0:
		return Int{neg: true, abs: 1}, true
	}
	return Int{abs: i.abs - 1}, true
}

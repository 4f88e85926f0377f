package family

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// A Descriptor describes a family's messages as its YAML spec does: names,
// values, types and nesting, facts only. Generated family packages compile
// one in and [Register] it, so that tools (the genlkit CLI) can encode and
// decode the family's messages as JSON with no spec file on the machine;
// tools build one from a spec file for families not compiled in.
//
// A Descriptor is plain data: references between its parts are by name.
type Descriptor struct {
	// Name is the family name the kernel registers ("netdev").
	Name string
	// Protocol is the spec's protocol: genetlink, genetlink-c or
	// genetlink-legacy.
	Protocol string
	// Version is the family version requests carry.
	Version uint8
	// Header names the struct of the family's fixed header, "" for none.
	Header string
	// Ops are the operations, in spec order.
	Ops []OpDesc
	// Sets are the attribute sets, in spec order.
	Sets []SetDesc
	// Enums are the enum and flags definitions.
	Enums []EnumDesc
	// Structs are the fixed-layout struct definitions.
	Structs []StructDesc
	// SubMessages are the sub-message definitions.
	SubMessages []SubMessageDesc
	// Groups are the multicast group names the spec declares.
	Groups []string

	once    sync.Once
	ops     map[string]*OpDesc
	sets    map[string]*SetDesc
	enums   map[string]*EnumDesc
	structs map[string]*StructDesc
	subs    map[string]*SubMessageDesc
}

// An OpDesc describes one operation.
type OpDesc struct {
	Name string
	// Value is the command number of requests; ReplyValue that of replies
	// and notifications (they differ only in families with directional
	// command numbers, such as ethtool).
	Value, ReplyValue uint8
	// Set names the attribute set of the op's messages.
	Set string
	// Header names the struct of the op's fixed header, "" for the family's.
	Header string
	// Do and Dump describe the op's do and dump forms; nil when absent.
	Do, Dump *OpMsgDesc
	// Notify is true for an op that is a notification (its messages come
	// only from the kernel, on Group); Event is true for an event, whose
	// attributes are EventAttrs.
	Notify, Event bool
	EventAttrs    []string
	// Group names the multicast group notifications of this op arrive on.
	Group string
	// Flags are the op's spec flags ("admin-perm", "uns-admin-perm").
	Flags []string
}

// An OpMsgDesc lists the attributes of the request and reply of one form
// (do or dump) of an operation, with their command numbers (a form may
// override the op's). HasReply is false when the kernel answers with an
// ACK only.
type OpMsgDesc struct {
	Request      []string
	Reply        []string
	HasReply     bool
	RequestValue uint8
	ReplyValue   uint8
}

// A SetDesc describes an attribute set.
type SetDesc struct {
	Name  string
	Attrs []AttrDesc
}

// An AttrDesc describes one attribute.
type AttrDesc struct {
	Name  string
	Value uint16
	// Type is the spec's type: u8…u64, s8…s64, uint, sint, string, binary,
	// flag, bitfield32, nest, indexed-array, nest-type-value, sub-message,
	// pad or unused.
	Type string
	// Nested names the set of a nest's attributes (or of an array's
	// entries).
	Nested string
	// SubType is the type of an indexed array's entries.
	SubType string
	// Multi is true for an attribute that may repeat (multi-attr, from the
	// spec or the project overlay).
	Multi bool
	// Ordered is true for a nest whose attributes form a list in wire order
	// where any of them may repeat (project overlay: openvswitch actions).
	// Tools show it as a list of one-attribute objects.
	Ordered bool
	// BigEndian is true for integers in network byte order.
	BigEndian bool
	// Hint is the spec's display-hint: hex, mac, fddi, ipv4, ipv6, uuid.
	Hint string
	// Enum names the enum or flags definition of an integer's values;
	// EnumAsFlags is true when the value is a mask of enum entries.
	Enum        string
	EnumAsFlags bool
	// TableEnum names an enum (added by the project overlay) whose names
	// tools show people for the attribute's values, where JSON keeps the
	// numbers (Enum is empty then).
	TableEnum string
	// Struct names the struct layout of a binary attribute.
	Struct string
	// Selector names the sibling attribute whose value picks the format
	// of a sub-message; SubMessage names the sub-message definition.
	Selector, SubMessage string
	// TypeValue lists the meaning of the nested types of a nest-type-value.
	TypeValue []string
	// Checks are the spec's validation rules, nil when there are none.
	Checks *ChecksDesc
}

// ChecksDesc holds an attribute's validation rules from its spec.
type ChecksDesc struct {
	Min, Max                 Limit
	MinLen, MaxLen, ExactLen Limit
	// FlagsMask names the flags definition whose mask bounds the value.
	FlagsMask string
	// UnterminatedOK is true for strings that may lack their NUL.
	UnterminatedOK bool
}

// A Limit is an optional integer bound from s64-min to u64-max.
type Limit struct {
	Set bool
	Neg bool   // the value is -Abs
	Abs uint64 // the magnitude
}

// Int64 returns the limit as an int64, saturating.
func (l Limit) Int64() int64 {
	switch {
	case l.Neg && l.Abs > 1<<63:
		return -1 << 63
	case l.Neg:
		return -int64(l.Abs)
	case l.Abs > 1<<63-1:
		return 1<<63 - 1
	}
	return int64(l.Abs)
}

// String formats the limit in decimal, "" when unset.
func (l Limit) String() string {
	switch {
	case !l.Set:
		return ""
	case l.Neg:
		return "-" + strconv.FormatUint(l.Abs, 10)
	}
	return strconv.FormatUint(l.Abs, 10)
}

// An EnumDesc describes an enum or flags definition.
type EnumDesc struct {
	Name string
	// Flags is true when the values are bit masks.
	Flags   bool
	Entries []EnumEntry
}

// An EnumEntry is one named value of an enum (a mask for flags).
type EnumEntry struct {
	Name  string
	Value uint64
	// Text is what the family's own tools print for the value (ethtool's
	// "Twisted Pair" for port "tp"), where the project overlay says; tables
	// show it instead of Name.
	Text string
}

// A StructDesc describes a fixed-layout struct.
type StructDesc struct {
	Name    string
	Members []MemberDesc
}

// A MemberDesc describes one member of a struct.
type MemberDesc struct {
	Name string
	// Type is the member's type: u8…u64, s8…s64, binary, string or pad.
	Type string
	// Len is the size in bytes of binary, string and pad members.
	Len       int
	BigEndian bool
	Hint      string
	Enum      string
	// Struct names the layout of a binary member that is itself a struct.
	Struct string
}

// A SubMessageDesc describes a sub-message: formats chosen by the value of
// a selector attribute.
type SubMessageDesc struct {
	Name    string
	Formats []FormatDesc
}

// A FormatDesc is one format of a sub-message: for selector value Value,
// the payload is attributes of Set, or the fixed struct Header, or both.
type FormatDesc struct {
	Value  string
	Set    string
	Header string
}

func (d *Descriptor) index() {
	d.once.Do(func() {
		d.ops = make(map[string]*OpDesc, len(d.Ops))
		for i := range d.Ops {
			d.ops[d.Ops[i].Name] = &d.Ops[i]
		}
		d.sets = make(map[string]*SetDesc, len(d.Sets))
		for i := range d.Sets {
			d.sets[d.Sets[i].Name] = &d.Sets[i]
		}
		d.enums = make(map[string]*EnumDesc, len(d.Enums))
		for i := range d.Enums {
			d.enums[d.Enums[i].Name] = &d.Enums[i]
		}
		d.structs = make(map[string]*StructDesc, len(d.Structs))
		for i := range d.Structs {
			d.structs[d.Structs[i].Name] = &d.Structs[i]
		}
		d.subs = make(map[string]*SubMessageDesc, len(d.SubMessages))
		for i := range d.SubMessages {
			d.subs[d.SubMessages[i].Name] = &d.SubMessages[i]
		}
	})
}

// Op returns the operation called name, or nil.
func (d *Descriptor) Op(name string) *OpDesc { d.index(); return d.ops[name] }

// Set returns the attribute set called name, or nil.
func (d *Descriptor) Set(name string) *SetDesc { d.index(); return d.sets[name] }

// Enum returns the enum or flags definition called name, or nil.
func (d *Descriptor) Enum(name string) *EnumDesc { d.index(); return d.enums[name] }

// Struct returns the struct definition called name, or nil.
func (d *Descriptor) Struct(name string) *StructDesc { d.index(); return d.structs[name] }

// SubMessage returns the sub-message definition called name, or nil.
func (d *Descriptor) SubMessage(name string) *SubMessageDesc { d.index(); return d.subs[name] }

// Attr returns the attribute called name, or nil.
func (s *SetDesc) Attr(name string) *AttrDesc {
	for i := range s.Attrs {
		if s.Attrs[i].Name == name {
			return &s.Attrs[i]
		}
	}
	return nil
}

// AttrByValue returns the attribute with type number v, or nil.
func (s *SetDesc) AttrByValue(v uint16) *AttrDesc {
	for i := range s.Attrs {
		if s.Attrs[i].Value == v {
			return &s.Attrs[i]
		}
	}
	return nil
}

var registry struct {
	sync.RWMutex
	m map[string]*Descriptor
}

// Register makes d available to [Lookup] and [Descriptors]. Generated
// family packages call it from init. Registering a second descriptor with
// the same name panics: two packages claim one family.
func Register(d *Descriptor) {
	registry.Lock()
	defer registry.Unlock()
	if registry.m == nil {
		registry.m = make(map[string]*Descriptor)
	}
	if _, dup := registry.m[d.Name]; dup {
		panic(fmt.Sprintf("family: descriptor for %q registered twice", d.Name))
	}
	registry.m[d.Name] = d
}

// Lookup returns the registered descriptor of the family called name.
func Lookup(name string) (*Descriptor, bool) {
	registry.RLock()
	defer registry.RUnlock()
	d, ok := registry.m[name]
	return d, ok
}

// Descriptors returns every registered descriptor, sorted by name.
func Descriptors() []*Descriptor {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]*Descriptor, 0, len(registry.m))
	for _, d := range registry.m {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Descriptor) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

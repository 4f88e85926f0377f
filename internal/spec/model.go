package spec

// A Source records where a model element was written: the position of the
// element itself and of the value of each key written for it. Every model
// element embeds a Source.
type Source struct {
	Pos  Pos
	keys map[string]Pos
}

// Has reports whether key was written for the element in the spec (for an
// attribute of a subset, in the subset or in the parent set).
func (s *Source) Has(key string) bool {
	_, ok := s.keys[key]
	return ok
}

// KeyPos returns the position of the value of key, or the position of the
// element if the key was not written.
func (s *Source) KeyPos(key string) Pos {
	if p, ok := s.keys[key]; ok {
		return p
	}
	return s.Pos
}

func (s *Source) setKey(key string, p Pos) {
	if s.keys == nil {
		s.keys = make(map[string]Pos)
	}
	s.keys[key] = p
}

// A Family is a generic netlink family as described by one spec file.
// Everything reachable from a Family returned by Load or Parse is resolved:
// implicit values are numbered, subsets are merged with their parent sets,
// and every reference by name has a matching pointer field set.
type Family struct {
	Source
	Path    string // path given to Load, or name given to Parse
	License string // SPDX license expression from the first line, if any

	Name       string   // family name registered with the kernel ("name" key)
	Protocol   Protocol // schema flavour; ProtocolGenetlink when absent
	Doc        string
	Version    uint8  // family version; 1 when the spec has none
	VersionSet bool   // the spec has a "version" key
	UAPIHeader string // "uapi-header", or the default "linux/<name>.h"

	// genetlink-c keys, for C code generation.
	CFamilyName  string // "c-family-name": define holding the family name
	CVersionName string // "c-version-name": define holding the version
	MaxByDefine  bool   // "max-by-define"
	CmdMaxName   string // "cmd-max-name"
	CmdCntName   string // "cmd-cnt-name"

	KernelPolicy KernelPolicy  // KernelPolicySplit when absent
	KernelFamily *KernelFamily // "kernel-family", nil when absent

	Definitions     []*Definition
	AttributeSets   []*AttributeSet
	Operations      *Operations
	MulticastGroups []*MulticastGroup // "mcast-groups" list

	// Warnings lists oddities that the kernel's YNL tooling accepts and
	// this package tolerates (e.g. an attribute listed twice in a subset).
	Warnings ErrorList

	defs   map[string]*Definition
	sets   map[string]*AttributeSet
	ops    map[string]*Op
	mcgrps map[string]*MulticastGroup

	overlay       string   // overlay file applied, or ""
	overlayMisses []string // overlay entries naming nothing in the spec
}

// Definition returns the definition (const, enum, flags or struct) named
// name, or nil.
func (f *Family) Definition(name string) *Definition { return f.defs[name] }

// AttributeSet returns the attribute set named name, or nil.
func (f *Family) AttributeSet(name string) *AttributeSet { return f.sets[name] }

// Op returns the operation named name, or nil.
func (f *Family) Op(name string) *Op { return f.ops[name] }

// McastGroup returns the multicast group named name, or nil.
func (f *Family) McastGroup(name string) *MulticastGroup { return f.mcgrps[name] }

// OpByRequestValue returns the operation whose requests (messages to the
// kernel) use command value v, or nil.
func (f *Family) OpByRequestValue(v uint8) *Op {
	for _, op := range f.Operations.List {
		if op.HasRequestValue && op.RequestValue == v {
			return op
		}
	}
	return nil
}

// OpsByReplyValue returns the operations having a message from the kernel
// (a do or dump reply, or a notification) with command value v, in list
// order. With the directional enum model several operations can share a
// reply value (devlink's "port-get" dump replies use the value of "get").
func (f *Family) OpsByReplyValue(v uint8) []*Op {
	var out []*Op
	for _, op := range f.Operations.List {
		for _, m := range op.fromKernel() {
			if m.HasValue && m.Value == v {
				out = append(out, op)
				break
			}
		}
	}
	return out
}

// A KernelFamily holds the "kernel-family" options, used for kernel C code
// generation.
type KernelFamily struct {
	Source
	Headers  []string
	SockPriv string
}

// A Definition is an element of "definitions": a const, an enum, a set of
// flags or a struct. Which fields are meaningful depends on Type.
type Definition struct {
	Source
	Name       string
	Type       DefType
	Doc        string
	Header     string // C header already defining it; it is not rendered
	Scope      Scope  // ScopeUAPI when absent
	NamePrefix string // "name-prefix" (genetlink-c and later)

	// Const: the value is either an integer (Value) or a string (StringValue).
	Value       Int
	StringValue string
	IsString    bool

	// Enum and flags.
	ValueStart  int64    // "value-start" resolved; 0 when absent
	Entries     []*Entry // with resolved values
	RenderMax   bool
	EnumName    *string // "enum-name": nil when absent, "" for no name (null or empty)
	EnumCntName string

	// Struct (genetlink-legacy).
	Members []*Member // with resolved sizes and offsets
	Size    int       // packed size in bytes: the sum of the member sizes

	// NumbersInJSON is set by the project overlay for enums the spec does
	// not have: tools print the attribute's values as numbers in JSON, as
	// YNL does, and as names only for people (tables) and in Go.
	NumbersInJSON bool

	entries map[string]*Entry
	start   *Bound // "value-start" as written
}

// Entry returns the enum or flags entry named name, or nil.
func (d *Definition) Entry(name string) *Entry { return d.entries[name] }

// A NamedValue is a name with an integer value, e.g. an enum entry.
type NamedValue struct {
	Name  string
	Value Int
	Doc   string
}

// Values returns the names and values of an enum's or flags' entries in
// spec order: for an enum the entry values, for flags the masks 1<<bit.
func (d *Definition) Values() []NamedValue {
	out := make([]NamedValue, len(d.Entries))
	for i, e := range d.Entries {
		v := IntOf(e.Value)
		if d.Type == DefFlags {
			v = UintOf(e.Mask())
		}
		out[i] = NamedValue{Name: e.Name, Value: v, Doc: e.Doc}
	}
	return out
}

// FlagValues returns the entries as masks (1<<value) in spec order: the
// values of an enum used with "enum-as-flags", or of flags.
func (d *Definition) FlagValues() []NamedValue {
	out := make([]NamedValue, len(d.Entries))
	for i, e := range d.Entries {
		out[i] = NamedValue{Name: e.Name, Value: UintOf(e.Mask()), Doc: e.Doc}
	}
	return out
}

// Mask returns the OR of the masks of all entries (see FlagValues).
func (d *Definition) Mask() uint64 {
	var m uint64
	for _, e := range d.Entries {
		m |= e.Mask()
	}
	return m
}

// An Entry is an entry of an enum or flags definition.
type Entry struct {
	Source
	Name string
	Doc  string
	// Text is what the family's own tools print for the value, where the
	// project overlay says (its entries' "text"); "" otherwise.
	Text string
	// Value is the entry's resolved value as the spec numbers it: for an enum
	// the value itself, for flags the bit number. Implicit values continue
	// from the previous entry (+1) or start at the definition's ValueStart.
	Value int64
}

// Mask returns 1<<Value, the value of a flags entry (0 if Value is not a bit
// number from 0 to 63).
func (e *Entry) Mask() uint64 {
	if e.Value < 0 || e.Value > 63 {
		return 0
	}
	return 1 << uint(e.Value)
}

// A Member is a member of a struct definition. Structs are packed: the
// spec lists explicit padding members where C would insert padding.
type Member struct {
	Source
	Name        string
	Type        AttrType // u8..s64, string or binary
	Len         *Bound   // "len" for string and binary members, nil if absent
	ByteOrder   ByteOrder
	Doc         string
	Enum        string      // name of an enum or flags definition, or ""
	EnumDef     *Definition // resolved Enum
	DisplayHint DisplayHint
	Struct      string      // for binary members: name of a nested struct, or ""
	StructDef   *Definition // resolved Struct
	Offset      int         // byte offset in the struct
	Size        int         // byte size
}

// A Bound is a number written in a spec as an integer, as the name of a
// const definition optionally followed by " - 1" (len-or-define), or as a
// type limit such as "u32-max" or "s8-min" (len-or-limit).
type Bound struct {
	Pos   Pos
	Raw   string // as written, e.g. "16", "wg-key-len", "u32-max", "foo - 1"
	Const string // name of the const definition used, or ""
	Limit string // the type limit used ("u32-max"), or ""
	Value Int    // the resolved value

	resolved bool
}

// An AttributeSet is an attribute space: the attributes of a message or of
// a nest. A subset (SubsetOf != "") lists some attributes of its parent set;
// its attributes are complete, merged with the parent's.
type AttributeSet struct {
	Source
	Name        string
	NamePrefix  string  // C enum prefix; subsets inherit their parent's
	EnumName    *string // nil when absent, "" for no name (null or empty)
	Doc         string
	SubsetOf    string        // name of the parent set, or ""
	Parent      *AttributeSet // resolved SubsetOf
	AttrCntName string        // genetlink-c and later
	AttrMaxName string        // genetlink-c and later
	Header      string        // genetlink-c and later
	Attributes  []*Attribute  // in spec order

	byName  map[string]*Attribute
	byValue map[uint16]*Attribute
}

// Attribute returns the attribute named name, or nil.
func (s *AttributeSet) Attribute(name string) *Attribute { return s.byName[name] }

// ByValue returns the attribute with type value v, or nil.
func (s *AttributeSet) ByValue(v uint16) *Attribute { return s.byValue[v] }

// IsSubset reports whether the set is a subset of another set.
func (s *AttributeSet) IsSubset() bool { return s.SubsetOf != "" }

// Root returns the set that defines the set's attribute values: the set
// itself, or for a subset the first ancestor that is not a subset.
func (s *AttributeSet) Root() *AttributeSet {
	r := s
	for i := 0; r.Parent != nil && i < 1000; i++ {
		r = r.Parent
	}
	return r
}

// MaxValue returns the largest attribute value of the set (0 if empty).
func (s *AttributeSet) MaxValue() uint16 {
	var m uint16
	for _, a := range s.Attributes {
		m = max(m, a.Value)
	}
	return m
}

// An Attribute is an attribute of an attribute set. For attributes of a
// subset every field is merged: the parent's value, overridden by what the
// subset writes.
type Attribute struct {
	Source
	Set   *AttributeSet // the set the attribute belongs to
	Name  string
	Type  AttrType
	Value uint16 // explicit, or counted from 1 / the previous attribute's value + 1
	Doc   string

	TypeValue        []string // "type-value" (nest-type-value)
	ByteOrder        ByteOrder
	MultiAttr        bool
	NestedAttributes string        // name of the set used inside a nest, or ""
	Nested           *AttributeSet // resolved NestedAttributes
	SubType          AttrType      // element type of indexed-array or binary arrays, or ""
	Enum             string        // name of an enum or flags definition, or ""
	EnumDef          *Definition   // resolved Enum
	EnumAsFlags      bool
	Checks           *Checks // nil when the attribute has no checks
	DisplayHint      DisplayHint
	NamePrefix       string      // genetlink-c and later
	Struct           string      // genetlink-legacy: struct carried by a binary attribute
	StructDef        *Definition // resolved Struct

	Parent *Attribute // for attributes of a subset: the attribute in the parent set

	// Ordered is set by the project overlay for a nest whose attributes
	// form a list in wire order (openvswitch actions): the kernel acts on
	// them in order and any of them may repeat.
	Ordered bool
	// Overlaid reports that the project overlay changed the attribute
	// (MultiAttr, Ordered, Enum, ByteOrder or DisplayHint).
	Overlaid bool
	// OverlayWire reports that the project overlay set ByteOrder or
	// DisplayHint.
	OverlayWire bool
}

// Checks are the kernel input validation rules of an attribute ("checks").
// Absent bounds are nil.
type Checks struct {
	Source
	Min, Max                 *Bound // len-or-limit: integer, const name or type limit
	MinLen, MaxLen, ExactLen *Bound // len-or-define: integer or const name, optionally " - 1"
	FlagsMask                string // name of a flags (or enum) definition, or ""
	FlagsMaskDef             *Definition
	UnterminatedOK           bool // genetlink-c and later
}

// Operations holds the "operations" section of a spec.
type Operations struct {
	Source
	EnumModel      EnumModel // EnumModelUnified when absent
	NamePrefix     string
	EnumName       *string // nil when absent, "" for no name (null or empty)
	AsyncPrefix    string
	AsyncEnum      *string     // nil when absent, "" for no name (null or empty)
	FixedHeader    string      // genetlink-legacy: default fixed header struct, or ""
	FixedHeaderDef *Definition // resolved FixedHeader
	List           []*Op
}

// An Op is an operation (command): a request/reply exchange (do and/or
// dump), a notification (notify, event), or a reserved value (none of
// those, unified enum model only).
//
// Command values: with the unified model RequestValue and ReplyValue are
// equal and always set. With the directional model a do/dump operation has
// a request value and, if its do (or, without do, its dump) has a reply, a
// reply value; notifications only have a reply value. Individual messages
// may override the operation's values (see Message.Value).
type Op struct {
	Source
	Name            string
	Doc             string
	RequestValue    uint8 // command value of messages to the kernel
	HasRequestValue bool
	ReplyValue      uint8 // command value of messages from the kernel
	HasReplyValue   bool

	AttributeSet   string        // "attribute-set" as written, or ""
	Set            *AttributeSet // the op's attribute set; for notify without attribute-set, the notified op's; nil for reserved ops
	Flags          []OpFlag
	DontValidate   []DontValidate
	ConfigCond     string
	FixedHeader    string      // the op's fixed header, else the operations' default, else ""
	FixedHeaderDef *Definition // resolved FixedHeader

	Do       *Mode
	Dump     *Mode
	Notify   string   // name of the op whose reply format this notification uses, or ""
	NotifyOp *Op      // resolved Notify
	Event    *Message // explicit notification attributes, or nil
	Mcgrp    string   // multicast group the notification is sent to, or ""
	McastGrp *MulticastGroup

	value uint8 // explicit "value"
}

// IsCall reports whether the op has a do or dump handler.
func (o *Op) IsCall() bool { return o.Do != nil || o.Dump != nil }

// IsAsync reports whether the op is a notification (notify or event).
func (o *Op) IsAsync() bool { return o.Notify != "" || o.Event != nil }

// IsReserved reports whether the op only reserves a command value.
func (o *Op) IsReserved() bool { return !o.IsCall() && !o.IsAsync() }

// NotifyAttributes returns the attributes of the op's notification
// messages: the event attributes, or for notify the reply attributes of the
// notified op's do (or, without do, its dump). It returns nil for ops that
// are not notifications.
func (o *Op) NotifyAttributes() []*Attribute {
	switch {
	case o.Event != nil:
		return o.Event.Attributes
	case o.NotifyOp != nil:
		for _, m := range []*Mode{o.NotifyOp.Do, o.NotifyOp.Dump} {
			if m != nil && m.Reply != nil {
				return m.Reply.Attributes
			}
		}
	}
	return nil
}

// fromKernel returns the messages the kernel sends for the op.
func (o *Op) fromKernel() []*Message {
	var out []*Message
	for _, m := range []*Mode{o.Do, o.Dump} {
		if m != nil && m.Reply != nil {
			out = append(out, m.Reply)
		}
	}
	if o.IsAsync() {
		out = append(out, &Message{Value: o.ReplyValue, HasValue: o.HasReplyValue})
	}
	return out
}

// A Mode is the do or dump handler of an operation.
type Mode struct {
	Source
	Request *Message // nil when absent
	Reply   *Message // nil when absent
	Pre     string   // kernel hook run before the handler
	Post    string   // kernel hook run after the handler
}

// A Message is a request, reply or event message of an operation.
type Message struct {
	Source
	// Value is the command value of the message: the message's explicit
	// "value" (genetlink-legacy, directional model), else the op's
	// RequestValue (requests) or ReplyValue (replies, events).
	Value    uint8
	HasValue bool
	// Attributes lists the message's attributes, resolved in the op's set,
	// in spec order.
	Attributes []*Attribute
	// OverlayAttrs names the attributes of Attributes that the project
	// overlay added.
	OverlayAttrs []string

	attrNames []string
	attrPos   []Pos
	explicit  bool // Value was written in the spec
}

// A MulticastGroup is an element of the "mcast-groups" list.
type MulticastGroup struct {
	Source
	Name        string
	CDefineName string // genetlink-c and later
	Flags       []OpFlag
}

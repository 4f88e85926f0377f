package attrs

import (
	"encoding/binary"
	"math"
	"strconv"

	"golang.org/x/sys/unix"
)

// Attribute header constants, from the kernel's uapi (linux/netlink.h).
const (
	// HeaderLen is the size of struct nlattr.
	HeaderLen = unix.NLA_HDRLEN
	// FlagNested marks an attribute whose payload is itself attributes.
	FlagNested = unix.NLA_F_NESTED
	// FlagNetByteOrder marks an integer payload in network (big-endian) byte order.
	FlagNetByteOrder = unix.NLA_F_NET_BYTEORDER
	// TypeMask selects the type bits of the nla_type field.
	TypeMask = ^uint16(FlagNested | FlagNetByteOrder)
	// MaxLen is the largest encoded attribute, header included.
	MaxLen = math.MaxUint16
)

// Align rounds n up to the 4-byte attribute alignment.
func Align(n int) int { return (n + unix.NLA_ALIGNTO - 1) &^ (unix.NLA_ALIGNTO - 1) }

// An Encoder appends netlink attributes to a byte slice the caller owns.
//
// The zero Encoder is ready to use and starts from an empty slice; [Encoder.Reset]
// points it at a reusable buffer. Attributes are appended after whatever the
// buffer already holds, so a caller may reserve room for message headers first.
// After the buffer has grown to its working size, encoding allocates nothing.
//
// The first error (an attribute too long for its 16-bit length, a nest closed
// out of order) is sticky: later calls do nothing and [Encoder.Err] reports it.
type Encoder struct {
	b     []byte
	err   error
	depth int
}

// A Nest is an open nested attribute, returned by [Encoder.Nest] and closed by
// [Encoder.End].
type Nest struct {
	off   int
	depth int
}

// Reset makes e append to b (after its current contents) and clears any error.
func (e *Encoder) Reset(b []byte) {
	e.b = b
	e.err = nil
	e.depth = 0
}

// Bytes returns the buffer with every attribute appended so far.
func (e *Encoder) Bytes() []byte { return e.b }

// Len returns the number of bytes in the buffer.
func (e *Encoder) Len() int { return len(e.b) }

// Err returns the first error the encoder met, or nil.
func (e *Encoder) Err() error { return e.err }

// header appends an attribute header for a payload of n bytes and returns the
// payload, zeroed padding included, so callers can fill it in place.
func (e *Encoder) header(typ uint16, n int) []byte {
	if e.err != nil {
		return nil
	}
	total := HeaderLen + n
	if total > MaxLen {
		e.err = &Error{Path: itoa(typ), Offset: len(e.b), Kind: ErrTooLong,
			Msg: "payload of " + strconv.Itoa(n) + " bytes does not fit a 16-bit length"}
		return nil
	}
	off := len(e.b)
	aligned := Align(total)
	e.b = grow(e.b, aligned)
	hdr := e.b[off:]
	binary.NativeEndian.PutUint16(hdr[0:2], uint16(total))
	binary.NativeEndian.PutUint16(hdr[2:4], typ)
	clear(hdr[total:aligned])
	return hdr[HeaderLen:total]
}

// grow extends b by n bytes, reallocating only when capacity runs out.
func grow(b []byte, n int) []byte {
	l := len(b)
	if cap(b)-l < n {
		nb := make([]byte, l, 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:l+n]
}

// Flag appends an attribute with no payload (a flag that is set).
func (e *Encoder) Flag(typ uint16) { e.header(typ, 0) }

// U8 appends an 8-bit unsigned integer.
func (e *Encoder) U8(typ uint16, v uint8) {
	if p := e.header(typ, 1); p != nil {
		p[0] = v
	}
}

// U16 appends a 16-bit unsigned integer in host byte order.
func (e *Encoder) U16(typ uint16, v uint16) {
	if p := e.header(typ, 2); p != nil {
		binary.NativeEndian.PutUint16(p, v)
	}
}

// U32 appends a 32-bit unsigned integer in host byte order.
func (e *Encoder) U32(typ uint16, v uint32) {
	if p := e.header(typ, 4); p != nil {
		binary.NativeEndian.PutUint32(p, v)
	}
}

// U64 appends a 64-bit unsigned integer in host byte order.
func (e *Encoder) U64(typ uint16, v uint64) {
	if p := e.header(typ, 8); p != nil {
		binary.NativeEndian.PutUint64(p, v)
	}
}

// U16BE appends a 16-bit unsigned integer in network byte order.
func (e *Encoder) U16BE(typ uint16, v uint16) {
	if p := e.header(typ, 2); p != nil {
		binary.BigEndian.PutUint16(p, v)
	}
}

// U32BE appends a 32-bit unsigned integer in network byte order.
func (e *Encoder) U32BE(typ uint16, v uint32) {
	if p := e.header(typ, 4); p != nil {
		binary.BigEndian.PutUint32(p, v)
	}
}

// U64BE appends a 64-bit unsigned integer in network byte order.
func (e *Encoder) U64BE(typ uint16, v uint64) {
	if p := e.header(typ, 8); p != nil {
		binary.BigEndian.PutUint64(p, v)
	}
}

// S8 appends an 8-bit signed integer.
func (e *Encoder) S8(typ uint16, v int8) { e.U8(typ, uint8(v)) }

// S16 appends a 16-bit signed integer in host byte order.
func (e *Encoder) S16(typ uint16, v int16) { e.U16(typ, uint16(v)) }

// S32 appends a 32-bit signed integer in host byte order.
func (e *Encoder) S32(typ uint16, v int32) { e.U32(typ, uint32(v)) }

// S64 appends a 64-bit signed integer in host byte order.
func (e *Encoder) S64(typ uint16, v int64) { e.U64(typ, uint64(v)) }

// Uint appends a variable-width unsigned integer (the specs' "uint"): 4 bytes
// when v fits in 32 bits, otherwise 8.
func (e *Encoder) Uint(typ uint16, v uint64) {
	if v <= math.MaxUint32 {
		e.U32(typ, uint32(v))
		return
	}
	e.U64(typ, v)
}

// Sint appends a variable-width signed integer (the specs' "sint"): 4 bytes
// when v fits in 32 bits, otherwise 8.
func (e *Encoder) Sint(typ uint16, v int64) {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		e.S32(typ, int32(v))
		return
	}
	e.S64(typ, v)
}

// U64Pad appends a 64-bit unsigned integer so that its payload is 8-byte
// aligned within the buffer, first appending an empty attribute of type pad
// when needed, as the kernel's nla_put_u64_64bit does. Alignment is counted
// from the start of the buffer, so the buffer should begin at the netlink
// message header.
func (e *Encoder) U64Pad(typ, pad uint16, v uint64) {
	e.Align64(pad)
	e.U64(typ, v)
}

// Align64 appends an empty attribute of type pad when the payload of the next
// attribute would otherwise not be 8-byte aligned within the buffer.
func (e *Encoder) Align64(pad uint16) {
	if (len(e.b)+HeaderLen)%8 != 0 {
		e.header(pad, 0)
	}
}

// String appends s with a NUL terminator (the specs' "string").
func (e *Encoder) String(typ uint16, s string) {
	if p := e.header(typ, len(s)+1); p != nil {
		copy(p, s)
		p[len(s)] = 0
	}
}

// StringNoNUL appends s without a NUL terminator, for attributes whose
// checks say unterminated-ok or whose policy is NLA_STRING.
func (e *Encoder) StringNoNUL(typ uint16, s string) {
	if p := e.header(typ, len(s)); p != nil {
		copy(p, s)
	}
}

// Binary appends b as the payload (the specs' "binary").
func (e *Encoder) Binary(typ uint16, b []byte) {
	if p := e.header(typ, len(b)); p != nil {
		copy(p, b)
	}
}

// Attr appends a as a decoder returned it: its type with its flag bits,
// and its payload. Generated code uses it to send back attributes it kept
// without decoding them.
func (e *Encoder) Attr(a Attr) { e.Binary(a.Type&TypeMask|a.Flags&^TypeMask, a.Data) }

// Reserve appends an attribute with an n-byte zeroed payload and returns the
// payload for the caller to fill in place, for example with a [StructWriter].
// The returned slice is valid until the next call on e. It returns nil once e
// has an error.
func (e *Encoder) Reserve(typ uint16, n int) []byte {
	p := e.header(typ, n)
	clear(p)
	return p
}

// A Bitfield32 is the payload of an NLA_BITFIELD32 attribute: the bits to set
// and the selector saying which bits the value speaks for.
type Bitfield32 struct {
	Value    uint32
	Selector uint32
}

// Bitfield32 appends a bitfield32 attribute.
func (e *Encoder) Bitfield32(typ uint16, v Bitfield32) {
	if p := e.header(typ, 8); p != nil {
		binary.NativeEndian.PutUint32(p[0:4], v.Value)
		binary.NativeEndian.PutUint32(p[4:8], v.Selector)
	}
}

// Nest opens a nested attribute of the given type. Attributes appended until
// the matching [Encoder.End] form its payload; End patches the length in
// place and sets [FlagNested].
func (e *Encoder) Nest(typ uint16) Nest {
	off := len(e.b)
	e.header(typ|FlagNested, 0)
	e.depth++
	return Nest{off: off, depth: e.depth}
}

// End closes n, which must be the most recently opened nest still open.
func (e *Encoder) End(n Nest) {
	if e.err != nil {
		return
	}
	if n.depth != e.depth || n.off+HeaderLen > len(e.b) {
		e.err = &Error{Offset: n.off, Kind: ErrInvalid, Msg: "nest closed out of order"}
		return
	}
	e.depth--
	l := len(e.b) - n.off
	if l > MaxLen {
		typ := binary.NativeEndian.Uint16(e.b[n.off+2:]) & TypeMask
		e.err = &Error{Path: itoa(typ), Offset: n.off, Kind: ErrTooLong,
			Msg: "nest of " + strconv.Itoa(l) + " bytes does not fit a 16-bit length"}
		return
	}
	binary.NativeEndian.PutUint16(e.b[n.off:], uint16(l))
}

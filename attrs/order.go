package attrs

import (
	"encoding/binary"
	"strconv"
)

// A ByteOrder is the byte order of an integer payload or struct member, as a
// spec's byte-order key gives it.
type ByteOrder uint8

// The byte orders. HostEndian is the zero value: integers travel in the
// byte order of the machine unless a spec says otherwise.
const (
	HostEndian   ByteOrder = iota // the machine's order
	BigEndian                     // network order
	LittleEndian                  // least significant byte first
)

// hostBig reports whether the machine is big-endian.
var hostBig = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// big reports whether o puts the most significant byte first.
func (o ByteOrder) big() bool {
	switch o {
	case BigEndian:
		return true
	case LittleEndian:
		return false
	}
	return hostBig
}

// validSize reports whether n is a width the integer helpers handle.
func validSize(n int) bool { return n >= 1 && n <= 8 }

// putUint writes the low n bytes of v into p[:n] in order o; 1 <= n <= 8.
func putUint(p []byte, v uint64, n int, o ByteOrder) {
	p = p[:n]
	if o.big() {
		for i := range p {
			p[i] = byte(v >> (8 * (n - 1 - i)))
		}
		return
	}
	for i := range p {
		p[i] = byte(v >> (8 * i))
	}
}

// getUint reads an n-byte integer from p[:n] in order o; 1 <= n <= 8.
func getUint(p []byte, n int, o ByteOrder) uint64 {
	p = p[:n]
	var v uint64
	if o.big() {
		for _, c := range p {
			v = v<<8 | uint64(c)
		}
		return v
	}
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v
}

// sizeError reports an integer width the helpers do not handle.
func sizeError(n int) *Error {
	return &Error{Offset: -1, Kind: ErrInvalid,
		Msg: "integer of " + strconv.Itoa(n) + " bytes: widths run from 1 to 8"}
}

// UintN appends the low size bytes of v as an integer attribute in byte
// order o, for integers in an order the fixed-width methods do not cover
// (a little-endian u32, say). A size outside 1 to 8 is an error of kind
// [ErrInvalid].
func (e *Encoder) UintN(typ uint16, v uint64, size int, o ByteOrder) {
	if !validSize(size) {
		if e.err == nil {
			err := sizeError(size)
			err.Path, err.Offset = itoa(typ), len(e.b)
			e.err = err
		}
		return
	}
	if p := e.header(typ, size); p != nil {
		putUint(p, v, size, o)
	}
}

// UintOrder appends a variable-width unsigned integer (the specs' "uint") in
// byte order o: 4 bytes when v fits in 32 bits, otherwise 8.
func (e *Encoder) UintOrder(typ uint16, v uint64, o ByteOrder) {
	n := 8
	if v <= 1<<32-1 {
		n = 4
	}
	if p := e.header(typ, n); p != nil {
		putUint(p, v, n, o)
	}
}

// SintOrder appends a variable-width signed integer (the specs' "sint") in
// byte order o: 4 bytes when v fits in 32 bits, otherwise 8.
func (e *Encoder) SintOrder(typ uint16, v int64, o ByteOrder) {
	n := 8
	if v >= -1<<31 && v <= 1<<31-1 {
		n = 4
	}
	if p := e.header(typ, n); p != nil {
		putUint(p, uint64(v), n, o)
	}
}

// UintN returns the current payload as a size-byte unsigned integer in byte
// order o. With [HostEndian], an attribute carrying [FlagNetByteOrder] is
// read in network order, as [Decoder.U32] does. A payload of another size
// is recorded as [ErrBadLength], a size outside 1 to 8 as [ErrInvalid].
func (d *Decoder) UintN(size int, o ByteOrder) uint64 {
	if !validSize(size) {
		d.Fail(sizeError(size))
		return 0
	}
	if d.curLen != size {
		d.badLen("u"+strconv.Itoa(8*size), size)
		return 0
	}
	return getUint(d.payload(), size, d.order(o))
}

// UintOrder returns the current payload as a variable-width unsigned
// integer (the specs' "uint") in byte order o, accepting 4 or 8 bytes.
func (d *Decoder) UintOrder(o ByteOrder) uint64 {
	if d.curLen != 4 && d.curLen != 8 {
		d.failLen("uint needs 4 or 8 bytes, got ")
		return 0
	}
	return getUint(d.payload(), d.curLen, d.order(o))
}

// SintOrder returns the current payload as a variable-width signed integer
// (the specs' "sint") in byte order o, accepting 4 or 8 bytes; a 4-byte
// value is sign-extended.
func (d *Decoder) SintOrder(o ByteOrder) int64 {
	switch d.curLen {
	case 4:
		return int64(int32(getUint(d.payload(), 4, d.order(o))))
	case 8:
		return int64(getUint(d.payload(), 8, d.order(o)))
	}
	d.failLen("sint needs 4 or 8 bytes, got ")
	return 0
}

// order resolves o for the current attribute: host order gives way to
// network order when the attribute carries [FlagNetByteOrder].
func (d *Decoder) order(o ByteOrder) ByteOrder {
	if o == HostEndian && d.netOrder() {
		return BigEndian
	}
	return o
}

// UintN writes the low size bytes of v as a size-byte member in byte order
// o. A size outside 1 to 8 is an error of kind [ErrInvalid].
func (w *StructWriter) UintN(v uint64, size int, o ByteOrder) {
	if !validSize(size) {
		if w.err == nil {
			err := sizeError(size)
			err.Offset = w.off
			w.err = err
		}
		return
	}
	if p := w.next(size); p != nil {
		putUint(p, v, size, o)
	}
}

// UintN reads a size-byte member in byte order o. A size outside 1 to 8 is
// an error of kind [ErrInvalid] and reads zero.
func (r *StructReader) UintN(size int, o ByteOrder) uint64 {
	if !validSize(size) {
		if r.err == nil {
			r.err = sizeError(size)
		}
		return 0
	}
	if p := r.next(size); p != nil {
		return getUint(p, size, o)
	}
	return 0
}

// An Integer is any fixed-width integer type: the element types of
// [EncodeArray] and [DecodeArray].
type Integer interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int8 | ~int16 | ~int32 | ~int64
}

// EncodeArray appends a binary attribute holding xs as consecutive
// size-byte integers in byte order o (a spec's binary attribute with an
// integer sub-type). A size outside 1 to 8 is an error of kind [ErrInvalid].
func EncodeArray[T Integer](e *Encoder, typ uint16, xs []T, size int, o ByteOrder) {
	if !validSize(size) {
		e.UintN(typ, 0, size, o) // records the error
		return
	}
	p := e.Reserve(typ, len(xs)*size)
	if p == nil {
		return
	}
	for i, x := range xs {
		putUint(p[i*size:], uint64(x), size, o)
	}
}

// DecodeArray returns the current payload of d read as consecutive
// size-byte integers in byte order o, in a new slice. A payload that is not
// a whole number of integers is recorded as [ErrBadLength] and gives nil.
func DecodeArray[T Integer](d *Decoder, size int, o ByteOrder) []T {
	if !validSize(size) {
		d.Fail(sizeError(size))
		return nil
	}
	p := d.Bytes()
	if len(p)%size != 0 {
		d.failHere(ErrBadLength, "array of "+strconv.Itoa(size)+"-byte integers, got "+strconv.Itoa(len(p)))
		return nil
	}
	xs := make([]T, len(p)/size)
	for i := range xs {
		xs[i] = T(getUint(p[i*size:], size, o))
	}
	return xs
}

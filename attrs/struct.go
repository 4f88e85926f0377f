package attrs

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// A StructWriter fills a fixed-layout binary struct (a spec's "struct"
// definition, laid out as its C counterpart) field by field. Fields are
// written in order; explicit padding is written with [StructWriter.Pad].
// Use it on the slice returned by [Encoder.Reserve], or on any buffer of the
// struct's size. Writing past the end of the buffer is recorded as an
// error of kind [ErrTooLong] and further writes are ignored.
type StructWriter struct {
	b   []byte
	off int
	err error
}

// NewStructWriter returns a StructWriter over b.
func NewStructWriter(b []byte) StructWriter { return StructWriter{b: b} }

// Err returns the first error, or nil.
func (w *StructWriter) Err() error { return w.err }

// Off returns the number of bytes written so far.
func (w *StructWriter) Off() int { return w.off }

func (w *StructWriter) next(n int) []byte {
	if w.err != nil {
		return nil
	}
	if len(w.b)-w.off < n {
		w.err = &Error{Offset: w.off, Kind: ErrTooLong,
			Msg: "struct field of " + strconv.Itoa(n) + " bytes at offset " + strconv.Itoa(w.off) +
				" overruns " + strconv.Itoa(len(w.b)) + "-byte struct"}
		return nil
	}
	p := w.b[w.off : w.off+n]
	w.off += n
	return p
}

// U8 writes an 8-bit field.
func (w *StructWriter) U8(v uint8) {
	if p := w.next(1); p != nil {
		p[0] = v
	}
}

// U16 writes a 16-bit field in host byte order, or network order when be is true.
func (w *StructWriter) U16(v uint16, be bool) {
	if p := w.next(2); p != nil {
		put16(p, v, be)
	}
}

// U32 writes a 32-bit field in host byte order, or network order when be is true.
func (w *StructWriter) U32(v uint32, be bool) {
	if p := w.next(4); p != nil {
		put32(p, v, be)
	}
}

// U64 writes a 64-bit field in host byte order, or network order when be is true.
func (w *StructWriter) U64(v uint64, be bool) {
	if p := w.next(8); p != nil {
		put64(p, v, be)
	}
}

// Binary writes b into an n-byte field, zero-filling what b does not cover;
// b longer than n is an error of kind [ErrTooLong].
func (w *StructWriter) Binary(b []byte, n int) {
	if len(b) > n && w.err == nil {
		w.err = &Error{Offset: w.off, Kind: ErrTooLong,
			Msg: strconv.Itoa(len(b)) + " bytes do not fit a " + strconv.Itoa(n) + "-byte field"}
		return
	}
	if p := w.next(n); p != nil {
		clear(p[copy(p, b):])
	}
}

// Pad writes n zero bytes.
func (w *StructWriter) Pad(n int) {
	if p := w.next(n); p != nil {
		clear(p)
	}
}

// A StructReader reads a fixed-layout binary struct field by field, in the
// order of its definition. A field past the end of the payload is recorded as
// an error of kind [ErrBadLength] and reads zero; check [StructReader.Err]
// once at the end. Pass that error to [Decoder.Fail] to give it a path.
type StructReader struct {
	b   []byte
	off int
	err error
}

// NewStructReader returns a StructReader over b.
func NewStructReader(b []byte) StructReader { return StructReader{b: b} }

// Err returns the first error, or nil.
func (r *StructReader) Err() error { return r.err }

// Off returns the number of bytes read so far.
func (r *StructReader) Off() int { return r.off }

func (r *StructReader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b)-r.off < n {
		r.err = &Error{Offset: -1, Kind: ErrBadLength,
			Msg: "struct needs " + strconv.Itoa(r.off+n) + " bytes, got " + strconv.Itoa(len(r.b))}
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

// U8 reads an 8-bit field.
func (r *StructReader) U8() uint8 {
	if p := r.next(1); p != nil {
		return p[0]
	}
	return 0
}

// U16 reads a 16-bit field in host byte order, or network order when be is true.
func (r *StructReader) U16(be bool) uint16 {
	if p := r.next(2); p != nil {
		return get16(p, be)
	}
	return 0
}

// U32 reads a 32-bit field in host byte order, or network order when be is true.
func (r *StructReader) U32(be bool) uint32 {
	if p := r.next(4); p != nil {
		return get32(p, be)
	}
	return 0
}

// U64 reads a 64-bit field in host byte order, or network order when be is true.
func (r *StructReader) U64(be bool) uint64 {
	if p := r.next(8); p != nil {
		return get64(p, be)
	}
	return 0
}

// Binary returns the next n bytes, a sub-slice of the input.
func (r *StructReader) Binary(n int) []byte { return r.next(n) }

// CString reads an n-byte character-array member as a string (a copy): the
// bytes up to the first NUL, or all n when there is none.
func (r *StructReader) CString(n int) string { return string(CutNUL(r.next(n))) }

// Skip steps over n bytes of padding.
func (r *StructReader) Skip(n int) { r.next(n) }

func put16(p []byte, v uint16, be bool) {
	if be {
		binary.BigEndian.PutUint16(p, v)
	} else {
		binary.NativeEndian.PutUint16(p, v)
	}
}

func put32(p []byte, v uint32, be bool) {
	if be {
		binary.BigEndian.PutUint32(p, v)
	} else {
		binary.NativeEndian.PutUint32(p, v)
	}
}

func put64(p []byte, v uint64, be bool) {
	if be {
		binary.BigEndian.PutUint64(p, v)
	} else {
		binary.NativeEndian.PutUint64(p, v)
	}
}

// Addr4 writes an IPv4 address into a 4-byte field in network order; the
// zero Addr writes 0.0.0.0. An address that is not IPv4 (after unmapping)
// is an error of kind [ErrInvalid].
func (w *StructWriter) Addr4(a netip.Addr) {
	if !a.IsValid() {
		w.Pad(4)
		return
	}
	a = a.Unmap()
	if !a.Is4() && w.err == nil {
		w.err = &Error{Offset: w.off, Kind: ErrInvalid, Msg: "address " + a.String() + " is not IPv4"}
		return
	}
	b := a.As4()
	w.Binary(b[:], 4)
}

// Addr16 writes an address into a 16-byte field (IPv4 in its IPv4-mapped
// form); the zero Addr writes ::.
func (w *StructWriter) Addr16(a netip.Addr) {
	b := a.As16()
	w.Binary(b[:], 16)
}

// Addr4 reads a 4-byte IPv4 address in network order.
func (r *StructReader) Addr4() netip.Addr {
	var b [4]byte
	copy(b[:], r.next(4))
	return netip.AddrFrom4(b)
}

// Addr16 reads a 16-byte IPv6 address.
func (r *StructReader) Addr16() netip.Addr {
	var b [16]byte
	copy(b[:], r.next(16))
	return netip.AddrFrom16(b)
}

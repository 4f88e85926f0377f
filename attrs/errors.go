package attrs

import (
	"errors"
	"strconv"
)

// Sentinel error kinds. Every error returned by a [Decoder] or an [Encoder]
// matches exactly one of them with errors.Is.
var (
	// ErrTruncated reports an attribute header or payload that runs past the
	// end of its buffer.
	ErrTruncated = errors.New("truncated")
	// ErrBadLength reports a length that is impossible for its type: an
	// attribute length below the 4-byte header, or a payload of the wrong
	// size for a fixed-width type.
	ErrBadLength = errors.New("bad length")
	// ErrInvalid reports a payload of the right size whose content is not
	// acceptable, such as a string without its NUL terminator, or a bit
	// index outside a [Bitmap].
	ErrInvalid = errors.New("invalid value")
	// ErrTooDeep reports nesting deeper than [MaxDepth].
	ErrTooDeep = errors.New("nesting too deep")
	// ErrTooLong reports an attribute or nest whose encoded length does not
	// fit the 16-bit length field.
	ErrTooLong = errors.New("attribute too long")
)

// An Error describes a malformed attribute: where it sat and what was wrong.
type Error struct {
	// Path names the attribute, outermost first, joined with dots, for
	// example "dev.ifindex". Attributes without a known name appear as
	// their type number.
	Path string
	// Offset is the byte offset of the attribute header within the buffer
	// the outermost Decoder was given, or -1 when unknown.
	Offset int
	// Kind is one of the package's sentinel errors.
	Kind error
	// Msg says what was wrong, for example "u32 needs 4 bytes, got 2".
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Unwrap returns the sentinel kind, so errors.Is(err, ErrBadLength) works.
func (e *Error) Unwrap() error { return e.Kind }

// WithPath returns err with elem prepended to its path when err is an *Error
// (or wraps one); any other error is returned as it is. Hand-written decoders
// use it to name the attribute an error came from when they decode a nested
// payload outside a Decoder.
func WithPath(err error, elem string) error {
	var ae *Error
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	c := *ae
	if c.Path == "" {
		c.Path = elem
	} else {
		c.Path = elem + "." + c.Path
	}
	return &c
}

func lengthError(kind string, want, got int) *Error {
	return &Error{Offset: -1, Kind: ErrBadLength,
		Msg: kind + " needs " + strconv.Itoa(want) + " bytes, got " + strconv.Itoa(got)}
}

// StructTooShort returns the error for the payload of struct name (a spec's
// fixed-layout struct of size bytes) that holds only got bytes: kind
// [ErrBadLength], offset unknown. Pass it to [Decoder.Fail] to give it a path.
func StructTooShort(name string, size, got int) *Error {
	return &Error{Offset: -1, Kind: ErrBadLength,
		Msg: "struct " + name + " needs " + strconv.Itoa(size) + " bytes, got " + strconv.Itoa(got)}
}

// EmptyStruct returns the error for an empty payload of struct name (a
// spec's fixed-layout struct), which no version of the struct has: kind
// [ErrBadLength], offset unknown. Shorter and longer payloads are older and
// newer versions of the struct, which generated decoders read. Pass it to
// [Decoder.Fail] to give it a path.
func EmptyStruct(name string) *Error {
	return &Error{Offset: -1, Kind: ErrBadLength, Msg: "struct " + name + " is empty"}
}

// FieldTooLong returns the error for a string of got bytes that does not fit
// the size-byte struct member named field: kind [ErrTooLong], with field as
// its path.
func FieldTooLong(field string, size, got int) *Error {
	return &Error{Path: field, Offset: -1, Kind: ErrTooLong,
		Msg: "string of " + strconv.Itoa(got) + " bytes does not fit a " + strconv.Itoa(size) + "-byte field"}
}

// HeaderTooShort returns the error for a message of got bytes, shorter than
// its size-byte fixed header (struct name) that comes before the
// attributes: kind [ErrTruncated], path "header".
func HeaderTooShort(name string, size, got int) *Error {
	return &Error{Path: "header", Offset: -1, Kind: ErrTruncated,
		Msg: "fixed header " + name + " needs " + strconv.Itoa(size) + " bytes, got " + strconv.Itoa(got)}
}

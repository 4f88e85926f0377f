// Package attrs encodes and decodes netlink attributes: the type-length-value
// records (struct nlattr: a 16-bit length, a 16-bit type, then the payload
// padded to 4 bytes) that every generic netlink message carries.
//
// It is the one place in genlkit where attribute bytes are made and read.
// It does no I/O: bytes in, bytes out.
//
// An [Encoder] appends attributes to a caller-owned buffer; nests are opened
// and closed in place, so building a message allocates nothing once the
// buffer has grown to size. A [Decoder] walks a buffer without copying: the
// payload of every [Attr] is a sub-slice of the input; a loop over
// [Decoder.Next] or [Decoder.All] visits the attributes, and one over
// [Decoder.Types] is the form the compiler inlines, header parsing
// included, as generated decoders use it. Decoder errors carry the
// path of the attribute that was wrong ("dev.ifindex: u32 needs 4 bytes, got
// 2") and match the sentinel kinds [ErrTruncated], [ErrBadLength],
// [ErrInvalid] and [ErrTooDeep] with errors.Is. [Cut] splits one attribute
// off a buffer with no state at all, for the fast paths of generated
// decoders, which take the well-formed common case straight from the bytes
// and leave everything else (and its error) to a Decoder.
//
// Every attribute type the kernel's YAML family specs use is covered:
// fixed-width integers in host and network byte order, the variable-width
// uint and sint, strings with and without a NUL terminator, binary, flag,
// bitfield32, nests (including indexed arrays and nest-type-value), repeated
// (multi-attr) attributes, 64-bit values aligned with a pad attribute, and
// fixed-layout C structs through [StructWriter] and [StructReader].
// Integers in an explicit [ByteOrder] and width ([Encoder.UintN],
// [Decoder.UintOrder]), integer arrays ([EncodeArray], [DecodeArray]) and
// IP addresses ([Encoder.Addr], [Decoder.Addr4]) cover the specs' byte-order
// keys and display hints; [FormatFlags], [NameTables] (naming attributes in
// error paths) and the error constructors ([EmptyStruct], [StructTooShort], [FieldTooLong],
// [HeaderTooShort]) are the rest of the support that generated family
// packages share.
//
// Copies that must outlive the input come from a [Slab] (values of one
// type) and an [Arena] (strings and byte slices) when a generated dump
// decodes many replies: they carve values out of shared chunks of at most
// [MaxChunkBytes], never hand out the same memory twice and never write to
// what they handed out, so the only thing values share is their chunk,
// which stays alive while any of them is reachable.
package attrs

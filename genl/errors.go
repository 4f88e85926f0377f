package genl

import (
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

var (
	// ErrDumpInterrupted reports a dump the kernel marked NLM_F_DUMP_INTR:
	// what it describes changed while it ran, so the results may be
	// inconsistent. Run it again (DumpAll retries on request).
	ErrDumpInterrupted = errors.New("genl: dump interrupted: results may be inconsistent")
	// ErrOverrun reports that the kernel dropped messages for the socket
	// because its receive buffer was full (ENOBUFS). A subscription's stream
	// yields it (as an *OverrunError) and keeps going; a request whose reply
	// was lost fails with it.
	ErrOverrun = errors.New("genl: receive buffer overrun: messages were lost")
	// ErrOutcomeUnknown reports a do-request (Do, Ack, Batch) that reached
	// the kernel but whose answer the kernel dropped (a receive-buffer
	// overrun, caused by notifications on the Conn): the kernel carried it
	// out or refused it, and nobody can tell which. A change may have been
	// made; read the state back before retrying one. The error also
	// matches ErrOverrun.
	ErrOutcomeUnknown = errors.New("genl: outcome unknown: the request reached the kernel but its answer was lost")
	// ErrTruncated reports a datagram larger than the receive buffer
	// (MSG_TRUNC); its tail is lost. See WithMessageBufferSize.
	ErrTruncated = errors.New("genl: message truncated")
	// ErrMalformed reports a reply that is not a valid generic netlink
	// message.
	ErrMalformed = errors.New("genl: malformed message")
)

// An OverrunError is ErrOverrun with counts: how many overruns the kernel
// reported, and how many notifications the Conn itself dropped because a
// subscription's queue was full, since the stream last reported one.
type OverrunError struct {
	Overruns uint64
	Dropped  uint64
	// OutcomeUnknown is set when the lost message was the answer to the
	// failed request itself: the kernel received the request, so it may
	// have carried it out (see ErrOutcomeUnknown).
	OutcomeUnknown bool
}

// Error implements error.
func (e *OverrunError) Error() string {
	if e.OutcomeUnknown {
		return "genl: outcome unknown: the request reached the kernel but its answer was lost in a receive buffer overrun"
	}
	return "genl: receive buffer overrun: messages were lost (" + itoa(int(e.Overruns)) +
		" overruns, " + itoa(int(e.Dropped)) + " dropped)"
}

// Is makes errors.Is(err, ErrOverrun) and errors.Is(err, unix.ENOBUFS) true,
// and errors.Is(err, ErrOutcomeUnknown) when OutcomeUnknown is set.
func (e *OverrunError) Is(target error) bool {
	return target == ErrOverrun || target == unix.ENOBUFS || (e.OutcomeUnknown && target == ErrOutcomeUnknown)
}

// An Error is a failed operation on a Conn. When the kernel refused a
// request, Err is its errno (a unix.Errno, so errors.Is(err, unix.ENODEV)
// and errors.Is(err, fs.ErrPermission) work) and the other fields carry the
// extended ACK: the kernel's message, the offending attribute and its path
// in the request, a missing attribute, a cookie and the violated policy.
type Error struct {
	// Op is the operation: "do", "dump", "batch", "receive", "join-group"...
	Op string
	// Family and Command identify the request, when there is one.
	Family  uint16
	Command uint8
	// Err is the cause: a unix.Errno from the kernel or a system call, or
	// one of the package's sentinel errors.
	Err error
	// Message is the kernel's extended ACK message (NLMSGERR_ATTR_MSG).
	Message string
	// Offset is the byte offset, from the start of the request's netlink
	// header, of the attribute the kernel rejected (NLMSGERR_ATTR_OFFS),
	// or -1.
	Offset int
	// Path names the rejected attribute: attribute names (or type numbers)
	// from the outermost nest in, joined with dots, such as
	// "header.dev-index"; "header" for the family's fixed header.
	Path string
	// AttrTypes is the rejected attribute's type path, outermost first.
	AttrTypes []uint16
	// MissingType is the type of a required attribute that was missing
	// (NLMSGERR_ATTR_MISS_TYPE), or 0.
	MissingType uint16
	// MissingNest is the offset of the nest that lacked it
	// (NLMSGERR_ATTR_MISS_NEST), or -1 for the top level.
	MissingNest int
	// MissingPath names the missing attribute with its nest, like Path.
	MissingPath string
	// Cookie is the kernel's cookie (NLMSGERR_ATTR_COOKIE), if any.
	Cookie []byte
	// Policy describes the rule the attribute broke (NLMSGERR_ATTR_POLICY),
	// or is nil.
	Policy *Policy
	// Warning is true for an ACK that reported success with a message.
	Warning bool
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("genl: ")
	b.WriteString(e.Op)
	if e.Family != 0 {
		b.WriteString(" (family 0x")
		b.WriteString(strconv.FormatUint(uint64(e.Family), 16))
		b.WriteString(" cmd ")
		b.WriteString(strconv.Itoa(int(e.Command)))
		b.WriteString(")")
	}
	switch {
	case e.Warning:
		b.WriteString(": warning")
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Path != "" {
		b.WriteString(" (attribute ")
		b.WriteString(e.Path)
		b.WriteString(")")
	} else if e.Offset >= 0 {
		b.WriteString(" (at offset ")
		b.WriteString(strconv.Itoa(e.Offset))
		b.WriteString(")")
	}
	if e.MissingPath != "" {
		b.WriteString(" (missing attribute ")
		b.WriteString(e.MissingPath)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrOverrun) true for a request the kernel refused
// with ENOBUFS: a dump it could not start because the socket's receive
// buffer was full (netlink_dump), which a caller retries as it would a
// reply lost to an overrun. errors.Is(err, unix.ENOBUFS) matches through
// Unwrap.
func (e *Error) Is(target error) bool {
	return target == ErrOverrun && errors.Is(e.Err, unix.ENOBUFS)
}

// As lets code written for mdlayher/netlink inspect e as it would that
// package's error: errors.As(err, &opErr) with opErr a *netlink.OpError
// succeeds when Err is an errno, and sets opErr to what mdlayher/netlink
// reports for the same failure: Op "receive" for an error the kernel sent
// in answer to a request ("join-group" and the like for a failed system
// call), Err the errno, and Message and Offset from the extended ACK
// (Offset 0 when the kernel named no attribute). errors.Is on e already
// matches what the errno matches (os.ErrNotExist, os.ErrPermission,
// errors.ErrUnsupported...).
func (e *Error) As(target any) bool {
	t, ok := target.(**netlink.OpError)
	if !ok {
		return false
	}
	var errno unix.Errno
	if !errors.As(e.Err, &errno) {
		return false
	}
	switch e.Op {
	case "join-group", "leave-group":
		*t = &netlink.OpError{Op: e.Op, Err: os.NewSyscallError("setsockopt", errno)}
	default: // mdlayher reports kernel errors as received
		*t = &netlink.OpError{Op: "receive", Err: errno, Message: e.Message, Offset: max(e.Offset, 0)}
	}
	return true
}

// ackError decodes an NLMSG_ERROR for cl. It returns nil for a plain ACK;
// an ACK with a message is reported as a warning.
func (c *Conn) ackError(cl *call, b []byte, h netlink.Header) error {
	p := b[nlmsgHdrLen:]
	if len(p) < 4 {
		return c.malformed(cl, "NLMSG_ERROR shorter than its error code")
	}
	errno := int32(binary.NativeEndian.Uint32(p))
	var tlvs []byte
	if h.Flags&unix.NLM_F_ACK_TLVS != 0 {
		// struct nlmsgerr: the error, then the request's header, then (when
		// not capped) the rest of the request, then the TLVs.
		start := 4 + nlmsgHdrLen
		if h.Flags&unix.NLM_F_CAPPED == 0 && len(p) >= 4+nlmsgHdrLen {
			start = 4 + align4(int(binary.NativeEndian.Uint32(p[4:])))
		}
		if start <= len(p) {
			tlvs = p[start:]
		}
	}
	if errno == 0 && len(tlvs) == 0 {
		return nil
	}
	e := c.newKernelError(cl, errno, tlvs)
	if errno == 0 {
		if e.Message == "" && e.Offset < 0 {
			return nil
		}
		e.Warning = true
		c.mu.Lock()
		c.st.warnings++
		c.mu.Unlock()
		switch {
		case cl.onWarning != nil:
			cl.onWarning(e)
		case c.cfg.onWarning != nil:
			c.cfg.onWarning(e)
		}
		return nil
	}
	return e
}

// doneError decodes the error an NLMSG_DONE may carry: a 4-byte error code
// then, with NLM_F_ACK_TLVS, extended ACK attributes.
func (c *Conn) doneError(cl *call, b []byte, h netlink.Header) error {
	p := b[nlmsgHdrLen:]
	if len(p) < 4 {
		return nil // DONE without a payload: success
	}
	errno := int32(binary.NativeEndian.Uint32(p))
	if errno == 0 {
		return nil
	}
	var tlvs []byte
	if h.Flags&unix.NLM_F_ACK_TLVS != 0 {
		tlvs = p[4:]
	}
	return c.newKernelError(cl, errno, tlvs)
}

func (c *Conn) malformed(cl *call, msg string) error {
	c.countMalformed()
	return &Error{Op: cl.op, Family: cl.family, Command: cl.cmd, Err: ErrMalformed, Message: msg, Offset: -1, MissingNest: -1}
}

func (c *Conn) newKernelError(cl *call, errno int32, tlvs []byte) *Error {
	if errno < 0 {
		errno = -errno
	}
	e := &Error{Op: cl.op, Family: cl.family, Command: cl.cmd, Offset: -1, MissingNest: -1}
	if errno != 0 {
		e.Err = unix.Errno(errno)
	}
	decodeExtack(e, tlvs)
	if e.Offset >= 0 {
		e.AttrTypes, e.Path = requestPath(cl.buf, cl.fixedLen, e.Offset, cl.names)
	}
	if e.MissingType != 0 {
		var parents []uint16
		prefix := ""
		if e.MissingNest >= 0 {
			parents, prefix = requestPath(cl.buf, cl.fixedLen, e.MissingNest, cl.names)
		}
		name := ""
		if cl.names != nil {
			name = cl.names(parents, e.MissingType)
		}
		if name == "" {
			name = strconv.Itoa(int(e.MissingType))
		}
		if prefix != "" {
			name = prefix + "." + name
		}
		e.MissingPath = name
	}
	return e
}

// decodeExtack fills e from extended ACK attributes. Malformed attributes
// end decoding; what was decoded before them is kept.
func decodeExtack(e *Error, tlvs []byte) {
	if len(tlvs) == 0 {
		return
	}
	var d attrs.Decoder
	d.Reset(tlvs)
	for d.Next() {
		switch d.Type() {
		case unix.NLMSGERR_ATTR_MSG:
			e.Message = d.String()
		case unix.NLMSGERR_ATTR_OFFS:
			if v := d.U32(); d.Err() == nil {
				e.Offset = int(v)
			}
		case unix.NLMSGERR_ATTR_COOKIE:
			e.Cookie = append([]byte(nil), d.Bytes()...)
		case nlmsgerrAttrPolicy:
			nd := d.Nested()
			p := DecodePolicy(&nd)
			e.Policy = &p
		case nlmsgerrAttrMissType:
			if v := d.U32(); d.Err() == nil {
				e.MissingType = uint16(v)
			}
		case nlmsgerrAttrMissNest:
			if v := d.U32(); d.Err() == nil {
				e.MissingNest = int(v)
			}
		}
	}
}

// requestPath finds the attribute at byte offset off of the request req
// (which starts with its netlink header) and returns its type path and
// name. fixedLen is the length of the family's fixed header.
func requestPath(req []byte, fixedLen, off int, names AttrNamer) ([]uint16, string) {
	switch {
	case off < 0 || off >= len(req):
		return nil, ""
	case off < nlmsgHdrLen:
		return nil, "nlmsghdr"
	case off < hdrLen:
		return nil, "genlmsghdr"
	case off < hdrLen+fixedLen:
		return nil, "header"
	}
	types, ok := walkPath(req[hdrLen+fixedLen:], hdrLen+fixedLen, off, nil, 0)
	if !ok {
		return nil, ""
	}
	var b strings.Builder
	for i, t := range types {
		if i > 0 {
			b.WriteByte('.')
		}
		name := ""
		if names != nil {
			name = names(types[:i], t)
		}
		if name == "" {
			name = strconv.Itoa(int(t))
		}
		b.WriteString(name)
	}
	return types, b.String()
}

// walkPath looks for the attribute whose header is at target within the
// attributes b, which start at byte base of the request.
func walkPath(b []byte, base, target int, parents []uint16, depth int) ([]uint16, bool) {
	if depth >= attrs.MaxDepth {
		return nil, false
	}
	var d attrs.Decoder
	d.Reset(b)
	off := base
	for d.Next() {
		a := d.Attr()
		size := attrs.HeaderLen + len(a.Data)
		if target == off {
			return append(parents, a.Type), true
		}
		if target > off && target < off+size {
			path := append(parents[:len(parents):len(parents)], a.Type)
			if sub, ok := walkPath(a.Data, off+attrs.HeaderLen, target, path, depth+1); ok {
				return sub, true
			}
			return path, true
		}
		off += attrs.Align(size)
	}
	return nil, false
}

func truncMsg(d *Datagram) string {
	return "datagram of " + itoa(d.Size) + " bytes exceeds the " + itoa(len(d.Buf)) + "-byte receive buffer"
}

func itoa(n int) string { return strconv.Itoa(n) }

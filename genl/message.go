package genl

import (
	"encoding/binary"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const (
	nlmsgHdrLen = unix.SizeofNlMsghdr // struct nlmsghdr
	genlHdrLen  = 4                   // struct genlmsghdr (unix.Genlmsghdr)
	hdrLen      = nlmsgHdrLen + genlHdrLen
)

// A Message is one generic netlink message received from the kernel: a reply,
// a dump part or a notification.
//
// The embedded genetlink.Message holds the generic netlink header (command
// and version) and Data, the payload after it: the family's fixed header, if
// any, then attributes. Netlink is the netlink header as received.
//
// A Message handed to a callback or yielded by an iterator is not a copy: its
// Data points into a receive buffer that is reused once the callback returns
// or the loop moves on. Copy what must outlive it (Message.Clone).
type Message struct {
	Netlink netlink.Header
	genetlink.Message
	// Group is the multicast group a notification was sent to; 0 for
	// unicast messages.
	Group uint32
}

// Attrs returns the attributes of m, after a fixed header of hdrLen bytes
// (0 for families without one), ready for an attrs.Decoder. It returns nil
// when Data is shorter than hdrLen.
func (m Message) Attrs(hdrLen int) []byte {
	if hdrLen < 0 || hdrLen > len(m.Data) {
		return nil
	}
	return m.Data[hdrLen:]
}

// Clone returns a copy of m whose Data does not share memory with the
// receive buffer.
func (m Message) Clone() Message {
	m.Data = append([]byte(nil), m.Data...)
	return m
}

// parseHeader reads a netlink header from b, which must hold 16 bytes.
func parseHeader(b []byte) netlink.Header {
	return netlink.Header{
		Length:   binary.NativeEndian.Uint32(b[0:4]),
		Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:6])),
		Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:8])),
		Sequence: binary.NativeEndian.Uint32(b[8:12]),
		PID:      binary.NativeEndian.Uint32(b[12:16]),
	}
}

// putHeader writes a netlink header to b, which must hold 16 bytes.
func putHeader(b []byte, length uint32, typ, flags uint16, seq, pid uint32) {
	binary.NativeEndian.PutUint32(b[0:4], length)
	binary.NativeEndian.PutUint16(b[4:6], typ)
	binary.NativeEndian.PutUint16(b[6:8], flags)
	binary.NativeEndian.PutUint32(b[8:12], seq)
	binary.NativeEndian.PutUint32(b[12:16], pid)
}

// toMessage converts one whole netlink message (header included) to a
// Message. ok is false when it is too short for a generic netlink header.
func toMessage(b []byte, group uint32) (m Message, ok bool) {
	if len(b) < hdrLen {
		return Message{}, false
	}
	m.fill(b)
	m.Group = group
	return m, true
}

// fill makes m the data message msg, which holds at least the netlink and
// generic netlink headers. (Field by field: a struct literal would be
// built aside and copied, its wide loads stalled on the narrow stores.)
func (m *Message) fill(msg []byte) {
	m.Netlink.Length = uint32(len(msg))
	m.Netlink.Type = netlink.HeaderType(binary.NativeEndian.Uint16(msg[4:6]))
	m.Netlink.Flags = netlink.HeaderFlags(binary.NativeEndian.Uint16(msg[6:8]))
	m.Netlink.Sequence = binary.NativeEndian.Uint32(msg[8:12])
	m.Netlink.PID = binary.NativeEndian.Uint32(msg[12:16])
	m.Header.Command = msg[nlmsgHdrLen]
	m.Header.Version = msg[nlmsgHdrLen+1]
	m.Data = msg[hdrLen:len(msg):len(msg)]
}

// An AttrNamer names attribute type typ found inside the nests parents
// (outermost first; empty at the top level of a request). It returns "" when
// it has no name, and the number is used instead. Generated family packages
// supply one so that error paths read "header.dev-index" instead of "1.1".
type AttrNamer func(parents []uint16, typ uint16) string

// A Request is one generic netlink request: the family, command and version,
// an optional fixed header, and attributes encoded with attrs.Encoder.
//
// Conn sets NLM_F_REQUEST and, as the call needs, NLM_F_ACK or NLM_F_DUMP;
// Flags adds others such as netlink.Create, netlink.Excl, netlink.Replace or
// netlink.Echo. The Conn copies the request when it is sent: the caller may
// reuse Header and Attrs as soon as the call returns.
type Request struct {
	Family  uint16
	Command uint8
	Version uint8
	Flags   netlink.HeaderFlags
	// Header is the family's fixed header, sent before the attributes.
	Header []byte
	// Attrs holds encoded attributes.
	Attrs []byte
	// Names names attributes in the paths of errors; nil uses numbers.
	Names AttrNamer
	// ExpectReply declares that the command always answers a successful
	// request with a reply, as a family spec's "do: reply:" says. Do then
	// omits NLM_F_ACK and completes at the reply (or at NLMSG_DONE after a
	// multi-part one), which saves the kernel building an ACK: about a
	// quarter of a round trip. Errors arrive as usual. On a netlink socket
	// without WithNoENOBUFS the request still ends, with nil, if the command
	// replies nothing (see ReplyDeclared); over another transport it would
	// wait until ctx ends: when unsure, use ReplyDeclared instead.
	ExpectReply bool
	// ReplyDeclared says the command answers a successful request with a
	// reply, as its family's spec declares ("do: reply:"); the generated
	// packages set it. Unlike ExpectReply it stays safe when the kernel
	// sends nothing after all. On a netlink socket, with no warning handler
	// to feed (an extended ACK message comes only with an ACK) and without
	// WithNoENOBUFS, the request then goes without NLM_F_ACK, which saves
	// the kernel building the ACK and the Conn receiving it: the kernel
	// answers a generic netlink request within the sendmsg that carries it,
	// so once that sendmsg has returned, a receive that finds nothing
	// queued means that no reply is coming, and Do returns nil having called
	// its function for none. The ACK is still asked for over other
	// transports, and for a request sent while another goroutine blocks
	// reading the socket (a subscriber, say), which that ACK wakes.
	ReplyDeclared bool
	// OnWarning, when set, receives the extended ACK message of a request
	// that succeeded with a warning. Without it the Conn's warning handler
	// (see WithWarningHandler) is used; warnings are counted in Stats.
	OnWarning func(*Error)
}

// encode appends the netlink message for r to b.
func (r *Request) encode(b []byte, seq, pid uint32, flags netlink.HeaderFlags) []byte {
	n := hdrLen + len(r.Header) + len(r.Attrs)
	start := len(b)
	b = append(b, make([]byte, hdrLen)...)
	h := b[start:]
	putHeader(h, uint32(n), r.Family, uint16(flags|r.Flags|netlink.Request), seq, pid)
	h[16] = r.Command
	h[17] = r.Version
	h[18], h[19] = 0, 0
	b = append(b, r.Header...)
	b = append(b, r.Attrs...)
	// Pad to 4 bytes so that messages can be concatenated into one datagram.
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func align4(n int) int { return (n + 3) &^ 3 }

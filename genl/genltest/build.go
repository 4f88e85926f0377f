package genltest

import (
	"encoding/binary"

	"github.com/genlkit/genlkit/attrs"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Msg builds a raw netlink message: a header with the given fields (the
// length is computed) followed by payload. Nothing is checked, so tests can
// build malformed messages too.
func Msg(typ uint16, flags netlink.HeaderFlags, seq, pid uint32, payload []byte) []byte {
	b := make([]byte, 16, 16+len(payload))
	binary.NativeEndian.PutUint32(b[0:], uint32(16+len(payload)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], uint16(flags))
	binary.NativeEndian.PutUint32(b[8:], seq)
	binary.NativeEndian.PutUint32(b[12:], pid)
	return append(b, payload...)
}

// GenlMsg builds a generic netlink message of family with the generic
// header (cmd, version) and data (fixed header and attributes).
func GenlMsg(family uint16, flags netlink.HeaderFlags, seq, pid uint32, cmd, version uint8, data []byte) []byte {
	p := make([]byte, 4, 4+len(data))
	p[0], p[1] = cmd, version
	return Msg(family, flags, seq, pid, append(p, data...))
}

// Reply builds a reply to r: same family, sequence number and port, with
// command cmd and data.
func Reply(r Request, cmd uint8, data []byte) []byte {
	return GenlMsg(uint16(r.Header.Type), 0, r.Header.Sequence, r.Header.PID, cmd, r.Genl.Version, data)
}

// ReplyMulti is Reply with NLM_F_MULTI, for a dump part or a multi-part
// reply; extra adds flags such as NLM_F_DUMP_INTR.
func ReplyMulti(r Request, cmd uint8, data []byte, extra netlink.HeaderFlags) []byte {
	return GenlMsg(uint16(r.Header.Type), netlink.Multi|extra, r.Header.Sequence, r.Header.PID, cmd, r.Genl.Version, data)
}

// Notification builds a notification of family: sequence number 0, as
// multicast messages have.
func Notification(family uint16, cmd uint8, data []byte) []byte {
	return GenlMsg(family, 0, 0, 0, cmd, 1, data)
}

// An Extack is the extended ACK of an error or warning. Zero fields are
// left out.
type Extack struct {
	Msg      string
	Offset   uint32 // NLMSGERR_ATTR_OFFS, from the start of the request
	MissType uint16 // NLMSGERR_ATTR_MISS_TYPE
	MissNest uint32 // NLMSGERR_ATTR_MISS_NEST
	Cookie   []byte
	// Policy holds encoded NL_POLICY_TYPE_ATTR_* attributes for
	// NLMSGERR_ATTR_POLICY.
	Policy []byte
}

// Encode returns the extended ACK attributes.
func (e *Extack) Encode() []byte {
	var enc attrs.Encoder
	if e.Msg != "" {
		enc.String(unix.NLMSGERR_ATTR_MSG, e.Msg)
	}
	if e.Offset != 0 {
		enc.U32(unix.NLMSGERR_ATTR_OFFS, e.Offset)
	}
	if e.Cookie != nil {
		enc.Binary(unix.NLMSGERR_ATTR_COOKIE, e.Cookie)
	}
	if e.Policy != nil {
		copy(enc.Reserve(4|attrs.FlagNested, len(e.Policy)), e.Policy) // NLMSGERR_ATTR_POLICY
	}
	if e.MissType != 0 {
		enc.U32(5, uint32(e.MissType)) // NLMSGERR_ATTR_MISS_TYPE
	}
	if e.MissNest != 0 {
		enc.U32(6, e.MissNest) // NLMSGERR_ATTR_MISS_NEST
	}
	return enc.Bytes()
}

// Ack builds the ACK of r: NLMSG_ERROR with error 0, capped (the request's
// header only), as NETLINK_CAP_ACK makes the kernel send.
func Ack(r Request) []byte { return Error(r, 0, nil) }

// Error builds a capped NLMSG_ERROR for r with errno (0 for an ACK, which
// with an Extack is a warning) and an optional extended ACK.
func Error(r Request, errno unix.Errno, e *Extack) []byte {
	return errorMsg(r, errno, e, true)
}

// ErrorFull is Error without NLM_F_CAPPED: the whole request is echoed
// before the extended ACK, as without NETLINK_CAP_ACK.
func ErrorFull(r Request, errno unix.Errno, e *Extack) []byte {
	return errorMsg(r, errno, e, false)
}

func errorMsg(r Request, errno unix.Errno, e *Extack, capped bool) []byte {
	p := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
	var flags netlink.HeaderFlags
	if capped {
		flags |= unix.NLM_F_CAPPED
		p = append(p, r.Raw[:16]...)
	} else {
		p = append(p, r.Raw...)
		for len(p)%4 != 0 {
			p = append(p, 0)
		}
	}
	if e != nil {
		flags |= unix.NLM_F_ACK_TLVS
		p = append(p, e.Encode()...)
	}
	return Msg(unix.NLMSG_ERROR, flags, r.Header.Sequence, r.Header.PID, p)
}

// Done builds the NLMSG_DONE that ends a dump for r, with errno (0 for
// success), extra flags (NLM_F_DUMP_INTR) and an optional extended ACK.
func Done(r Request, errno unix.Errno, extra netlink.HeaderFlags, e *Extack) []byte {
	p := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
	flags := netlink.Multi | extra
	if e != nil {
		flags |= unix.NLM_F_ACK_TLVS
		p = append(p, e.Encode()...)
	}
	return Msg(unix.NLMSG_DONE, flags, r.Header.Sequence, r.Header.PID, p)
}

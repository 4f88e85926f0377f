package genl

import (
	"encoding/binary"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// FuzzErrorParse feeds arbitrary NLMSG_ERROR and NLMSG_DONE payloads, and
// arbitrary requests, to the extended ACK decoder and the attribute path
// walker: they must not panic, whatever the bytes.
func FuzzErrorParse(f *testing.F) {
	var req attrs.Encoder
	req.U8(5, 1)
	n := req.Nest(1)
	req.String(2, "eth0")
	req.U32(1, 99)
	req.End(n)
	var ext attrs.Encoder
	ext.String(unix.NLMSGERR_ATTR_MSG, "bad")
	ext.U32(unix.NLMSGERR_ATTR_OFFS, 44)
	ext.U32(nlmsgerrAttrMissType, 3)
	ext.U32(nlmsgerrAttrMissNest, 28)
	p := ext.Nest(nlmsgerrAttrPolicy)
	ext.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_U32)
	ext.U64(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 10)
	ext.End(p)
	f.Add(req.Bytes(), ext.Bytes(), int32(-19), uint16(unix.NLM_F_CAPPED|unix.NLM_F_ACK_TLVS), false, 0)
	f.Add(req.Bytes(), ext.Bytes(), int32(0), uint16(unix.NLM_F_ACK_TLVS), false, 4)
	f.Add(req.Bytes(), ext.Bytes(), int32(-22), uint16(unix.NLM_F_ACK_TLVS), true, 0)
	f.Add([]byte{}, []byte{1, 2, 3}, int32(-1), uint16(0xffff), false, 2)
	f.Fuzz(func(t *testing.T, reqAttrs, tlvs []byte, errno int32, flags uint16, done bool, fixed int) {
		fixed = max(0, min(fixed, len(reqAttrs)))
		r := Request{Family: 0x20, Command: 1, Header: reqAttrs[:fixed], Attrs: reqAttrs[fixed:],
			Names: func(parents []uint16, typ uint16) string {
				if len(parents) > attrs.MaxDepth {
					t.Fatalf("path deeper than %d", attrs.MaxDepth)
				}
				return ""
			}}
		c := &Conn{}
		cl := &call{op: "do", names: r.Names, fixedLen: fixed}
		cl.buf = r.encode(nil, 1, 1, netlink.Acknowledge)
		var payload []byte
		payload = binary.NativeEndian.AppendUint32(payload, uint32(errno))
		typ := uint16(unix.NLMSG_ERROR)
		if done {
			typ = unix.NLMSG_DONE
		} else if flags&unix.NLM_F_CAPPED != 0 {
			payload = append(payload, cl.buf[:min(16, len(cl.buf))]...)
		} else {
			payload = append(payload, cl.buf...)
		}
		payload = append(payload, tlvs...)
		msg := make([]byte, 16, 16+len(payload))
		putHeader(msg, uint32(16+len(payload)), typ, flags, 1, 1)
		msg = append(msg, payload...)
		h := parseHeader(msg)
		if done {
			_ = c.doneError(cl, msg, h)
		} else {
			_ = c.ackError(cl, msg, h)
		}
		var e Error
		e.Offset, e.MissingNest = -1, -1
		decodeExtack(&e, tlvs)
		_ = e.Error()
		for off := range len(cl.buf) + 2 {
			requestPath(cl.buf, fixed, off, r.Names)
		}
	})
}

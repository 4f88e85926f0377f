package genl

import (
	"encoding/binary"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Routing: what the leader does with each message it reads.

// dispatchLocked routes the messages of n received datagrams. It returns
// how many other callers it completed. The messages for self, the reader,
// stay where they are: self.own gets each run of them that follows one
// another in a datagram, which run walks, parsing each message once more
// only to handle it.
func (c *Conn) dispatchLocked(rx *rxBuf, n int, self *call) (woken int) {
	c.st.datagrams += uint64(n)
	for i := range rx.d[:n] {
		d := &rx.d[i]
		if d.Port != 0 {
			// Only the kernel may answer; anything else is spoofed.
			c.st.spoofed++
			continue
		}
		if d.Trunc {
			c.truncatedLocked(d)
			continue
		}
		b := d.Buf[:d.N]
		// self's run in b, as offsets: [start, end) while start >= 0.
		start, end := -1, 0
		for off := 0; off < len(b); {
			m := b[off:]
			if len(m) < nlmsgHdrLen {
				c.st.malformed++
				break
			}
			l := int(binary.NativeEndian.Uint32(m))
			if l < nlmsgHdrLen || l > len(m) {
				c.st.malformed++
				break
			}
			mine := false
			if ownDumpPart(self, m, d.Group) {
				// The common case of a dump read by its own caller:
				// what routeLocked would decide, without its lookups.
				c.st.messages++
				self.gotAny = true
				mine = true
			} else {
				woke, toSelf := c.routeLocked(m[:l:l], parseHeader(m), d.Group, self)
				if woke {
					woken++
				}
				mine = toSelf
			}
			if mine {
				if start < 0 {
					start = off
				}
				end = off + l
			} else if start >= 0 {
				self.own = append(self.own, b[start:end:end])
				start = -1
			}
			off += min(align4(l), len(m))
		}
		if start >= 0 {
			self.own = append(self.own, b[start:end:end])
		}
	}
	return woken
}

// ownDumpPart reports whether message m received for group is a data part
// of self's dump while self, the reader, is still registered and not
// discarding: routeLocked would hand it to self. A data message (a type of
// the dump's family) never ends a dump, and self is in the pending table
// under its sequence number until its final message. m holds at least a
// netlink header.
func ownDumpPart(self *call, m []byte, group uint32) bool {
	if self == nil || !self.dump || group != 0 || self.final || self.abandoned || self.barrier {
		return false
	}
	typ := binary.NativeEndian.Uint16(m[4:6])
	return binary.NativeEndian.Uint32(m[8:12]) == self.seq && typ >= unix.NLMSG_MIN_TYPE && typ == self.family
}

// accepts reports whether a message of type typ can answer cl: the
// control messages a request gets (NOOP, ERROR, DONE, OVERRUN) and data
// messages of the request's family. The other types below NLMSG_MIN_TYPE
// are reserved for control messages the generic netlink protocol has none
// of; a generic netlink reply carries its family's id as its type.
func (cl *call) accepts(typ netlink.HeaderType) bool {
	switch typ {
	case netlink.Noop, netlink.Error, netlink.Done, netlink.Overrun:
		return true
	}
	return typ >= unix.NLMSG_MIN_TYPE && uint16(typ) == cl.family
}

// isErrorAck reports whether msg is an NLMSG_ERROR carrying an error (not
// an ACK of success).
func isErrorAck(msg []byte, h netlink.Header) bool {
	return h.Type == netlink.Error && len(msg) >= nlmsgHdrLen+4 &&
		binary.NativeEndian.Uint32(msg[nlmsgHdrLen:]) != 0
}

// isFinal reports whether a message of type typ with flags fl ends cl.
func (cl *call) isFinal(typ netlink.HeaderType, fl netlink.HeaderFlags) bool {
	switch typ {
	case netlink.Error:
		return true
	case netlink.Done:
		return cl.dump || cl.replyOnly
	case netlink.Noop, netlink.Overrun:
		return false
	}
	return cl.replyOnly && fl&netlink.Multi == 0
}

// routeLocked routes one message. toSelf reports that it is self's to
// handle: it is left in the receive buffer for self (see dispatchLocked).
func (c *Conn) routeLocked(msg []byte, h netlink.Header, group uint32, self *call) (wokeOther, toSelf bool) {
	c.st.messages++
	if group == 0 && h.Sequence == 0 && c.dumpBusy {
		// Some families (thermal) build the messages of a dump with
		// sequence number 0, only its NLMSG_DONE carrying the request's:
		// a unicast data message of the family of the dump in flight
		// (a Conn runs one at a time) is the dump's.
		if cl := c.pending.get(c.dumpSeq); cl != nil && cl.dump && !cl.barrier &&
			h.Type >= unix.NLMSG_MIN_TYPE && uint16(h.Type) == cl.family {
			h.Sequence = c.dumpSeq
		}
	}
	if group != 0 || h.Sequence == 0 {
		c.deliverSubsLocked(msg, group)
		return
	}
	cl := c.pending.get(h.Sequence)
	if cl == nil {
		c.staleLocked(h)
		return
	}
	if !cl.barrier && !cl.accepts(h.Type) {
		// A reserved control type, or a reply of another family: not
		// an answer to this request, whatever its sequence number.
		c.st.malformed++
		return
	}
	final := cl.isFinal(h.Type, h.Flags)
	cl.gotAny = true
	if !cl.dump {
		cl.cost += int32(replyCost(len(msg)))
		cl.msgs = min(cl.msgs+1, maxRecvBatch)
	}
	switch {
	case cl.barrier:
		if final {
			c.barrierDoneLocked(cl)
		}
		return
	case cl.abandoned:
		c.st.discarded++
		if final {
			c.settleLocked(cl, false)
			c.pending.del(cl.seq)
			if cl.dump {
				c.releaseDumpLocked()
			}
			if !cl.owned {
				c.putCallLocked(cl)
			}
		}
		return
	case cl == self:
		toSelf = true
	default:
		cl.inbox = append(cl.inbox, msg...)
		if pad := align4(len(msg)) - len(msg); pad > 0 {
			cl.inbox = append(cl.inbox, make([]byte, pad)...)
		}
		cl.signal()
	}
	if final {
		c.settleLocked(cl, !isErrorAck(msg, h))
		c.pending.del(cl.seq)
		cl.final = true
		if cl.dump {
			c.releaseDumpLocked()
		}
		return cl != self, toSelf
	}
	return false, toSelf
}

func (c *Conn) truncatedLocked(d *Datagram) {
	c.st.truncated++
	if d.Group == 0 && d.N >= nlmsgHdrLen {
		h := parseHeader(d.Buf)
		if h.Sequence != 0 {
			if cl := c.pending.get(h.Sequence); cl != nil && !cl.barrier {
				if !cl.dump && !cl.replyOnly {
					c.orphanLocked(cl) // its ACK is still to come
				}
				c.failLocked(cl, &Error{Op: cl.op, Family: cl.family, Command: cl.cmd, Err: ErrTruncated,
					Message: truncMsg(d), Offset: -1, MissingNest: -1})
			} else {
				c.st.stale++
			}
			return
		}
	}
	c.lostSubsLocked(d.Group)
}

// failLocked ends a call with err. A dump stays registered, discarding, until
// the kernel finishes it, so that the next dump does not meet EBUSY.
func (c *Conn) failLocked(cl *call, err error) {
	if cl.abandoned {
		return
	}
	cl.err = err
	cl.signal()
	if cl.dump && cl.epoch != 0 && !cl.final {
		cl.abandoned = true
		cl.final = true
		return
	}
	cl.final = true
	c.settleLocked(cl, false)
	c.pending.del(cl.seq)
	if cl.dump {
		c.releaseDumpLocked()
	}
}

func (c *Conn) releaseDumpLocked() {
	c.dumpBusy = false
	for w := c.idleHead; w != nil; w = w.next {
		if w.waitDump {
			w.signal()
		}
	}
}

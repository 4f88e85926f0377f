package genl

import (
	"encoding/binary"

	"github.com/mdlayher/netlink"
)

// Requests without an ACK.
//
// A do-request whose command declares a reply (Request.ReplyDeclared) needs
// no ACK on success: the reply says it all. Without one the kernel builds
// one datagram per request instead of two, and the Conn reads half as
// many. What the ACK still tells is that a command which replies nothing
// has succeeded (mptcp_pm add-addr declares a reply it never sends). The
// kernel answers a generic netlink request inside the sendmsg that carries
// it, queueing the reply (or error) before the sendmsg returns, and reports
// a reply it had to drop (ENOBUFS) before anything still queued. So a
// receive that finds the socket empty and reports no error, begun after the
// request's sendmsg returned, proves that nothing answered it and nothing
// will: the request ends with nil (silentLocked).
//
// Every sendmsg that carries ACK-less requests counts itself in sentGen
// once it has returned, and each such request remembers the count
// (doneGen). The leader reads sentGen before each non-blocking receive;
// when that receive finds nothing, every request with a doneGen up to what
// it read is done. A leader may block in a receive only when no ACK-less
// request is in a sendmsg or waiting for such a look (mustLookLocked), and
// a sender leaves the ACK on what it sends while the leader blocks
// (leaderParked): the ACK is what wakes it. A request that asked for no ACK
// itself (Request.ExpectReply) has none to keep; its sender wakes a
// blocked leader instead.
//
// The ACK stays where it has a job: with a warning handler (warnings come
// only in ACKs), on a socket with NETLINK_NO_ENOBUFS (a dropped reply would
// pass for none), on a Transport other than the socket (a fake kernel may
// answer later), and while an overrun is being resolved (its barrier
// decides what was lost).

// acklessKindLocked records, for cl just encoded from req, whether it may
// end without an answer and whether its ACK may be left out.
func (c *Conn) acklessKindLocked(req *Request, cl *call) {
	cl.canSilence = !cl.dump && c.sock != nil && !c.cfg.noENOBUFS && len(cl.buf) >= nlmsgHdrLen
	cl.canDropAck = cl.canSilence && !cl.replyOnly && req.ReplyDeclared &&
		cl.onWarning == nil && c.cfg.onWarning == nil &&
		binary.NativeEndian.Uint16(cl.buf[6:8])&uint16(netlink.Acknowledge) != 0
}

// dropAck takes NLM_F_ACK off cl's encoded request.
func (cl *call) dropAck() {
	fl := binary.NativeEndian.Uint16(cl.buf[6:8])
	binary.NativeEndian.PutUint16(cl.buf[6:8], fl&^uint16(netlink.Acknowledge))
	cl.replyOnly = true
}

// acklessLocked prepares q, about to be put in a sendmsg by a flush, to go
// without an ACK where it may. It reports whether q goes so (record: the
// sender must call sentAcklessLocked once the sendmsg has returned) and
// whether the leader must then be woken to look for its answer.
func (c *Conn) acklessLocked(q *call) (record, wake bool) {
	if !c.goAcklessLocked(q) {
		return false, false
	}
	c.acklessBusy++
	return true, c.leaderParked
}

// goAcklessLocked takes the ACK off cl where it may and marks it for the
// silent ending; it reports whether cl goes without an ACK. A request its
// caller sends alone and then reads for as the leader calls it directly
// (and sets cl.doneGen once the sendmsg has returned); a flush goes
// through acklessLocked. The ACK stays while the leader blocks in a
// receive (it is what wakes it); a request sent alone has no such leader.
// One that asked for no ACK (ExpectReply) has none to keep.
func (c *Conn) goAcklessLocked(cl *call) bool {
	if !cl.canSilence {
		return false
	}
	if !cl.replyOnly {
		if !cl.canDropAck || c.leaderParked {
			return false
		}
		cl.dropAck()
	}
	cl.silentOK = true
	return true
}

// sentAcklessLocked records that the sendmsg of epoch, which carried n
// ACK-less requests among seqs, returned (ok: successfully) as the gen-th
// such sendmsg. wake wakes a blocked leader to look for their answers.
func (c *Conn) sentAcklessLocked(seqs []uint32, epoch, gen uint64, n int, ok, wake bool) {
	c.acklessBusy -= n
	if !ok {
		return
	}
	for _, s := range seqs {
		if cl := c.pending.get(s); cl != nil {
			if cl.epoch == epoch && cl.silentOK && cl.doneGen == 0 {
				cl.doneGen = gen
				if len(c.silentQ) == cap(c.silentQ) {
					c.silentQ = c.unsettledLocked(c.silentQ[:0])
				}
				c.silentQ = append(c.silentQ, s)
			}
			continue
		}
		// Its caller left before the sendmsg returned (finish).
		if o, found := c.fl.orphans[s]; found && o.epoch == epoch && o.replyOnly && o.doneGen == 0 {
			o.doneGen = gen
			c.fl.orphans[s] = o
		}
	}
	if wake {
		c.wakeLeaderLocked()
	}
}

// mustLookLocked reports whether the leader must look at the socket again
// instead of blocking: ACK-less requests are in a sendmsg, or were sent
// and not yet found answered or silent.
func (c *Conn) mustLookLocked() bool {
	return (c.acklessBusy > 0 || len(c.silentQ) > 0) && !c.held()
}

// silentLocked is called by the leader when a receive begun after the
// gen-th sendmsg of ACK-less requests returned has found the socket empty:
// those requests, self among them or not, that nothing has answered are
// done and replied nothing. Not while an overrun is being resolved: the
// kernel may have dropped their replies, and the barrier decides.
func (c *Conn) silentLocked(self *call, gen uint64) {
	if c.held() {
		return
	}
	if self != nil && self.silentOK {
		c.endSilentLocked(self, gen)
	}
	if len(c.silentQ) > 0 {
		keep := c.silentQ[:0]
		for _, s := range c.silentQ {
			if cl := c.unsettled(s); cl != nil && !c.endSilentLocked(cl, gen) {
				keep = append(keep, s)
			}
		}
		clear(c.silentQ[len(keep):])
		c.silentQ = keep
	}
	for s, o := range c.fl.orphans {
		if o.doneGen != 0 && o.doneGen <= gen {
			// Left by its caller, and its answer was nothing.
			delete(c.fl.orphans, s)
			c.fl.inflight -= int(o.credit)
		}
	}
}

// endSilentLocked ends cl, an ACK-less request, if its sendmsg returned
// before the empty receive (doneGen <= gen) and nothing answered it.
func (c *Conn) endSilentLocked(cl *call, gen uint64) bool {
	if cl.gotAny || cl.final || cl.err != nil || cl.doneGen == 0 || cl.doneGen > gen || c.pending.get(cl.seq) != cl {
		return false
	}
	c.settleLocked(cl, false)
	c.pending.del(cl.seq)
	cl.final = true
	cl.silent = true
	cl.signal()
	return true
}

// unsettled returns the ACK-less request sent by a flush under sequence
// number s, if it is still waiting for its answer or a look that finds
// none; nil once it was answered, failed or finished.
func (c *Conn) unsettled(s uint32) *call {
	cl := c.pending.get(s)
	if cl == nil || !cl.silentOK || cl.doneGen == 0 || cl.gotAny || cl.final || cl.err != nil {
		return nil
	}
	return cl
}

// unsettledLocked appends to dst the sequence numbers in silentQ whose
// requests are unsettled. Called with dst = silentQ[:0] it drops the
// others in place: those answered since, which only a look that finds the
// socket empty drops otherwise.
func (c *Conn) unsettledLocked(dst []uint32) []uint32 {
	n := len(c.silentQ)
	for _, s := range c.silentQ[:n] {
		if c.unsettled(s) != nil {
			dst = append(dst, s)
		}
	}
	return dst
}

package genl

import "github.com/mdlayher/netlink"

// overrunLocked handles ENOBUFS: the kernel dropped messages for this
// socket. Requests whose replies were dropped are found by a barrier
// (sendBarrierLocked), which is not sent now: the kernel reports ENOBUFS
// while the receive queue is still full and marks the socket congested
// (NETLINK_S_CONGESTED), and drops everything it unicasts to it, the
// barrier's ACK included, without another report, until a receive finds the
// queue empty. The leader sends it once a non-blocking receive returns
// nothing. Should its ACK be dropped all the same (the queue filled up
// again), the kernel reports a new overrun, since the drained queue cleared
// the congestion, and another barrier follows.
//
// New requests are held until the barrier's ACK is read: sent into the
// congested socket they would lose their replies too, and a dump started
// behind a queued ACK on a small receive buffer fails with ENOBUFS
// (netlink_dump allows a part beyond the buffer's size only into an empty
// queue).
func (c *Conn) overrunLocked() {
	c.st.overruns++
	c.barrierDue = true
	for _, s := range c.subs {
		s.overruns++
		s.markLocked()
	}
}

// held reports whether requests wait in sendQ for an overrun's barrier.
func (c *Conn) held() bool { return c.barrierDue || c.barrierSeq != 0 }

// sendBarrierLocked sends, alone, a NOOP request with an ACK after an
// overrun. Replies are queued in order, so when its ACK arrives every
// request sent before it that is still waiting lost its reply, and fails
// with ErrOverrun instead of hanging. It reports false, sending nothing,
// while another goroutine is in sendmsg. It drops c.mu during the sendmsg.
func (c *Conn) sendBarrierLocked() bool {
	if c.closed {
		c.barrierDue = false
		return true
	}
	if c.sending {
		return false
	}
	c.barrierDue = false
	b := &call{waiter: waiter{wake: make(chan struct{}, 1)}, barrier: true, op: "barrier"}
	b.seq = c.nextSeqLocked()
	b.buf = make([]byte, nlmsgHdrLen)
	putHeader(b.buf, nlmsgHdrLen, uint16(netlink.Noop), uint16(netlink.Request|netlink.Acknowledge), b.seq, c.pid)
	c.pending.put(b)
	c.barrierSeq = b.seq
	c.sending = true
	c.sendEpoch++
	b.epoch = c.sendEpoch
	c.st.sends++
	c.mu.Unlock()
	err := c.send(b.buf)
	c.mu.Lock()
	c.sending = false
	if err != nil {
		c.failSentLocked(b.seq, err)
	}
	return true
}

func (c *Conn) barrierDoneLocked(b *call) {
	c.pending.del(b.seq)
	if b.seq == c.barrierSeq {
		c.barrierSeq = 0 // the leader flushes the requests held meanwhile
	}
	e := b.epoch
	c.lostOrphansLocked(e)
	for _, cl := range c.pending.all() {
		ce := cl.epoch
		if ce == 0 || ce >= e {
			continue
		}
		if cl.barrier {
			c.pending.del(cl.seq)
			continue
		}
		if cl.dump && cl.gotAny {
			continue // dump parts are not dropped: the kernel waits for room
		}
		c.st.lostReplies++
		c.failLocked(cl, &Error{Op: cl.op, Family: cl.family, Command: cl.cmd,
			Err: &OverrunError{Overruns: 1, OutcomeUnknown: !cl.dump}, Offset: -1, MissingNest: -1})
	}
}

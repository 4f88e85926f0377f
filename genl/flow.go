package genl

import (
	"github.com/mdlayher/netlink"
)

// Flow control.
//
// The kernel answers a request inside the sendmsg that carries it and queues
// the answer on the Conn's socket; when the queue already holds more than the
// receive buffer (SO_RCVBUF), it drops the answer and reports an overrun
// (netlink_attachskb). Sending more requests at once than the buffer can hold
// answers for therefore loses answers, and a burst of callers or a big Batch
// did exactly that. So the Conn sends a request only when the answers of the
// requests in flight, its own included, fit in the receive buffer: each
// request reserves an estimate of the memory its answer will take when it is
// sent, and gives it back when its final message is read (or it is known to
// be lost). What does not fit waits in the send queue, in order, and goes out
// as answers are read. A request is always sent when nothing is in flight, so
// a buffer smaller than one answer makes the Conn carry one request at a time.
//
// The kernel charges an answer's skb truesize: the data allocation, rounded up
// to a slab size, plus the sk_buff and skb_shared_info (about 576 bytes
// together). replyCost bounds it from the datagram's size. The answer's size
// is not known before it arrives, so each kind of request (family and
// command) is charged the most its answers have cost so far, and a kind not
// seen yet is charged as if its reply filled a page (NLMSG_GOODSIZE), the
// size most commands allocate for a reply. Only successful answers teach
// the cost: an error has no reply, where a success of the same kind may.
// A dump is charged for what the kernel lets it queue: it adds a part only
// while the queue holds at most half the buffer (netlink_recvmsg), so it
// holds up to half the buffer plus one part, whose data the kernel
// allocates as 32 KiB with the shared info (netlink_dump; the reader's
// buffer size is capped there).
//
// A sendmsg is split where the send buffer (SO_SNDBUF) would refuse it: the
// kernel fails a sendmsg longer than the send buffer less 32 bytes with
// EMSGSIZE (netlink_sendmsg).
//
// Notifications take room in the same buffer and no Conn can bound them;
// when they overrun it, the replies lost meanwhile are found by the overrun's
// barrier (overrun.go) and their requests fail with ErrOverrun and
// ErrOutcomeUnknown.

const (
	// skbOverhead bounds the sk_buff, skb_shared_info and slab rounding
	// the kernel adds to a datagram's size.
	skbOverhead = 2048
	// goodSize is NLMSG_GOODSIZE on 4 KiB pages: what most commands
	// allocate for a reply.
	goodSize = 4096 - 320
	// ackSize is an NLMSG_ERROR with a capped ACK and a little extack.
	ackSize = 256
	// dumpPartCost bounds a dump part's truesize: 32 KiB of data and
	// shared info, plus the sk_buff.
	dumpPartCost = 32<<10 + skbOverhead
	// defaultSendMax bounds one combined sendmsg when the send buffer is
	// not known (a Transport other than the socket); the default socket
	// send buffer is about 208 KiB.
	defaultSendMax = 64 << 10
)

// replyCost bounds the receive-buffer memory the kernel charges for a
// datagram of n bytes: its allocation is under twice its size once rounded
// up to a slab, plus the overhead.
func replyCost(n int) int { return 2*align4(n) + skbOverhead }

// unseenCost is charged for a do-request of a kind not answered yet: a
// reply of a page and an ACK.
var unseenCost = int32(replyCost(goodSize) + replyCost(ackSize))

// flow is the Conn's flow-control state, guarded by Conn.mu.
type flow struct {
	budget   int // receive-buffer bytes answers in flight may take; 0: no limit
	inflight int // bytes reserved by requests sent and not yet answered
	sendMax  int // the longest sendmsg
	costs    [64]opCost
	orphans  map[uint32]orphan // seq → credit of requests whose callers left before the answer
}

// An opCost is the most an answer of one kind of request has cost, and
// the most messages it had besides the ACK.
type opCost struct {
	key  uint32 // family<<8 | command, +1 so that the zero value is empty
	cost int32
	msgs uint8
}

// An orphan is a request sent and given up by its caller (its context
// ended): its answer still arrives and takes room until it is read.
type orphan struct {
	credit    int32
	replyOnly bool
	epoch     uint64
	doneGen   uint64 // an ACK-less request's (silent.go)
}

func costKey(family uint16, cmd uint8) uint32 { return (uint32(family)<<8 | uint32(cmd)) + 1 }

func costSlot(key uint32) int { return int((key * 0x9e3779b1) >> 26) }

// setBuffers sizes the window from the socket's buffers as the kernel
// reports them (getsockopt returns the doubled, effective value).
func (f *flow) setBuffers(rcvbuf, sndbuf int) {
	if rcvbuf > 0 {
		f.budget = rcvbuf
	}
	f.sendMax = defaultSendMax
	if sndbuf > 0 {
		f.sendMax = min(defaultSendMax, max(sndbuf-32, nlmsgHdrLen))
	}
}

// estimateLocked returns what cl reserves while it is in flight.
func (c *Conn) estimateLocked(cl *call) int32 {
	if c.fl.budget == 0 {
		return 0
	}
	if cl.dump {
		return int32(c.fl.budget/2 + dumpPartCost)
	}
	key := costKey(cl.family, cl.cmd)
	if e := c.fl.costs[costSlot(key)]; e.key == key {
		return e.cost
	}
	return unseenCost
}

// expectLocked returns how many datagrams the answer of cl is expected to
// take (at least 1): for a do-request, the most replies its kind has had,
// and its ACK unless it goes without (a reply and an ACK are two), so that
// its caller receives them together.
func (c *Conn) expectLocked(cl *call) int {
	if cl.dump || c.fl.budget == 0 {
		return 1
	}
	key := costKey(cl.family, cl.cmd)
	if e := c.fl.costs[costSlot(key)]; e.key == key {
		n := int(e.msgs)
		if !cl.replyOnly {
			n++
		}
		return max(n, 1)
	}
	return 1
}

// fitsLocked reports whether cl may be sent now.
func (c *Conn) fitsLocked(cl *call) bool {
	return c.fl.inflight == 0 || c.fl.inflight+int(cl.want) <= c.fl.budget
}

// reserveLocked charges cl as it is sent.
func (c *Conn) reserveLocked(cl *call) {
	cl.credit = cl.want
	c.fl.inflight += int(cl.want)
}

// settleLocked gives back cl's reservation: its final message was read, or
// it is known never to come. When a successful answer was read whole
// (learn), the cost of its kind is updated.
func (c *Conn) settleLocked(cl *call, learn bool) {
	c.fl.inflight -= int(cl.credit)
	cl.credit = 0
	if learn && !cl.dump && cl.cost > 0 && c.fl.budget > 0 {
		key := costKey(cl.family, cl.cmd)
		e := &c.fl.costs[costSlot(key)]
		if e.key != key {
			*e = opCost{key: key}
		}
		e.cost = max(e.cost, cl.cost)
		replies := cl.msgs // without the ACK, which depends on the request
		if !cl.replyOnly && replies > 0 {
			replies--
		}
		e.msgs = max(e.msgs, replies)
	}
	cl.cost, cl.msgs = 0, 0
}

// orphanLocked keeps the reservation of a request whose caller left before
// its answer arrived, until the answer is read.
func (c *Conn) orphanLocked(cl *call) {
	if cl.credit == 0 {
		return
	}
	if c.fl.orphans == nil {
		c.fl.orphans = make(map[uint32]orphan)
	}
	c.fl.orphans[cl.seq] = orphan{credit: cl.credit, replyOnly: cl.replyOnly, epoch: cl.epoch, doneGen: cl.doneGen}
	cl.credit = 0
}

// staleLocked handles a message no request waits for: the answer of an
// orphan ends its reservation.
func (c *Conn) staleLocked(h netlink.Header) {
	c.st.stale++
	if len(c.fl.orphans) == 0 {
		return
	}
	o, ok := c.fl.orphans[h.Sequence]
	if !ok {
		return
	}
	cl := call{replyOnly: o.replyOnly}
	if cl.isFinal(h.Type, h.Flags) {
		delete(c.fl.orphans, h.Sequence)
		c.fl.inflight -= int(o.credit)
	}
}

// lostOrphansLocked ends the reservations of orphans sent before an
// overrun's barrier: their answers were read or lost.
func (c *Conn) lostOrphansLocked(epoch uint64) {
	for seq, o := range c.fl.orphans {
		if o.epoch < epoch {
			delete(c.fl.orphans, seq)
			c.fl.inflight -= int(o.credit)
		}
	}
}

// sendableLocked reports whether the head of the send queue may go out now.
func (c *Conn) sendableLocked() bool {
	return len(c.sendQ) > 0 && !c.sending && !c.held() && !c.closed && c.fitsLocked(c.sendQ[0])
}

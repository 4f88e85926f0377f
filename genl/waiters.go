package genl

// A waiter is a goroutine waiting on the Conn: a call or a subscription.
type waiter struct {
	wake chan struct{}

	// Guarded by Conn.mu.
	inbox    []byte // messages copied for it by another leader
	final    bool   // the final message (ACK, error, DONE) was routed
	err      error  // failure decided by the Conn (closed, send error, lost reply)
	idle     bool
	waitDump bool // waiting for the dump lock
	// A subscription's cancellation hook, kept from one wait to the next
	// (keepArmedLocked): armedStop removes the hook armed on a context
	// whose Done channel is armedDone.
	sub       bool
	armedDone <-chan struct{}
	armedStop func() bool
	// A subscription's receive slots, kept from one read as leader to the
	// next (see releaseLeadLocked) until it is closed.
	keptRx *rxBuf
	prev   *waiter
	next   *waiter
}

func (w *waiter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// A call is one request in flight.
type call struct {
	waiter

	seq       uint32
	dump      bool
	replyOnly bool // no NLM_F_ACK: the reply is final
	// Guarded by mu, or owned by the caller while it leads (silent.go).
	// canSilence: the request may end without an answer; canDropAck: its
	// ACK may be left out. silentOK: a reply-only request that a receive
	// finding the socket empty, after the sendmsg that carried it returned
	// (doneGen, 0 before) and before any answer, ends; silent: it ended so.
	canSilence, canDropAck bool
	silentOK, silent       bool
	doneGen                uint64
	sendOwn                bool // guarded by mu: its own caller flushes it
	// Guarded by Conn.mu.
	abandoned bool // discard messages until the final one
	owned     bool // the caller has not finished with it yet
	gotAny    bool
	barrier   bool
	queued    bool
	epoch     uint64 // guarded by mu: the sendmsg that carried it, 0 before
	// Flow control (flow.go), guarded by mu: the receive-buffer bytes
	// cl reserves when sent, those it holds while in flight, and what its
	// answer has cost so far.
	want, credit, cost int32
	msgs               uint8 // messages of its answer so far (a do-request's)

	// Owner only.
	op        string
	family    uint16
	cmd       uint8
	fixedLen  int
	names     AttrNamer
	onWarning func(*Error)
	buf       []byte   // the encoded request
	own       [][]byte // messages the owner read as leader, into rx
	rx        *rxBuf
	leadRx    *rxBuf // set when start made the caller the leader
	leadWant  int    // datagrams its first receive as that leader asks for
	reading   []byte
	intr      bool
	// took: awaitLocked took the inbox into reading, with the call's
	// error and silent ending as they were then.
	took       bool
	tookErr    error
	tookSilent bool
}

func (c *Conn) getCallLocked() *call {
	if cl := c.spare.Swap(nil); cl != nil {
		if cl.rx != nil {
			c.putRxLocked(cl.rx)
			cl.rx = nil
		}
		return cl
	}
	if n := len(c.freeCalls); n > 0 {
		cl := c.freeCalls[n-1]
		c.freeCalls = c.freeCalls[:n-1]
		return cl
	}
	return &call{waiter: waiter{wake: make(chan struct{}, 1)}}
}

func (c *Conn) putCallLocked(cl *call) {
	if cl.rx != nil {
		c.putRxLocked(cl.rx)
		cl.rx = nil
	}
	if len(c.freeCalls) >= 64 || cap(cl.buf) > 1<<20 || cap(cl.inbox) > 1<<20 || cap(cl.reading) > 1<<20 {
		return
	}
	cl.reset()
	c.freeCalls = append(c.freeCalls, cl)
}

// reset clears cl for reuse; its rx, if any, stays.
func (cl *call) reset() {
	select {
	case <-cl.wake:
	default:
	}
	cl.inbox = cl.inbox[:0]
	cl.reading = cl.reading[:0]
	cl.own = cl.own[:0]
	cl.final, cl.err, cl.idle, cl.waitDump = false, nil, false, false
	cl.took, cl.tookErr, cl.tookSilent = false, nil, false
	cl.prev, cl.next = nil, nil
	cl.replyOnly, cl.sendOwn = false, false
	cl.silentOK, cl.silent, cl.canSilence, cl.canDropAck, cl.doneGen = false, false, false, false, 0
	cl.abandoned, cl.owned, cl.gotAny, cl.barrier, cl.queued, cl.intr = false, false, false, false, false, false
	cl.epoch = 0
	cl.want, cl.credit, cl.cost, cl.msgs = 0, 0, 0, 0
	cl.names, cl.onWarning = nil, nil
}

func (c *Conn) idlePushLocked(w *waiter) {
	w.idle = true
	w.next = nil
	w.prev = c.idleTail
	if c.idleTail != nil {
		c.idleTail.next = w
	} else {
		c.idleHead = w
	}
	c.idleTail = w
}

func (c *Conn) idleRemoveLocked(w *waiter) {
	if !w.idle {
		return
	}
	w.idle = false
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		c.idleHead = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		c.idleTail = w.prev
	}
	w.prev, w.next = nil, nil
}

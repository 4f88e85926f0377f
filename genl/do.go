package genl

import (
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"net"
	"runtime"
	"slices"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
)

// newCallLocked takes a call, encodes req into it and registers it.
func (c *Conn) newCallLocked(req *Request, op string, flags netlink.HeaderFlags) *call {
	cl := c.getCallLocked()
	cl.owned = true
	cl.seq = c.nextSeqLocked()
	cl.dump = flags&netlink.Dump == netlink.Dump
	cl.replyOnly = !cl.dump && req.ExpectReply
	c.st.requests++
	cl.op = op
	cl.family, cl.cmd = req.Family, req.Command
	cl.fixedLen = len(req.Header)
	cl.names, cl.onWarning = req.Names, req.OnWarning
	fl := flags
	if cl.dump || cl.replyOnly {
		// A dump ends with NLMSG_DONE; an ACK would only follow it.
		fl = flags &^ netlink.Acknowledge
	}
	req.Flags &^= netlink.Acknowledge | netlink.Dump
	cl.buf = req.encode(cl.buf[:0], cl.seq, c.pid, fl)
	c.acklessKindLocked(req, cl)
	cl.want = c.estimateLocked(cl)
	c.pending.put(cl)
	return cl
}

// loneYieldEvery is how many requests sent alone (see start) a Conn lets
// go by before the next caller yields its processor.
const loneYieldEvery = 256

// start registers and sends one request.
func (c *Conn) start(req *Request, op string, flags netlink.HeaderFlags) (*call, error) {
	if c.yieldDue.Load() {
		// A caller that sends request after request alone never parks:
		// to the runtime's monitor (sysmon) it is one goroutine running
		// for ever, which it preempts every 10 ms, taking its processor
		// away when that happens during the send system call, and then
		// it polls every 20 µs for a while; on a small VM that is ~0.03
		// sleeps and ~0.07 context switches per request. Yielding now
		// and then, holding nothing, starts a new scheduling slice
		// before the monitor's 10 ms are up: about 5x fewer of both.
		c.yieldDue.Store(false)
		runtime.Gosched()
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, net.ErrClosed
	}
	cl := c.newCallLocked(req, op, flags)
	if !c.sending && !c.leader && c.pending.len() == 1 && len(c.sendQ) == 0 && !c.held() && c.fitsLocked(cl) {
		// Alone on the Conn: become the leader and send. While we lead,
		// other callers queue their requests for us to flush, so the
		// send needs no lock round trip of its own.
		if c.loneSends++; c.loneSends%loneYieldEvery == 0 {
			c.yieldDue.Store(true)
		}
		c.leader = true
		rx := c.getRxLocked()
		c.goAcklessLocked(cl)
		cl.leadWant = min(c.expectLocked(cl), c.cfg.recvBatch)
		c.sendEpoch++
		cl.epoch = c.sendEpoch
		c.reserveLocked(cl)
		c.st.sends++
		c.mu.Unlock()
		err := c.sendCall(cl)
		if err != nil {
			c.mu.Lock()
			c.releaseLeaderLocked(nil, rx)
			c.failSentLocked(cl.seq, err)
			c.mu.Unlock()
			return cl, nil
		}
		if cl.silentOK {
			// We lead, so only we read it before we let go (see
			// silentLocked).
			cl.doneGen = c.sentGen.Add(1)
		}
		cl.leadRx = rx
		return cl, nil
	}
	c.submitLocked(cl)
	c.takeLeadLocked(cl)
	c.mu.Unlock()
	return cl, nil
}

// takeLeadLocked makes cl's caller the leader right away when its request
// has gone out and nobody reads: the lone caller's fast path, which saves
// a lock round trip in await. Not when a leader has already routed part of
// the answer to cl's inbox (while cl's caller was still sending requests
// for others): run handles what it reads as leader before its inbox, so
// the ACK would overtake the reply.
func (c *Conn) takeLeadLocked(cl *call) {
	if !cl.queued && !cl.final && !cl.gotAny && cl.err == nil && !c.leader && !c.closed {
		c.leader = true
		cl.leadRx = c.getRxLocked()
		cl.leadWant = min(c.expectLocked(cl), c.cfg.recvBatch)
	}
}

// finish releases cl after its owner is done with it. A dump the kernel is
// still producing is left registered and drained by whoever reads next.
func (c *Conn) finish(cl *call) {
	if cl.final && !cl.dump && !cl.abandoned && !cl.queued && cl.leadRx == nil {
		// Done and unregistered (the dispatcher removed it when it routed
		// the final message): recycle it without the lock when the spare
		// slot is free. Nothing refers to its receive buffer once the
		// owner is done: one of the default shape goes back to rxPool
		// with its slots, another goes along, its slots given back.
		if rx := cl.rx; rx != nil {
			if rx.shared() {
				rx.putShared()
				cl.rx = nil
			} else {
				rx.release()
			}
		}
		cl.own = cl.own[:0]
		cl.owned = false
		cl.reset()
		if c.spare.CompareAndSwap(nil, cl) {
			return
		}
	}
	unsent := false
	c.mu.Lock()
	if cl.leadRx != nil {
		c.releaseLeaderLocked(nil, cl.leadRx)
		cl.leadRx = nil
	}
	if cl.queued {
		if i := slices.Index(c.sendQ, cl); i >= 0 {
			c.sendQ = slices.Delete(c.sendQ, i, i+1)
		}
		cl.queued = false
		unsent = true
	}
	if cl.rx != nil {
		c.putRxLocked(cl.rx)
		cl.rx = nil
	}
	cl.own = cl.own[:0]
	cl.owned = false
	if c.pending.get(cl.seq) == cl {
		if cl.dump && !unsent && !c.closed {
			// The kernel is still producing it: whoever reads next drains
			// it, and the dispatcher recycles the call at its end.
			cl.abandoned = true
			cl.inbox = cl.inbox[:0]
			c.mu.Unlock()
			return
		}
		c.pending.del(cl.seq)
		if cl.dump {
			c.releaseDumpLocked()
		}
		// Sent and left before its answer (ctx ended): the answer
		// still takes room in the receive buffer until it is read.
		c.orphanLocked(cl)
	}
	c.putCallLocked(cl)
	c.mu.Unlock()
}

// run processes cl's messages until its final one. yield receives each data
// message, with a nil error, and returns false to stop early (the call is
// then abandoned by finish). run returns the request's error, if any, and
// errStop for a dump that yield stopped.
func (c *Conn) run(ctx context.Context, cl *call, yield func(Message, error) bool) error {
	var st runState
	for {
		if rx := cl.leadRx; rx != nil {
			// start made us the leader: nobody else can have queued
			// anything for us yet.
			cl.leadRx = nil
			if lerr := c.lead(ctx, &cl.waiter, cl, rx, max(cl.leadWant, 1)); lerr != nil {
				return lerr
			}
			continue
		}
		// Messages read as leader come before anything queued since.
		if len(cl.own) > 0 {
			skipped := 0
			for i, b := range cl.own {
				cl.own[i] = nil
				skipped += c.walk(cl, b, yield, &st)
			}
			cl.own = cl.own[:0]
			c.countDiscarded(skipped)
		} else {
			// cl.rx, whose messages have all been handled, stays with
			// cl: if await makes it the leader again it reads into the
			// same slots (a lone dumper keeps them from one receive to
			// the next), and finish gives them back.
			var werr error
			var silent bool
			if cl.took {
				// await took the inbox already.
				werr, silent = cl.tookErr, cl.tookSilent
				cl.took, cl.tookErr = false, nil
			} else {
				c.mu.Lock()
				werr, silent = c.takeInboxLocked(cl)
				if len(cl.reading) == 0 && werr == nil && !silent {
					// Nothing yet: wait, under the same lock.
					if aerr := c.awaitLocked(ctx, &cl.waiter, cl); aerr != nil {
						return aerr
					}
					continue
				}
				c.mu.Unlock()
			}
			if len(cl.reading) == 0 {
				if werr != nil {
					return werr
				}
				if silent {
					return nil // the kernel replied nothing (silentLocked)
				}
				if aerr := c.await(ctx, &cl.waiter, cl); aerr != nil {
					return aerr
				}
				continue
			}
			c.countDiscarded(c.walk(cl, cl.reading, yield, &st))
			cl.reading = cl.reading[:0]
		}
		if st.done {
			return firstErr(st.err, st.merr)
		}
		if st.stopped && cl.dump {
			return errStop
		}
	}
}

// takeInboxLocked moves what the leader has queued for cl into
// cl.reading, and returns cl's error and whether it ended silent.
func (c *Conn) takeInboxLocked(cl *call) (error, bool) {
	cl.reading, cl.inbox = cl.inbox, cl.reading[:0]
	return cl.err, cl.silent
}

// A runState is what run has learnt of a call from its messages so far.
type runState struct {
	err     error // the request's error, from its final message
	merr    error // a reply too short to decode
	done    bool  // the final message was handled
	stopped bool  // yield returned false
}

// over reports whether the messages of cl still to come are only to be
// skipped: after its final one or, for a dump, once yield has stopped it.
func (st *runState) over(cl *call) bool { return st.done || (st.stopped && cl.dump) }

// walk handles for run the messages in b, which follow one another as in a
// datagram: data messages go to yield, control messages to control. It
// returns how many messages it skipped (see runState.over).
//
// A data message is made ready in m0 or m1 and handed to yield only after
// the next message has been looked at (and made ready in the other one):
// the copy of a Message into the arguments of yield, right after writing
// it field by field, stalled the CPU (its wide loads could not take their
// bytes from the narrow stores still in flight) for about a tenth of the
// Conn's work per dump part.
func (c *Conn) walk(cl *call, b []byte, yield func(Message, error) bool, st *runState) (skipped int) {
	var m0, m1 Message
	held := 0 // 1 or 2: m0 or m1 holds a data message not yet handed to yield
	for {
		var msg []byte // the next message; nil at the end
		if len(b) >= nlmsgHdrLen {
			if l := int(binary.NativeEndian.Uint32(b)); l >= nlmsgHdrLen && l <= len(b) {
				msg, b = b[:l:l], b[min(align4(l), len(b)):]
			}
		}
		if msg != nil && held == 0 && st.over(cl) {
			skipped++
			continue
		}
		control := false
		next := 0
		if msg != nil {
			typ := netlink.HeaderType(binary.NativeEndian.Uint16(msg[4:6]))
			control = typ >= netlink.Noop && typ <= netlink.Overrun
			if !control && len(msg) >= hdrLen {
				if held == 1 {
					m1.fill(msg)
					next = 2
				} else {
					m0.fill(msg)
					next = 1
				}
			}
		}
		if held != 0 {
			if st.over(cl) {
				skipped++
			} else {
				fl := m0.Netlink.Flags
				if held == 2 {
					fl = m1.Netlink.Flags
				}
				if fl&netlink.DumpInterrupted != 0 {
					cl.intr = true
				}
				if !st.stopped {
					var more bool
					if held == 1 {
						more = yield(m0, nil)
					} else {
						more = yield(m1, nil)
					}
					st.stopped = !more
				}
				if cl.replyOnly && fl&netlink.Multi == 0 {
					st.done = true
				}
			}
		}
		held = next
		switch {
		case msg == nil:
			return skipped
		case next != 0:
			// Handed to yield once the next message has been looked at.
		case st.over(cl):
			skipped++
		case control:
			st.done = c.control(cl, msg, st)
		default:
			if binary.NativeEndian.Uint16(msg[6:8])&uint16(netlink.DumpInterrupted) != 0 {
				cl.intr = true
			}
			c.countMalformed()
			if st.merr == nil {
				st.merr = &Error{Op: cl.op, Family: cl.family, Command: cl.cmd, Err: ErrMalformed,
					Message: "reply shorter than the generic netlink header", Offset: -1, MissingNest: -1}
			}
		}
	}
}

// control handles a control message (NOOP, ERROR, DONE, OVERRUN) of cl's
// and reports whether it ends cl.
func (c *Conn) control(cl *call, msg []byte, st *runState) (done bool) {
	h := parseHeader(msg)
	switch h.Type {
	case netlink.Error:
		if e := c.ackError(cl, msg, h); e != nil {
			st.err = e
		}
		return true
	case netlink.Done:
		if !cl.dump {
			return cl.replyOnly
		}
		if e := c.doneError(cl, msg, h); e != nil {
			st.err = e
		} else if cl.intr || h.Flags&netlink.DumpInterrupted != 0 {
			st.err = &Error{Op: cl.op, Family: cl.family, Command: cl.cmd, Err: ErrDumpInterrupted, Offset: -1, MissingNest: -1}
		}
		return true
	}
	return false
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

var errStop = errors.New("stopped")

// Do sends a do-request and waits for its reply and the kernel's ACK (the
// request carries NLM_F_ACK, so that requests that reply with data and those
// that do not complete the same way, unless it declares its reply: see
// Request.ReplyDeclared and ExpectReply). fn, if not nil, is called for each
// reply message; the Message is only valid during the call. An error
// returned by fn is returned by Do after the answer has been read whole.
//
// A kernel error is returned as an *Error that matches its errno with
// errors.Is. A ctx that has already ended returns ctx.Err() and nothing is
// sent; a ctx cancelled later returns ctx.Err() promptly, the late reply
// discarded (whether the kernel carried out the request is then unknown).
// A request whose reply the kernel dropped (a receive-buffer overrun caused
// by notifications) fails with an error matching both ErrOverrun and
// ErrOutcomeUnknown. Do allocates nothing on the success path once the Conn
// is warm.
func (c *Conn) Do(ctx context.Context, req Request, fn func(Message) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cl, err := c.start(&req, "do", netlink.Acknowledge)
	if err != nil {
		return err
	}
	var ferr error
	err = c.run(ctx, cl, func(m Message, _ error) bool {
		if fn != nil && ferr == nil {
			ferr = fn(m)
		}
		return true
	})
	c.finish(cl)
	if err != nil {
		return err
	}
	return ferr
}

// Ack sends a do-request that expects no data back and waits for the
// kernel's ACK. Replies, if the family sends any, are ignored.
func (c *Conn) Ack(ctx context.Context, req Request) error {
	return c.Do(ctx, req, nil)
}

// Dump sends a dump request (NLM_F_DUMP) and returns its replies as an
// iterator that streams them with bounded memory: a Message is valid until
// the loop moves on. At the end of a dump whose results the kernel marked
// inconsistent (NLM_F_DUMP_INTR) the iterator yields an error matching
// ErrDumpInterrupted, after every part was yielded. Any other error ends the
// iteration after it is yielded; a ctx that has already ended yields
// ctx.Err() without sending the request.
//
// Breaking out of the loop early is fine: the rest of the dump is drained
// and dropped, and the Conn stays usable. Dumps on one Conn run one at a
// time; a Dump waits for the previous one to finish, so the loop body may
// make do-requests on the same Conn but must not start another dump on it
// (use a second Conn for nested dumps).
func (c *Conn) Dump(ctx context.Context, req Request) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		if err := c.dump(ctx, &req, yield); err != nil && err != errStop {
			yield(Message{}, err)
		}
	}
}

// DumpFunc is Dump with a callback: fn is called for each message, which is
// valid only during the call, and returns false to stop the dump early.
func (c *Conn) DumpFunc(ctx context.Context, req Request, fn func(Message) bool) error {
	err := c.dump(ctx, &req, func(m Message, _ error) bool { return fn(m) })
	if err == errStop {
		return nil
	}
	return err
}

// dump runs a dump, handing its parts to yield (see run).
func (c *Conn) dump(ctx context.Context, req *Request, yield func(Message, error) bool) error {
	if err := ctx.Err(); err != nil {
		return err // never sent
	}
	cl, err := c.startDump(ctx, req)
	if err != nil {
		return err
	}
	err = c.run(ctx, cl, yield)
	c.finish(cl)
	return err
}

// DumpAll runs a dump and returns copies of all its messages. When the
// kernel marks the dump interrupted (NLM_F_DUMP_INTR) it starts again, up to
// retries more times, and returns an error matching ErrDumpInterrupted when
// the last attempt was interrupted too, along with its messages.
func (c *Conn) DumpAll(ctx context.Context, req Request, retries int) ([]Message, error) {
	for attempt := 0; ; attempt++ {
		var out []Message
		err := c.dump(ctx, &req, func(m Message, _ error) bool {
			out = append(out, m.Clone())
			return true
		})
		if err != nil && errors.Is(err, ErrDumpInterrupted) && attempt < retries {
			continue
		}
		return out, err
	}
}

// Execute is the genetlink.Conn.Execute of genlkit, for code moving from
// mdlayher/genetlink: it sends m to family with flags and returns copies of
// the replies. With netlink.Dump in flags it runs a dump (DumpAll without
// retries); otherwise a do-request that waits for the ACK. m.Data is sent
// as is (fixed header and attributes). Prefer Do and Dump, which do not
// copy.
func (c *Conn) Execute(ctx context.Context, m genetlink.Message, family uint16, flags netlink.HeaderFlags) ([]Message, error) {
	req := Request{
		Family:  family,
		Command: m.Header.Command,
		Version: m.Header.Version,
		Flags:   flags &^ (netlink.Request | netlink.Acknowledge | netlink.Dump),
		Attrs:   m.Data,
	}
	if flags&netlink.Dump == netlink.Dump {
		return c.DumpAll(ctx, req, 0)
	}
	var out []Message
	err := c.Do(ctx, req, func(m Message) error {
		out = append(out, m.Clone())
		return nil
	})
	return out, err
}

// Batch sends several do-requests and waits for every answer: the ACK, or
// the reply of a request that declares one (Request.ReplyDeclared). fn, if
// not nil, receives each reply message with the index of its request; the
// Message is only valid during the call. Batch returns nil when every request
// succeeded, otherwise a *BatchError holding one error per request.
//
// A Batch may hold any number of requests. They go out in windows: as many
// at a time as the Conn's receive buffer has room for the answers of, in as
// few sendmsg as the send buffer allows; the rest follow as answers are
// read (see Conn). Ordering: the kernel carries the requests out one by one
// in the order given, each after the one before it has finished; requests
// of other goroutines on the Conn may run between two windows. Atomicity:
// none; each request succeeds or fails on its own, and a failure does not
// stop the ones after it. When ctx ends midway, requests not yet sent are
// never sent; they and those sent but not answered get ctx.Err() (the
// outcome of the latter is unknown). A ctx that has already ended returns
// ctx.Err() and sends nothing.
func (c *Conn) Batch(ctx context.Context, reqs []Request, fn func(i int, m Message) error) error {
	if len(reqs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cls := make([]*call, len(reqs))
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	for i := range reqs {
		r := reqs[i]
		cls[i] = c.newCallLocked(&r, "batch", netlink.Acknowledge)
	}
	c.mu.Unlock()
	c.sendMany(cls)
	var errs []error
	failed := false
	for i, cl := range cls {
		var ferr error
		err := c.run(ctx, cl, func(m Message, _ error) bool {
			if fn != nil && ferr == nil {
				ferr = fn(i, m)
			}
			return true
		})
		if err == nil {
			err = ferr
		}
		if err != nil {
			if errs == nil {
				errs = make([]error, len(reqs))
			}
			errs[i] = err
			failed = true
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				for j := i + 1; j < len(cls); j++ {
					errs[j] = err
				}
				for _, rest := range cls[i:] {
					c.finish(rest)
				}
				return &BatchError{Errs: errs}
			}
		}
		c.finish(cl)
	}
	if failed {
		return &BatchError{Errs: errs}
	}
	return nil
}

// A BatchError reports the requests of a Batch that failed: Errs has one
// entry per request, nil for those that succeeded.
type BatchError struct {
	Errs []error
}

// Error implements error.
func (e *BatchError) Error() string {
	n, first := 0, error(nil)
	for _, err := range e.Errs {
		if err != nil {
			if first == nil {
				first = err
			}
			n++
		}
	}
	if n == 1 {
		return "genl: batch: 1 request failed: " + first.Error()
	}
	return "genl: batch: " + itoa(n) + " requests failed, first: " + first.Error()
}

// Unwrap returns the failed requests' errors, so that errors.Is and
// errors.As look at each of them.
func (e *BatchError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

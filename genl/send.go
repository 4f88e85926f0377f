package genl

import (
	"errors"
	"net"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Requests are queued and sent in batches. A caller whose request finds
// nobody sending sends it at once on its own goroutine and goes on sending
// what queues up meanwhile, together in one sendmsg each time, until the
// queue is empty or maxFlushTime has passed (see flushLocked). Sending and reading are separate roles: the
// kernel does most of a request's work inside sendmsg, so while one
// goroutine is there, the leader reads and hands out earlier replies on the
// other CPU. (Letting the leader send as well kept the two serial: with 8
// goroutines on 2 CPUs it coalesced more per sendmsg but reached only
// 1.1x the single-caller rate, against 1.3-1.6x this way.) A leader that
// finds the socket empty while another goroutine is in sendmsg waits for
// that sendmsg to return (awaitSend) rather than poll the socket: the
// kernel has queued the answers by then. The leader still flushes what is
// queued when nobody sends, e.g. after an overrun's barrier, and what waited
// for room in the receive buffer (flow.go) as it reads the answers that make
// room.
//
// A sender whose queue has run dry yields its processor once before it
// stops, and sends what the callers that ran meanwhile queued: replies
// arrive in bunches, so the callers woken for them come back with their
// next requests together, and one sendmsg carries them (a sendmsg costs
// about as much as the kernel's work for three small requests). Sending
// them from the leader instead (it woke them, let them run and queue, then
// sent) coalesced a little more but kept the kernel's work and the reading
// on one CPU: with 8 goroutines making ethtool linkinfo-get requests, 8.0
// against 5.4 us per request.

// submitLocked queues cl and sends it unless an active sender will, or the
// queue is held after an overrun.
func (c *Conn) submitLocked(cl *call) {
	cl.queued = true
	c.sendQ = append(c.sendQ, cl)
	switch {
	case c.sending:
		// The sender drains the queue before it stops.
	case c.held():
		// After an overrun: a leader (this caller, if nobody else)
		// sends it once the barrier's ACK is in.
	default:
		cl.sendOwn = true
		c.flushLocked(false)
		// Still queued if an overrun held the queue meanwhile, or the
		// answers in flight leave no room for its own: whoever sends it
		// later is not its owner and must copy it.
		cl.sendOwn = false
	}
}

// sendMany queues several calls and sends them in as few sendmsg as fit.
func (c *Conn) sendMany(cls []*call) {
	c.mu.Lock()
	for _, cl := range cls {
		cl.queued = true
		c.sendQ = append(c.sendQ, cl)
	}
	if !c.sending {
		c.flushLocked(false)
	}
	c.mu.Unlock()
}

// flushLocked sends whatever is queued unless another goroutine is sending.
// It drops c.mu during each sendmsg. After an overrun it sends nothing until
// the leader has drained the receive queue: the kernel would drop the
// replies (see overrunLocked). It sends requests in queue order while their
// answers fit in the receive buffer, and stops at the first that does not
// (flow.go); each sendmsg holds at most what the send buffer accepts.
//
// Requests queue up while a sendmsg runs, so under load a sender could go
// on sending other callers' requests for ever, its own caller waiting (and
// deaf to its context) meanwhile. After its first successful sendmsg it
// goes on for at most maxFlushTime: the kernel answers every request it
// sent, so the leader wakes for those answers and flushes what is left
// after dispatching them (or the next caller to queue a request does).
// With 100 goroutines on one Conn an unbounded sender kept one caller
// waiting up to 78 ms (p99.99 17-20 ms); with the bound, p99.99 is 7 ms.
//
// The leader (leader true) makes one sendmsg and goes back to reading:
// while it sends, nobody reads, and callers who find it sending queue for
// it instead of sending themselves, which keeps the two roles on one CPU.
func (c *Conn) flushLocked(leader bool) {
	if c.sending || c.closed || c.held() {
		return
	}
	c.sending = true
	busy := false
	var start time.Time
	lingered := false
	for sent := 0; ; {
		if len(c.sendQ) == 0 && sent > 0 && !leader && !lingered && !c.closed && c.pending.len() > 1 {
			// See the top of this file: the callers woken for the
			// replies to what went out are about to queue more. Not
			// for a request alone on the Conn (a dump, most often):
			// nobody else is about to, and yielding wakes an idle
			// thread to find nothing to run, a few microseconds of
			// system time on both sides.
			lingered = true
			c.mu.Unlock()
			runtime.Gosched()
			c.mu.Lock()
		}
		if len(c.sendQ) == 0 || c.held() || !c.fitsLocked(c.sendQ[0]) {
			break
		}
		if sent > 0 {
			if leader {
				break
			}
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > maxFlushTime {
				break
			}
		}
		if len(c.sendQ) == 1 && c.sendQ[0].sendOwn {
			// The caller sending its own request alone: no other
			// goroutine can touch its buffer meanwhile, so no copy.
			q := c.sendQ[0]
			q.sendOwn, q.queued = false, false
			c.sendEpoch++
			epoch := c.sendEpoch
			q.epoch = epoch
			c.reserveLocked(q)
			record, wake := c.acklessLocked(q)
			c.sendQ[0] = nil
			c.sendQ = c.sendQ[:0]
			c.st.sends++
			seq := q.seq
			if !busy {
				busy = true
				c.sendBusy.Store(true)
			}
			c.mu.Unlock()
			err := c.sendCall(q)
			var gen uint64
			if record {
				gen = c.sentGen.Add(1)
			}
			c.sendReturned()
			c.mu.Lock()
			if record {
				c.sentAcklessLocked([]uint32{seq}, epoch, gen, 1, err == nil, wake)
			}
			if err != nil {
				c.failSentLocked(seq, err)
			} else {
				sent++
			}
			continue
		}
		if !busy {
			busy = true
			c.sendBusy.Store(true)
		}
		c.sendEpoch++
		epoch := c.sendEpoch
		// Requests are copied: a cancelled caller may reuse its buffer
		// while the sendmsg runs.
		buf := c.sendBuf[:0]
		seqs := c.sendSeqs[:0]
		n, ackless, wake := 0, 0, false
		for _, q := range c.sendQ {
			if n > 0 && (len(buf)+len(q.buf) > c.fl.sendMax || !c.fitsLocked(q)) {
				break
			}
			if r, w := c.acklessLocked(q); r {
				ackless++
				wake = wake || w
			}
			buf = append(buf, q.buf...)
			seqs = append(seqs, q.seq)
			q.queued, q.sendOwn = false, false
			q.epoch = epoch
			c.reserveLocked(q)
			n++
		}
		rest := copy(c.sendQ, c.sendQ[n:])
		clear(c.sendQ[rest:])
		c.sendQ = c.sendQ[:rest]
		c.sendBuf, c.sendSeqs = buf, seqs
		c.st.sends++
		c.mu.Unlock()
		err := c.send(buf)
		var gen uint64
		if ackless > 0 {
			gen = c.sentGen.Add(1)
		}
		c.sendReturned()
		c.mu.Lock()
		if ackless > 0 {
			c.sentAcklessLocked(seqs, epoch, gen, ackless, err == nil, wake)
		}
		if err != nil {
			for _, s := range seqs {
				c.failSentLocked(s, err)
			}
		} else {
			sent++
		}
	}
	c.sending = false
	if busy {
		c.sendBusy.Store(false)
		c.sendReturned()
	}
	if c.leader && c.sendableLocked() {
		// Stopped by maxFlushTime. The answers to what went out wake the
		// leader, unless a request promised a reply its command never
		// sends: wake a leader blocked in the kernel so that it flushes.
		c.interrupt()
	}
}

func (c *Conn) failSentLocked(seq uint32, err error) {
	cl := c.pending.get(seq)
	if cl == nil {
		return
	}
	c.st.sendErrors++
	if c.closed {
		err = net.ErrClosed
	} else {
		err = &Error{Op: cl.op, Family: cl.family, Command: cl.cmd, Err: errnoOf(err), Offset: -1, MissingNest: -1}
	}
	if cl.barrier {
		c.pending.del(seq)
		if seq == c.barrierSeq {
			c.barrierSeq = 0
		}
		return
	}
	cl.epoch = 0 // never reached the kernel
	c.settleLocked(cl, false)
	// A leader blocked in the kernel, maybe cl's own caller, may be
	// waiting for nothing else: wake it to see the failure.
	c.wakeLeaderLocked()
	if cl.abandoned {
		c.pending.del(seq)
		if cl.dump {
			c.releaseDumpLocked()
		}
		if !cl.owned {
			c.putCallLocked(cl)
		}
		return
	}
	c.failLocked(cl, err)
}

func errnoOf(err error) error {
	var en unix.Errno
	if errors.As(err, &en) {
		return en
	}
	return err
}

// send writes b to the socket; the concrete socket skips the interface.
func (c *Conn) send(b []byte) error {
	if c.sock != nil {
		return c.sock.send(b, false)
	}
	return c.tr.Send(b)
}

// sendCall writes cl's request, alone in its sendmsg, to the socket: a
// dump's without the scheduler's syscall (see sockTransport.send).
func (c *Conn) sendCall(cl *call) error {
	if c.sock != nil {
		return c.sock.send(cl.buf, cl.dump)
	}
	return c.tr.Send(cl.buf)
}

// awaitSend waits until the goroutine in sendmsg (sendBusy) returns from
// it. Polling the socket meanwhile costs a failed receive system call
// every few hundred nanoseconds, for the length of the sendmsg, which the
// kernel spends answering the requests it carries (microseconds each);
// the answers are all queued when it returns. The goroutine parks, so
// its processor runs the callers it has woken meanwhile.
func (c *Conn) awaitSend() {
	c.sendWait.Store(true)
	if c.sendBusy.Load() {
		<-c.sendDone
	}
	c.sendWait.Store(false)
	select {
	case <-c.sendDone: // a signal sent after the check above
	default:
	}
}

// sendReturned tells a leader waiting in awaitSend that a sendmsg
// returned. The sender clears sendBusy before it looks at sendWait and
// the leader sets sendWait before it looks at sendBusy, so one of them
// sees the other's store: the leader does not wait for nothing.
func (c *Conn) sendReturned() {
	if c.sendWait.Load() {
		select {
		case c.sendDone <- struct{}{}:
		default:
		}
	}
}

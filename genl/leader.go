package genl

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// wakeLeaderLocked wakes a leader blocked in the kernel so that it looks
// again at what it waits for: something settled without a message.
func (c *Conn) wakeLeaderLocked() {
	if c.leader {
		c.interrupt()
	}
}

// promoteLocked wakes a waiting goroutine to take over reading when nobody
// holds the receive side.
func (c *Conn) promoteLocked() {
	if !c.leader && c.idleHead != nil {
		c.idleHead.signal()
	}
}

func (c *Conn) readyLocked(w *waiter, self *call) bool {
	return len(w.inbox) > 0 || w.final || w.err != nil ||
		(self != nil && len(self.own) > 0) || (w.waitDump && !c.dumpBusy)
}

// await blocks until w has something to process, reading the socket as the
// leader when nobody else does. self is w's call, whose own messages the
// leader keeps in its receive buffer instead of copying.
func (c *Conn) await(ctx context.Context, w *waiter, self *call) error {
	c.mu.Lock()
	return c.awaitLocked(ctx, w, self)
}

// awaitLocked is await entered holding c.mu; it returns without it. When
// self is ready with messages in its inbox and none read as leader, it
// takes them (takeInboxLocked) on the way out, which spares run a lock
// round trip.
func (c *Conn) awaitLocked(ctx context.Context, w *waiter, self *call) error {
	for {
		if c.readyLocked(w, self) {
			c.promoteLocked()
			if self != nil && len(self.own) == 0 {
				self.took = true
				self.tookErr, self.tookSilent = c.takeInboxLocked(self)
			}
			c.mu.Unlock()
			return nil
		}
		if c.closed {
			c.promoteLocked()
			c.mu.Unlock()
			return net.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			c.promoteLocked()
			c.mu.Unlock()
			return err
		}
		if !c.leader {
			c.leader = true
			// w is not ready, so self has no message left in self.rx:
			// its slots can be read into again.
			rx := self.takeRx()
			if rx == nil {
				rx, w.keptRx = w.keptRx, nil
			}
			if rx == nil {
				rx = c.getRxLocked()
			}
			want := c.wantLocked(w)
			c.mu.Unlock()
			return c.lead(ctx, w, self, rx, want)
		}
		c.idlePushLocked(w)
		c.mu.Unlock()
		var cerr error
		if done := ctx.Done(); done == nil {
			<-w.wake
		} else {
			select {
			case <-w.wake:
			case <-done:
				cerr = ctx.Err()
			}
		}
		c.mu.Lock()
		c.idleRemoveLocked(w)
		if cerr != nil && !c.readyLocked(w, self) {
			c.promoteLocked()
			c.mu.Unlock()
			return cerr
		}
	}
}

func (c *Conn) recv(rx *rxBuf, want int, wait bool) (int, error) {
	rx.fill(want)
	if c.sock != nil {
		return c.sock.recv(rx.d[:want], wait, false)
	}
	return c.tr.Recv(rx.d[:want], wait)
}

// recvWait is recv(rx, want, true) right after a receive found nothing
// queued: the socket skips its own first look, as its wait looks first.
func (c *Conn) recvWait(rx *rxBuf, want int) (int, error) {
	if c.sock != nil {
		rx.fill(want)
		return c.sock.recv(rx.d[:want], true, true)
	}
	return c.recv(rx, want, true)
}

// wantLocked is how many datagrams the next receive for w asks for: about
// as many as are expected, since asking recvmmsg for more than is queued
// costs a failed attempt, and one is cheapest with recvfrom. A
// subscription asks for a batch: a change in the kernel often notifies
// several objects at once (a veth pair is two devices), and a subscriber
// reads with recvmmsg anyway (NETLINK_PKTINFO), which stops at an empty
// queue without a failed attempt.
func (c *Conn) wantLocked(w *waiter) int {
	if w.sub {
		return c.cfg.recvBatch
	}
	n := c.pending.len() - len(c.sendQ) // in flight
	if c.dumpBusy {
		n = c.cfg.recvBatch
	}
	return max(1, min(n, c.cfg.recvBatch))
}

// lead reads the socket and dispatches what arrives until w is ready. It is
// entered holding the receive side and returns having released it.
func (c *Conn) lead(ctx context.Context, w *waiter, self *call, rx *rxBuf, want int) (err error) {
	var stop func() bool
	sockErr := false // the last receive failed with an unexpected error
	// A subscription comes here having emptied its queue, most often
	// right after a receive that drained the socket: it skips the look
	// that would find nothing, as its wait receives before it parks.
	skipLook := w.sub
	for {
		var n int
		var rerr error
		var gen uint64 // the sendmsgs of ACK-less requests returned before the look
		looked := !skipLook
		if looked {
			gen = c.sentGen.Load()
			n, rerr = c.recv(rx, want, false)
		}
		skipLook = false
		if rerr == nil {
			sockErr = false
		}
		if rerr == nil && n == 0 {
			if c.sendBusy.Load() {
				// Another goroutine is in sendmsg, maybe with our
				// request: the kernel queues the replies before it
				// returns, so wait for it to return rather than poll
				// the socket or sleep in the kernel.
				c.awaitSend()
				continue
			}
			c.mu.Lock()
			if looked {
				c.silentLocked(self, gen)
			}
			if !looked && (c.barrierDue || c.sendableLocked() || c.mustLookLocked()) {
				// The barrier needs the receive queue found empty, and
				// a flush is best made after reading what is queued.
				c.mu.Unlock()
				continue
			}
			if c.barrierDue {
				// The receive queue is empty, so the kernel has cleared
				// the socket's congestion (netlink_rcv_wake): the
				// barrier's ACK can be queued now.
				if !c.sendBarrierLocked() {
					c.mu.Unlock()
					runtime.Gosched() // another goroutine is in sendmsg
				} else {
					c.mu.Unlock()
				}
				continue
			}
			if c.sendableLocked() {
				// Nothing to read: send what has gathered.
				c.flushLocked(true)
				c.mu.Unlock()
				continue
			}
			if ready, closed := c.readyLocked(w, self), c.closed; ready || closed {
				// Settled without a message: a send another goroutine
				// made for w failed, or w's subscription was closed.
				// Whoever did so woke a blocked receive (wakeLeaderLocked)
				// for this check.
				c.releaseLeadLocked(w, self, rx)
				c.mu.Unlock()
				c.disarm(stop)
				if !ready {
					return net.ErrClosed
				}
				return nil
			}
			if c.mustLookLocked() {
				// ACK-less requests are on their way or just sent:
				// look again rather than block, as nothing may come.
				c.mu.Unlock()
				if c.sendBusy.Load() {
					c.awaitSend()
				}
				continue
			}
			// Nothing queued: if ctx can be cancelled, arrange for a
			// cancellation to wake the blocked read; then block.
			if stop == nil && ctx.Done() != nil && !c.keepArmedLocked(ctx, w) {
				stop = context.AfterFunc(ctx, c.interrupt)
			}
			c.leaderParked = true
			c.mu.Unlock()
			n, rerr = c.recvWait(rx, want)
		}
		c.mu.Lock()
		c.leaderParked = false
		if rerr != nil {
			switch {
			case c.closed || errors.Is(rerr, net.ErrClosed):
				err = net.ErrClosed
			case errors.Is(rerr, os.ErrDeadlineExceeded):
				if cerr := ctx.Err(); cerr != nil {
					err = cerr
					break
				}
				// A wake-up meant for an earlier leader.
				c.mu.Unlock()
				_ = c.tr.SetReadDeadline(time.Time{})
				continue
			case errors.Is(rerr, unix.ENOBUFS):
				c.overrunLocked()
				c.mu.Unlock()
				continue
			case !sockErr:
				// An error the kernel left on the socket (sk_err): the
				// receive that returns it consumes it, and it belongs to
				// no request. netlink_recvmsg continues a running dump
				// after each datagram it hands out; when a dump that a
				// concurrent sendmsg started finished in that sendmsg
				// between the check and the continuation, netlink_dump
				// finds none running and leaves EINVAL. (The dump lost
				// nothing: its parts and DONE are queued.) Apart from
				// ENOBUFS, netlink_dump fails only so, and netlink_set_err
				// errors concern multicast listeners, not a request. Count
				// it and read on; only a second error in a row, which
				// is no one-shot socket error, fails the reading caller.
				sockErr = true
				c.st.sockErrors++
				c.mu.Unlock()
				continue
			default:
				c.st.recvErrors++
				err = &Error{Op: "receive", Err: rerr, Offset: -1, MissingNest: -1}
			}
			c.releaseLeadLocked(w, self, rx)
			c.mu.Unlock()
			c.disarm(stop)
			return err
		}
		if c.dispatchLocked(rx, n, self) > 0 {
			// Let the callers just woken run: the first to queue its
			// next request sends it, and what the others queue
			// meanwhile (flushLocked), while the leader reads on.
			c.mu.Unlock()
			runtime.Gosched()
			c.mu.Lock()
		}
		if len(c.sendQ) > 0 {
			c.flushLocked(true)
		}
		if c.readyLocked(w, self) {
			c.releaseLeadLocked(w, self, rx)
			c.mu.Unlock()
			c.disarm(stop)
			return nil
		}
		want = c.wantLocked(w)
		c.mu.Unlock()
	}
}

// keepArmedLocked arranges for a cancellation of ctx to wake the blocked
// read of w's subscription, reusing the hook armed for an earlier wait of
// the same context: a subscriber waits once per notification or so, and a
// hook per wait costs an allocation each time. The hook stays armed
// between waits; one that fires while the subscriber is not waiting wakes
// whoever then reads, who finds its own ctx still live and reads on (see
// lead). It reports false for a waiter that is no subscription.
func (c *Conn) keepArmedLocked(ctx context.Context, w *waiter) bool {
	if !w.sub {
		return false
	}
	if done := ctx.Done(); w.armedDone != done {
		w.disarmKeptLocked()
		w.armedDone = done
		w.armedStop = context.AfterFunc(ctx, c.interrupt)
	}
	return true
}

// endSubLocked gives back what subscription waiter w keeps between its
// waits: the cancellation hook and the receive slots.
func (c *Conn) endSubLocked(w *waiter) {
	w.disarmKeptLocked()
	c.putRxLocked(w.keptRx)
	w.keptRx = nil
}

// disarmKeptLocked removes the hook keepArmedLocked armed for w, if any.
func (w *waiter) disarmKeptLocked() {
	if w.armedStop != nil {
		w.armedStop()
		w.armedStop, w.armedDone = nil, nil
	}
}

func (c *Conn) disarm(stop func() bool) {
	if stop != nil && !stop() {
		// The cancellation fired: clear the deadline it set. A late one
		// is harmless: a leader that sees it without its own ctx done
		// clears it and reads again.
		_ = c.tr.SetReadDeadline(time.Time{})
	}
}

// releaseLeadLocked ends w's turn as leader. A subscription keeps its
// receive slots (await took any it kept) for its next wait, until it is
// closed: a subscriber leads once per burst of notifications, so it need
// not take the slots from the pool and give them back each time (and
// slots of a size other than the default are not pooled: they would be
// allocated anew).
func (c *Conn) releaseLeadLocked(w *waiter, self *call, rx *rxBuf) {
	if w.sub && w.err == nil && !c.closed {
		w.keptRx = rx
		c.leader = false
		c.promoteLocked()
		return
	}
	c.releaseLeaderLocked(self, rx)
}

func (c *Conn) releaseLeaderLocked(self *call, rx *rxBuf) {
	c.leader = false
	if self != nil && len(self.own) > 0 {
		self.rx = rx
	} else {
		c.putRxLocked(rx)
	}
	c.promoteLocked()
}

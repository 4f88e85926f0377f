package genl

import (
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"net"
	"slices"
)

// A Subscription receives notifications from multicast groups, in order,
// on a Conn that may carry requests at the same time. It also receives
// unicast notifications (sequence number 0) the kernel sends to the Conn.
//
// Notifications are queued per subscription up to a limit (see
// WithSubscriptionLimit). When the kernel reports an overrun (ENOBUFS), or
// the queue overflows, the stream yields an *OverrunError (matching
// ErrOverrun) at that point and goes on: the caller should resynchronise,
// for example with a dump.
//
// A subscriber whose Next reads the socket itself receives a batch of
// datagrams per system call (WithReceiveBatch) and keeps those receive
// slots (128 KiB with the default batch and slot size) from one Next to
// the next until it is closed, so that reading costs no allocation.
//
// With one processor (GOMAXPROCS 1), a Conn that has subscriptions keeps
// one goroutine parked in the netpoller on its socket, which saves a
// system call per wait; it ends when the last subscription is closed.
type Subscription struct {
	waiter
	c      *Conn
	groups []uint32

	// Guarded by Conn.mu.
	closed   bool
	overruns uint64
	dropped  uint64
	// endsMarked: the inbox's last entry is an overrun mark. Kept apart
	// from the queue's bytes, which a notification's payload could
	// imitate.
	endsMarked bool

	// Owner only.
	reading []byte
	roff    int
}

// markGroup marks an overrun in a subscription's queue.
const markGroup = ^uint32(0)

// Subscribe joins the multicast groups (by id) and returns a Subscription
// for their notifications. Close it to leave the groups.
func (c *Conn) Subscribe(groups ...uint32) (*Subscription, error) {
	s := &Subscription{waiter: waiter{wake: make(chan struct{}, 1), sub: true}, c: c}
	for _, g := range groups {
		if err := c.JoinGroup(g); err != nil {
			for _, j := range s.groups {
				_ = c.LeaveGroup(j)
			}
			return nil, err
		}
		s.groups = append(s.groups, g)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, net.ErrClosed
	}
	c.subs = append(c.subs, s)
	if c.sock != nil {
		c.sock.setWatch(true)
	}
	return s, nil
}

// Groups returns the group ids s receives.
func (s *Subscription) Groups() []uint32 { return slices.Clone(s.groups) }

// Close ends the subscription and leaves its groups (unless other
// subscriptions or JoinGroup calls still hold them). A Next blocked on s
// returns net.ErrClosed.
func (s *Subscription) Close() error {
	c := s.c
	c.mu.Lock()
	if s.closed {
		c.mu.Unlock()
		return nil
	}
	s.closed = true
	s.err = net.ErrClosed
	c.endSubLocked(&s.waiter)
	if i := slices.Index(c.subs, s); i >= 0 {
		c.subs = slices.Delete(c.subs, i, i+1)
	}
	if len(c.subs) == 0 && c.sock != nil {
		c.sock.setWatch(false)
	}
	s.signal()
	// s's reader may be the Conn's leader, blocked in the kernel.
	c.wakeLeaderLocked()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil
	}
	var errs []error
	for _, g := range s.groups {
		if err := c.LeaveGroup(g); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Subscription) wants(group uint32) bool {
	return group == 0 || slices.Contains(s.groups, group)
}

// markLocked appends an overrun mark unless the queue already ends with one.
func (s *Subscription) markLocked() {
	if !s.endsMarked {
		s.inbox = binary.NativeEndian.AppendUint32(s.inbox, markGroup)
		s.inbox = binary.NativeEndian.AppendUint32(s.inbox, 0)
		s.endsMarked = true
	}
	s.signal()
}

func (c *Conn) deliverSubsLocked(msg []byte, group uint32) {
	delivered := false
	for _, s := range c.subs {
		if !s.wants(group) {
			continue
		}
		delivered = true
		if len(s.inbox)+8+len(msg) > c.cfg.subQueueLimit {
			s.dropped++
			c.st.subDrops++
			s.markLocked()
			continue
		}
		s.inbox = binary.NativeEndian.AppendUint32(s.inbox, group)
		s.inbox = binary.NativeEndian.AppendUint32(s.inbox, uint32(len(msg)))
		s.inbox = append(s.inbox, msg...)
		s.endsMarked = false
		s.signal()
	}
	if !delivered {
		c.st.unrouted++
	}
}

// lostSubsLocked tells the subscriptions of group that a notification was
// lost (truncated).
func (c *Conn) lostSubsLocked(group uint32) {
	delivered := false
	for _, s := range c.subs {
		if s.wants(group) {
			delivered = true
			s.dropped++
			s.markLocked()
		}
	}
	if !delivered {
		c.st.unrouted++
	}
}

// Next waits for the next notification. The Message is valid until the next
// call to Next. It returns an *OverrunError when notifications were lost, and
// may be called again after it; net.ErrClosed once s or its Conn is closed;
// ctx.Err() when ctx ends. A Subscription has one reader: Next and All must
// not be used from several goroutines at once.
func (s *Subscription) Next(ctx context.Context) (Message, error) {
	c := s.c
	for {
		for s.roff+8 <= len(s.reading) {
			g := binary.NativeEndian.Uint32(s.reading[s.roff:])
			n := int(binary.NativeEndian.Uint32(s.reading[s.roff+4:]))
			b := s.reading[s.roff+8 : s.roff+8+n]
			s.roff += 8 + n
			if g == markGroup {
				c.mu.Lock()
				o, d := s.overruns, s.dropped
				s.overruns, s.dropped = 0, 0
				c.mu.Unlock()
				if o+d > 0 {
					return Message{}, &OverrunError{Overruns: o, Dropped: d}
				}
				continue
			}
			m, ok := toMessage(b, g)
			if !ok {
				c.countMalformed()
				continue
			}
			return m, nil
		}
		c.mu.Lock()
		if s.closed || c.closed {
			c.mu.Unlock()
			return Message{}, net.ErrClosed
		}
		if len(s.inbox) > 0 {
			s.reading, s.inbox = s.inbox, s.reading[:0]
			s.endsMarked = false
			s.roff = 0
			c.mu.Unlock()
			continue
		}
		c.mu.Unlock()
		if err := c.await(ctx, &s.waiter, nil); err != nil {
			return Message{}, err
		}
		c.mu.Lock()
		closed := s.closed
		c.mu.Unlock()
		if closed {
			return Message{}, net.ErrClosed
		}
	}
}

// All returns the notifications as an iterator. An *OverrunError is
// yielded and the stream goes on; any other error (a closed subscription,
// ctx done) is yielded last.
func (s *Subscription) All(ctx context.Context) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		for {
			m, err := s.Next(ctx)
			if err != nil {
				var oe *OverrunError
				if errors.As(err, &oe) {
					if !yield(Message{}, err) {
						return
					}
					continue
				}
				yield(Message{}, err)
				return
			}
			if !yield(m, nil) {
				return
			}
		}
	}
}

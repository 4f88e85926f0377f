// Package genltest is an in-memory fake of the kernel side of a genl.Conn,
// for unit tests that need replies the real kernel will not give on demand:
// malformed, truncated, reordered, duplicated or spoofed messages, dumps
// that end oddly, overruns.
//
// A Kernel records every datagram the Conn sends and delivers whatever the
// test pushes, exactly as pushed. A handler, if set, runs inside the Conn's
// send like the real kernel runs a request inside sendmsg, so a test can
// answer requests synchronously; or a test can take requests with
// NextRequest and answer them in any order it likes. A fake nlctrl
// (Kernel.Controller) can answer family lookups and announce families
// coming and going, beside the handler.
//
//	k := genltest.New()
//	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
//		k.Push(genltest.Reply(r, 1, attrs), genltest.Ack(r))
//	})
//	c, _ := k.Dial()
package genltest

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/genlkit/genlkit/genl"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A Request is one netlink message the Conn sent.
type Request struct {
	// Header is the netlink header as sent.
	Header netlink.Header
	// Genl is the generic netlink header (command, version).
	Genl genetlink.Header
	// Data is the payload after the generic netlink header.
	Data []byte
	// Raw is the whole message, header included.
	Raw []byte
}

// A Handler answers a request, typically by pushing replies to k. It runs
// on the goroutine that sends, with no lock of k held.
type Handler func(k *Kernel, r Request)

// A Kernel is the fake kernel. Its zero value is not usable; call New.
type Kernel struct {
	mu       sync.Mutex
	pid      uint32
	queue    []datagram
	sent     [][]byte
	reqs     []Request
	taken    int
	handler  Handler
	ctrl     *Controller // a fake nlctrl, if any
	overrun  bool
	failSend error
	deadline time.Time
	closed   bool
	groups   map[uint32]int
	wake     chan struct{} // rings a blocked Recv
	reqWake  chan struct{} // rings NextRequest
}

type datagram struct {
	b     []byte
	port  uint32
	group uint32
}

// New returns a fake kernel whose Conn has port id 4242.
func New() *Kernel {
	return &Kernel{
		pid:     4242,
		groups:  make(map[uint32]int),
		wake:    make(chan struct{}, 1),
		reqWake: make(chan struct{}, 1),
	}
}

// Dial returns a genl.Conn over k.
func (k *Kernel) Dial(opts ...genl.Option) (*genl.Conn, error) {
	return genl.NewConn(k.Transport(), opts...)
}

// Transport returns k as a genl.Transport, for genl.NewConn.
func (k *Kernel) Transport() genl.Transport { return (*transport)(k) }

// PortID returns the port id the fake gives the Conn.
func (k *Kernel) PortID() uint32 { return k.pid }

// Handle sets the handler that answers requests as they are sent (those to
// nlctrl go to the Controller instead, if there is one); nil removes it.
// Control messages (NLMSG_NOOP with NLM_F_ACK, as the Conn sends after an
// overrun) are acknowledged by the fake itself, as the kernel does; the
// handler does not see them.
func (k *Kernel) Handle(h Handler) {
	k.mu.Lock()
	k.handler = h
	k.mu.Unlock()
}

// FailSends makes every later send fail with err (nil to stop).
func (k *Kernel) FailSends(err error) {
	k.mu.Lock()
	k.failSend = err
	k.mu.Unlock()
}

// Sent returns copies of the datagrams the Conn has sent, in order.
func (k *Kernel) Sent() [][]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([][]byte, len(k.sent))
	for i, b := range k.sent {
		out[i] = slices.Clone(b)
	}
	return out
}

// Requests returns every message the Conn has sent, in order.
func (k *Kernel) Requests() []Request {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.reqs)
}

// NextRequest waits for the next request not yet returned by NextRequest.
func (k *Kernel) NextRequest(ctx context.Context) (Request, error) {
	for {
		k.mu.Lock()
		if k.taken < len(k.reqs) {
			r := k.reqs[k.taken]
			k.taken++
			k.mu.Unlock()
			return r, nil
		}
		k.mu.Unlock()
		select {
		case <-k.reqWake:
		case <-ctx.Done():
			return Request{}, ctx.Err()
		}
	}
}

// Push queues one datagram from the kernel (port 0) made of msgs, for
// unicast delivery.
func (k *Kernel) Push(msgs ...[]byte) { k.PushFrom(0, 0, msgs...) }

// PushGroup queues one multicast datagram for group.
func (k *Kernel) PushGroup(group uint32, msgs ...[]byte) { k.PushFrom(0, group, msgs...) }

// PushFrom queues one datagram made of msgs as sent by port (0 is the
// kernel; anything else is a spoofed sender) to group (0 for unicast).
func (k *Kernel) PushFrom(port, group uint32, msgs ...[]byte) {
	var b []byte
	for _, m := range msgs {
		b = append(b, m...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	k.PushRaw(port, group, b)
}

// PushRaw queues one datagram with exactly the bytes b: no alignment, no
// checks. A datagram longer than the Conn's receive slot arrives truncated.
func (k *Kernel) PushRaw(port, group uint32, b []byte) {
	k.mu.Lock()
	k.queue = append(k.queue, datagram{b: slices.Clone(b), port: port, group: group})
	k.mu.Unlock()
	ring(k.wake)
}

// Overrun makes the next receive fail with ENOBUFS, as the kernel reports
// that it dropped messages because the receive buffer was full.
func (k *Kernel) Overrun() {
	k.mu.Lock()
	k.overrun = true
	k.mu.Unlock()
	ring(k.wake)
}

// Groups returns the multicast groups the Conn has joined.
func (k *Kernel) Groups() []uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []uint32
	for g := range k.groups {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// Queued returns how many datagrams wait to be received.
func (k *Kernel) Queued() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.queue)
}

// Closed reports whether the Conn closed its transport.
func (k *Kernel) Closed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.closed
}

func ring(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// transport is the genl.Transport face of a Kernel.
type transport Kernel

func (t *transport) k() *Kernel { return (*Kernel)(t) }

// Send implements genl.Transport.
func (t *transport) Send(b []byte) error {
	k := t.k()
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return net.ErrClosed
	}
	if k.failSend != nil {
		err := k.failSend
		k.mu.Unlock()
		return err
	}
	k.sent = append(k.sent, slices.Clone(b))
	var reqs []Request
	for p := b; len(p) >= 16; {
		l := int(binary.NativeEndian.Uint32(p))
		if l < 16 || l > len(p) {
			break
		}
		raw := slices.Clone(p[:l])
		r := Request{Header: parseHeader(raw), Raw: raw}
		if l >= 20 {
			r.Genl = genetlink.Header{Command: raw[16], Version: raw[17]}
			r.Data = raw[20:]
		}
		reqs = append(reqs, r)
		p = p[min((l+3)&^3, len(p)):]
	}
	k.reqs = append(k.reqs, reqs...)
	h, ctrl := k.handler, k.ctrl
	k.mu.Unlock()
	ring(k.reqWake)
	for _, r := range reqs {
		switch {
		case r.Header.Type < unix.NLMSG_MIN_TYPE:
			// Like netlink_rcv_skb: control messages (such as the
			// Conn's overrun barrier, a NOOP) are acknowledged and
			// reach no family.
			if r.Header.Flags&netlink.Acknowledge != 0 {
				k.Push(Ack(r))
			}
		case ctrl != nil && r.Header.Type == unix.GENL_ID_CTRL:
			ctrl.serve(r)
		case h != nil:
			h(k, r)
		}
	}
	return nil
}

// Recv implements genl.Transport.
func (t *transport) Recv(d []genl.Datagram, wait bool) (int, error) {
	k := t.k()
	for {
		k.mu.Lock()
		if k.closed {
			k.mu.Unlock()
			return 0, net.ErrClosed
		}
		if k.overrun {
			k.overrun = false
			k.mu.Unlock()
			return 0, unix.ENOBUFS
		}
		if len(k.queue) > 0 {
			n := 0
			for n < len(d) && len(k.queue) > 0 {
				q := k.queue[0]
				k.queue = k.queue[1:]
				dg := &d[n]
				dg.N = copy(dg.Buf, q.b)
				dg.Size = len(q.b)
				dg.Trunc = len(q.b) > len(dg.Buf)
				dg.Port, dg.Group = q.port, q.group
				n++
			}
			k.mu.Unlock()
			return n, nil
		}
		if !wait {
			k.mu.Unlock()
			return 0, nil
		}
		dl := k.deadline
		k.mu.Unlock()
		var timer <-chan time.Time
		if !dl.IsZero() {
			left := time.Until(dl)
			if left <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			tm := time.NewTimer(left)
			defer tm.Stop()
			timer = tm.C
		}
		select {
		case <-k.wake:
		case <-timer:
		}
	}
}

// SetReadDeadline implements genl.Transport.
func (t *transport) SetReadDeadline(d time.Time) error {
	k := t.k()
	k.mu.Lock()
	k.deadline = d
	k.mu.Unlock()
	ring(k.wake)
	return nil
}

// JoinGroup implements genl.Transport.
func (t *transport) JoinGroup(g uint32) error {
	k := t.k()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.groups[g]++
	return nil
}

// LeaveGroup implements genl.Transport.
func (t *transport) LeaveGroup(g uint32) error {
	k := t.k()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.groups[g]--; k.groups[g] <= 0 {
		delete(k.groups, g)
	}
	return nil
}

// PortID implements genl.Transport.
func (t *transport) PortID() uint32 { return t.k().pid }

// Close implements genl.Transport.
func (t *transport) Close() error {
	k := t.k()
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	ring(k.wake)
	return nil
}

func parseHeader(b []byte) netlink.Header {
	return netlink.Header{
		Length:   binary.NativeEndian.Uint32(b[0:4]),
		Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:6])),
		Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:8])),
		Sequence: binary.NativeEndian.Uint32(b[8:12]),
		PID:      binary.NativeEndian.Uint32(b[12:16]),
	}
}

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
//		k.Push(genltest.Reply(r, 1, attrs))
//	})
//	c, _ := k.Dial()
//
// Where the kernel's behaviour is plain, the fake has it, so that code
// passing against the fake does not fail against the kernel:
//
//   - A request that asked for an ACK (NLM_F_ACK) and is not a dump is
//     acknowledged once its handler returns (after its replies, a multi-part
//     reply's NLMSG_DONE included), unless the handler answered it with an
//     NLMSG_ERROR (an ACK or an error) itself: a handler pushes its replies,
//     or an error, and nothing else.
//   - A multicast datagram for a group the Conn has not joined is dropped
//     when it is pushed, as the kernel delivers only to members; a
//     notification pushed before Subscribe is never seen (see Dropped).
//   - A request to a family the Controller holds with its operations is
//     checked against them before any handler runs, as genl_family_rcv_msg
//     does: an unknown command, or a dump of an op without one (or a do of
//     a dump-only op), is refused with EOPNOTSUPP; an op flagged
//     GENL_ADMIN_PERM or GENL_UNS_ADMIN_PERM with EPERM when the caller
//     lacks the privilege (see WithPrivilege).
//
// Package family/familytest builds typed servers of whole families on a
// Kernel; the servers genlgen generates (package <family>test beside each
// family package) use it.
//
// # Migrating from mdlayher/genetlink/genltest
//
// A genltest.Func of mdlayher/genetlink/genltest runs unchanged through
// [Func]:
//
//	k := genltest.New()
//	k.Handle(genltest.Func(mgenltest.ServeFamily(family, handler)))
//	c, _ := k.Dial()                  // a *genl.Conn, or
//	gc := genetlink.NewConn(c)        // the drop-in of package genl/genetlink
//
// mdlayher's genltest.Dial(fn) becomes these lines; the handler, its
// ServeFamily and CheckRequest wrappers and its genltest.Error values stay.
// Notifications, which mdlayher's genltest takes from the Func when the
// Conn receives without a request, are pushed with [Kernel.PushGroup] to
// a group the Conn joined.
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
// on the goroutine that sends, with no lock of k held. The Kernel adds the
// ACK a do request asked for when the handler returns, unless the handler
// pushed an ACK or an error for it (or called AnswerLater).
type Handler func(k *Kernel, r Request)

// A Kernel is the fake kernel. Its zero value is not usable; call New.
type Kernel struct {
	mu        sync.Mutex
	pid       uint32
	queue     []datagram
	sent      [][]byte
	reqs      []Request
	taken     int
	handler   Handler
	families  map[uint16]Handler // handlers by family id
	ctrl      *Controller        // a fake nlctrl, if any
	priv      Privilege
	overrun   bool
	failSend  error
	deadline  time.Time
	closed    bool
	groups    map[uint32]int
	dropped   int
	answering map[uint32]*answer // requests whose handler runs, by sequence number
	wake      chan struct{}      // rings a blocked Recv
	reqWake   chan struct{}      // rings NextRequest
}

// An answer records whether a request's handler answered it with an
// NLMSG_ERROR (an ACK or an error), so that the fake does not ACK it again.
type answer struct {
	pid      uint32
	answered bool
}

// A Privilege is what the process using the Conn may do, as the kernel's
// GENL_ADMIN_PERM and GENL_UNS_ADMIN_PERM checks see it.
type Privilege int

const (
	// Admin has CAP_NET_ADMIN in the initial user namespace (root): every
	// op is allowed. It is the default.
	Admin Privilege = iota
	// NamespaceAdmin has CAP_NET_ADMIN only in the user namespace owning
	// the network namespace (an unprivileged user's own namespaces): ops
	// flagged GENL_UNS_ADMIN_PERM are allowed, GENL_ADMIN_PERM ones fail
	// with EPERM.
	NamespaceAdmin
	// Unprivileged lacks CAP_NET_ADMIN: ops flagged with either are
	// refused with EPERM.
	Unprivileged
)

// An Option configures a Kernel made by New.
type Option func(*Kernel)

// WithPrivilege makes the Conn's process have privilege p (Admin by
// default), for the permission checks of ops the Controller holds.
func WithPrivilege(p Privilege) Option { return func(k *Kernel) { k.priv = p } }

type datagram struct {
	b     []byte
	port  uint32
	group uint32
}

// New returns a fake kernel whose Conn has port id 4242.
func New(opts ...Option) *Kernel {
	k := &Kernel{
		pid:       4242,
		groups:    make(map[uint32]int),
		families:  make(map[uint16]Handler),
		answering: make(map[uint32]*answer),
		wake:      make(chan struct{}, 1),
		reqWake:   make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(k)
	}
	return k
}

// SetPrivilege changes the privilege of the Conn's process for requests
// sent from now on.
func (k *Kernel) SetPrivilege(p Privilege) {
	k.mu.Lock()
	k.priv = p
	k.mu.Unlock()
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

// HandleFamily sets the handler of the requests to family id (nil removes
// it); they go to it instead of the handler set by Handle. Several families
// can be served on one Kernel this way.
func (k *Kernel) HandleFamily(id uint16, h Handler) {
	k.mu.Lock()
	if h == nil {
		delete(k.families, id)
	} else {
		k.families[id] = h
	}
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
// kernel; anything else is a spoofed sender) to group (0 for unicast). A
// multicast datagram for a group the Conn has not joined is dropped, as
// the kernel delivers multicast to members only (see Dropped).
func (k *Kernel) PushFrom(port, group uint32, msgs ...[]byte) {
	var b []byte
	for _, m := range msgs {
		b = append(b, m...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	k.deliver(port, group, b, true)
}

// PushRaw queues one datagram with exactly the bytes b: no alignment, no
// checks. A datagram longer than the Conn's receive slot arrives truncated.
// Unlike PushFrom it delivers multicast to groups the Conn has not joined
// too, as a datagram queued before the Conn left its group arrives.
func (k *Kernel) PushRaw(port, group uint32, b []byte) { k.deliver(port, group, b, false) }

// deliver queues datagram b; with members, a multicast datagram only if the
// Conn joined its group.
func (k *Kernel) deliver(port, group uint32, b []byte, members bool) {
	k.mu.Lock()
	if members && group != 0 && k.groups[group] <= 0 {
		k.dropped++
		k.mu.Unlock()
		return
	}
	if port == 0 && group == 0 && len(k.answering) > 0 {
		k.noteAnswers(b)
	}
	k.queue = append(k.queue, datagram{b: slices.Clone(b), port: port, group: group})
	k.mu.Unlock()
	ring(k.wake)
}

// AnswerLater tells k that request r, whose handler is running, is
// answered later (by the test, from another goroutine), so that k does not
// ACK it when the handler returns.
func (k *Kernel) AnswerLater(r Request) {
	k.mu.Lock()
	if a := k.answering[r.Header.Sequence]; a != nil && a.pid == r.Header.PID {
		a.answered = true
	}
	k.mu.Unlock()
}

// noteAnswers marks the requests that the NLMSG_ERROR messages (ACKs and
// errors) of datagram b answer; k.mu must be held. An NLMSG_DONE does not:
// the kernel ACKs a do request after a multi-part reply too.
func (k *Kernel) noteAnswers(b []byte) {
	for len(b) >= 16 {
		h := parseHeader(b)
		if h.Type == netlink.Error {
			if a := k.answering[h.Sequence]; a != nil && a.pid == h.PID {
				a.answered = true
			}
		}
		l := int(h.Length)
		if l < 16 || l > len(b) {
			return
		}
		b = b[min((l+3)&^3, len(b)):]
	}
}

// Dropped returns how many multicast datagrams were dropped because the
// Conn had not joined their group.
func (k *Kernel) Dropped() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dropped
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
	ctrl := k.ctrl
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
		default:
			k.dispatch(ctrl, r)
		}
	}
	return nil
}

// dispatch runs the handler of a request to a family, after the checks of
// the op table the Controller holds, and ACKs the request if it asked for
// an ACK and the handler did not answer it with one or an error.
func (k *Kernel) dispatch(ctrl *Controller, r Request) {
	k.mu.Lock()
	h := k.families[uint16(r.Header.Type)]
	if h == nil {
		h = k.handler
	}
	priv := k.priv
	k.mu.Unlock()
	if ctrl != nil {
		if errno := ctrl.refuse(r, priv); errno != 0 {
			k.Push(Error(r, errno, nil))
			return
		}
	}
	if h == nil {
		return
	}
	dump := r.Header.Flags&netlink.Dump == netlink.Dump
	ack := r.Header.Flags&netlink.Acknowledge != 0 && !dump
	var a *answer
	if ack {
		a = &answer{pid: r.Header.PID}
		k.mu.Lock()
		k.answering[r.Header.Sequence] = a
		k.mu.Unlock()
	}
	h(k, r)
	if !ack {
		return
	}
	k.mu.Lock()
	if k.answering[r.Header.Sequence] == a {
		delete(k.answering, r.Header.Sequence)
	}
	answered := a.answered
	k.mu.Unlock()
	if !answered {
		k.Push(Ack(r))
	}
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

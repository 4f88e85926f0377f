// Package genetlink is a drop-in for the Conn of
// github.com/mdlayher/genetlink, running on genlkit's genl.Conn.
//
// The package is named genetlink and declares mdlayher's types as aliases
// (Message, Header, Family, MulticastGroup), so moving a program is
// changing one import path:
//
//	import "github.com/mdlayher/genetlink"
//
// becomes
//
//	import "github.com/genlkit/genlkit/genl/genetlink"
//
// and genetlink.Dial, *genetlink.Conn in struct fields and signatures, and
// the Messages and Families the program handles keep their names. Values
// cross freely between the two packages: a Message here is a
// mdlayher/genetlink Message. Code that must import both can name this one
// (genlcompat, say) and change only its Dial call, genetlink.Dial(cfg) to
// genlcompat.Dial(cfg), as long as it keeps the Conn in a variable of
// inferred type or behind an interface. NewConn wraps a genl.Conn (such as one over the fake kernel
// of package genl/genltest) instead of a *netlink.Conn.
//
// A Conn has the method set of genetlink.Conn with its semantics, including
// its error contract: failures are *netlink.OpError values with the Op,
// Err, Message and Offset mdlayher/netlink gives (a kernel error is Op
// "receive" with the errno as Err), so errors.Is(err, os.ErrNotExist) and
// errors.As(err, &opErr) behave as before. What differs, and why, is in
// docs/migrating.md; in short: Execute always reads the whole answer (the
// ACK of a request that also replies is consumed, so it cannot confuse the
// next call), many goroutines may use a Conn at once without a lock around
// Execute, and notifications of joined groups never answer an Execute.
//
// For the full speed of genlkit move on to genl.Conn's Do and Dump, which
// decode in place instead of copying every reply.
package genetlink

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Protocol is the netlink protocol of generic netlink (NETLINK_GENERIC).
const Protocol = genetlink.Protocol

// The types of mdlayher/genetlink, shared with it.
type (
	// A Message is a generic netlink message: header and payload.
	Message = genetlink.Message
	// A Header is the generic netlink header (command and version).
	Header = genetlink.Header
	// A Family is a generic netlink family as nlctrl describes it.
	Family = genetlink.Family
	// A MulticastGroup is one multicast group of a Family.
	MulticastGroup = genetlink.MulticastGroup
)

// A Conn is a generic netlink connection with the methods of
// mdlayher/genetlink's Conn, on top of a genl.Conn. It is safe for
// concurrent use; unlike genetlink.Conn, concurrent Executes run in
// parallel on the one socket.
type Conn struct {
	c *genl.Conn

	mu       sync.Mutex
	closed   bool
	done     chan struct{} // closed by Close
	readDL   time.Time
	writeDL  time.Time
	waits    map[*opWait]struct{}
	received []unit             // what Receive returns next, in order
	arrived  chan struct{}      // rings when received grows
	room     chan struct{}      // rings when received shrinks
	base     *genl.Subscription // unicast notifications (sequence 0)
	groups   map[uint32]*genl.Subscription
	pumping  bool
	wg       sync.WaitGroup
}

// maxQueued bounds the answers and notifications queued for Receive;
// notifications beyond it wait in the genl.Conn, which reports an overrun
// (ENOBUFS, as the socket would) when they overflow it too.
const maxQueued = 4096

// Dial opens a generic netlink connection. config may be nil; its NetNS,
// PID, Groups and MessageBufferSize are honoured. Strict is always in
// effect: the Conn enables extended ACKs and strict checking.
func Dial(config *netlink.Config) (*Conn, error) {
	var opts []genl.Option
	if config != nil {
		if config.NetNS != 0 {
			opts = append(opts, genl.WithNetNSFD(config.NetNS))
		}
		if config.PID != 0 {
			opts = append(opts, genl.WithPortID(config.PID))
		}
		if config.MessageBufferSize != 0 {
			opts = append(opts, genl.WithMessageBufferSize(config.MessageBufferSize))
		}
	}
	gc, err := genl.Dial(opts...)
	if err != nil {
		return nil, opError("dial", err)
	}
	c := NewConn(gc)
	if config != nil {
		for g := uint32(1); g <= 32; g++ {
			if config.Groups&(1<<(g-1)) == 0 {
				continue
			}
			if err := c.JoinGroup(g); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
	return c, nil
}

// NewConn returns a Conn over c, which it owns from then on: Close closes
// it. It is how tests run code written for genetlink.Conn against the fake
// kernel of package genl/genltest.
func NewConn(c *genl.Conn) *Conn {
	cc := &Conn{
		c:       c,
		done:    make(chan struct{}),
		waits:   make(map[*opWait]struct{}),
		arrived: make(chan struct{}, 1),
		room:    make(chan struct{}, 1),
		groups:  make(map[uint32]*genl.Subscription),
	}
	// Notifications sent to the socket alone (sequence 0), which
	// genetlink's Receive returns too.
	cc.base, _ = c.Subscribe()
	return cc
}

// GenlConn returns the genl.Conn under c, for code that moves on to its
// faster calls a piece at a time.
func (c *Conn) GenlConn() *genl.Conn { return c.c }

// Close closes the connection. Blocked calls return an error matching
// net.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return opError("close", net.ErrClosed)
	}
	c.closed = true
	close(c.done)
	for w := range c.waits {
		w.stop()
		w.cancel(net.ErrClosed)
	}
	c.mu.Unlock()
	err := c.c.Close()
	c.wg.Wait()
	return opError("close", err)
}

// Execute sends m to family with flags and returns the answer: the replies
// of a do-request, every part of a dump (netlink.Dump), or, for a request
// acknowledged without data (netlink.Acknowledge), the ACK as genetlink
// returns it. A kernel error is a *netlink.OpError. Unlike genetlink,
// a request that both replies and is acknowledged returns the replies
// and the ACK is consumed with them, and a dump the kernel marks
// interrupted (NLM_F_DUMP_INTR: what it read changed meanwhile) runs again,
// up to 3 times, before its last result is returned as genetlink returns
// it, without error.
func (c *Conn) Execute(m Message, family uint16, flags netlink.HeaderFlags) ([]Message, error) {
	ctx, end := c.begin(true, true)
	defer end()
	for attempt := 0; ; attempt++ {
		out := make([]Message, 0, 1)
		err := c.c.Exchange(ctx, request(m, family), flags, nil, func(r genl.Message) error {
			if r.Netlink.Type == netlink.Error && len(out) > 0 {
				return nil // the ACK after replies: genetlink leaves it unread
			}
			gm, _ := convert(r)
			out = append(out, gm)
			return nil
		})
		if errors.Is(err, genl.ErrDumpInterrupted) {
			// What the dump read changed while it ran. genetlink
			// ignores the mark; run it again a few times, then do
			// as genetlink does.
			if attempt < dumpRetries {
				continue
			}
			err = nil
		}
		if err != nil {
			return nil, c.failure(ctx, err)
		}
		return out, nil
	}
}

// dumpRetries is how many times Execute runs again a dump the kernel
// marked interrupted (NLM_F_DUMP_INTR).
const dumpRetries = 3

// Send sends m to family with flags and returns the netlink message as
// sent (sequence number and port id filled in). Receive returns the answer.
func (c *Conn) Send(m Message, family uint16, flags netlink.HeaderFlags) (netlink.Message, error) {
	ctx, end := c.begin(false, false)
	sent := make(chan netlink.Header, 1)
	failed := make(chan error, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		end()
		return netlink.Message{}, opError("send", net.ErrClosed)
	}
	c.wg.Add(1) // under mu: Close waits only once no more can start
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		defer end()
		c.exchange(ctx, m, family, flags, sent, failed)
	}()
	select {
	case h := <-sent:
		b, _ := m.MarshalBinary()
		return netlink.Message{Header: h, Data: b}, nil
	case err := <-failed:
		return netlink.Message{}, opError("send", err)
	}
}

// exchange runs a request Send made and queues its answer for Receive, in
// the datagrams genetlink's Receive would return it in: a dump or
// multi-part reply whole, a reply and its ACK apart.
func (c *Conn) exchange(ctx context.Context, m Message, family uint16, flags netlink.HeaderFlags, sent chan<- netlink.Header, failed chan<- error) {
	var replies unit
	var ack *unit
	isSent := false
	err := c.c.Exchange(ctx, request(m, family), flags, func(h netlink.Header) {
		isSent = true
		sent <- h
	}, func(r genl.Message) error {
		gm, nm := convert(r)
		if r.Netlink.Type == netlink.Error {
			ack = &unit{msgs: []Message{gm}, nmsgs: []netlink.Message{nm}}
			return nil
		}
		replies.msgs = append(replies.msgs, gm)
		replies.nmsgs = append(replies.nmsgs, nm)
		return nil
	})
	if !isSent {
		failed <- err
		return
	}
	if errors.Is(err, genl.ErrDumpInterrupted) {
		err = nil // genetlink ignores the mark
	}
	if len(replies.msgs) > 0 || (err == nil && ack == nil) {
		c.queue(replies)
	}
	switch {
	case err != nil:
		c.queue(unit{err: c.failure(ctx, err)})
	case ack != nil:
		c.queue(*ack)
	}
}

// Receive returns the next answer to a request made with Send, or the next
// notification of a joined group, as genetlink's Receive does: a dump or
// multi-part reply in one call, a notification per call, a kernel error as
// a *netlink.OpError. The netlink.Messages hold the netlink headers as
// received.
func (c *Conn) Receive() ([]Message, []netlink.Message, error) {
	ctx, end := c.begin(true, false)
	defer end()
	c.mu.Lock()
	c.pumpLocked()
	c.mu.Unlock()
	for {
		c.mu.Lock()
		if len(c.received) > 0 {
			u := c.received[0]
			c.received = c.received[1:]
			if len(c.received) > 0 {
				ring(c.arrived) // for another Receive
			}
			ring(c.room)
			c.mu.Unlock()
			return u.msgs, u.nmsgs, u.err
		}
		c.mu.Unlock()
		select {
		case <-c.arrived:
		case <-ctx.Done():
			return nil, nil, c.failure(ctx, ctx.Err())
		}
	}
}

// A unit is what one Receive returns.
type unit struct {
	msgs  []Message
	nmsgs []netlink.Message
	err   error
}

// queue adds u for Receive, waiting while maxQueued are queued.
func (c *Conn) queue(u unit) bool {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return false
		}
		if len(c.received) < maxQueued {
			c.received = append(c.received, u)
			c.mu.Unlock()
			ring(c.arrived)
			return true
		}
		c.mu.Unlock()
		select {
		case <-c.room:
		case <-c.done:
			return false
		}
	}
}

func ring(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// JoinGroup joins a multicast group by id; Receive then returns its
// notifications.
func (c *Conn) JoinGroup(group uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return opError("join-group", net.ErrClosed)
	}
	if _, ok := c.groups[group]; ok {
		return nil // joined already, as setsockopt finds it
	}
	s, err := c.c.Subscribe(group)
	if err != nil {
		return opError("join-group", err)
	}
	c.groups[group] = s
	if c.pumping {
		c.pump(s, false)
	}
	c.pumpLocked()
	return nil
}

// LeaveGroup leaves a multicast group by id.
func (c *Conn) LeaveGroup(group uint32) error {
	c.mu.Lock()
	s, ok := c.groups[group]
	delete(c.groups, group)
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return opError("leave-group", net.ErrClosed)
	}
	if !ok {
		return nil
	}
	return opError("leave-group", s.Close())
}

// pumpLocked starts moving notifications to Receive's queue, once.
func (c *Conn) pumpLocked() {
	if c.pumping || c.closed {
		return
	}
	c.pumping = true
	if c.base != nil {
		c.pump(c.base, true)
	}
	for _, s := range c.groups {
		c.pump(s, false)
	}
}

// pump moves s's notifications to Receive's queue until s or the Conn is
// closed. Unicast notifications reach every subscription; only the base
// one passes them on.
func (c *Conn) pump(s *genl.Subscription, unicast bool) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx := context.Background() // Close ends Next: s or the Conn closed
		for {
			r, err := s.Next(ctx)
			var u unit
			switch {
			case err == nil:
				if (r.Group == 0) != unicast {
					continue
				}
				gm, nm := convert(r)
				u = unit{msgs: []Message{gm}, nmsgs: []netlink.Message{nm}}
			case errors.Is(err, genl.ErrOverrun):
				u = unit{err: &netlink.OpError{Op: "receive", Err: os.NewSyscallError("recvmsg", unix.ENOBUFS)}}
			default:
				return // closed
			}
			if !c.queue(u) {
				return
			}
		}
	}()
}

// GetFamily returns the generic netlink family called name. When there is
// none, the error matches os.ErrNotExist.
func (c *Conn) GetFamily(name string) (Family, error) {
	ctx, end := c.begin(true, true)
	defer end()
	f, err := family.Get(ctx, c.c, name)
	if err != nil {
		return Family{}, c.failure(ctx, err)
	}
	return toFamily(f)
}

// ListFamilies returns every registered generic netlink family.
func (c *Conn) ListFamilies() ([]Family, error) {
	ctx, end := c.begin(true, true)
	defer end()
	fs, err := family.List(ctx, c.c)
	if err != nil {
		return nil, c.failure(ctx, err)
	}
	out := make([]Family, 0, len(fs))
	for _, f := range fs {
		gf, err := toFamily(f)
		if err != nil {
			return nil, err
		}
		out = append(out, gf)
	}
	return out, nil
}

// errInvalidFamilyVersion is genetlink's error for a version above 255.
var errInvalidFamilyVersion = errors.New("invalid family version attribute")

func toFamily(f *family.Family) (Family, error) {
	if f.Version > 255 {
		return Family{}, errInvalidFamilyVersion
	}
	gf := Family{ID: f.ID, Version: uint8(f.Version), Name: f.Name}
	if len(f.Groups) > 0 {
		gf.Groups = make([]MulticastGroup, 0, len(f.Groups))
	}
	for _, g := range f.Groups {
		gf.Groups = append(gf.Groups, MulticastGroup{ID: g.ID, Name: g.Name})
	}
	return gf, nil
}

// SetOption enables or disables a netlink socket option. ExtendedAcknowledge
// and CapAcknowledge cannot be turned off: the Conn relies on them.
func (c *Conn) SetOption(option netlink.ConnOption, enable bool) error {
	opt, ok := sockOpts[option]
	if !ok {
		return opError("set-option", unix.ENOPROTOOPT)
	}
	if !enable && (option == netlink.ExtendedAcknowledge || option == netlink.CapAcknowledge) {
		return opError("set-option", errors.ErrUnsupported)
	}
	v := 0
	if enable {
		v = 1
	}
	return opError("set-option", c.control(func(fd int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, unix.SOL_NETLINK, opt, v))
	}))
}

var sockOpts = map[netlink.ConnOption]int{
	netlink.PacketInfo:          unix.NETLINK_PKTINFO,
	netlink.BroadcastError:      unix.NETLINK_BROADCAST_ERROR,
	netlink.NoENOBUFS:           unix.NETLINK_NO_ENOBUFS,
	netlink.ListenAllNSID:       unix.NETLINK_LISTEN_ALL_NSID,
	netlink.CapAcknowledge:      unix.NETLINK_CAP_ACK,
	netlink.ExtendedAcknowledge: unix.NETLINK_EXT_ACK,
	netlink.GetStrictCheck:      unix.NETLINK_GET_STRICT_CHK,
}

// SetReadBuffer sets the socket's receive buffer (SO_RCVBUF).
func (c *Conn) SetReadBuffer(bytes int) error {
	return opError("set-read-buffer", c.c.SetReadBuffer(bytes))
}

// SetWriteBuffer sets the socket's send buffer (SO_SNDBUF).
func (c *Conn) SetWriteBuffer(bytes int) error {
	return opError("set-write-buffer", c.control(func(fd int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, bytes))
	}))
}

// SetBPF attaches a classic BPF program to the socket (SO_ATTACH_FILTER),
// as genetlink does. The filter sees every message, answers to requests
// included: one that drops an answer leaves its caller waiting until its
// deadline, as with genetlink, and the room the Conn reserved for the
// answer in the receive buffer (see genl.Conn) stays reserved, narrowing
// how many requests it sends at once.
// Filter notifications only.
func (c *Conn) SetBPF(filter []bpf.RawInstruction) error {
	prog := unix.SockFprog{Len: uint16(len(filter))}
	if len(filter) > 0 {
		prog.Filter = (*unix.SockFilter)(unsafe.Pointer(&filter[0]))
	}
	err := c.control(func(fd int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog))
	})
	runtime.KeepAlive(filter)
	return opError("set-bpf", err)
}

// RemoveBPF removes the socket's BPF program (SO_DETACH_FILTER).
func (c *Conn) RemoveBPF() error {
	return opError("remove-bpf", c.control(func(fd int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_FILTER, 0))
	}))
}

// SyscallConn returns the socket's raw connection, for socket options the
// Conn has no method for. Reading from or writing to it would take
// messages from under the Conn: use Control only.
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	rc, err := c.c.SyscallConn()
	if err != nil {
		return nil, opError("syscall-conn", err)
	}
	return rc, nil
}

func (c *Conn) control(fn func(fd int) error) error {
	rc, err := c.c.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.setDeadline(t, true, true)
	return nil
}

// SetReadDeadline sets the deadline of Receive and of the wait for an
// answer in Execute, GetFamily and ListFamilies, including calls already
// waiting. A call past it fails with an error matching
// os.ErrDeadlineExceeded whose Timeout method reports true.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.setDeadline(t, true, false)
	return nil
}

// SetWriteDeadline sets the deadline of sending. Requests go out at once
// unless the socket's receive buffer is full of answers, so it matters
// only then; Execute honours it as a bound on the whole call.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.setDeadline(t, false, true)
	return nil
}

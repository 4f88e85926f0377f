package genl

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// A Conn is a generic netlink connection that many goroutines share. It
// carries do-requests, dumps, batches and multicast subscriptions at once,
// routing every reply, ACK and error to its caller by sequence number.
//
// A Conn starts no goroutines. A caller waiting for a reply reads the socket
// itself when nobody else does (it becomes the "leader") and hands other
// callers their messages; a caller alone on the Conn sends, receives and
// decodes on its own goroutine without a hand-off. Requests that several
// goroutines send at the same time go out together in one sendmsg.
//
// The kernel runs one dump at a time per socket, so dumps on a Conn take
// turns while do-requests interleave with them.
//
// Flow control: the kernel drops an answer that finds the socket's receive
// buffer full. So a Conn (over a real socket) sends a request only when the
// answers of the requests in flight, its own included, fit in the receive
// buffer (SO_RCVBUF, see WithReadBuffer): each request reserves a bound on
// the memory its answer takes, learnt per family and command from the
// answers seen, and gives it back when the answer is read. Requests that do
// not fit wait, in order, and go out as answers arrive; a request is always
// sent when nothing is in flight. Any number of callers, and Batches of any
// size, are answered without overrunning the buffer. Each sendmsg is kept
// within the send buffer (SO_SNDBUF, see WithWriteBuffer). Multicast
// notifications share the receive buffer and are not bounded; a reply they
// crowd out fails its request with ErrOverrun and ErrOutcomeUnknown.
type Conn struct {
	tr   Transport
	sock *sockTransport // tr when it is the real socket: calls skip the interface
	pid  uint32
	cfg  config
	seq  uint32 // guarded by mu

	interrupt func() // wakes the leader: sets a past read deadline

	mu        sync.Mutex
	closed    bool
	leader    bool
	pending   pendingTable
	idleHead  *waiter
	idleTail  *waiter
	subs      []*Subscription
	groupRefs map[uint32]int
	dumpBusy  bool
	// dumpSeq is the sequence number of the dump in flight while dumpBusy.
	dumpSeq uint32
	// After an overrun (see overrunLocked): barrierDue until the leader
	// has drained the receive queue and sent the barrier, then barrierSeq
	// is the barrier's sequence number until its ACK is read. Meanwhile
	// requests are held in sendQ (held).
	barrierDue bool
	barrierSeq uint32
	freeCalls  []*call
	spare      atomic.Pointer[call] // one finished call, recycled without mu
	freeRx     []*rxBuf

	sending  bool
	sendBusy atomic.Bool // sending, readable without mu
	// A leader that finds the socket empty while another goroutine is in
	// sendmsg waits for the sendmsg to end (awaitSend): sendWait is set
	// while it does, and the sender then signals sendDone.
	sendWait  atomic.Bool
	sendDone  chan struct{}
	sendQ     []*call
	sendBuf   []byte
	sendSeqs  []uint32
	sendEpoch uint64

	// Requests without an ACK (silent.go). sentGen counts the sendmsgs
	// that carried such requests, once each has returned; the rest is
	// guarded by mu.
	sentGen      atomic.Uint64
	leaderParked bool     // the leader blocks in a receive that only a datagram or an interrupt ends
	acklessBusy  int      // ACK-less requests in a sendmsg whose return is not recorded yet
	silentQ      []uint32 // sequence numbers of ACK-less requests sent by a flush, not yet answered

	fl flow // flow control (flow.go)

	// Requests sent alone (guarded by mu), and whether the next caller
	// is to yield its processor first (see start).
	loneSends uint32
	yieldDue  atomic.Bool

	st counters
}

// maxFlushTime bounds how long one flush goes on sending (see flushLocked).
const maxFlushTime = time.Millisecond

// Dial opens a NETLINK_GENERIC socket and returns a Conn over it. It always
// enables extended ACKs (NETLINK_EXT_ACK) and capped ACKs (NETLINK_CAP_ACK),
// and strict checking (NETLINK_GET_STRICT_CHK) where the kernel accepts it.
func Dial(opts ...Option) (*Conn, error) {
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	t, err := dialSocket(&cfg)
	if err != nil {
		return nil, err
	}
	c, err := newConn(t, cfg)
	if err != nil {
		t.Close()
		return nil, err
	}
	c.sock = t
	rcv, _ := t.readBuffer()
	snd, _ := t.writeBuffer()
	c.fl.setBuffers(rcv, snd)
	return c, nil
}

// NewConn returns a Conn over any Transport, such as the in-memory fake
// kernel of package genltest. Socket options (namespace, buffers) do not
// apply; WithGroups joins through the Transport.
func NewConn(t Transport, opts ...Option) (*Conn, error) {
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	return newConn(t, cfg)
}

func buildConfig(opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func newConn(t Transport, cfg config) (*Conn, error) {
	c := &Conn{
		tr:        t,
		pid:       t.PortID(),
		cfg:       cfg,
		groupRefs: make(map[uint32]int),
		sendDone:  make(chan struct{}, 1),
	}
	c.interrupt = func() { _ = c.tr.SetReadDeadline(time.Unix(1, 0)) }
	c.fl.setBuffers(0, 0)
	for _, g := range cfg.groups {
		if err := c.JoinGroup(g); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// PortID returns the Conn's netlink port id.
func (c *Conn) PortID() uint32 { return c.pid }

// SetReadBuffer changes the socket's receive buffer (SO_RCVBUF) after Dial.
// The Conn sizes its flow-control window from it (see Conn).
func (c *Conn) SetReadBuffer(bytes int) error {
	if c.sock == nil {
		return errors.ErrUnsupported
	}
	if err := c.sock.setReadBuffer(bytes); err != nil {
		return err
	}
	rcv, err := c.sock.readBuffer()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.fl.budget = rcv
	c.mu.Unlock()
	return nil
}

// ReadBuffer reports the socket's receive buffer size (SO_RCVBUF).
func (c *Conn) ReadBuffer() (int, error) {
	if c.sock == nil {
		return 0, errors.ErrUnsupported
	}
	return c.sock.readBuffer()
}

// JoinGroup joins a multicast group by id (NETLINK_ADD_MEMBERSHIP, so ids
// above 31 work). Joins are counted: the group is left when LeaveGroup has
// been called as many times.
func (c *Conn) JoinGroup(id uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	if c.groupRefs[id] == 0 {
		if err := c.tr.JoinGroup(id); err != nil {
			return &Error{Op: "join-group", Err: errnoOf(err), Offset: -1, MissingNest: -1}
		}
	}
	c.groupRefs[id]++
	return nil
}

// LeaveGroup undoes one JoinGroup.
func (c *Conn) LeaveGroup(id uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	switch c.groupRefs[id] {
	case 0:
		return nil
	case 1:
		delete(c.groupRefs, id)
		if err := c.tr.LeaveGroup(id); err != nil {
			return &Error{Op: "leave-group", Err: errnoOf(err), Offset: -1, MissingNest: -1}
		}
	default:
		c.groupRefs[id]--
	}
	return nil
}

// Close closes the Conn. Calls in flight and blocked subscriptions return
// net.ErrClosed; later calls do too. Close is safe to call more than once.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for _, cl := range c.pending.all() {
		c.pending.del(cl.seq)
		if cl.abandoned || cl.barrier {
			continue
		}
		cl.err = net.ErrClosed
		cl.final = true
		cl.signal()
	}
	for _, s := range c.subs {
		c.endSubLocked(&s.waiter)
		s.signal()
	}
	for w := c.idleHead; w != nil; w = w.next {
		w.signal()
	}
	for _, q := range c.sendQ {
		q.queued = false
	}
	clear(c.sendQ)
	c.sendQ = c.sendQ[:0]
	c.mu.Unlock()
	// Wake a leader blocked in the kernel and wait until nobody uses the
	// transport: only then may it close its fds. (The socket transport
	// relies on this instead of locking every send and receive.) The wake
	// is repeated because a leader may clear a deadline it took for its own.
	for {
		_ = c.tr.SetReadDeadline(time.Unix(1, 0))
		c.mu.Lock()
		busy := c.leader || c.sending
		c.mu.Unlock()
		if !busy {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	return c.tr.Close()
}

func (c *Conn) nextSeqLocked() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq = 1
	}
	return c.seq
}

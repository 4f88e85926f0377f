package genl

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
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

// --- waiters, calls and receive buffers ---

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

// An rxBuf is a set of receive slots for one recvmmsg. A slot's memory is
// taken when a receive first needs it (one slot for a lone do-request, the
// batch for a dump) and given back when the rxBuf is released: the default
// 32 KiB slots go to a pool all Conns share, so an idle Conn holds none.
type rxBuf struct {
	d    []Datagram
	size int // bytes per slot
}

// slotPool holds free receive slots of the default size.
var slotPool sync.Pool // *[defaultRecvBufSize]byte

// rxPool holds rxBufs of the default shape (see shared), with the slots
// they have taken, for every Conn. A lone caller takes one per request and
// gives it back when done: one pool round trip, where taking each slot
// from slotPool and giving it back cost one per slot. An idle Conn still
// holds no slots.
var rxPool sync.Pool // *rxBuf

// shared reports whether rx has the default shape (defaultRecvBatch slots
// of defaultRecvBufSize), which rxPool holds.
func (rx *rxBuf) shared() bool {
	return rx.size == defaultRecvBufSize && len(rx.d) == defaultRecvBatch
}

// putShared gives rx, of the default shape, with its slots to rxPool.
// Nothing may refer to what was received into them any more.
func (rx *rxBuf) putShared() {
	rxPool.Put(rx)
}

// fill gives the first n slots memory.
func (rx *rxBuf) fill(n int) {
	for i := range rx.d[:n] {
		if rx.d[i].Buf != nil {
			continue
		}
		if rx.size == defaultRecvBufSize {
			if p, _ := slotPool.Get().(*[defaultRecvBufSize]byte); p != nil {
				rx.d[i].Buf = p[:]
				continue
			}
		}
		rx.d[i].Buf = make([]byte, rx.size)
	}
}

// release gives the slots' memory back. Nothing may refer to what was
// received into them any more.
func (rx *rxBuf) release() {
	for i := range rx.d {
		if b := rx.d[i].Buf; b != nil {
			rx.d[i] = Datagram{}
			if len(b) == defaultRecvBufSize {
				slotPool.Put((*[defaultRecvBufSize]byte)(b))
			}
		}
	}
}

// takeRx takes cl's receive buffer, if any; cl may be nil.
func (cl *call) takeRx() *rxBuf {
	if cl == nil {
		return nil
	}
	rx := cl.rx
	cl.rx = nil
	return rx
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

func (c *Conn) getRxLocked() *rxBuf {
	if c.cfg.recvBufSize == defaultRecvBufSize && c.cfg.recvBatch == defaultRecvBatch {
		if rx, _ := rxPool.Get().(*rxBuf); rx != nil {
			return rx
		}
	}
	if n := len(c.freeRx); n > 0 {
		rx := c.freeRx[n-1]
		c.freeRx = c.freeRx[:n-1]
		return rx
	}
	return &rxBuf{d: make([]Datagram, c.cfg.recvBatch), size: c.cfg.recvBufSize}
}

// putRxLocked keeps rx for reuse: one of the default shape goes to rxPool
// with its slots, another stays with the Conn, its slots given back (see
// rxBuf.release). rx may be nil.
func (c *Conn) putRxLocked(rx *rxBuf) {
	if rx == nil {
		return
	}
	if rx.shared() {
		rx.putShared()
		return
	}
	rx.release()
	if len(c.freeRx) < 4 {
		c.freeRx = append(c.freeRx, rx)
	}
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

func (c *Conn) nextSeqLocked() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq = 1
	}
	return c.seq
}

package genl

import (
	"errors"
	"fmt"
	"math/bits"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxRecvBatch is the most datagrams one recvmmsg collects.
const maxRecvBatch = 16

// The extended ACK attributes the kernel reports that x/sys/unix lacks
// (include/uapi/linux/netlink.h, enum nlmsgerr_attrs).
const (
	nlmsgerrAttrPolicy   = 4 // NLMSGERR_ATTR_POLICY
	nlmsgerrAttrMissType = 5 // NLMSGERR_ATTR_MISS_TYPE
	nlmsgerrAttrMissNest = 6 // NLMSGERR_ATTR_MISS_NEST
)

// sockTransport is the real NETLINK_GENERIC socket, one fd made with
// plain system calls (openSocket). Hot-path I/O is non-blocking x/sys/unix
// calls on the fd, outside the Go netpoller. That matters for speed: a
// socket registered with epoll wakes the netpoller's thread for every reply
// the kernel queues, which costs more than the rest of the round trip on a
// small VM, and replies to requests and dumps are queued while the request
// is sent or the previous part read, so a receiver rarely waits. A
// receiver that must wait (a subscriber, a reply from another goroutine's
// request) registers the fd with the netpoller on first need and parks its
// goroutine there, the way a net.Conn waits: no thread blocks in a system
// call, and read deadlines and Close wake it through the poller.
type sockTransport struct {
	fd  int
	pid uint32

	// fdMu keeps the fd open while a rare-path system call (setsockopt,
	// registration) uses it. Send and Recv do not take it: the Conn
	// closes the transport only once no goroutine sends or receives.
	fdMu     sync.RWMutex
	closing  atomic.Bool
	deadline atomic.Int64 // UnixNano of the read deadline, 0 for none

	// poll is the fd registered with the netpoller, made by the first
	// wait; it then owns the fd. dlMu orders deadline changes with its
	// making.
	poll atomic.Pointer[os.File]
	dlMu sync.Mutex
	// Set before poll is published, used by the one receiver.
	rc      syscall.RawConn
	receive func(fd uintptr) bool // t.receiving, bound once
	// The receive that waitRecv's callback makes, and its result.
	rd    []Datagram
	rn    int
	rmmsg bool
	rgot  int
	rerr  error

	pktinfo atomic.Bool // NETLINK_PKTINFO enabled: read the group from a cmsg

	// The watcher (watch.go), guarded by dlMu: wanted while the Conn has
	// subscriptions, started by a receiver's wait, kicked to stop it.
	watchWanted  bool
	watchRunning bool
	watchKicked  bool
	watchDone    chan struct{} // closed when the watcher has ended
	watchTimer   *time.Timer   // a deadline ahead, while the watcher runs
	watchReady   chan struct{} // the watcher's signal to the receiver

	// drained: the last receive found the queue empty (nothing, or fewer
	// datagrams than asked from recvmmsg). Used by one receiver at a time.
	drained bool

	// Receive state, used by one receiver at a time.
	hdrs  [maxRecvBatch]unix.Mmsghdr
	iovs  [maxRecvBatch]unix.Iovec
	names [maxRecvBatch]unix.RawSockaddrNetlink
	cmsgs [maxRecvBatch][32]byte
}

func dialSocket(cfg *config) (*sockTransport, error) {
	fd, pid, err := openSocket(cfg)
	if err != nil {
		return nil, err
	}
	t := &sockTransport{fd: fd, pid: pid}
	for i := range t.hdrs {
		t.hdrs[i].Hdr.Iov = &t.iovs[i]
		t.hdrs[i].Hdr.Iovlen = 1
	}
	return t, nil
}

func netnsPath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join("/run/netns", name)
}

// Send implements Transport.
func (t *sockTransport) Send(b []byte) error { return t.send(b, false) }

// send writes b to the socket. With raw it makes the system call without
// telling the Go scheduler (RawSyscall), as the receives do: for a dump's
// request, whose sendmsg runs the kernel's work for the dump's first part,
// the same work each receive that continues the dump runs. A blocking-
// capable system call (entersyscall) wakes the runtime's monitor thread
// (sysmon) whenever every P was idle, and a sysmon so woken polls every 20
// µs for the next millisecond and more: a program that dumps now and then
// paid that at every dump, up to a fifth of the dump's time when sysmon
// shares the dumper's CPU (BenchmarkTypedRatio, both sides on one CPU:
// 1.15–1.33× C before, 1.04–1.11× after). A do request keeps the
// scheduler's syscall: its handler may run for as long as the family
// likes (a devlink flash update runs for minutes), and a P held meanwhile
// would stall the garbage collector's stop-the-world.
func (t *sockTransport) send(b []byte, raw bool) error {
	for {
		if t.closing.Load() {
			return net.ErrClosed
		}
		// sendto without an address rather than write: the socket layer's
		// own entry skips the VFS write path (file position lock, access
		// checks, fsnotify), which costs about as much as Go's syscall
		// bookkeeping on this path.
		var e unix.Errno
		if raw {
			_, _, e = unix.RawSyscall6(unix.SYS_SENDTO, uintptr(t.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0, 0, 0)
		} else {
			_, _, e = unix.Syscall6(unix.SYS_SENDTO, uintptr(t.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0, 0, 0)
		}
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			// The kernel takes requests synchronously, so a full send
			// buffer is all but impossible; wait for room.
			p := [1]unix.PollFd{{Fd: int32(t.fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(p[:], 100); err != nil && err != unix.EINTR {
				return os.NewSyscallError("poll", err)
			}
			continue
		}
		return os.NewSyscallError("sendto", e)
	}
}

// Recv implements Transport.
func (t *sockTransport) Recv(d []Datagram, wait bool) (int, error) {
	return t.recv(d, wait, false)
}

// recv is Recv; with waitFirst (and wait) it goes straight to the wait,
// for a caller that has just found nothing queued or knows it drained the
// queue. That saves a receive that would fail again: the wait receives
// before it parks (see waitRecv), so nothing queued meanwhile is missed.
func (t *sockTransport) recv(d []Datagram, wait, waitFirst bool) (int, error) {
	n := min(len(d), maxRecvBatch)
	pkt := t.pktinfo.Load()
	mmsg := n > 1 || pkt
	if mmsg {
		for i := range n {
			t.iovs[i].Base = unsafe.SliceData(d[i].Buf)
			t.iovs[i].SetLen(len(d[i].Buf))
			h := &t.hdrs[i].Hdr
			h.Flags = 0
			if pkt {
				// Multicast may come from other sockets: read the
				// sender along with the group.
				h.Name = (*byte)(unsafe.Pointer(&t.names[i]))
				h.Namelen = unix.SizeofSockaddrNetlink
				h.Control = &t.cmsgs[i][0]
				h.SetControllen(len(t.cmsgs[i]))
			} else {
				// In no group, the connected socket takes datagrams
				// from the kernel alone (see openSocket).
				h.Name = nil
				h.Namelen = 0
				h.Control = nil
				h.SetControllen(0)
			}
		}
		defer func() {
			for i := range t.iovs[:n] {
				t.iovs[i].Base = nil // keep no reference to the caller's buffers
			}
		}()
	}
	if t.closing.Load() {
		return 0, net.ErrClosed
	}
	got := -1
	var err error
	if !wait || !waitFirst {
		got, err = t.recvOnce(d, n, mmsg)
	}
	if err == nil && got < 0 && wait {
		got, err = t.waitRecv(d, n, mmsg)
	}
	if err != nil {
		return 0, err
	}
	if got < 0 {
		return 0, nil
	}
	if mmsg {
		t.fill(d, got, pkt)
	}
	return got, nil
}

// recvOnce makes one non-blocking receive of up to n datagrams; it returns
// -1 when nothing is queued.
func (t *sockTransport) recvOnce(d []Datagram, n int, mmsg bool) (int, error) {
	for {
		var r uintptr
		var e unix.Errno
		if !mmsg {
			// One datagram and no group joined: the datagram is a
			// unicast from the kernel (the socket is connected to it, see
			// openSocket), so recvfrom need not ask for the sender, and it
			// is the cheapest receive.
			b := d[0].Buf
			// MSG_DONTWAIT: the call never blocks, so it need not tell the
			// scheduler it may (RawSyscall saves entersyscall/exitsyscall).
			r, _, e = unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(t.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
				unix.MSG_DONTWAIT|unix.MSG_TRUNC, 0, 0)
			if e == 0 {
				t.drained = false
				dg := &d[0]
				dg.Size = int(r)
				dg.N = min(dg.Size, len(dg.Buf))
				dg.Trunc = dg.Size > len(dg.Buf)
				dg.Port, dg.Group = 0, 0
				return 1, nil
			}
		} else {
			r, _, e = unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(t.fd), uintptr(unsafe.Pointer(&t.hdrs[0])), uintptr(n),
				unix.MSG_DONTWAIT|unix.MSG_TRUNC, 0, 0)
			if e == 0 {
				// recvmmsg stops early only when a receive fails, at an
				// empty queue but for an error it leaves on the socket.
				t.drained = int(r) < n
				return int(r), nil
			}
		}
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			t.drained = true
			return -1, nil
		}
		return 0, e
	}
}

func (t *sockTransport) fill(d []Datagram, got int, pkt bool) {
	for i := range got {
		m := &t.hdrs[i]
		dg := &d[i]
		dg.Size = int(m.Len)
		dg.N = min(dg.Size, len(dg.Buf))
		dg.Trunc = m.Hdr.Flags&unix.MSG_TRUNC != 0 || dg.Size > len(dg.Buf)
		if !pkt {
			dg.Port, dg.Group = 0, 0
			continue
		}
		dg.Port = t.names[i].Pid
		dg.Group = groupOfMask(t.names[i].Groups)
		if m.Hdr.Controllen >= unix.SizeofCmsghdr+4 {
			c := t.cmsgs[i][:]
			h := (*unix.Cmsghdr)(unsafe.Pointer(&c[0]))
			if h.Level == unix.SOL_NETLINK && h.Type == unix.NETLINK_PKTINFO && h.Len >= unix.SizeofCmsghdr+4 {
				if g := *(*uint32)(unsafe.Pointer(&c[unix.SizeofCmsghdr])); g != 0 {
					dg.Group = g
				}
			}
		}
	}
}

// waitRecv receives up to n datagrams into d, parking the goroutine in
// the netpoller until something is queued, the read deadline passes or
// the transport closes. It returns -1 only with an error.
//
// The receive is the netpoller wait's callback (receiving), the way a
// net.Conn reads: RawRead resets the poller's readiness and then calls it,
// so the first receive looks at the socket itself (a datagram queued
// since the caller's last receive raised no event the poller still holds,
// and under edge-triggered epoll none will come); a receive that finds
// nothing parks the goroutine until the poller sees the fd readable, and
// the callback runs again. The receive never blocks and makes no
// blocking system call: a blocking one would wake the runtime's monitor
// thread (sysmon) on every wait.
func (t *sockTransport) waitRecv(d []Datagram, n int, mmsg bool) (int, error) {
	if t.poll.Load() == nil {
		if _, err := t.register(); err != nil {
			return -1, err
		}
	}
	for {
		if t.deadlinePassed() {
			return -1, os.ErrDeadlineExceeded
		}
		t.dlMu.Lock()
		switch want := t.watchWanted && runtime.GOMAXPROCS(0) == 1; {
		case want && !t.watchRunning && !t.closing.Load():
			t.startWatcherLocked()
		case !want && t.watchRunning:
			// Wait through it until it has ended.
			t.stopWatcherLocked()
		}
		watched := t.watchRunning
		t.dlMu.Unlock()
		if !watched {
			break
		}
		got, err := t.watchRecv(d, n, mmsg)
		if err != errWatcherGone {
			return got, err
		}
	}
	t.rd, t.rn, t.rmmsg = d, n, mmsg
	t.rgot, t.rerr = -1, nil
	err := t.rc.Read(t.receive)
	t.rd = nil // keep no reference to the caller's buffers
	switch {
	case err == nil:
		if t.rerr != nil {
			return -1, t.rerr
		}
		return t.rgot, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return -1, os.ErrDeadlineExceeded
	case errors.Is(err, os.ErrClosed) || t.closing.Load():
		return -1, net.ErrClosed
	}
	return -1, err
}

// receiving is the callback of the netpoller wait (see waitRecv): one
// non-blocking receive into t.rd. It reports true once it received
// something or failed.
func (t *sockTransport) receiving(uintptr) bool {
	if t.closing.Load() {
		t.rerr = net.ErrClosed
		return true
	}
	got, err := t.recvOnce(t.rd, t.rn, t.rmmsg)
	t.rgot, t.rerr = got, err
	return got >= 0 || err != nil
}

// register hands the fd to the netpoller (an os.File over it, which then
// owns it) and gives it the current read deadline.
func (t *sockTransport) register() (*os.File, error) {
	t.fdMu.RLock()
	defer t.fdMu.RUnlock()
	if t.closing.Load() {
		return nil, net.ErrClosed
	}
	t.dlMu.Lock()
	defer t.dlMu.Unlock()
	if f := t.poll.Load(); f != nil {
		return f, nil
	}
	f := os.NewFile(uintptr(t.fd), "netlink")
	if f == nil {
		return nil, fmt.Errorf("genl: register socket with the netpoller: bad fd %d", t.fd)
	}
	if dl := t.fileDeadline(); !dl.IsZero() {
		if err := f.SetReadDeadline(dl); err != nil {
			return nil, err
		}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	t.rc, t.receive = rc, t.receiving
	t.poll.Store(f)
	return f, nil
}

// groupOfMask turns sockaddr_nl's nl_groups (bit g-1 for group g <= 32)
// into a group id.
func groupOfMask(m uint32) uint32 {
	if m == 0 {
		return 0
	}
	return uint32(bits.TrailingZeros32(m)) + 1
}

// deadlinePassed reports whether the read deadline has passed.
func (t *sockTransport) deadlinePassed() bool {
	dl := t.deadline.Load()
	return dl != 0 && dl <= time.Now().UnixNano()
}

// fileDeadline is the read deadline as a time, zero for none.
func (t *sockTransport) fileDeadline() time.Time {
	if dl := t.deadline.Load(); dl != 0 {
		return time.Unix(0, dl)
	}
	return time.Time{}
}

// SetReadDeadline implements Transport.
func (t *sockTransport) SetReadDeadline(d time.Time) error {
	t.dlMu.Lock()
	defer t.dlMu.Unlock()
	if d.IsZero() {
		t.deadline.Store(0)
	} else {
		t.deadline.Store(max(d.UnixNano(), 1))
	}
	if t.watchRunning {
		// The file's deadline is the watcher's (see watch.go).
		t.armWatchDeadlineLocked()
		return nil
	}
	if f := t.poll.Load(); f != nil && !t.closing.Load() {
		return f.SetReadDeadline(d)
	}
	return nil
}

func (t *sockTransport) setsockopt(level, opt, v int) error {
	t.fdMu.RLock()
	defer t.fdMu.RUnlock()
	if t.closing.Load() {
		return net.ErrClosed
	}
	return os.NewSyscallError("setsockopt", unix.SetsockoptInt(t.fd, level, opt, v))
}

// JoinGroup implements Transport (NETLINK_ADD_MEMBERSHIP). It also turns on
// NETLINK_PKTINFO so that notifications from groups above 32 are told apart
// from unicast replies.
func (t *sockTransport) JoinGroup(g uint32) error {
	if !t.pktinfo.Load() {
		if err := t.setsockopt(unix.SOL_NETLINK, unix.NETLINK_PKTINFO, 1); err != nil {
			return err
		}
		t.pktinfo.Store(true)
	}
	return t.setsockopt(unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(g))
}

// LeaveGroup implements Transport (NETLINK_DROP_MEMBERSHIP).
func (t *sockTransport) LeaveGroup(g uint32) error {
	return t.setsockopt(unix.SOL_NETLINK, unix.NETLINK_DROP_MEMBERSHIP, int(g))
}

// PortID implements Transport.
func (t *sockTransport) PortID() uint32 { return t.pid }

// Close implements Transport: it waits for rare-path system calls in
// progress to return, then closes the fd.
func (t *sockTransport) Close() error {
	t.fdMu.Lock()
	if t.closing.Swap(true) {
		t.fdMu.Unlock()
		return nil
	}
	defer t.fdMu.Unlock()
	if f := t.poll.Load(); f != nil {
		// The close ends a watcher's read; wait for it to end.
		t.dlMu.Lock()
		done := t.watchDone
		t.dlMu.Unlock()
		err := f.Close()
		if done != nil {
			<-done
		}
		return err
	}
	return os.NewSyscallError("close", unix.Close(t.fd))
}

// setReadBuffer changes SO_RCVBUF after Dial, forcing it when privileged.
func (t *sockTransport) setReadBuffer(n int) error {
	if err := t.setsockopt(unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n); err == nil {
		return nil
	}
	return t.setsockopt(unix.SOL_SOCKET, unix.SO_RCVBUF, n)
}

// readBuffer reports SO_RCVBUF: the kernel's sk_rcvbuf, which bounds the
// receive queue.
func (t *sockTransport) readBuffer() (int, error) { return t.getsockopt(unix.SO_RCVBUF) }

// writeBuffer reports SO_SNDBUF: the kernel's sk_sndbuf, which bounds one
// sendmsg.
func (t *sockTransport) writeBuffer() (int, error) { return t.getsockopt(unix.SO_SNDBUF) }

func (t *sockTransport) getsockopt(opt int) (int, error) {
	t.fdMu.RLock()
	defer t.fdMu.RUnlock()
	if t.closing.Load() {
		return 0, net.ErrClosed
	}
	v, err := unix.GetsockoptInt(t.fd, unix.SOL_SOCKET, opt)
	return v, os.NewSyscallError("getsockopt", err)
}

package genl

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
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

// sockTransport is the real NETLINK_GENERIC socket. mdlayher/netlink sets
// it up (namespace, bind, options, buffers); the Conn then keeps a duplicate
// of the fd and closes mdlayher's, which takes the socket out of the Go
// netpoller. That matters for speed: a socket registered with epoll wakes
// the netpoller's thread for every reply the kernel queues, which costs more
// than the rest of the round trip on a small VM. Hot-path I/O is
// non-blocking x/sys/unix calls on the fd; a receiver that must wait blocks
// in ppoll on the socket and an eventfd, which Close and SetReadDeadline ring
// to wake it.
type sockTransport struct {
	fd  int
	efd int // eventfd: the doorbell for a receiver blocked in ppoll
	pid uint32

	// fdMu keeps the fds open while a rare-path system call (setsockopt,
	// the doorbell) uses them. Send and Recv do not take it: the Conn
	// closes the transport only once no goroutine sends or receives.
	fdMu     sync.RWMutex
	closing  atomic.Bool
	deadline atomic.Int64 // UnixNano of the read deadline, 0 for none

	pktinfo atomic.Bool // NETLINK_PKTINFO enabled: read the group from a cmsg

	// Receive state, used by one receiver at a time.
	hdrs    [maxRecvBatch]unix.Mmsghdr
	iovs    [maxRecvBatch]unix.Iovec
	names   [maxRecvBatch]unix.RawSockaddrNetlink
	cmsgs   [maxRecvBatch][32]byte
	oneFrom unix.RawSockaddrNetlink
	oneLen  uint32
	pfds    [2]unix.PollFd
}

func dialSocket(cfg *config) (*sockTransport, error) {
	nsfd := cfg.netnsFD
	if cfg.netnsPath != "" {
		f, err := os.Open(cfg.netnsPath)
		if err != nil {
			return nil, fmt.Errorf("genl: network namespace: %w", err)
		}
		defer f.Close()
		nsfd = int(f.Fd())
	}
	nc, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{NetNS: nsfd, PID: cfg.pid})
	if err != nil {
		return nil, fmt.Errorf("genl: dial: %w", err)
	}
	defer nc.Close()
	// Extended and capped ACKs are required; strict checking is used where
	// the kernel accepts it.
	if err := nc.SetOption(netlink.ExtendedAcknowledge, true); err != nil {
		return nil, fmt.Errorf("genl: enable NETLINK_EXT_ACK: %w", err)
	}
	if err := nc.SetOption(netlink.CapAcknowledge, true); err != nil {
		return nil, fmt.Errorf("genl: enable NETLINK_CAP_ACK: %w", err)
	}
	_ = nc.SetOption(netlink.GetStrictCheck, true)
	for _, o := range []struct {
		on   bool
		opt  netlink.ConnOption
		name string
	}{
		{cfg.noENOBUFS, netlink.NoENOBUFS, "NETLINK_NO_ENOBUFS"},
		{cfg.broadcastError, netlink.BroadcastError, "NETLINK_BROADCAST_ERROR"},
		{cfg.listenAllNSID, netlink.ListenAllNSID, "NETLINK_LISTEN_ALL_NSID"},
	} {
		if o.on {
			if err := nc.SetOption(o.opt, true); err != nil {
				return nil, fmt.Errorf("genl: enable %s: %w", o.name, err)
			}
		}
	}
	if cfg.readBuffer > 0 {
		if err := nc.SetReadBuffer(cfg.readBuffer); err != nil {
			return nil, fmt.Errorf("genl: set receive buffer: %w", err)
		}
	}
	if cfg.writeBuffer > 0 {
		if err := nc.SetWriteBuffer(cfg.writeBuffer); err != nil {
			return nil, fmt.Errorf("genl: set send buffer: %w", err)
		}
	}
	rc, err := nc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("genl: %w", err)
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) {
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("genl: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("genl: dup socket: %w", derr)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("genl: eventfd: %w", err)
	}
	t := &sockTransport{fd: fd, efd: efd, pid: nc.PID()}
	for i := range t.hdrs {
		t.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&t.names[i]))
		t.hdrs[i].Hdr.Iov = &t.iovs[i]
		t.hdrs[i].Hdr.Iovlen = 1
	}
	t.pfds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	t.pfds[1] = unix.PollFd{Fd: int32(efd), Events: unix.POLLIN}
	return t, nil
}

func netnsPath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join("/run/netns", name)
}

// Send implements Transport.
func (t *sockTransport) Send(b []byte) error {
	for {
		if t.closing.Load() {
			return net.ErrClosed
		}
		// sendto without an address rather than write: the socket layer's
		// own entry skips the VFS write path (file position lock, access
		// checks, fsnotify), which costs about as much as Go's syscall
		// bookkeeping on this path.
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(t.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0, 0, 0)
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
	n := min(len(d), maxRecvBatch)
	pkt := t.pktinfo.Load()
	mmsg := n > 1 || pkt
	if mmsg {
		for i := range n {
			t.iovs[i].Base = unsafe.SliceData(d[i].Buf)
			t.iovs[i].SetLen(len(d[i].Buf))
			h := &t.hdrs[i].Hdr
			h.Namelen = unix.SizeofSockaddrNetlink
			h.Flags = 0
			if pkt {
				h.Control = &t.cmsgs[i][0]
				h.SetControllen(len(t.cmsgs[i]))
			} else {
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
	for {
		if t.closing.Load() {
			return 0, net.ErrClosed
		}
		got, err := t.recvOnce(d, n, mmsg)
		if err != nil {
			return 0, err
		}
		if got >= 0 {
			if mmsg {
				t.fill(d, got, pkt)
			}
			return got, nil
		}
		if !wait {
			return 0, nil
		}
		if err := t.wait(); err != nil {
			return 0, err
		}
	}
}

// recvOnce makes one non-blocking receive of up to n datagrams; it returns
// -1 when nothing is queued.
func (t *sockTransport) recvOnce(d []Datagram, n int, mmsg bool) (int, error) {
	for {
		var r uintptr
		var e unix.Errno
		if !mmsg {
			// One datagram and no control message wanted: recvfrom is the
			// cheapest receive.
			t.oneLen = unix.SizeofSockaddrNetlink
			b := d[0].Buf
			// MSG_DONTWAIT: the call never blocks, so it need not tell the
			// scheduler it may (RawSyscall saves entersyscall/exitsyscall).
			r, _, e = unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(t.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
				unix.MSG_DONTWAIT|unix.MSG_TRUNC, uintptr(unsafe.Pointer(&t.oneFrom)), uintptr(unsafe.Pointer(&t.oneLen)))
			if e == 0 {
				dg := &d[0]
				dg.Size = int(r)
				dg.N = min(dg.Size, len(dg.Buf))
				dg.Trunc = dg.Size > len(dg.Buf)
				dg.Port = t.oneFrom.Pid
				dg.Group = groupOfMask(t.oneFrom.Groups)
				return 1, nil
			}
		} else {
			r, _, e = unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(t.fd), uintptr(unsafe.Pointer(&t.hdrs[0])), uintptr(n),
				unix.MSG_DONTWAIT|unix.MSG_TRUNC, 0, 0)
			if e == 0 {
				return int(r), nil
			}
		}
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
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
		dg.Port = t.names[i].Pid
		dg.Group = groupOfMask(t.names[i].Groups)
		if pkt && m.Hdr.Controllen >= unix.SizeofCmsghdr+4 {
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

// wait blocks until the socket is readable, the doorbell rings or the
// deadline passes.
func (t *sockTransport) wait() error {
	var timeout *unix.Timespec
	var ts unix.Timespec
	if dl := t.deadline.Load(); dl != 0 {
		left := dl - time.Now().UnixNano()
		if left <= 0 {
			return os.ErrDeadlineExceeded
		}
		ts = unix.NsecToTimespec(left)
		timeout = &ts
	}
	t.pfds[0].Revents, t.pfds[1].Revents = 0, 0
	if _, err := unix.Ppoll(t.pfds[:], timeout, nil); err != nil && err != unix.EINTR {
		return os.NewSyscallError("ppoll", err)
	}
	if t.pfds[1].Revents != 0 {
		var buf [8]byte
		_, _ = unix.Read(t.efd, buf[:])
	}
	return nil
}

// ring wakes a receiver blocked in wait.
func (t *sockTransport) ring() {
	t.fdMu.RLock()
	defer t.fdMu.RUnlock()
	if t.closing.Load() {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(t.efd, one[:])
}

// groupOfMask turns sockaddr_nl's nl_groups (bit g-1 for group g <= 32)
// into a group id.
func groupOfMask(m uint32) uint32 {
	if m == 0 {
		return 0
	}
	return uint32(bits.TrailingZeros32(m)) + 1
}

// SetReadDeadline implements Transport.
func (t *sockTransport) SetReadDeadline(d time.Time) error {
	if d.IsZero() {
		t.deadline.Store(0)
		return nil
	}
	t.deadline.Store(max(d.UnixNano(), 1))
	t.ring()
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

// Close implements Transport: it wakes a blocked receiver, waits for system
// calls in progress to return, then closes the fds.
func (t *sockTransport) Close() error {
	t.fdMu.Lock()
	if t.closing.Swap(true) {
		t.fdMu.Unlock()
		return nil
	}
	defer t.fdMu.Unlock()
	err := unix.Close(t.fd)
	unix.Close(t.efd)
	return os.NewSyscallError("close", err)
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

package genl

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// openSocket makes the Conn's NETLINK_GENERIC socket: non-blocking,
// close-on-exec, in the configured namespace, bound (to cfg.pid, or a port
// the kernel picks), with the options cfg asks for. It returns the fd and
// the port id.
//
// The socket is made with plain system calls rather than through a
// net.Conn: no runtime poller registration, no dup, one fd. It is
// connected to the kernel (port 0), so the kernel refuses unicast to it
// from any other socket (the sender gets ECONNREFUSED): every unicast
// datagram the Conn reads comes from the kernel, and a receive need not
// ask for the sender's address. Multicast is not affected by the
// connection; a Conn that joined a group reads each datagram's sender and
// discards those not from the kernel.
func openSocket(cfg *config) (fd int, pid uint32, err error) {
	nsfd := cfg.netnsFD
	if cfg.netnsPath != "" {
		nsfd, err = unix.Open(cfg.netnsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, 0, fmt.Errorf("genl: network namespace: %w", &os.PathError{Op: "open", Path: cfg.netnsPath, Err: err})
		}
		defer unix.Close(nsfd)
	}
	if nsfd > 0 {
		fd, err = socketInNetNS(nsfd)
	} else {
		fd, err = newSocket()
	}
	if err != nil {
		return -1, 0, fmt.Errorf("genl: dial: %w", err)
	}
	pid, err = setupSocket(fd, cfg)
	if err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	return fd, pid, nil
}

func newSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	return fd, os.NewSyscallError("socket", err)
}

// socketInNetNS makes the socket in the namespace nsfd refers to, on an OS
// thread that enters it and comes back. A socket stays in the namespace it
// was made in. Should the thread fail to come back, it is never unlocked,
// so it ends with its goroutine rather than serve others in the wrong
// namespace.
func socketInNetNS(nsfd int) (int, error) {
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{-1, os.NewSyscallError("open /proc/thread-self/ns/net", err)}
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{-1, os.NewSyscallError("setns", err)}
			return
		}
		fd, serr := newSocket()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			if serr == nil {
				unix.Close(fd)
			}
			done <- result{-1, os.NewSyscallError("setns back", err)}
			return
		}
		runtime.UnlockOSThread()
		done <- result{fd, serr}
	}()
	r := <-done
	return r.fd, r.err
}

// setupSocket binds fd and sets the options cfg asks for; it returns the
// port id.
func setupSocket(fd int, cfg *config) (uint32, error) {
	if cfg.pid != 0 {
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: cfg.pid}); err != nil {
			return 0, fmt.Errorf("genl: dial: %w", os.NewSyscallError("bind", err))
		}
	}
	// connect binds a socket not bound yet to a port the kernel picks, as
	// bind does; from then on the socket takes unicast from the kernel
	// alone.
	if err := unix.Connect(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("genl: dial: %w", os.NewSyscallError("connect", err))
	}
	if cfg.pid != 0 {
		// Another socket may have sent to the fixed port between bind
		// and connect: drop whatever is queued, which nobody asked for.
		if err := drainSocket(fd); err != nil {
			return 0, fmt.Errorf("genl: dial: %w", err)
		}
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, fmt.Errorf("genl: dial: %w", os.NewSyscallError("getsockname", err))
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		return 0, fmt.Errorf("genl: dial: getsockname: %T is no netlink address", sa)
	}
	opt := func(level, name int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, level, name, 1))
	}
	// Extended and capped ACKs are required; strict checking is used where
	// the kernel accepts it.
	if err := opt(unix.SOL_NETLINK, unix.NETLINK_EXT_ACK); err != nil {
		return 0, fmt.Errorf("genl: enable NETLINK_EXT_ACK: %w", err)
	}
	if err := opt(unix.SOL_NETLINK, unix.NETLINK_CAP_ACK); err != nil {
		return 0, fmt.Errorf("genl: enable NETLINK_CAP_ACK: %w", err)
	}
	_ = opt(unix.SOL_NETLINK, unix.NETLINK_GET_STRICT_CHK)
	for _, o := range []struct {
		on   bool
		opt  int
		name string
	}{
		{cfg.noENOBUFS, unix.NETLINK_NO_ENOBUFS, "NETLINK_NO_ENOBUFS"},
		{cfg.broadcastError, unix.NETLINK_BROADCAST_ERROR, "NETLINK_BROADCAST_ERROR"},
		{cfg.listenAllNSID, unix.NETLINK_LISTEN_ALL_NSID, "NETLINK_LISTEN_ALL_NSID"},
	} {
		if o.on {
			if err := opt(unix.SOL_NETLINK, o.opt); err != nil {
				return 0, fmt.Errorf("genl: enable %s: %w", o.name, err)
			}
		}
	}
	if cfg.readBuffer > 0 {
		err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, cfg.readBuffer)
		if err != nil {
			err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, cfg.readBuffer)
		}
		if err != nil {
			return 0, fmt.Errorf("genl: set receive buffer: %w", os.NewSyscallError("setsockopt", err))
		}
	}
	if cfg.writeBuffer > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, cfg.writeBuffer); err != nil {
			return 0, fmt.Errorf("genl: set send buffer: %w", os.NewSyscallError("setsockopt", err))
		}
	}
	return nl.Pid, nil
}

// drainSocket discards the datagrams queued on the non-blocking socket fd.
func drainSocket(fd int) error {
	var b [1]byte
	for {
		_, _, err := unix.Recvfrom(fd, b[:], unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		switch err {
		case nil, unix.EINTR, unix.ENOBUFS:
			continue // ENOBUFS: what overflowed the queue is lost anyway
		case unix.EAGAIN:
			return nil
		}
		return os.NewSyscallError("recvfrom", err)
	}
}

package genl_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// errTransport fails the next fail receives with err.
type errTransport struct {
	genl.Transport
	err  error
	fail atomic.Int64
}

func (t *errTransport) Recv(d []genl.Datagram, wait bool) (int, error) {
	if t.fail.Add(-1) >= 0 {
		return 0, t.err
	}
	return t.Transport.Recv(d, wait)
}

// An error the socket reports once (the kernel's sk_err, such as the EINVAL
// netlink_recvmsg leaves when it finds no dump to continue) belongs to no
// request: it is counted and dropped, and the requests and dumps in flight
// complete. An error that persists fails the reading caller's request.
func TestSocketErrorDropped(t *testing.T) {
	k := genltest.New()
	done := func(r genltest.Request) []byte { return genltest.Done(r, 0, 0, nil) }
	k.Handle(dumpHandler(parts(3), done))
	tr := &errTransport{Transport: k.Transport(), err: unix.EINVAL}
	c, err := genl.NewConn(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	tr.fail.Store(1)
	if err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: 1}); err != nil {
		t.Fatalf("do with a socket error: %v", err)
	}
	tr.fail.Store(1)
	vals, err := collect(t, c, genl.Request{Family: fam, Command: 1})
	if err != nil || !slices.Equal(vals, []uint32{0, 1, 2}) {
		t.Fatalf("dump with a socket error: %v %v", vals, err)
	}
	if st := c.Stats(); st.SocketErrors != 2 || st.RecvErrors != 0 || st.Stale != 0 {
		t.Errorf("stats %+v", st)
	}

	// Persistent: the receive fails again at once.
	tr.err = unix.EIO
	tr.fail.Store(1 << 30)
	err = c.Ack(ctxT(t), genl.Request{Family: fam, Command: 1})
	var e *genl.Error
	if !errors.Is(err, unix.EIO) || !errors.As(err, &e) || e.Op != "receive" {
		t.Fatalf("do with a persistent receive error: %v", err)
	}
	if st := c.Stats(); st.SocketErrors != 3 || st.RecvErrors != 1 {
		t.Errorf("stats %+v", st)
	}
	tr.fail.Store(0)
	if err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: 1}); err != nil {
		t.Fatalf("do after the errors: %v", err)
	}
	c.Close()
	if err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: 1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("do after Close: %v", err)
	}
}

// queueSockErr makes the kernel leave EINVAL in the socket's sk_err, the
// way the spurious dump continuation does: it queues two nlctrl replies,
// then reads them with a recvmmsg whose second header has a negative
// msg_namelen. The first datagram is received; the second header fails with
// EINVAL, which recvmmsg stores in sk_err for the next receive to return.
func queueSockErr(t *testing.T, fd int, seq uint32) {
	t.Helper()
	for i := range uint32(2) {
		req := genltest.GenlMsg(unix.GENL_ID_CTRL, netlink.Request, seq+i, 0, unix.CTRL_CMD_GETFAMILY, 1, familyNameAttr("nlctrl"))
		if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		hdrs  [2]unix.Mmsghdr
		iov   unix.Iovec
		names [2]unix.RawSockaddrNetlink
		buf   = make([]byte, 64<<10)
	)
	iov.Base = &buf[0]
	iov.SetLen(len(buf))
	for i := range hdrs {
		hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
		hdrs[i].Hdr.Iov = &iov
		hdrs[i].Hdr.Iovlen = 1
	}
	hdrs[0].Hdr.Namelen = unix.SizeofSockaddrNetlink
	hdrs[1].Hdr.Namelen = 1 << 31 // negative as the kernel's int
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), 2, unix.MSG_DONTWAIT, 0, 0)
	if e != 0 || r != 1 {
		t.Fatalf("recvmmsg: %d datagrams, %v", r, e)
	}
}

// TestKernelSocketErrorDropped reproduces the receive EINVAL that
// TestKernelCloseInFlight met now and then, deterministically: the kernel
// reports an error left in sk_err on the next receive, whoever makes it.
// Before the fix the reading caller's request failed with "genl: receive:
// invalid argument".
func TestKernelSocketErrorDropped(t *testing.T) {
	_, c := kernelConn(t)
	fd := genl.SockFD(c)
	// The mechanism: the kernel does store the error.
	queueSockErr(t, fd, 0x7fff0000)
	if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || v != int(unix.EINVAL) {
		t.Fatalf("SO_ERROR %d, %v; want EINVAL", v, err)
	}
	// A do-request whose caller is the one to receive it.
	queueSockErr(t, fd, 0x7fff0010)
	if err := c.Ack(ctxT(t), genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1,
		Attrs: familyNameAttr("nlctrl")}); err != nil {
		t.Fatalf("do: %v", err)
	}
	// A dump.
	queueSockErr(t, fd, 0x7fff0020)
	n := 0
	if err := c.DumpFunc(ctxT(t), genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1},
		func(genl.Message) bool { n++; return true }); err != nil || n == 0 {
		t.Fatalf("dump: %d families, %v", n, err)
	}
	st := c.Stats()
	// Stale: the replies left queued by queueSockErr, one per call of it.
	if st.SocketErrors != 2 || st.RecvErrors != 0 || st.Stale != 3 {
		t.Errorf("stats %+v", st)
	}
	reliabilityLine(t, "socket_errors", st.SocketErrors, "recv_errors", st.RecvErrors, "stale", st.Stale)
}

// isSpuriousRecvEINVAL matches the error TestKernelDumpRecvEINVAL looks for
// (see also TestKernelSocketErrorDropped).
func isSpuriousRecvEINVAL(err error) bool {
	var e *genl.Error
	return errors.As(err, &e) && e.Op == "receive" && errors.Is(err, unix.EINVAL)
}

// TestKernelDumpRecvEINVAL runs small dumps (they end inside the sendmsg
// that starts them) beside do-requests on one Conn. The kernel's
// netlink_recvmsg continues a running dump when it sees cb_running, and
// netlink_dump answers -EINVAL when a concurrent sendmsg has finished the
// dump meanwhile; recvmsg stores that in sk_err, and the next receive
// returns EINVAL. That error belongs to no request: the Conn must not fail
// the caller that happens to be reading.
func TestKernelDumpRecvEINVAL(t *testing.T) {
	ns, c := kernelConn(t)
	nd := netdevClient(t, c)
	ns.AddVeths(t, "ei", 50)
	sub, err := nd.Subscribe(ctxT(t), netdev.GroupMgmt) // receives go through recvmmsg
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var wg sync.WaitGroup
	var recvErrs, other, ops atomic.Int64
	deadline := time.Now().Add(3 * time.Second)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				var err error
				if g%4 == 2 {
					_, err = countDump(context.Background(), nd)
				} else {
					_, err = nd.DevGet(context.Background(), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)})
				}
				ops.Add(1)
				switch {
				case err == nil:
				case isSpuriousRecvEINVAL(err):
					recvErrs.Add(1)
				default:
					other.Add(1)
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	reliabilityLine(t, "ops", ops.Load(), "spurious_recv_einval", recvErrs.Load(), "stats_recv_errors", st.RecvErrors, "stats_socket_errors", st.SocketErrors)
	if recvErrs.Load() > 0 {
		t.Errorf("%d of %d calls failed with a receive EINVAL that belongs to no request", recvErrs.Load(), ops.Load())
	}
}

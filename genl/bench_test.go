package genl_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/testutils"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The benchmarks talk to nlctrl (family id 0x10) in the caller's network
// namespace: reading the controller changes nothing.

func getFamilyRequest() genl.Request {
	return genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1, Attrs: familyNameAttr("nlctrl"), ExpectReply: true}
}

// familyID decodes CTRL_ATTR_FAMILY_ID from a GETFAMILY reply payload.
func familyID(data []byte) uint16 {
	var d attrs.Decoder
	d.Reset(data)
	var id uint16
	for d.Next() {
		if d.Type() == unix.CTRL_ATTR_FAMILY_ID {
			id = d.U16()
		}
	}
	return id
}

// walk visits every attribute, descending into nests; it returns a count so
// the work is not optimised away. It allocates nothing.
func walk(b []byte) int {
	var d attrs.Decoder
	d.Reset(b)
	return walkDec(d)
}

func walkDec(d attrs.Decoder) int {
	n := 0
	for d.Next() {
		n++
		if d.Attr().Nested() {
			n += walkDec(d.Nested())
		} else {
			n += d.Len()
		}
	}
	return n
}

func needKernel(b testing.TB) {
	testutils.RequireKernel(b)
}

func BenchmarkGetFamily(b *testing.B) {
	needKernel(b)
	b.Run("genlkit", func(b *testing.B) {
		c, err := genl.Dial()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		req := getFamilyRequest()
		ctx := context.Background()
		var id uint16
		fn := func(m genl.Message) error { id = familyID(m.Data); return nil }
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for range b.N {
			if err := c.Do(ctx, req, fn); err != nil {
				b.Fatal(err)
			}
			if id != unix.GENL_ID_CTRL {
				b.Fatalf("id %d", id)
			}
		}
	})
	b.Run("mdlayher", func(b *testing.B) {
		c, err := genetlink.Dial(nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		m := genetlink.Message{Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1}, Data: familyNameAttr("nlctrl")}
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for range b.N {
			msgs, err := c.Execute(m, unix.GENL_ID_CTRL, netlink.Request)
			if err != nil {
				b.Fatal(err)
			}
			if len(msgs) != 1 || familyID(msgs[0].Data) != unix.GENL_ID_CTRL {
				b.Fatal("bad reply")
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		benchRawLoop(b, func(fd int, req, buf []byte) (int, error) {
			if _, err := unix.Write(fd, req); err != nil {
				return 0, err
			}
			return unix.Read(fd, buf)
		})
	})
}

// benchRawLoop runs b.N GETFAMILY round trips on a raw socket with one
// reused buffer; exchange sends req and reads the reply into buf.
func benchRawLoop(b *testing.B, exchange func(fd int, req, buf []byte) (int, error)) {
	fd := rawSocket(b)
	req := rawRequest(unix.CTRL_CMD_GETFAMILY, unix.NLM_F_REQUEST, familyNameAttr("nlctrl"))
	buf := make([]byte, 32<<10)
	b.ReportAllocs()
	testutils.ResetTimersCPU(b)
	for i := range b.N {
		binary.NativeEndian.PutUint32(req[8:], uint32(i+1))
		n, err := exchange(fd, req, buf)
		if err != nil {
			b.Fatal(err)
		}
		if n < 20 || binary.NativeEndian.Uint16(buf[4:]) != unix.GENL_ID_CTRL || familyID(buf[20:n]) != unix.GENL_ID_CTRL {
			b.Fatal("bad reply")
		}
	}
}

func rawSocket(b testing.TB) int {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		b.Fatal(err)
	}
	return fd
}

// rawRequest builds an nlctrl request (version 1) with sequence number 0.
func rawRequest(cmd uint8, flags netlink.HeaderFlags, attrs []byte) []byte {
	return genltest.GenlMsg(unix.GENL_ID_CTRL, flags, 0, 0, cmd, 1, attrs)
}

func BenchmarkGetFamilyParallel(b *testing.B) {
	needKernel(b)
	b.Run("genlkit", func(b *testing.B) {
		c, err := genl.Dial()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		req := getFamilyRequest()
		b.ReportAllocs()
		b.SetParallelism(8 / max(1, runtimeGOMAXPROCS()))
		testutils.ResetTimersCPU(b)
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			var id uint16
			fn := func(m genl.Message) error { id = familyID(m.Data); return nil }
			for pb.Next() {
				if err := c.Do(ctx, req, fn); err != nil {
					b.Error(err)
					return
				}
				if id != unix.GENL_ID_CTRL {
					b.Errorf("id %d", id)
					return
				}
			}
		})
		b.StopTimer()
		if st := c.Stats(); st.Sends > 0 {
			// Coalescing: requests per sendmsg.
			b.ReportMetric(float64(st.Requests)/float64(st.Sends), "req/send")
		}
	})
	b.Run("mdlayher", func(b *testing.B) {
		c, err := genetlink.Dial(nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		m := genetlink.Message{Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1}, Data: familyNameAttr("nlctrl")}
		b.ReportAllocs()
		b.SetParallelism(8 / max(1, runtimeGOMAXPROCS()))
		testutils.ResetTimersCPU(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				msgs, err := c.Execute(m, unix.GENL_ID_CTRL, netlink.Request)
				if err != nil {
					b.Error(err)
					return
				}
				if len(msgs) != 1 || familyID(msgs[0].Data) != unix.GENL_ID_CTRL {
					b.Error("bad reply")
					return
				}
			}
		})
	})
}

// BenchmarkGetFamilyTail runs 100 goroutines on one Conn and reports the
// latency of their requests at percentiles (p50-ns … max-ns): many callers
// must not starve any one of them.
func BenchmarkGetFamilyTail(b *testing.B) {
	needKernel(b)
	c, err := genl.Dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := getFamilyRequest()
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(100 / max(1, runtimeGOMAXPROCS()))
	testutils.ResetTimersCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		var lat []time.Duration
		for pb.Next() {
			start := time.Now()
			if err := c.Do(ctx, req, nil); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(start))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	for _, q := range []struct {
		name string
		p    float64
	}{{"p50", 0.5}, {"p99", 0.99}, {"p99.9", 0.999}, {"p99.99", 0.9999}, {"max", 1}} {
		b.ReportMetric(float64(all[int(q.p*float64(len(all)-1))]), q.name+"-ns")
	}
}

func BenchmarkDumpFamilies(b *testing.B) {
	needKernel(b)
	b.Run("genlkit", func(b *testing.B) {
		c, err := genl.Dial()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		req := genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1}
		ctx := context.Background()
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for range b.N {
			n, msgs := 0, 0
			for m, err := range c.Dump(ctx, req) {
				if err != nil {
					b.Fatal(err)
				}
				n += walk(m.Data)
				msgs++
			}
			if msgs < 3 || n == 0 {
				b.Fatalf("%d messages", msgs)
			}
		}
	})
	b.Run("mdlayher", func(b *testing.B) {
		c, err := genetlink.Dial(nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		m := genetlink.Message{Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1}}
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for range b.N {
			msgs, err := c.Execute(m, unix.GENL_ID_CTRL, netlink.Request|netlink.Dump)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, m := range msgs {
				n += walk(m.Data)
			}
			if len(msgs) < 3 || n == 0 {
				b.Fatalf("%d messages", len(msgs))
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		fd := rawSocket(b)
		req := rawRequest(unix.CTRL_CMD_GETFAMILY, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, nil)
		buf := make([]byte, 32<<10)
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for i := range b.N {
			binary.NativeEndian.PutUint32(req[8:], uint32(i+1))
			if _, err := unix.Write(fd, req); err != nil {
				b.Fatal(err)
			}
			n, msgs := 0, 0
		recv:
			for {
				r, err := unix.Read(fd, buf)
				if err != nil {
					b.Fatal(err)
				}
				p := buf[:r]
				for len(p) >= 16 {
					l := int(binary.NativeEndian.Uint32(p))
					if l < 16 || l > len(p) {
						b.Fatal("bad message")
					}
					switch binary.NativeEndian.Uint16(p[4:]) {
					case unix.NLMSG_DONE:
						break recv
					case unix.NLMSG_ERROR:
						b.Fatal("error")
					}
					n += walk(p[20:l])
					msgs++
					p = p[min((l+3)&^3, len(p)):]
				}
			}
			if msgs < 3 || n == 0 {
				b.Fatalf("%d messages", msgs)
			}
		}
	})
}

func runtimeGOMAXPROCS() int { return runtime.GOMAXPROCS(0) }

// BenchmarkGetFamilyRawNoSched is the raw loop with both system calls made
// as RawSyscall, which skips the Go scheduler's syscall bookkeeping
// (entersyscall/exitsyscall, and sysmon taking the P of a goroutine that
// stays in system calls). It shows where the raw Go loop's gap to the C
// loop comes from; a library cannot send so, since a genl handler may
// sleep and a raw system call keeps its P (and a stop-the-world) waiting.
func BenchmarkGetFamilyRawNoSched(b *testing.B) {
	needKernel(b)
	benchRawLoop(b, func(fd int, req, buf []byte) (int, error) {
		if _, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&req[0])), uintptr(len(req)), 0, 0, 0); e != 0 {
			return 0, e
		}
		n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	})
}

// BenchmarkGetFamilyRawC runs the raw C loop in testdata/rawc for b.N round
// trips and reports its own ns/op, so that it sits in the same run as the
// Go benchmarks. It skips when gcc is missing.
func BenchmarkGetFamilyRawC(b *testing.B) {
	needKernel(b)
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		b.Skip("gcc not found")
	}
	bin := filepath.Join(b.TempDir(), "getfamily")
	if out, err := exec.Command(gcc, "-O2", "-o", bin, "testdata/rawc/getfamily.c").CombinedOutput(); err != nil {
		b.Fatalf("gcc: %v: %s", err, out)
	}
	b.ResetTimer()
	out, err := exec.Command(bin, strconv.Itoa(b.N)).Output()
	if err != nil {
		b.Fatal(err)
	}
	var n int
	var ns, cpu float64
	if _, err := fmt.Sscan(string(out), &n, &ns, &cpu); err != nil || n != b.N {
		b.Fatalf("output %q: %v", out, err)
	}
	b.ReportMetric(ns, "ns/op")
	b.ReportMetric(cpu, "cpu-ns/op")
}

// BenchmarkGetFamilyAck is GetFamily with NLM_F_ACK on every request (Do
// without ExpectReply): the kernel builds and queues an ACK after each reply,
// and the raw loop reads both.
func BenchmarkGetFamilyAck(b *testing.B) {
	needKernel(b)
	b.Run("genlkit", func(b *testing.B) {
		c, err := genl.Dial()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		req := getFamilyRequest()
		req.ExpectReply = false
		ctx := context.Background()
		var id uint16
		fn := func(m genl.Message) error { id = familyID(m.Data); return nil }
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for range b.N {
			if err := c.Do(ctx, req, fn); err != nil {
				b.Fatal(err)
			}
			if id != unix.GENL_ID_CTRL {
				b.Fatalf("id %d", id)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		fd := rawSocket(b)
		if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1); err != nil {
			b.Fatal(err)
		}
		req := rawRequest(unix.CTRL_CMD_GETFAMILY, unix.NLM_F_REQUEST|unix.NLM_F_ACK, familyNameAttr("nlctrl"))
		buf := make([]byte, 32<<10)
		b.ReportAllocs()
		testutils.ResetTimersCPU(b)
		for i := range b.N {
			binary.NativeEndian.PutUint32(req[8:], uint32(i+1))
			if _, err := unix.Write(fd, req); err != nil {
				b.Fatal(err)
			}
			n, err := unix.Read(fd, buf)
			if err != nil || n < 20 || familyID(buf[20:n]) != unix.GENL_ID_CTRL {
				b.Fatal("bad reply", err)
			}
			if n, err := unix.Read(fd, buf); err != nil || n < 20 || binary.NativeEndian.Uint16(buf[4:]) != unix.NLMSG_ERROR {
				b.Fatal("bad ack", err)
			}
		}
	})
}

// BenchmarkGetFamilyRawBatch8 is the floor for coalescing: one goroutine, no
// library, 8 GETFAMILY requests per sendmsg and their replies collected with
// recvmmsg. ns/op is per request.
func BenchmarkGetFamilyRawBatch8(b *testing.B) {
	needKernel(b)
	fd := rawSocket(b)
	one := rawRequest(unix.CTRL_CMD_GETFAMILY, unix.NLM_F_REQUEST, familyNameAttr("nlctrl"))
	for len(one)%4 != 0 {
		one = append(one, 0)
	}
	var req []byte
	for range 8 {
		req = append(req, one...)
	}
	buf := make([]byte, 8*32<<10)
	var hdrs [8]unix.Mmsghdr
	var iovs [8]unix.Iovec
	for i := range 8 {
		iovs[i].Base = &buf[i*32<<10]
		iovs[i].SetLen(32 << 10)
		hdrs[i].Hdr.Iov = &iovs[i]
		hdrs[i].Hdr.Iovlen = 1
	}
	b.ReportAllocs()
	testutils.ResetTimersCPU(b)
	for i := 0; i < b.N; i += 8 {
		if _, err := unix.Write(fd, req); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < 8; {
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(8-got), 0, 0, 0)
			if e != 0 {
				b.Fatal(e)
			}
			got += int(r)
		}
	}
}

// BenchmarkSyscallFloor measures what one system call costs on this machine,
// the floor under every figure above: a call that does nothing (getpid),
// and the calls a Conn or a subscriber makes when they find nothing to do
// on a netlink socket (a receive of one datagram, of four with sender and
// control buffers, as a subscriber asks, and a zero-timeout epoll wait, as
// the Go scheduler makes before it sleeps). Each is a raw, non-blocking
// system call in a loop.
func BenchmarkSyscallFloor(b *testing.B) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		b.Skipf("netlink socket: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 32<<10)
	var hdrs [4]struct {
		Hdr unix.Msghdr
		Len uint32
		_   [4]byte
	}
	var iovs [4]unix.Iovec
	var names [4]unix.RawSockaddrNetlink
	var cmsgs [4][64]byte
	for i := range hdrs {
		iovs[i].Base = &buf[0]
		iovs[i].SetLen(len(buf))
		h := &hdrs[i].Hdr
		h.Iov = &iovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&names[i]))
		h.Namelen = unix.SizeofSockaddrNetlink
		h.Control = &cmsgs[i][0]
		h.SetControllen(len(cmsgs[i]))
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(ep)
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(fd)}); err != nil {
		b.Fatal(err)
	}
	var evs [128]unix.EpollEvent
	cases := []struct {
		name string
		call func() unix.Errno
		want unix.Errno // what the call must return: it did nothing
	}{
		{"getpid", func() unix.Errno {
			_, _, e := unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0)
			return e
		}, 0},
		{"recvfrom-empty", func() unix.Errno {
			_, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), unix.MSG_DONTWAIT, 0, 0)
			return e
		}, unix.EAGAIN},
		{"recvmmsg4-empty", func() unix.Errno {
			_, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), unix.MSG_DONTWAIT, 0, 0)
			return e
		}, unix.EAGAIN},
		{"epoll-wait-zero", func() unix.Errno {
			_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
			return e
		}, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if e := c.call(); e != c.want {
					b.Fatalf("%s: %v, want %v", c.name, e, c.want)
				}
			}
		})
	}
}

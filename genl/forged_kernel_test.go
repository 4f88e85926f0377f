package genl_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/testutils"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// forger is a second NETLINK_GENERIC socket in a namespace, sending
// forged messages to a Conn's port id and to multicast groups. A forged
// unicast must never reach a caller: the kernel refuses it (the Conn's
// socket is connected to the kernel, so the forger's sendto fails with
// ECONNREFUSED) or the Conn discards it, counted in Stats.Spoofed.
type forger struct {
	t       *testing.T
	fd      int
	famID   uint16
	dst     *unix.SockaddrNetlink
	evil    []byte
	sent    int // unicast datagrams the socket accepted
	refused int // unicast datagrams the kernel refused (ECONNREFUSED)
	mcast   int // multicast datagrams the socket accepted
	eagain  int
}

func newForger(t *testing.T, ns *testutils.NS, c *genl.Conn, famID uint16) *forger {
	t.Helper()
	f := &forger{t: t, famID: famID, dst: &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: c.PortID()}}
	if err := ns.Run(func() error {
		var err error
		f.fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
		if err != nil {
			return err
		}
		return unix.Bind(f.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(f.fd) })
	var evil attrs.Encoder
	evil.U32(netdevADevIfindex, 666)
	f.evil = evil.Bytes()
	return f
}

// send sends one datagram; with dontwait it may find the Conn's receive
// queue full (EAGAIN) and report false.
func (f *forger) send(to *unix.SockaddrNetlink, dontwait bool, msgs ...[]byte) bool {
	flags := 0
	if dontwait {
		flags = unix.MSG_DONTWAIT
	}
	if err := unix.Sendto(f.fd, joinMsgs(msgs...), flags, to); err != nil {
		if errors.Is(err, unix.EAGAIN) {
			f.eagain++
			return false
		}
		if to.Groups == 0 && errors.Is(err, unix.ECONNREFUSED) {
			f.refused++
			return false
		}
		f.t.Errorf("forger sendto: %v", err)
		return false
	}
	if to.Groups != 0 {
		f.mcast++
	} else {
		f.sent++
	}
	return true
}

// forge sends, for sequence number seq, a dev-get reply for a device
// nobody asked about, an EPERM error with an extack, or a part and a DONE.
func (f *forger) forge(seq uint32, dontwait bool) bool {
	r := genltest.Request{Header: netlink.Header{Type: netlink.HeaderType(f.famID), Sequence: seq, PID: f.dst.Pid},
		Raw: make([]byte, 16)}
	r.Genl.Version = 1
	binary.NativeEndian.PutUint16(r.Raw[4:], f.famID)
	switch seq % 3 {
	case 0:
		return f.send(f.dst, dontwait, genltest.Reply(r, netdevCmdDevGet, f.evil))
	case 1:
		return f.send(f.dst, dontwait, genltest.Error(r, unix.EPERM, &genltest.Extack{Msg: "forged"}))
	default:
		return f.send(f.dst, dontwait, genltest.ReplyMulti(r, netdevCmdDevGet, f.evil, 0), genltest.Done(r, 0, 0, nil))
	}
}

// TestKernelForgedUnicast has a second NETLINK_GENERIC socket in the
// namespace forge replies, errors, DONEs and notifications to the Conn's
// port id, and notifications to its group, while requests run: no forged
// datagram reaches a caller or the subscription (the kernel refuses a
// forged unicast, the Conn drops and counts whatever is delivered), and
// each request still gets its own answer. The forger is paced so that it
// never fills the Conn's receive buffer (see TestKernelForgedFlood for
// what happens when it does).
func TestKernelForgedUnicast(t *testing.T) {
	ns, c := kernelConn(t)
	nd := netdevClient(t, c)
	veths := ns.AddVeths(t, "fu", 4)
	sub, err := nd.Subscribe(ctxT(t), netdev.GroupMgmt)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	grp := sub.Groups()[0]
	f := newForger(t, ns, c, nd.Family().ID)

	// Requests with checked answers run until the forger is done.
	stop := make(chan struct{})
	var reqs, dumps atomic.Int64
	var wg sync.WaitGroup
	reqErr := make(chan error, 4)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if g == 0 && i%4 == 0 {
					n, err := countDump(ctxT(t), nd)
					if err != nil || n != 2*len(veths)+len(ns.Initial) {
						reqErr <- fmt.Errorf("dump: %d devices, %v", n, err)
						return
					}
					dumps.Add(1)
					continue
				}
				v := veths[(g+i)%len(veths)]
				dev, err := nd.DevGet(ctxT(t), &netdev.DevGetRequest{Ifindex: netdev.Some(uint32(v.Index))})
				if err != nil || dev.Ifindex.Value != uint32(v.Index) {
					reqErr <- fmt.Errorf("dev-get %d: %+v %v", v.Index, dev, err)
					return
				}
				reqs.Add(1)
			}
		}()
	}

	start := time.Now()
	for seq := uint32(1); seq <= 3000; seq++ {
		f.forge(seq, false)
		if seq%100 == 0 {
			ntf := genltest.GenlMsg(f.famID, 0, 0, 0, netdevCmdDevAddNtf, 1, f.evil)
			f.send(f.dst, false, ntf)
			if grp <= 32 {
				f.send(&unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (grp - 1)}, false, ntf)
			}
		}
		if seq%32 == 0 {
			// Pace: wait until the Conn has read what was sent.
			for deadline := time.Now().Add(5 * time.Second); c.Stats().Spoofed < uint64(f.sent+f.mcast) && time.Now().Before(deadline); {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	forgeTook := time.Since(start)
	close(stop)
	wg.Wait()
	close(reqErr)
	for err := range reqErr {
		t.Error(err)
	}
	// One more request: everything forged before it has been read by then.
	if _, err := nd.DevGet(ctxT(t), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)}); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Spoofed != uint64(f.sent+f.mcast) {
		t.Errorf("spoofed %d, forged %d unicast + %d multicast delivered", st.Spoofed, f.sent, f.mcast)
	}
	if f.sent+f.refused < 3000 {
		t.Errorf("forged unicast: %d delivered + %d refused, want 3000+", f.sent, f.refused)
	}
	if st.Stale != 0 || st.LostReplies != 0 || st.Overruns != 0 {
		t.Errorf("stats %+v", st)
	}
	// Nothing forged reached the subscription.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for n, err := range sub.All(ctx) {
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Error(err)
			}
			break
		}
		t.Errorf("forged notification delivered: %#v", n)
	}
	if reqs.Load() == 0 {
		t.Error("no request ran during the forgery")
	}
	reliabilityLine(t, "forged_unicast", f.sent, "refused_unicast", f.refused, "forged_multicast", f.mcast, "spoofed_counted", st.Spoofed,
		"requests_ok", reqs.Load(), "dumps_ok", dumps.Load(), "mismatches", 0, "overruns", st.Overruns,
		"forge_took", forgeTook.Round(time.Millisecond))
}

// TestKernelForgedFlood lets the forger flood without pacing: unicast to
// the Conn's port, which the kernel refuses, and multicast to a group the
// Conn joined, which it delivers. A privileged local process that fills
// the Conn's receive buffer so makes the kernel drop the replies it sends
// meanwhile (ENOBUFS): that cannot be prevented, but every request must
// end promptly, with its reply or with ErrOverrun, never hang and never
// take a forged answer.
// nlctrlGroupNotify is nlctrl's multicast group "notify", which has a
// fixed id (GENL_ID_CTRL).
const nlctrlGroupNotify = unix.GENL_ID_CTRL

func TestKernelForgedFlood(t *testing.T) {
	ns, c := kernelConn(t)
	nd := netdevClient(t, c)
	veths := ns.AddVeths(t, "ff", 4)
	f := newForger(t, ns, c, nd.Family().ID)
	if err := c.JoinGroup(nlctrlGroupNotify); err != nil {
		t.Fatal(err)
	}
	mcast := &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (nlctrlGroupNotify - 1)}
	stop := make(chan struct{})
	var ok, lost atomic.Int64
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := veths[(g+i)%len(veths)]
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				dev, err := nd.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some(uint32(v.Index))})
				cancel()
				switch {
				case errors.Is(err, genl.ErrOverrun), errors.Is(err, unix.EAGAIN):
					// The reply was lost to the flood: our receive
					// queue overran, or was full when the kernel
					// sent the reply, and the kernel answered EAGAIN.
					lost.Add(1)
				case err != nil || dev.Ifindex.Value != uint32(v.Index):
					t.Errorf("dev-get %d: %+v %v", v.Index, dev, err)
					return
				default:
					ok.Add(1)
				}
			}
		}()
	}
	for seq := uint32(1); seq <= 5000; seq++ {
		f.forge(seq, false)
		f.send(mcast, false, genltest.GenlMsg(f.famID, 0, seq, 0, netdevCmdDevAddNtf, 1, f.evil))
	}
	close(stop)
	wg.Wait()
	st := c.Stats()
	if st.Spoofed > uint64(f.sent+f.mcast) {
		t.Errorf("spoofed %d, forged %d unicast + %d multicast delivered", st.Spoofed, f.sent, f.mcast)
	}
	reliabilityLine(t, "forged_unicast", f.sent, "refused_unicast", f.refused, "forged_multicast", f.mcast, "spoofed_counted", st.Spoofed, "requests_ok", ok.Load(),
		"requests_lost_overrun", lost.Load(), "overruns", st.Overruns, "lost_replies", st.LostReplies)
}

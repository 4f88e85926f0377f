package genetlink_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl/genetlink"
	"github.com/genlkit/genlkit/genl/genltest"
	mgenetlink "github.com/mdlayher/genetlink"
	mgenltest "github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The tests below are written the way wgctrl, mdlayher/ethtool and
// taskstats write theirs: a genltest.Func answers the requests, wrapped in
// genltest.ServeFamily and genltest.CheckRequest. They run on genlkit's
// fake kernel through genltest.Func and drive the drop-in Conn.

var testFamily = mgenetlink.Family{ID: 0x1c, Version: 1, Name: "testfam",
	Groups: []mgenetlink.MulticastGroup{{ID: 7, Name: "events"}}}

const (
	cmdGet  = 1
	cmdSet  = 2
	attrIdx = 1
)

// dial returns a drop-in Conn whose requests fn answers.
func dial(t *testing.T, fn mgenltest.Func) (*genltest.Kernel, *genetlink.Conn) {
	t.Helper()
	k := genltest.New()
	k.Handle(genltest.Func(mgenltest.ServeFamily(testFamily, fn)))
	gc, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	c := genetlink.NewConn(gc)
	t.Cleanup(func() { c.Close() })
	return k, c
}

func idx(i uint32) []byte {
	ae := netlink.NewAttributeEncoder()
	ae.Uint32(attrIdx, i)
	b, _ := ae.Encode()
	return b
}

func readIdx(t *testing.T, m mgenetlink.Message) uint32 {
	t.Helper()
	ad, err := netlink.NewAttributeDecoder(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	var v uint32
	for ad.Next() {
		if ad.Type() == attrIdx {
			v = ad.Uint32()
		}
	}
	return v
}

func TestGetFamily(t *testing.T) {
	_, c := dial(t, nil)
	f, err := c.GetFamily("testfam")
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != testFamily.ID || f.Version != 1 || f.Name != "testfam" || len(f.Groups) != 1 || f.Groups[0] != testFamily.Groups[0] {
		t.Fatalf("GetFamily = %+v, want %+v", f, testFamily)
	}
	_, err = c.GetFamily("other")
	if err == nil {
		t.Fatal("GetFamily of a family ServeFamily does not serve succeeded")
	}
}

func TestExecute(t *testing.T) {
	_, c := dial(t, func(greq mgenetlink.Message, nreq netlink.Message) ([]mgenetlink.Message, error) {
		switch {
		case greq.Header.Command == cmdGet && nreq.Header.Flags&netlink.Dump == netlink.Dump:
			return []mgenetlink.Message{
				{Header: mgenetlink.Header{Command: cmdGet, Version: 1}, Data: idx(1)},
				{Header: mgenetlink.Header{Command: cmdGet, Version: 1}, Data: idx(2)},
				{Header: mgenetlink.Header{Command: cmdGet, Version: 1}, Data: idx(3)},
			}, nil
		case greq.Header.Command == cmdGet:
			ad, _ := netlink.NewAttributeDecoder(greq.Data)
			for ad.Next() {
				if ad.Type() == attrIdx && ad.Uint32() == 404 {
					return nil, mgenltest.Error(int(unix.ENODEV))
				}
			}
			return []mgenetlink.Message{{Header: mgenetlink.Header{Command: cmdGet, Version: 1}, Data: greq.Data}}, nil
		}
		return nil, mgenltest.Error(int(unix.EOPNOTSUPP))
	})
	f, err := c.GetFamily("testfam")
	if err != nil {
		t.Fatal(err)
	}
	get := mgenetlink.Message{Header: mgenetlink.Header{Command: cmdGet, Version: f.Version}}

	msgs, err := c.Execute(get, f.ID, netlink.Request|netlink.Dump)
	if err != nil || len(msgs) != 3 || readIdx(t, msgs[2]) != 3 {
		t.Fatalf("dump: %v, %v", msgs, err)
	}

	get.Data = idx(5)
	msgs, err = c.Execute(get, f.ID, netlink.Request)
	if err != nil || len(msgs) != 1 || readIdx(t, msgs[0]) != 5 {
		t.Fatalf("do: %v, %v", msgs, err)
	}
	// With an ACK as well: the reply alone comes back, and the ACK does
	// not disturb the next call.
	msgs, err = c.Execute(get, f.ID, netlink.Request|netlink.Acknowledge)
	if err != nil || len(msgs) != 1 || readIdx(t, msgs[0]) != 5 {
		t.Fatalf("do with ACK: %v, %v", msgs, err)
	}

	get.Data = idx(404)
	_, err = c.Execute(get, f.ID, netlink.Request)
	var oe *netlink.OpError
	if !errors.As(err, &oe) || oe.Op != "receive" || oe.Err != unix.ENODEV || !errors.Is(err, unix.ENODEV) {
		t.Fatalf("kernel error: %#v", err)
	}
	if _, ok := err.(*netlink.OpError); !ok {
		t.Fatalf("kernel error is a %T, want *netlink.OpError", err)
	}

	_, err = c.Execute(mgenetlink.Message{Header: mgenetlink.Header{Command: cmdSet}}, f.ID, netlink.Request|netlink.Acknowledge)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("EOPNOTSUPP does not match errors.ErrUnsupported: %v", err)
	}
}

func TestExecuteAck(t *testing.T) {
	_, c := dial(t, mgenltest.CheckRequest(testFamily.ID, cmdSet, netlink.Request|netlink.Acknowledge,
		func(greq mgenetlink.Message, nreq netlink.Message) ([]mgenetlink.Message, error) {
			return nil, nil
		}))
	msgs, err := c.Execute(mgenetlink.Message{Header: mgenetlink.Header{Command: cmdSet, Version: 1}}, testFamily.ID,
		netlink.Request|netlink.Acknowledge)
	if err != nil {
		t.Fatal(err)
	}
	// genetlink returns the ACK: error code 0 as the generic header, then
	// the request's netlink header.
	if len(msgs) != 1 || msgs[0].Header != (mgenetlink.Header{}) || len(msgs[0].Data) != 16 ||
		binary.NativeEndian.Uint16(msgs[0].Data[4:6]) != testFamily.ID {
		t.Fatalf("ACK = %+v", msgs)
	}
	// CheckRequest's verdict reaches the caller.
	_, err = c.Execute(mgenetlink.Message{Header: mgenetlink.Header{Command: cmdGet, Version: 1}}, testFamily.ID,
		netlink.Request|netlink.Acknowledge)
	var oe *netlink.OpError
	if !errors.As(err, &oe) || oe.Err != unix.EINVAL || oe.Message == "" {
		t.Fatalf("failed CheckRequest: %v", err)
	}
	t.Log(err)
}

func TestSendReceive(t *testing.T) {
	_, c := dial(t, func(greq mgenetlink.Message, nreq netlink.Message) ([]mgenetlink.Message, error) {
		return []mgenetlink.Message{{Header: greq.Header, Data: idx(9)}, {Header: greq.Header, Data: idx(10)}}, nil
	})
	req, err := c.Send(mgenetlink.Message{Header: mgenetlink.Header{Command: cmdGet, Version: 1}}, testFamily.ID,
		netlink.Request|netlink.Dump)
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Sequence == 0 || req.Header.PID != 4242 || req.Header.Flags != netlink.Request|netlink.Dump {
		t.Fatalf("Send returned header %+v", req.Header)
	}
	msgs, nmsgs, err := c.Receive()
	if err != nil || len(msgs) != 2 || len(nmsgs) != 2 {
		t.Fatalf("Receive: %v, %v, %v", msgs, nmsgs, err)
	}
	if err := netlink.Validate(req, nmsgs); err != nil {
		t.Fatal(err)
	}
	if readIdx(t, msgs[1]) != 10 {
		t.Fatalf("second part %v", msgs[1])
	}
}

func TestGroups(t *testing.T) {
	k, c := dial(t, nil)
	if err := c.JoinGroup(7); err != nil {
		t.Fatal(err)
	}
	k.PushGroup(7, genltest.Notification(testFamily.ID, 5, idx(77)))
	k.PushGroup(8, genltest.Notification(testFamily.ID, 5, idx(88))) // not joined
	k.PushGroup(7, genltest.Notification(testFamily.ID, 6, idx(78)))
	for _, want := range []uint32{77, 78} {
		msgs, nmsgs, err := c.Receive()
		if err != nil || len(msgs) != 1 || readIdx(t, msgs[0]) != want || nmsgs[0].Header.Sequence != 0 {
			t.Fatalf("Receive: %v, %v, %v; want %d", msgs, nmsgs, err, want)
		}
	}
	if err := c.LeaveGroup(7); err != nil {
		t.Fatal(err)
	}
	if g := k.Groups(); len(g) != 0 {
		t.Fatalf("groups after LeaveGroup: %v", g)
	}
}

func TestDeadlinesAndClose(t *testing.T) {
	_, c := dial(t, nil)
	// A deadline set while Receive waits ends it.
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.Receive()
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	var oe *netlink.OpError
	if !errors.As(err, &oe) || !oe.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive past the deadline: %v", err)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Close ends a blocked Receive.
	go func() {
		_, _, err := c.Receive()
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Receive after Close: %v", err)
	}
	if _, err := c.GetFamily("testfam"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("GetFamily after Close: %v", err)
	}
	if _, err := c.Send(mgenetlink.Message{}, testFamily.ID, netlink.Request); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if _, err := c.Execute(mgenetlink.Message{}, testFamily.ID, netlink.Request); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Execute after Close: %v", err)
	}
}

func TestUnsupported(t *testing.T) {
	_, c := dial(t, nil)
	for name, err := range map[string]error{
		"SetBPF":    c.SetBPF(nil),
		"RemoveBPF": c.RemoveBPF(),
		"SetOption": c.SetOption(netlink.ExtendedAcknowledge, false),
	} {
		var oe *netlink.OpError
		if !errors.As(err, &oe) || !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.SyscallConn(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("SyscallConn on the fake kernel: %v", err)
	}
}

// TestConcurrent runs Executes from many goroutines at once on one Conn,
// with Send and Receive beside them: every caller gets its own answer.
func TestConcurrent(t *testing.T) {
	_, c := dial(t, func(greq mgenetlink.Message, nreq netlink.Message) ([]mgenetlink.Message, error) {
		return []mgenetlink.Message{{Header: greq.Header, Data: greq.Data}}, nil
	})
	errc := make(chan error, 16)
	for g := range uint32(16) {
		go func() {
			for i := range uint32(200) {
				want := g<<16 | i
				msgs, err := c.Execute(mgenetlink.Message{Header: mgenetlink.Header{Command: cmdGet, Version: 1}, Data: idx(want)},
					testFamily.ID, netlink.Request|netlink.Acknowledge)
				if err == nil && (len(msgs) != 1 || readIdx(t, msgs[0]) != want) {
					err = errors.New("wrong answer")
				}
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 3 {
		if _, err := c.Send(mgenetlink.Message{Header: mgenetlink.Header{Command: cmdGet, Version: 1}, Data: idx(1)},
			testFamily.ID, netlink.Request); err != nil {
			t.Fatal(err)
		}
		if msgs, _, err := c.Receive(); err != nil || len(msgs) != 1 || readIdx(t, msgs[0]) != 1 {
			t.Fatalf("Receive beside Executes: %v, %v", msgs, err)
		}
	}
	for range 16 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// TestDumpInterrupted: a dump the kernel marks interrupted runs again, and
// when it stays interrupted its result comes back without error, as
// genetlink returns it.
func TestDumpInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interrupted int // how many attempts the kernel marks
		attempts    int
	}{{"once", 1, 2}, {"always", 100, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			k := genltest.New()
			n := 0
			k.Handle(func(k *genltest.Kernel, r genltest.Request) {
				n++
				var intr netlink.HeaderFlags
				if n <= tc.interrupted {
					intr = netlink.DumpInterrupted
				}
				k.Push(genltest.ReplyMulti(r, 1, idx(uint32(n)), intr), genltest.Done(r, 0, intr, nil))
			})
			gc, err := k.Dial()
			if err != nil {
				t.Fatal(err)
			}
			c := genetlink.NewConn(gc)
			defer c.Close()
			msgs, err := c.Execute(mgenetlink.Message{Header: mgenetlink.Header{Command: 1, Version: 1}}, 0x20,
				netlink.Request|netlink.Dump)
			if err != nil || len(msgs) != 1 || readIdx(t, msgs[0]) != uint32(tc.attempts) || n != tc.attempts {
				t.Fatalf("Execute: %v, %v after %d attempts, want %d", msgs, err, n, tc.attempts)
			}
		})
	}
}

// requester is the part of genetlink.Conn's method set that mdlayher's
// own fake (genltest.Dial) supports.
type requester interface {
	GetFamily(name string) (mgenetlink.Family, error)
	Execute(m mgenetlink.Message, family uint16, flags netlink.HeaderFlags) ([]mgenetlink.Message, error)
	Send(m mgenetlink.Message, family uint16, flags netlink.HeaderFlags) (netlink.Message, error)
	Receive() ([]mgenetlink.Message, []netlink.Message, error)
	Close() error
}

// TestSameAsGenltest runs one scenario, written against genetlink.Conn,
// on mdlayher's genltest.Dial and on the drop-in over genlkit's fake
// kernel with the same handler, and compares what the scenario sees.
func TestSameAsGenltest(t *testing.T) {
	handler := mgenltest.ServeFamily(testFamily, func(greq mgenetlink.Message, nreq netlink.Message) ([]mgenetlink.Message, error) {
		if greq.Header.Command == cmdSet {
			return nil, mgenltest.Error(int(unix.EPERM))
		}
		n := 1
		if nreq.Header.Flags&netlink.Dump == netlink.Dump {
			n = 3
		}
		var out []mgenetlink.Message
		for i := range n {
			out = append(out, mgenetlink.Message{Header: mgenetlink.Header{Command: cmdGet, Version: 1}, Data: idx(uint32(10 + i))})
		}
		return out, nil
	})
	scenario := func(c requester) []string {
		var log []string
		logf := func(format string, a ...any) { log = append(log, fmt.Sprintf(format, a...)) }
		f, err := c.GetFamily("testfam")
		logf("family %+v %v", f, err)
		get := mgenetlink.Message{Header: mgenetlink.Header{Command: cmdGet, Version: 1}}
		for _, flags := range []netlink.HeaderFlags{netlink.Request, netlink.Request | netlink.Dump} {
			msgs, err := c.Execute(get, f.ID, flags)
			logf("execute %v: %d %v", flags, len(msgs), err)
			for _, m := range msgs {
				logf("  %+v %x", m.Header, m.Data)
			}
		}
		_, err = c.Execute(mgenetlink.Message{Header: mgenetlink.Header{Command: cmdSet, Version: 1}}, f.ID, netlink.Request|netlink.Acknowledge)
		logf("execute error: %s", opErr(err))
		req, err := c.Send(get, f.ID, netlink.Request|netlink.Dump)
		logf("send: %v %v %x", req.Header.Flags, err, req.Data)
		msgs, nmsgs, err := c.Receive()
		logf("receive: %d %d %v %v", len(msgs), len(nmsgs), err, netlink.Validate(req, nmsgs))
		logf("close: %v", c.Close())
		return log
	}
	want := scenario(mgenltest.Dial(handler))
	k := genltest.New()
	k.Handle(genltest.Func(handler))
	gc, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	got := scenario(genetlink.NewConn(gc))
	t.Logf("%d lines:\n%s", len(want), strings.Join(want, "\n"))
	if len(got) != len(want) {
		t.Fatalf("scenario logs differ in length:\n%q\n%q", want, got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mdlayher genltest: %s\n     genlkit fake: %s", want[i], got[i])
		}
	}
}

// opErr prints the fields of a *netlink.OpError callers look at.
func opErr(err error) string {
	oe, ok := err.(*netlink.OpError)
	if !ok {
		return fmt.Sprintf("%T %v", err, err)
	}
	return fmt.Sprintf("op=%s err=%v message=%q offset=%d", oe.Op, oe.Err, oe.Message, oe.Offset)
}

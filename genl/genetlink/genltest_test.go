package genetlink_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/genl/genetlink"
	"github.com/genlkit/genlkit/genl/genltest"
	mgenetlink "github.com/mdlayher/genetlink"
	mgenltest "github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

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

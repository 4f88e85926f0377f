package genl_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func TestDoReplyAndAck(t *testing.T) {
	k, c := fake(t)
	k.Handle(echo)
	var got []byte
	n := 0
	err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 3, Version: 2, Attrs: u32Attrs(1, 42)}, func(m genl.Message) error {
		n++
		if m.Header.Command != 3 || m.Header.Version != 2 || m.Netlink.Type != fam {
			t.Errorf("bad headers %+v", m)
		}
		got = slices.Clone(m.Data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || !bytes.Equal(got, u32Attrs(1, 42)) {
		t.Fatalf("got %d replies, data %x", n, got)
	}
	r := k.Requests()[0]
	if want := netlink.Request | netlink.Acknowledge; r.Header.Flags != want {
		t.Errorf("flags %v, want %v", r.Header.Flags, want)
	}
	if r.Header.Sequence == 0 || r.Header.PID != k.PortID() {
		t.Errorf("header %+v", r.Header)
	}
	// The socket is in step: a second call works too.
	if err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: 4}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Stale != 0 || st.Requests != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestExpectReply(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.Push(genltest.Reply(r, 1, nil)) // no ACK: none was asked for
	})
	n := 0
	err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 1, ExpectReply: true}, func(genl.Message) error { n++; return nil })
	if err != nil || n != 1 {
		t.Fatalf("err %v, %d replies", err, n)
	}
	if f := k.Requests()[0].Header.Flags; f&netlink.Acknowledge != 0 {
		t.Errorf("NLM_F_ACK set with ExpectReply: %v", f)
	}
}

func TestDoMultipartReply(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.Push(genltest.ReplyMulti(r, 1, u32Attrs(1, 1), 0), genltest.ReplyMulti(r, 1, u32Attrs(1, 2), 0))
		k.Push(genltest.Done(r, 0, 0, nil))
		k.Push(genltest.Ack(r))
	})
	var vals []uint32
	err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 1}, func(m genl.Message) error {
		d := attrs.NewDecoder(m.Data)
		for d.Next() {
			vals = append(vals, d.U32())
		}
		return d.Err()
	})
	if err != nil || !slices.Equal(vals, []uint32{1, 2}) {
		t.Fatalf("err %v vals %v", err, vals)
	}
}

func TestCallbackError(t *testing.T) {
	k, c := fake(t)
	k.Handle(echo)
	boom := errors.New("boom")
	if err := c.Do(ctxT(t), genl.Request{Family: fam}, func(genl.Message) error { return boom }); err != boom {
		t.Fatalf("got %v", err)
	}
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
}

func TestBatch(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		if r.Genl.Command == 2 {
			k.Push(genltest.Error(r, unix.EINVAL, &genltest.Extack{Msg: "no"}))
			return
		}
		echo(k, r)
	})
	reqs := []genl.Request{
		{Family: fam, Command: 1, Attrs: u32Attrs(1, 10)},
		{Family: fam, Command: 2, Attrs: u32Attrs(1, 20)},
		{Family: fam, Command: 3, Attrs: u32Attrs(1, 30)},
	}
	got := map[int][]byte{}
	err := c.Batch(ctxT(t), reqs, func(i int, m genl.Message) error {
		got[i] = slices.Clone(m.Data)
		return nil
	})
	var be *genl.BatchError
	if !errors.As(err, &be) || len(be.Errs) != 3 || be.Errs[0] != nil || be.Errs[2] != nil || !errors.Is(be.Errs[1], unix.EINVAL) {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(err, unix.EINVAL) {
		t.Error("errors.Is does not see through BatchError")
	}
	if len(got) != 2 || !bytes.Equal(got[0], reqs[0].Attrs) || !bytes.Equal(got[2], reqs[2].Attrs) {
		t.Fatalf("replies %v", got)
	}
	if sent := k.Sent(); len(sent) != 1 {
		t.Fatalf("%d datagrams sent, want 1", len(sent))
	}
	if err := c.Batch(ctxT(t), reqs[:1], nil); err != nil {
		t.Fatal(err)
	}
}

func TestExecute(t *testing.T) {
	k, c := fake(t)
	k.Handle(dumpHandler(parts(3), func(r genltest.Request) []byte { return genltest.Done(r, 0, 0, nil) }))
	m := genetlink.Message{Header: genetlink.Header{Command: 4, Version: 1}, Data: u32Attrs(1, 9)}
	msgs, err := c.Execute(ctxT(t), m, fam, netlink.Request)
	if err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0].Data, m.Data) || msgs[0].Message.Header.Command != 4 {
		t.Fatalf("do: %v %+v", err, msgs)
	}
	msgs, err = c.Execute(ctxT(t), m, fam, netlink.Request|netlink.Dump)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("dump: %v %d", err, len(msgs))
	}
}

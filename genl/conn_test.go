package genl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/testutils"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testutils.Main(m) }

const fam = 0x20

func fake(t *testing.T, opts ...genl.Option) (*genltest.Kernel, *genl.Conn) {
	t.Helper()
	k := genltest.New()
	c, err := k.Dial(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return k, c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func u32Attrs(typ uint16, v uint32) []byte {
	var enc attrs.Encoder
	enc.U32(typ, v)
	return enc.Bytes()
}

// echo answers every request with its own payload, then an ACK.
func echo(k *genltest.Kernel, r genltest.Request) {
	if r.Header.Type < 0x10 {
		k.Push(genltest.Ack(r))
		return
	}
	k.Push(genltest.Reply(r, r.Genl.Command, r.Data))
	k.Push(genltest.Ack(r))
}

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

// names is an AttrNamer for a family whose attribute 1 is a nest "header"
// holding "dev-index" (1) and "dev-name" (2).
func names(parents []uint16, typ uint16) string {
	switch {
	case len(parents) == 0 && typ == 1:
		return "header"
	case len(parents) == 1 && parents[0] == 1 && typ == 1:
		return "dev-index"
	case len(parents) == 1 && parents[0] == 1 && typ == 2:
		return "dev-name"
	}
	return ""
}

func nestedReq() []byte {
	var enc attrs.Encoder
	enc.U8(5, 1) // offset 20
	n := enc.Nest(1)
	enc.String(2, "eth0")
	enc.U32(1, 99)
	enc.End(n)
	return enc.Bytes()
}

func TestErrorExtack(t *testing.T) {
	// Request layout: 16 nlmsghdr + 4 genlmsghdr; attribute 5 at 20 (8
	// bytes), nest 1 at 28, its "dev-name" at 32 (12 bytes), "dev-index"
	// at 44.
	var pol attrs.Encoder
	pol.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_U32)
	pol.U64(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 10)
	for _, capped := range []bool{true, false} {
		t.Run(fmt.Sprint("capped=", capped), func(t *testing.T) {
			k, c := fake(t)
			ext := &genltest.Extack{Msg: "no such device", Offset: 44, Cookie: []byte{1, 2}, Policy: pol.Bytes()}
			k.Handle(func(k *genltest.Kernel, r genltest.Request) {
				if capped {
					k.Push(genltest.Error(r, unix.ENODEV, ext))
				} else {
					k.Push(genltest.ErrorFull(r, unix.ENODEV, ext))
				}
			})
			err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 7, Attrs: nestedReq(), Names: names}, nil)
			if !errors.Is(err, unix.ENODEV) {
				t.Fatalf("got %v, want ENODEV", err)
			}
			var e *genl.Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is not *genl.Error", err)
			}
			if e.Message != "no such device" || e.Offset != 44 || e.Path != "header.dev-index" ||
				!slices.Equal(e.AttrTypes, []uint16{1, 1}) || !bytes.Equal(e.Cookie, []byte{1, 2}) ||
				e.Family != fam || e.Command != 7 || e.Op != "do" {
				t.Errorf("error fields %+v", e)
			}
			if e.Policy == nil || e.Policy.Type != unix.NL_ATTR_TYPE_U32 || e.Policy.MaxValueU != 10 ||
				!e.Policy.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U) || e.Policy.Has(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH) {
				t.Errorf("policy %+v", e.Policy)
			}
			t.Log(err)
		})
	}
}

func TestErrorPaths(t *testing.T) {
	cases := []struct {
		name  string
		ext   genltest.Extack
		names genl.AttrNamer
		path  string
		miss  string
	}{
		{"numbers", genltest.Extack{Offset: 32}, nil, "1.2", ""},
		{"top", genltest.Extack{Offset: 20}, names, "5", ""},
		{"nest", genltest.Extack{Offset: 28}, names, "header", ""},
		{"inside payload", genltest.Extack{Offset: 46}, names, "header.dev-index", ""},
		{"fixed header", genltest.Extack{Offset: 16}, nil, "genlmsghdr", ""},
		{"out of range", genltest.Extack{Offset: 4000}, nil, "", ""},
		{"missing top", genltest.Extack{MissType: 3}, names, "", "3"},
		{"missing in nest", genltest.Extack{MissType: 1, MissNest: 28}, names, "", "header.dev-index"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, c := fake(t)
			k.Handle(func(k *genltest.Kernel, r genltest.Request) {
				k.Push(genltest.Error(r, unix.EINVAL, &tc.ext))
			})
			err := c.Do(ctxT(t), genl.Request{Family: fam, Attrs: nestedReq(), Names: tc.names}, nil)
			var e *genl.Error
			if !errors.As(err, &e) || !errors.Is(err, unix.EINVAL) {
				t.Fatalf("got %v", err)
			}
			if e.Path != tc.path || e.MissingPath != tc.miss {
				t.Errorf("path %q missing %q, want %q %q (%v)", e.Path, e.MissingPath, tc.path, tc.miss, err)
			}
		})
	}
	t.Run("family header", func(t *testing.T) {
		k, c := fake(t)
		k.Handle(func(k *genltest.Kernel, r genltest.Request) {
			k.Push(genltest.Error(r, unix.EINVAL, &genltest.Extack{Offset: 22}))
		})
		err := c.Do(ctxT(t), genl.Request{Family: fam, Header: []byte{1, 2, 3, 4}, Attrs: nestedReq()}, nil)
		var e *genl.Error
		if !errors.As(err, &e) || e.Path != "header" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestErrorPermission(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) { k.Push(genltest.Error(r, unix.EPERM, nil)) })
	err := c.Do(ctxT(t), genl.Request{Family: fam}, nil)
	if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, unix.EPERM) {
		t.Fatalf("got %v", err)
	}
}

func TestWarning(t *testing.T) {
	var connWarn []*genl.Error
	k, c := fake(t, genl.WithWarningHandler(func(e *genl.Error) { connWarn = append(connWarn, e) }))
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.Push(genltest.Error(r, 0, &genltest.Extack{Msg: "deprecated attribute", Offset: 20}))
	})
	var reqWarn *genl.Error
	err := c.Do(ctxT(t), genl.Request{Family: fam, Attrs: nestedReq(), OnWarning: func(e *genl.Error) { reqWarn = e }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reqWarn == nil || !reqWarn.Warning || reqWarn.Message != "deprecated attribute" || reqWarn.Path != "5" {
		t.Fatalf("warning %+v", reqWarn)
	}
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	if len(connWarn) != 1 || c.Stats().Warnings != 2 {
		t.Fatalf("conn warnings %v, stats %+v", connWarn, c.Stats())
	}
}

func dumpHandler(parts [][]byte, end func(r genltest.Request) []byte) genltest.Handler {
	return func(k *genltest.Kernel, r genltest.Request) {
		if r.Header.Flags&netlink.Dump != netlink.Dump {
			echo(k, r)
			return
		}
		var msgs [][]byte
		for _, p := range parts {
			msgs = append(msgs, genltest.ReplyMulti(r, 1, p, 0))
		}
		k.Push(msgs[:len(msgs)/2]...)
		k.Push(msgs[len(msgs)/2:]...)
		k.Push(end(r))
	}
}

func collect(t *testing.T, c *genl.Conn, req genl.Request) ([]uint32, error) {
	t.Helper()
	var vals []uint32
	for m, err := range c.Dump(ctxT(t), req) {
		if err != nil {
			return vals, err
		}
		d := attrs.NewDecoder(m.Data)
		for d.Next() {
			vals = append(vals, d.U32())
		}
	}
	return vals, nil
}

func parts(n int) [][]byte {
	var p [][]byte
	for i := range n {
		p = append(p, u32Attrs(1, uint32(i)))
	}
	return p
}

func TestDump(t *testing.T) {
	done := func(r genltest.Request) []byte { return genltest.Done(r, 0, 0, nil) }
	k, c := fake(t)
	k.Handle(dumpHandler(parts(5), done))
	vals, err := collect(t, c, genl.Request{Family: fam, Command: 1})
	if err != nil || !slices.Equal(vals, []uint32{0, 1, 2, 3, 4}) {
		t.Fatalf("err %v vals %v", err, vals)
	}
	f := k.Requests()[0].Header.Flags
	if f&netlink.Dump != netlink.Dump || f&netlink.Acknowledge != 0 {
		t.Errorf("dump flags %v", f)
	}
	// Do-requests still work after it.
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Dumps != 1 || st.Stale != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestDumpEndings(t *testing.T) {
	cases := []struct {
		name string
		end  func(r genltest.Request) []byte
		want error
		msg  string
	}{
		{"done without multi or payload", func(r genltest.Request) []byte {
			return genltest.Msg(unix.NLMSG_DONE, 0, r.Header.Sequence, r.Header.PID, nil)
		}, nil, ""},
		{"done with error and extack", func(r genltest.Request) []byte {
			return genltest.Done(r, unix.EINVAL, 0, &genltest.Extack{Msg: "bad filter"})
		}, unix.EINVAL, "bad filter"},
		{"error mid-dump", func(r genltest.Request) []byte { return genltest.Error(r, unix.EIO, nil) }, unix.EIO, ""},
		{"interrupted", func(r genltest.Request) []byte { return genltest.Done(r, 0, netlink.DumpInterrupted, nil) }, genl.ErrDumpInterrupted, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, c := fake(t)
			k.Handle(dumpHandler(parts(4), tc.end))
			vals, err := collect(t, c, genl.Request{Family: fam})
			if len(vals) != 4 {
				t.Errorf("got %d parts before the end, want 4", len(vals))
			}
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var e *genl.Error
			if tc.msg != "" && (!errors.As(err, &e) || e.Message != tc.msg) {
				t.Errorf("extack of %v", err)
			}
			if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDumpInterruptedFlagOnPart(t *testing.T) {
	k, c := fake(t)
	attempts := 0
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		attempts++
		var fl netlink.HeaderFlags
		if attempts == 1 {
			fl = netlink.DumpInterrupted
		}
		k.Push(genltest.ReplyMulti(r, 1, u32Attrs(1, 1), fl), genltest.ReplyMulti(r, 1, u32Attrs(1, 2), 0))
		k.Push(genltest.Done(r, 0, 0, nil))
	})
	msgs, err := c.DumpAll(ctxT(t), genl.Request{Family: fam}, 0)
	if !errors.Is(err, genl.ErrDumpInterrupted) || len(msgs) != 2 {
		t.Fatalf("first: %d messages, %v", len(msgs), err)
	}
	attempts = 0
	msgs, err = c.DumpAll(ctxT(t), genl.Request{Family: fam}, 3)
	if err != nil || len(msgs) != 2 || attempts != 2 {
		t.Fatalf("retry: %d messages after %d attempts, %v", len(msgs), attempts, err)
	}
}

func TestDumpEarlyBreak(t *testing.T) {
	k, c := fake(t)
	var first genltest.Request
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		if r.Header.Flags&netlink.Dump != netlink.Dump {
			echo(k, r)
			return
		}
		if first.Raw == nil {
			first = r // the rest of this dump comes later
			k.Push(genltest.ReplyMulti(r, 1, u32Attrs(1, 1), 0), genltest.ReplyMulti(r, 1, u32Attrs(1, 2), 0))
			return
		}
		k.Push(genltest.ReplyMulti(r, 1, u32Attrs(1, 7), 0))
		k.Push(genltest.Done(r, 0, 0, nil))
	})
	for _, err := range c.Dump(ctxT(t), genl.Request{Family: fam}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	// Do-requests interleave with the abandoned dump.
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	// The next dump waits for the first to end, without sending (the kernel
	// would answer EBUSY).
	res := make(chan error, 1)
	var vals []uint32
	go func() {
		var err error
		vals, err = collect(t, c, genl.Request{Family: fam})
		res <- err
	}()
	time.Sleep(50 * time.Millisecond)
	dumps := 0
	for _, r := range k.Requests() {
		if r.Header.Flags&netlink.Dump == netlink.Dump {
			dumps++
		}
	}
	if dumps != 1 {
		t.Fatalf("second dump sent while the first was running (%d dumps sent)", dumps)
	}
	k.Push(genltest.ReplyMulti(first, 1, u32Attrs(1, 3), 0))
	k.Push(genltest.Done(first, 0, 0, nil))
	if err := <-res; err != nil || !slices.Equal(vals, []uint32{7}) {
		t.Fatalf("second dump: %v %v", vals, err)
	}
	if st := c.Stats(); st.Discarded != 3 || st.Stale != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestDumpPartsAmongOtherMessages sends a dump's parts in one datagram
// with messages that are not the dump's between them (a late reply, a
// unicast message of another family, a reply of another family under the
// dump's sequence number, a reply too short for a generic netlink
// header): the parts come out in order, the others are counted where they
// belong, and the short one fails the dump once its parts are out.
func TestDumpPartsAmongOtherMessages(t *testing.T) {
	k, c := fake(t)
	short := false
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		if r.Header.Flags&netlink.Dump != netlink.Dump {
			echo(k, r)
			return
		}
		part := func(v uint32) []byte { return genltest.ReplyMulti(r, 1, u32Attrs(1, v), 0) }
		msgs := [][]byte{
			part(1),
			genltest.GenlMsg(fam, netlink.Multi, r.Header.Sequence+100, r.Header.PID, 1, 1, u32Attrs(1, 99)), // stale
			part(2), part(3),
			genltest.Notification(fam+1, 1, u32Attrs(1, 98)),                                               // unrouted
			genltest.GenlMsg(fam+1, netlink.Multi, r.Header.Sequence, r.Header.PID, 1, 1, u32Attrs(1, 97)), // malformed
			part(4),
		}
		if short {
			msgs = append(msgs, genltest.Msg(fam, netlink.Multi, r.Header.Sequence, r.Header.PID, []byte{1}), part(5))
		}
		k.Push(append(msgs, genltest.Done(r, 0, 0, nil))...)
	})
	vals, err := collect(t, c, genl.Request{Family: fam})
	if err != nil || !slices.Equal(vals, []uint32{1, 2, 3, 4}) {
		t.Fatalf("got %v, %v; want parts 1 to 4", vals, err)
	}
	if st := c.Stats(); st.Stale != 1 || st.Unrouted != 1 || st.Malformed != 1 || st.Discarded != 0 {
		t.Errorf("stats %+v", st)
	}
	short = true
	vals, err = collect(t, c, genl.Request{Family: fam})
	if !errors.Is(err, genl.ErrMalformed) || !slices.Equal(vals, []uint32{1, 2, 3, 4, 5}) {
		t.Fatalf("with a short reply: got %v, %v; want parts 1 to 5, then ErrMalformed", vals, err)
	}
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
}

func TestSpoofedDropped(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.PushFrom(1234, 0, genltest.Reply(r, 1, u32Attrs(1, 666)), genltest.Ack(r))
		k.Push(genltest.Reply(r, 1, u32Attrs(1, 1)))
		k.Push(genltest.Ack(r))
	})
	var got []byte
	if err := c.Do(ctxT(t), genl.Request{Family: fam}, func(m genl.Message) error { got = slices.Clone(m.Data); return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, u32Attrs(1, 1)) || c.Stats().Spoofed != 1 {
		t.Fatalf("got %x, stats %+v", got, c.Stats())
	}
}

func TestReorderedReplies(t *testing.T) {
	k, c := fake(t)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			want := u32Attrs(1, uint32(i))
			err := c.Do(ctxT(t), genl.Request{Family: fam, Attrs: want}, func(m genl.Message) error {
				if !bytes.Equal(m.Data, want) {
					return fmt.Errorf("request %d got %x", i, m.Data)
				}
				return nil
			})
			errs <- err
		}()
	}
	var reqs []genltest.Request
	for range n {
		r, err := k.NextRequest(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	// Answer in reverse order, replies and ACKs in separate datagrams.
	for i := n - 1; i >= 0; i-- {
		k.Push(genltest.Reply(reqs[i], 1, reqs[i].Data))
	}
	for i := n - 1; i >= 0; i-- {
		k.Push(genltest.Ack(reqs[i]))
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestDuplicateAndStale(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.Push(genltest.Reply(r, 1, nil), genltest.Ack(r), genltest.Ack(r))
	})
	for range 2 {
		if err := c.Do(ctxT(t), genl.Request{Family: fam}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Stale != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTruncated(t *testing.T) {
	k, c := fake(t)
	big := make([]byte, 40<<10)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		if r.Genl.Command == 1 {
			k.Push(genltest.Reply(r, 1, big))
		} else {
			k.Push(genltest.Reply(r, 1, nil))
		}
		k.Push(genltest.Ack(r))
	})
	err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 1}, nil)
	if !errors.Is(err, genl.ErrTruncated) {
		t.Fatalf("got %v", err)
	}
	if err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 2}, nil); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Truncated != 1 || st.Stale != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMalformed(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.PushRaw(0, 0, []byte{1, 2, 3})                                      // shorter than a header
		k.PushRaw(0, 0, genltest.Msg(fam, 0, r.Header.Sequence, 0, nil)[:12]) // cut header
		bad := genltest.Msg(fam, 0, r.Header.Sequence, 0, make([]byte, 8))    // length past the end
		bad[0] = 200
		k.PushRaw(0, 0, bad)
		k.Push(genltest.Msg(fam, 0, r.Header.Sequence, r.Header.PID, []byte{1})) // no genl header
		k.Push(genltest.Reply(r, 1, nil))
		k.Push(genltest.Ack(r))
	})
	n := 0
	err := c.Do(ctxT(t), genl.Request{Family: fam}, func(genl.Message) error { n++; return nil })
	if !errors.Is(err, genl.ErrMalformed) || n != 1 {
		t.Fatalf("err %v, %d replies", err, n)
	}
	if st := c.Stats(); st.Malformed < 4 {
		t.Fatalf("stats %+v", st)
	}
}

// holdLeader starts an ACK request with command cmd, which the test's
// kernel handler leaves unanswered (telling the fake with AnswerLater), so
// that its caller leads the Conn until release answers it and checks that
// it succeeded.
func holdLeader(t *testing.T, k *genltest.Kernel, c *genl.Conn, cmd uint8) (release func()) {
	t.Helper()
	lead := make(chan error, 1)
	go func() { lead <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: cmd}) }()
	first, err := k.NextRequest(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		k.Push(genltest.Ack(first))
		if err := <-lead; err != nil {
			t.Error(err)
		}
	}
}

// TestSenderNotHeld checks that a caller who finds nobody sending, and
// sends, is not kept sending the requests other callers queue meanwhile:
// with 20 goroutines keeping the queue full for 1.5 s, every request
// completes within half a second.
func TestSenderNotHeld(t *testing.T) {
	const cmdLead, cmdLoad = 1, 2
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		if r.Genl.Command == cmdLead {
			k.AnswerLater(r) // unanswered until the end: its caller stays the leader
			return
		}
		time.Sleep(50 * time.Microsecond) // a slow handler inside sendmsg
		echo(k, r)
	})
	release := holdLeader(t, k, c, cmdLead)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	until := time.Now().Add(1500 * time.Millisecond)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(until) {
				start := time.Now()
				if err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: cmdLoad}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				slowest = max(slowest, time.Since(start))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	release()
	t.Logf("slowest request: %v", slowest)
	if slowest > 500*time.Millisecond {
		t.Errorf("slowest request took %v", slowest)
	}
}

// TestFlushStopWakesLeader: a sender that stops after maxFlushTime leaves
// the rest of the queue to the leader. When nothing it sent will be
// answered (requests that promised replies their commands never send), the
// leader, blocked in the kernel, must still be woken to send the rest.
func TestFlushStopWakesLeader(t *testing.T) {
	const cmdLead, cmdSilent, cmdEcho = 1, 2, 3
	k, c := fake(t)
	waitRequests := func(n uint64) {
		for c.Stats().Requests < n {
			time.Sleep(100 * time.Microsecond)
		}
	}
	silentSent := make(chan struct{}, 2)
	silent := 0
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		switch r.Genl.Command {
		case cmdSilent:
			silent++
			silentSent <- struct{}{}
			// The first silent request's sendmsg lasts until the second
			// is queued; the second's until the echo request is queued,
			// and past maxFlushTime.
			waitRequests(uint64(2 + silent))
			if silent == 2 {
				time.Sleep(3 * time.Millisecond)
			}
		case cmdEcho:
			echo(k, r)
		case cmdLead:
			k.AnswerLater(r) // answered by release
		}
	})
	release := holdLeader(t, k, c, cmdLead)
	waitRequests(1)
	// The leader is blocked in the kernel: nothing is queued for it.
	time.Sleep(10 * time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	silentDone := make(chan error, 2)
	for range 2 {
		go func() {
			silentDone <- c.Do(ctx, genl.Request{Family: fam, Command: cmdSilent, ExpectReply: true}, nil)
		}()
		<-silentSent
	}
	// Queued while the second silent request is in sendmsg: the sender
	// stops after it, by time, and leaves this one queued.
	echoDone := make(chan error, 1)
	go func() { echoDone <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: cmdEcho}) }()
	select {
	case err := <-echoDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a request queued when the sender stopped was never sent")
	}
	cancel()
	for range 2 {
		if err := <-silentDone; !errors.Is(err, context.Canceled) {
			t.Errorf("silent request: %v", err)
		}
	}
	release()
}

func TestCancel(t *testing.T) {
	k, c := fake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Do(ctx, genl.Request{Family: fam}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
	late := k.Requests()[0]
	k.Push(genltest.Reply(late, 1, nil), genltest.Ack(late))
	k.Handle(echo)
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Stale != 2 {
		t.Errorf("stats %+v", st)
	}

	// A follower (not the leader) cancelled while another call leads.
	k.Handle(nil)
	lead := make(chan error, 1)
	go func() { lead <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: 9}) }()
	r1, _ := k.NextRequest(ctxT(t))
	_ = r1
	r1, _ = k.NextRequest(ctxT(t)) // skip the echo-era requests
	for r1.Genl.Command != 9 {
		r1, _ = k.NextRequest(ctxT(t))
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	f := make(chan error, 1)
	go func() { f <- c.Ack(ctx2, genl.Request{Family: fam, Command: 10}) }()
	time.Sleep(10 * time.Millisecond)
	cancel2()
	if err := <-f; !errors.Is(err, context.Canceled) {
		t.Fatalf("follower got %v", err)
	}
	k.Push(genltest.Ack(r1))
	if err := <-lead; err != nil {
		t.Fatal(err)
	}
}

func TestClose(t *testing.T) {
	k, c := fake(t)
	sub, err := c.Subscribe(3)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	go func() { errs <- c.Ack(context.Background(), genl.Request{Family: fam}) }()
	go func() { _, err := sub.Next(context.Background()); errs <- err }()
	go func() {
		for _, err := range c.Dump(context.Background(), genl.Request{Family: fam}) {
			errs <- err
			return
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case err := <-errs:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("got %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock a call")
		}
	}
	if err := c.Ack(context.Background(), genl.Request{Family: fam}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if !k.Closed() || c.Close() != nil {
		t.Error("transport not closed, or second Close failed")
	}
}

func TestSubscribe(t *testing.T) {
	k, c := fake(t)
	sub, err := c.Subscribe(7, 40)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(k.Groups(), []uint32{7, 40}) {
		t.Fatalf("groups %v", k.Groups())
	}
	// A request in flight whose sequence number a multicast message reuses
	// (as genl_notify does): the notification goes to the subscription.
	done := make(chan error, 1)
	go func() { done <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: 1}) }()
	r, _ := k.NextRequest(ctxT(t))
	echoNtf := genltest.GenlMsg(fam, 0, r.Header.Sequence, r.Header.PID, 5, 1, u32Attrs(1, 5))
	k.PushGroup(40, echoNtf)
	k.PushGroup(7, genltest.Notification(fam, 6, u32Attrs(1, 6)))
	k.Push(genltest.Notification(fam, 8, nil)) // unicast, sequence 0
	k.Push(genltest.Ack(r))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		group uint32
		cmd   uint8
	}{{40, 5}, {7, 6}, {0, 8}} {
		m, err := sub.Next(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if m.Group != want.group || m.Header.Command != want.cmd {
			t.Errorf("got group %d cmd %d, want %+v", m.Group, m.Header.Command, want)
		}
	}
	// Another group, not subscribed (a datagram queued before the group was
	// left, say): counted, not delivered.
	k.PushRaw(0, 9, genltest.Notification(fam, 9, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := sub.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if st := c.Stats(); st.Unrouted != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if len(k.Groups()) != 0 {
		t.Fatalf("groups after Close: %v", k.Groups())
	}
	if _, err := sub.Next(ctxT(t)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
}

func TestOverrun(t *testing.T) {
	k, c := fake(t)
	sub, err := c.Subscribe(7)
	if err != nil {
		t.Fatal(err)
	}
	k.PushGroup(7, genltest.Notification(fam, 1, nil))
	// A request whose reply the overrun "lost": it must fail, not hang.
	lost := make(chan error, 1)
	go func() { lost <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: 1}) }()
	if _, err := k.NextRequest(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	k.Overrun()
	if err := <-lost; !errors.Is(err, genl.ErrOverrun) || !errors.Is(err, unix.ENOBUFS) || !errors.Is(err, genl.ErrOutcomeUnknown) {
		t.Fatalf("lost request: %v", err)
	}
	k.PushGroup(7, genltest.Notification(fam, 2, nil))
	var cmds []uint8
	overruns := 0
	for m, err := range sub.All(ctxT(t)) {
		var oe *genl.OverrunError
		if errors.As(err, &oe) {
			overruns++
			if oe.Overruns != 1 {
				t.Errorf("overrun count %d", oe.Overruns)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, m.Header.Command)
		if len(cmds) == 2 {
			break
		}
	}
	if overruns != 1 || !slices.Equal(cmds, []uint8{1, 2}) {
		t.Fatalf("overruns %d, cmds %v", overruns, cmds)
	}
	if st := c.Stats(); st.Overruns != 1 || st.LostReplies != 1 {
		t.Errorf("stats %+v", st)
	}
	// The Conn still works.
	k.Handle(echo)
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionQueueLimit(t *testing.T) {
	k, c := fake(t, genl.WithSubscriptionLimit(1))
	sub, err := c.Subscribe(7)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 20<<10)
	for range 5 {
		k.PushGroup(7, genltest.Notification(fam, 1, big))
	}
	k.Handle(echo)
	// A request makes the Conn read all five while sub is not reading.
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	got, dropped := 0, uint64(0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for _, err := range sub.All(ctx) {
		var oe *genl.OverrunError
		switch {
		case errors.As(err, &oe):
			dropped += oe.Dropped
		case err != nil:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
		default:
			got++
		}
	}
	if got+int(dropped) != 5 || dropped == 0 || c.Stats().SubDrops != dropped {
		t.Fatalf("got %d, dropped %d, stats %+v", got, dropped, c.Stats())
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

func TestSendError(t *testing.T) {
	k, c := fake(t)
	k.FailSends(unix.EMSGSIZE)
	err := c.Ack(ctxT(t), genl.Request{Family: fam})
	if !errors.Is(err, unix.EMSGSIZE) {
		t.Fatalf("got %v", err)
	}
	k.FailSends(nil)
	k.Handle(echo)
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.SendErrors != 1 {
		t.Errorf("stats %+v", st)
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

// TestConcurrentFake runs many goroutines of do-requests on one Conn; every
// request must see exactly its own reply before its ACK. The slow kernel
// yields inside sendmsg between the reply and the ACK, so that callers
// sending requests for others meet replies routed to them by the leader.
func TestConcurrentFake(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler genltest.Handler
	}{
		{"echo", echo},
		{"slow", func(k *genltest.Kernel, r genltest.Request) {
			k.Push(genltest.Reply(r, r.Genl.Command, r.Data))
			runtime.Gosched()
			k.Push(genltest.Ack(r))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, c := fake(t)
			k.Handle(tc.handler)
			const G, N = 50, 200
			var wg sync.WaitGroup
			for g := range G {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range N {
						want := u32Attrs(uint16(g+1), uint32(i))
						replies := 0
						err := c.Do(context.Background(), genl.Request{Family: fam, Attrs: want}, func(m genl.Message) error {
							replies++
							if !bytes.Equal(m.Data, want) {
								return fmt.Errorf("goroutine %d request %d got %x", g, i, m.Data)
							}
							return nil
						})
						if err == nil && replies != 1 {
							err = fmt.Errorf("goroutine %d request %d: %d replies before the ACK, want 1", g, i, replies)
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if st := c.Stats(); st.Requests != G*N || st.Stale != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

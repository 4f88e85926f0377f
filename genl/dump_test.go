package genl_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

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

package genl_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// Fake-kernel tests of what only the fake can time exactly: a Subscription
// closed under a blocked Next, a send failing for a caller another
// goroutine sent for, an overrun mark after a notification whose last bytes
// look like one, and requests whose context ended before they were sent.

// waitFor polls cond every millisecond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// closeWakesNext blocks next (a subscription's Next) on another goroutine,
// calls closeSub (its Close) and returns how long after Close began next
// returned net.ErrClosed.
func closeWakesNext(t *testing.T, c *genl.Conn, next func(context.Context) error, closeSub func() error) time.Duration {
	t.Helper()
	got := make(chan error, 1)
	go func() { got <- next(context.Background()) }()
	time.Sleep(50 * time.Millisecond) // let Next block in the transport
	start := time.Now()
	if err := closeSub(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		took := time.Since(start)
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Next after Close: %v, want net.ErrClosed", err)
		}
		return took
	case <-time.After(3 * time.Second):
		c.Close() // unblock it so the test ends
		<-got
		t.Fatal("Next still blocked 3 s after Subscription.Close")
		return 0
	}
}

// TestSubscriptionCloseWakesNext: a subscriber alone on the Conn is the one
// reading the transport; Close from another goroutine must end its Next
// with net.ErrClosed, without any traffic arriving.
func TestSubscriptionCloseWakesNext(t *testing.T) {
	_, c := fake(t)
	sub, err := c.Subscribe(7)
	if err != nil {
		t.Fatal(err)
	}
	next := func(ctx context.Context) error { _, err := sub.Next(ctx); return err }
	t.Logf("Next returned %v after Close began", closeWakesNext(t, c, next, sub.Close))
	// The Conn is still usable for another subscription.
	if _, err := c.Subscribe(7); err != nil {
		t.Fatal(err)
	}
}

// TestSendErrorForQueuedCaller: a caller queues its request while another
// goroutine is in sendmsg; that goroutine sends it and the send fails. The
// caller, reading the Conn meanwhile, must return the send error instead
// of waiting for a reply that will never come.
func TestSendErrorForQueuedCaller(t *testing.T) {
	const cmdLead, cmdHold, cmdVictim = 1, 2, 3
	k, c := fake(t)
	entered := make(chan genltest.Request, 1)
	unblock := make(chan struct{})
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		switch r.Genl.Command {
		case cmdLead:
			k.AnswerLater(r) // answered by release
			return
		case cmdHold:
			k.AnswerLater(r)
			entered <- r
			<-unblock // its sender stays in sendmsg
			return    // answered at the end: no traffic wakes the reader
		}
		k.Push(genltest.Ack(r))
	})
	// A leader is needed for the second request to go through the send
	// queue; once it is in sendmsg, the leader finishes and leaves the
	// Conn to the victim.
	release := holdLeader(t, k, c, cmdLead)
	held := make(chan error, 1)
	go func() { held <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: cmdHold}) }()
	holdReq := <-entered
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	victim := make(chan error, 1)
	go func() { victim <- c.Ack(ctx, genl.Request{Family: fam, Command: cmdVictim}) }()
	waitFor(t, "the victim's request to queue", func() bool { return c.Stats().Requests == 3 })
	time.Sleep(10 * time.Millisecond) // let its caller start reading the Conn
	k.FailSends(unix.EIO)
	close(unblock)
	err := <-victim
	if !errors.Is(err, unix.EIO) {
		t.Fatalf("request whose send by another goroutine failed: %v, want EIO", err)
	}
	if st := c.Stats(); st.SendErrors != 1 {
		t.Errorf("SendErrors %d, want 1", st.SendErrors)
	}
	k.Push(genltest.Ack(holdReq))
	if err := <-held; err != nil {
		t.Fatalf("request that was in sendmsg: %v", err)
	}
	k.FailSends(nil)
	if err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: 4}); err != nil {
		t.Fatal(err)
	}
}

// TestOverrunMarkAfterLookalikePayload: a notification whose last
// attribute is a u64 0xffffffff ends with the bytes of an overrun mark's
// header; an overrun that follows must still be reported between it and the
// next notification.
func TestOverrunMarkAfterLookalikePayload(t *testing.T) {
	for _, v := range []uint64{0xffffffff, 0xfffffffe} {
		k, c := fake(t)
		sub, err := c.Subscribe(7)
		if err != nil {
			t.Fatal(err)
		}
		// Another caller leads the Conn, so the first notification and
		// the overrun are queued for the subscription before it reads.
		// The overrun's barrier fails that caller's unanswered request.
		lead := make(chan error, 1)
		go func() { lead <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: 9}) }()
		if _, err := k.NextRequest(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		var enc attrs.Encoder
		enc.U64(1, v)
		k.PushGroup(7, genltest.Notification(fam, 1, enc.Bytes()))
		waitFor(t, "the first notification to be read", func() bool { return k.Queued() == 0 && c.Stats().Messages >= 1 })
		k.Overrun()
		if err := <-lead; !errors.Is(err, genl.ErrOverrun) {
			t.Fatalf("request whose reply the overrun lost: %v", err)
		}
		k.PushGroup(7, genltest.Notification(fam, 2, nil))
		var seq []string
		for range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			m, err := sub.Next(ctx)
			cancel()
			var oe *genl.OverrunError
			switch {
			case errors.As(err, &oe):
				seq = append(seq, "overrun")
			case err != nil:
				seq = append(seq, err.Error())
			default:
				seq = append(seq, "ntf"+string('0'+rune(m.Header.Command)))
				if m.Header.Command == 1 {
					d := attrs.NewDecoder(m.Data)
					if !d.Next() || d.U64() != v {
						t.Errorf("notification 1 payload changed")
					}
				}
			}
		}
		if want := "[ntf1 overrun ntf2]"; fmtSlice(seq) != want {
			t.Errorf("u64 %#x then overrun: stream %v, want %s", v, seq, want)
		}
		sub.Close()
	}
}

func fmtSlice(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

// TestCancelledContextNotSent: every request entry point returns ctx.Err()
// for a context that has already ended, and sends nothing.
func TestCancelledContextNotSent(t *testing.T) {
	k, c := fake(t)
	k.Handle(echo)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	time.Sleep(time.Millisecond)
	req := genl.Request{Family: fam, Command: 1, Attrs: u32Attrs(1, 5)}
	for _, ctx := range []context.Context{cancelled, expired} {
		want := ctx.Err()
		calls := map[string]func() error{
			"Do":  func() error { return c.Do(ctx, req, nil) },
			"Ack": func() error { return c.Ack(ctx, req) },
			"Dump": func() error {
				for _, err := range c.Dump(ctx, req) {
					if err != nil {
						return err
					}
				}
				return nil
			},
			"DumpFunc": func() error { return c.DumpFunc(ctx, req, func(genl.Message) bool { return true }) },
			"DumpAll":  func() error { _, err := c.DumpAll(ctx, req, 1); return err },
			"Batch":    func() error { return c.Batch(ctx, []genl.Request{req, req}, nil) },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, want) {
				t.Errorf("%s with a done context: %v, want %v", name, err, want)
			}
		}
	}
	if sent := k.Sent(); len(sent) != 0 {
		t.Errorf("%d datagrams sent for requests whose context had ended", len(sent))
	}
	if err := c.Ack(ctxT(t), req); err != nil {
		t.Fatal(err)
	}
}

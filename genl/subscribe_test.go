package genl_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

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

package genltest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// The fake behaves like the kernel where that is plain: these tests fail
// on a fake that leaves a handler to ACK, delivers multicast to groups not
// joined, or lets requests the op table refuses reach the handler.

const testFam = 0x30

func dialT(t *testing.T, k *genltest.Kernel) (*genl.Conn, context.Context) {
	t.Helper()
	c, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c, ctx
}

// TestAutoAck: a do request that asked for an ACK gets one when the
// handler returns, after its reply (a multi-part one too); none when the
// handler already sent an ACK or an error; a dump gets none (NLMSG_DONE
// ends it).
func TestAutoAck(t *testing.T) {
	k := genltest.New()
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		switch r.Genl.Command {
		case 1: // a reply only: the fake adds the ACK
			k.Push(genltest.Reply(r, 1, nil))
		case 2: // an ACK of its own: no second one
			k.Push(genltest.Ack(r))
		case 3: // an error: no ACK after it
			k.Push(genltest.Error(r, unix.ENODEV, nil))
		case 4: // a dump
			k.Push(genltest.ReplyMulti(r, 4, nil, 0), genltest.Done(r, 0, 0, nil))
		case 5: // nothing at all: still ACKed
		case 6: // a multi-part reply: the ACK follows its NLMSG_DONE
			k.Push(genltest.ReplyMulti(r, 6, nil, 0), genltest.ReplyMulti(r, 6, nil, 0), genltest.Done(r, 0, 0, nil))
		}
	})
	c, ctx := dialT(t, k)
	replies := 0
	err := c.Do(ctx, genl.Request{Family: testFam, Command: 1}, func(genl.Message) error { replies++; return nil })
	if err != nil || replies != 1 {
		t.Errorf("reply, ACK added: %v, %d replies", err, replies)
	}
	replies = 0
	err = c.Do(ctx, genl.Request{Family: testFam, Command: 6}, func(genl.Message) error { replies++; return nil })
	if err != nil || replies != 2 {
		t.Errorf("multi-part reply, ACK added: %v, %d replies", err, replies)
	}
	for _, cmd := range []uint8{2, 5} {
		if err := c.Ack(ctx, genl.Request{Family: testFam, Command: cmd}); err != nil {
			t.Errorf("command %d: %v", cmd, err)
		}
	}
	if err := c.Ack(ctx, genl.Request{Family: testFam, Command: 3}); !errors.Is(err, unix.ENODEV) {
		t.Errorf("error: %v", err)
	}
	for _, err := range c.Dump(ctx, genl.Request{Family: testFam, Command: 4}) {
		if err != nil {
			t.Error(err)
		}
	}
	// Nothing is left over: exactly one answer per request.
	if n := k.Queued(); n != 0 {
		t.Errorf("%d datagrams left queued", n)
	}
	if st := c.Stats(); st.Stale != 0 || st.Unrouted != 0 {
		t.Errorf("stale or unrouted answers: %+v", st)
	}
}

// TestAnswerLater: a handler that answers later (from the test) tells the
// fake, which then does not ACK for it.
func TestAnswerLater(t *testing.T) {
	k := genltest.New()
	k.Handle(func(k *genltest.Kernel, r genltest.Request) { k.AnswerLater(r) })
	c, ctx := dialT(t, k)
	done := make(chan error, 1)
	go func() { done <- c.Ack(ctx, genl.Request{Family: testFam, Command: 1}) }()
	r, err := k.NextRequest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("answered before the test answered: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	k.Push(genltest.Error(r, unix.EBUSY, nil))
	if err := <-done; !errors.Is(err, unix.EBUSY) {
		t.Errorf("got %v", err)
	}
}

// TestMulticastNeedsMembership: a notification pushed before the Conn
// joins its group is dropped, not delivered once it joins; after leaving,
// the same.
func TestMulticastNeedsMembership(t *testing.T) {
	k := genltest.New()
	c, ctx := dialT(t, k)
	k.PushGroup(7, genltest.Notification(testFam, 1, nil)) // before Subscribe
	sub, err := c.Subscribe(7)
	if err != nil {
		t.Fatal(err)
	}
	k.PushGroup(8, genltest.Notification(testFam, 2, nil)) // another group
	k.PushGroup(7, genltest.Notification(testFam, 3, nil))
	m, err := sub.Next(ctx)
	if err != nil || m.Header.Command != 3 {
		t.Fatalf("first notification: command %d, %v (want 3)", m.Header.Command, err)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	k.PushGroup(7, genltest.Notification(testFam, 4, nil)) // after leaving
	if d, q := k.Dropped(), k.Queued(); d != 3 || q != 0 {
		t.Errorf("%d dropped, %d queued; want 3 and 0", d, q)
	}
}

// TestOpChecks: requests to a family the Controller holds with its ops are
// checked as genl_family_rcv_msg checks them, before the handler runs.
func TestOpChecks(t *testing.T) {
	const (
		cmdDo    = 1 // do only
		cmdDump  = 2 // dump only
		cmdAdmin = 3 // do, GENL_ADMIN_PERM
		cmdUns   = 4 // do, GENL_UNS_ADMIN_PERM
		cmdNone  = 9 // not an op
	)
	cases := []struct {
		name string
		priv genltest.Privilege
		cmd  uint8
		dump bool
		want error
	}{
		{"do", genltest.Admin, cmdDo, false, nil},
		{"dump of a do-only op", genltest.Admin, cmdDo, true, unix.EOPNOTSUPP},
		{"do of a dump-only op", genltest.Admin, cmdDump, false, unix.EOPNOTSUPP},
		{"dump", genltest.Admin, cmdDump, true, nil},
		{"unknown command", genltest.Admin, cmdNone, false, unix.EOPNOTSUPP},
		{"admin op, admin", genltest.Admin, cmdAdmin, false, nil},
		{"admin op, namespace admin", genltest.NamespaceAdmin, cmdAdmin, false, unix.EPERM},
		{"admin op, unprivileged", genltest.Unprivileged, cmdAdmin, false, unix.EPERM},
		{"uns-admin op, namespace admin", genltest.NamespaceAdmin, cmdUns, false, nil},
		{"uns-admin op, unprivileged", genltest.Unprivileged, cmdUns, false, unix.EPERM},
		{"plain op, unprivileged", genltest.Unprivileged, cmdDo, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := genltest.New(genltest.WithPrivilege(tc.priv))
			k.Controller(genltest.Family{ID: testFam, Name: "fam", Version: 1, Ops: []genltest.Op{
				{ID: cmdDo, Flags: unix.GENL_CMD_CAP_DO},
				{ID: cmdDump, Flags: unix.GENL_CMD_CAP_DUMP},
				{ID: cmdAdmin, Flags: unix.GENL_CMD_CAP_DO | unix.GENL_ADMIN_PERM},
				{ID: cmdUns, Flags: unix.GENL_CMD_CAP_DO | unix.GENL_UNS_ADMIN_PERM},
			}})
			ran := 0
			k.Handle(func(k *genltest.Kernel, r genltest.Request) {
				ran++
				if tc.dump {
					k.Push(genltest.Done(r, 0, 0, nil))
				}
			})
			c, ctx := dialT(t, k)
			req := genl.Request{Family: testFam, Command: tc.cmd}
			var err error
			if tc.dump {
				for _, e := range c.Dump(ctx, req) {
					err = e
				}
			} else {
				err = c.Ack(ctx, req)
			}
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if wantRan := tc.want == nil; (ran == 1) != wantRan {
				t.Errorf("handler ran %d times", ran)
			}
		})
	}
}

// TestFamilyHandlers: several families on one Kernel, each with its own
// handler; others go to the Handle handler.
func TestFamilyHandlers(t *testing.T) {
	k := genltest.New()
	got := map[string]uint16{}
	k.HandleFamily(0x31, func(k *genltest.Kernel, r genltest.Request) { got["a"] = uint16(r.Header.Type) })
	k.HandleFamily(0x32, func(k *genltest.Kernel, r genltest.Request) { got["b"] = uint16(r.Header.Type) })
	k.Handle(func(k *genltest.Kernel, r genltest.Request) { got["any"] = uint16(r.Header.Type) })
	c, ctx := dialT(t, k)
	for _, fam := range []uint16{0x31, 0x32, 0x33} {
		if err := c.Ack(ctx, genl.Request{Family: fam, Command: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if got["a"] != 0x31 || got["b"] != 0x32 || got["any"] != 0x33 {
		t.Errorf("handled %v", got)
	}
}

// TestControllerAdd: ids are given from 0x20 (families) and 0x40 (groups)
// up, skipping those taken.
func TestControllerAdd(t *testing.T) {
	k := genltest.New()
	ctl := k.Ctrl()
	a := ctl.Add(genltest.Family{Name: "a", Groups: []genltest.Group{{Name: "x"}, {Name: "y", ID: 0x41}}})
	b := ctl.Add(genltest.Family{Name: "b", Groups: []genltest.Group{{Name: "z"}}})
	if a.ID != 0x20 || a.Groups[0].ID != 0x40 || a.Groups[1].ID != 0x41 || b.ID != 0x21 || b.Groups[0].ID != 0x42 {
		t.Errorf("a %+v, b %+v", a, b)
	}
	if k.Ctrl() != ctl || len(ctl.Families()) != 3 {
		t.Errorf("Ctrl made another controller, or families %v", ctl.Families())
	}
}

package genl_test

import (
	"context"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// FuzzReceive feeds arbitrary datagrams to a Conn with a request and a dump
// in flight and a subscription open: whatever arrives, the Conn must not
// panic, and the request must complete once its real ACK arrives.
func FuzzReceive(f *testing.F) {
	// The first request of a fresh Conn has sequence number 1, the dump 2.
	f.Add(genltest.GenlMsg(fam, 0, 1, 4242, 1, 1, []byte{8, 0, 1, 0, 1, 0, 0, 0}), uint32(0), uint32(0))
	f.Add(genltest.GenlMsg(fam, netlink.Multi, 2, 4242, 1, 1, nil), uint32(0), uint32(0))
	f.Add(genltest.Msg(unix.NLMSG_DONE, netlink.Multi|netlink.DumpInterrupted, 2, 4242, []byte{0, 0, 0, 0}), uint32(0), uint32(0))
	f.Add(genltest.Msg(unix.NLMSG_ERROR, 0, 1, 4242, []byte{0xea, 0xff, 0xff, 0xff}), uint32(0), uint32(0))
	f.Add(genltest.Notification(fam, 3, nil), uint32(0), uint32(7))
	f.Add([]byte{200, 0, 0, 0, 1, 2}, uint32(0), uint32(0))
	f.Add(genltest.GenlMsg(fam, 0, 1, 4242, 1, 1, nil), uint32(99), uint32(0))
	f.Fuzz(func(t *testing.T, dgram []byte, port, group uint32) {
		k := genltest.New()
		c, err := k.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sub, err := c.Subscribe(7)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- c.Ack(ctx, genl.Request{Family: fam, Command: 1}) }()
		r, err := k.NextRequest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dumpDone := make(chan struct{})
		go func() {
			defer close(dumpDone)
			for range c.Dump(ctx, genl.Request{Family: fam, Command: 2}) {
			}
		}()
		d, err := k.NextRequest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k.PushRaw(port, group, dgram)
		k.Push(genltest.Ack(r))
		k.Push(genltest.Done(d, 0, 0, nil))
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("request did not complete")
		}
		<-dumpDone
		sctx, scancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer scancel()
		for range sub.All(sctx) {
		}
	})
}

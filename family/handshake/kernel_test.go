package handshake_test

import (
	"errors"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/handshake"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated handshake package against a kernel that
// registers it (the VM harness's 6.12 and 7.3 guests). A listener (what
// tlshd is) joins the tlshd group in a private namespace; with no kernel
// consumer asking for a handshake (NFS or NVMe over TLS), accept finds
// nothing to hand out and done refuses a socket it does not know, both
// with the kernel's errors. A full accept/done exchange needs such a
// consumer.

func TestMain(m *testing.M) { testutils.Main(m) }

func TestKernelListener(t *testing.T) {
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := handshake.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), handshake.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, handshake.GroupTlshd)
	if err != nil {
		t.Fatalf("joining the tlshd group: %v", err)
	}
	defer sub.Close()
	if len(sub.Groups()) != 1 {
		t.Errorf("subscribed to groups %v, want one", sub.Groups())
	}
	if _, err := c.Accept(ctx, &handshake.AcceptRequest{HandlerClass: handshake.Some(handshake.HandlerClassTlshd)}); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("accept with nothing pending: %v, want EAGAIN", err)
	}
	// done for a socket that is no pending handshake's.
	err = c.Done(ctx, &handshake.DoneRequest{Status: handshake.Some(uint32(0)), Sockfd: handshake.Some(int32(0))})
	if err == nil {
		t.Error("done for stdin succeeded")
	}
	t.Logf("done for a socket without a handshake: %v", err)
	// accept without a handler class is refused.
	if _, err := c.Accept(ctx, &handshake.AcceptRequest{}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("accept without a handler class: %v, want EINVAL", err)
	}
}

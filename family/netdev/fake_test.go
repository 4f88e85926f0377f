package netdev_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/family/netdev/netdevtest"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// Tests against the typed test server, for what a kernel does not do on
// demand: chosen errors, many queues, an unprivileged caller.

func fakeClient(t *testing.T, k *genltest.Kernel) (*netdevtest.Server, *netdev.Client, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	srv := netdevtest.NewServer(k)
	c, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Conn().Close() })
	return srv, c, ctx
}

// TestFakeQueueDump: the dump's filter reaches the handler decoded, and
// every queue it yields reaches the client.
func TestFakeQueueDump(t *testing.T) {
	srv, c, ctx := fakeClient(t, nil)
	srv.HandleQueueGetDump(func(req *netdev.QueueGetDumpRequest, yield func(*netdev.Queue) bool) error {
		idx, ok := req.Ifindex.Get()
		if !ok {
			return netdevtest.Errorf(unix.EINVAL, "ifindex", "ifindex required")
		}
		for i := range uint32(300) {
			typ := netdev.QueueTypeRx
			if i%2 == 1 {
				typ = netdev.QueueTypeTx
			}
			if !yield(&netdev.Queue{Ifindex: netdev.Some(idx), ID: netdev.Some(i / 2), Type: netdev.Some(typ)}) {
				break
			}
		}
		return nil
	})
	var tx []uint32
	for q, err := range c.QueueGetDump(ctx, &netdev.QueueGetDumpRequest{Ifindex: netdev.Some[uint32](5)}) {
		if err != nil {
			t.Fatal(err)
		}
		if q.Ifindex.Value != 5 {
			t.Fatalf("queue %+v", q)
		}
		if q.Type.Value == netdev.QueueTypeTx {
			tx = append(tx, q.ID.Value)
		}
	}
	if len(tx) != 150 || !slices.IsSorted(tx) {
		t.Errorf("%d tx queues", len(tx))
	}
	// The handler's error ends the dump, naming the missing attribute.
	var ge *genl.Error
	for _, err := range c.QueueGetDump(ctx, nil) {
		if !errors.As(err, &ge) || !errors.Is(err, unix.EINVAL) || ge.MissingPath != "ifindex" {
			t.Errorf("dump without ifindex: %v", err)
		}
	}
}

// TestFakeNapiSetPermission: napi-set is admin-perm in the spec; an
// unprivileged caller is refused before the handler, as by the kernel.
func TestFakeNapiSetPermission(t *testing.T) {
	k := genltest.New(genltest.WithPrivilege(genltest.NamespaceAdmin))
	srv, c, ctx := fakeClient(t, k)
	var got []*netdev.NapiSetRequest
	srv.HandleNapiSet(func(req *netdev.NapiSetRequest) error {
		if req.DeferHardIrqs.Value > 1000 {
			return netdevtest.Errorf(unix.ERANGE, "defer-hard-irqs", "at most 1000")
		}
		got = append(got, req)
		return nil
	})
	req := &netdev.NapiSetRequest{ID: netdev.Some[uint32](9), DeferHardIrqs: netdev.Some[uint32](5)}
	if err := c.NapiSet(ctx, req); !errors.Is(err, unix.EPERM) {
		t.Errorf("unprivileged napi-set: %v", err)
	}
	k.SetPrivilege(genltest.Admin)
	if err := c.NapiSet(ctx, req); err != nil {
		t.Fatal(err)
	}
	req.DeferHardIrqs.Set(5000)
	var ge *genl.Error
	if err := c.NapiSet(ctx, req); !errors.Is(err, unix.ERANGE) || !errors.As(err, &ge) || ge.Path != "defer-hard-irqs" {
		t.Errorf("out of range: %v", err)
	}
	if len(got) != 1 || got[0].ID.Value != 9 || got[0].DeferHardIrqs.Value != 5 {
		t.Errorf("handler got %+v", got)
	}
}

// TestFakeNotifications: notifications of the group joined arrive typed;
// those of the other group do not.
func TestFakeNotifications(t *testing.T) {
	srv, c, ctx := fakeClient(t, nil)
	sub, err := c.Subscribe(ctx, netdev.GroupMgmt)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for _, n := range []struct {
		group string
		ntf   netdev.Notification
	}{
		{netdev.GroupPagePool, &netdev.PagePoolAddNtf{PagePool: netdev.PagePool{ID: netdev.Some[uint64](1)}}},
		{netdev.GroupMgmt, &netdev.DevAddNtf{Dev: netdev.Dev{Ifindex: netdev.Some[uint32](3)}}},
		{netdev.GroupMgmt, &netdev.DevDelNtf{Dev: netdev.Dev{Ifindex: netdev.Some[uint32](3)}}},
	} {
		if err := srv.Notify(n.group, n.ntf); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 2 {
		n, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n.OpName())
	}
	if !slices.Equal(got, []string{"dev-add-ntf", "dev-del-ntf"}) {
		t.Errorf("notifications %v", got)
	}
	if d := srv.Kernel().Dropped(); d != 1 {
		t.Errorf("%d dropped, want the page-pool one", d)
	}
}

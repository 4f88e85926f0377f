package mptcppm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/mptcppm"
	"github.com/genlkit/genlkit/family/mptcppm/mptcppmtest"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// Tests against the typed test server: errors about nested request
// attributes, and the uns-admin-perm flag of the spec's ops.

// endpoints is a path manager's endpoint table served by mptcppmtest.
type endpoints struct {
	byID map[uint8]mptcppm.Address
}

func serveEndpoints(srv *mptcppmtest.Server) *endpoints {
	e := &endpoints{byID: map[uint8]mptcppm.Address{}}
	srv.HandleAddAddr(func(req *mptcppm.AddAddrRequest) error {
		if req.Addr == nil {
			return mptcppmtest.Errorf(unix.EINVAL, "addr", "missing address info")
		}
		id, ok := req.Addr.ID.Get()
		switch {
		case !ok:
			return mptcppmtest.Errorf(unix.EINVAL, "addr.id", "endpoint id required")
		case e.byID[id].ID.Valid:
			return mptcppmtest.Errorf(unix.EINVAL, "addr.id", "address already in use")
		}
		e.byID[id] = *req.Addr
		return nil
	})
	srv.HandleGetAddrDump(func(yield func(*mptcppm.Attr) bool) error {
		for id := range 256 {
			if a, ok := e.byID[uint8(id)]; ok && !yield(&mptcppm.Attr{Addr: &a}) {
				break
			}
		}
		return nil
	})
	return e
}

func fakeClient(t *testing.T, k *genltest.Kernel) (*mptcppmtest.Server, *mptcppm.Client, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	srv := mptcppmtest.NewServer(k)
	c, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Conn().Close() })
	return srv, c, ctx
}

func TestFakeNestedErrors(t *testing.T) {
	srv, c, ctx := fakeClient(t, nil)
	serveEndpoints(srv)
	add := func(a *mptcppm.Address) error { return c.AddAddr(ctx, &mptcppm.AddAddrRequest{Addr: a}) }
	addr := &mptcppm.Address{ID: mptcppm.Some[uint8](3), Family: mptcppm.Some[uint16](unix.AF_INET), Addr4: mptcppm.Some(ip4("192.0.2.1"))}
	if err := add(addr); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		addr          *mptcppm.Address
		path, missing string
	}{
		{"duplicate id", addr, "addr.id", ""},
		{"no id", &mptcppm.Address{Family: mptcppm.Some[uint16](unix.AF_INET)}, "", "addr.id"},
		{"no address", nil, "", "addr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := add(tc.addr)
			var ge *genl.Error
			if !errors.Is(err, unix.EINVAL) || !errors.As(err, &ge) || ge.Path != tc.path || ge.MissingPath != tc.missing {
				t.Fatalf("got %v (path %q, missing %q)", err, ge.Path, ge.MissingPath)
			}
		})
	}
	n := 0
	for a, err := range c.GetAddrDump(ctx) {
		if err != nil || a.Addr.ID.Value != 3 || a.Addr.Addr4.Value != ip4("192.0.2.1") {
			t.Errorf("dump: %+v, %v", a, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d endpoints", n)
	}
}

// TestFakeUnsAdminPerm: add-addr is uns-admin-perm: allowed to an
// administrator of the namespace's own user namespace, refused without.
func TestFakeUnsAdminPerm(t *testing.T) {
	k := genltest.New(genltest.WithPrivilege(genltest.Unprivileged))
	srv, c, ctx := fakeClient(t, k)
	e := serveEndpoints(srv)
	req := &mptcppm.AddAddrRequest{Addr: &mptcppm.Address{ID: mptcppm.Some[uint8](1)}}
	if err := c.AddAddr(ctx, req); !errors.Is(err, unix.EPERM) || len(e.byID) != 0 {
		t.Errorf("unprivileged: %v", err)
	}
	k.SetPrivilege(genltest.NamespaceAdmin)
	if err := c.AddAddr(ctx, req); err != nil || len(e.byID) != 1 {
		t.Errorf("namespace admin: %v", err)
	}
	// The dump is not admin-perm.
	k.SetPrivilege(genltest.Unprivileged)
	for _, err := range c.GetAddrDump(ctx) {
		if err != nil {
			t.Error(err)
		}
	}
}

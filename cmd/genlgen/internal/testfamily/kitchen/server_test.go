package kitchen_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/cmd/genlgen/internal/testfamily/kitchen"
	"github.com/genlkit/genlkit/cmd/genlgen/internal/testfamily/kitchen/kitchentest"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/familytest"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// The typed test server, generated beside the package: the generated
// Client resolves the family from the fake nlctrl and talks to handlers
// written in the package's own types.

func serve(t *testing.T, k *genltest.Kernel, opts ...kitchentest.Option) (*kitchentest.Server, *kitchen.Client) {
	t.Helper()
	srv := kitchentest.NewServer(k, opts...)
	c, err := srv.Client(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Conn().Close() })
	return srv, c
}

func TestServerRegistersFamily(t *testing.T) {
	srv, c := serve(t, nil)
	f := c.Family()
	if f.ID != srv.Family().ID || f.Name != "kitchen" || f.Version != kitchen.FamilyVersion || f.HeaderSize != 0 {
		t.Errorf("family %+v", f)
	}
	var groups []string
	for _, g := range f.Groups {
		groups = append(groups, g.Name)
	}
	if !slices.Equal(groups, []string{kitchen.GroupEvents, kitchen.GroupAlerts}) {
		t.Errorf("groups %v", groups)
	}
	want := map[uint32]family.OpFlags{
		kitchen.CmdGet:       family.OpDo | family.OpDump | family.OpHasPolicy,
		kitchen.CmdSet:       family.OpDo | family.OpHasPolicy | family.OpAdminPerm,
		kitchen.CmdList:      family.OpDump,
		kitchen.CmdPing:      family.OpDo,
		kitchen.CmdHdrGet:    family.OpDo | family.OpDump | family.OpHasPolicy,
		kitchen.CmdSubscribe: family.OpDo | family.OpHasPolicy,
	}
	if len(f.Ops) != len(want) {
		t.Errorf("ops %+v", f.Ops)
	}
	for _, o := range f.Ops {
		if want[o.ID] != o.Flags {
			t.Errorf("op %d flags %v, want %v", o.ID, o.Flags, want[o.ID])
		}
	}
}

func TestServerDoDump(t *testing.T) {
	srv, c := serve(t, nil)
	srv.HandleGet(func(req *kitchen.GetRequest) (*kitchen.Main, error) {
		return &kitchen.Main{U32Val: req.U32Val, Name: kitchen.Some("got " + req.Name.Value)}, nil
	})
	srv.HandleGetDump(func(req *kitchen.GetDumpRequest, yield func(*kitchen.Main) bool) error {
		for i := range uint32(req.U8Val.Value) {
			if !yield(&kitchen.Main{U32Val: kitchen.Some(i)}) {
				break
			}
		}
		return nil
	})
	var pinged bool
	srv.HandlePing(func() (*kitchen.Empty, error) { pinged = true; return &kitchen.Empty{}, nil })
	var set *kitchen.SetRequest
	srv.HandleSet(func(req *kitchen.SetRequest) error { set = req; return nil })

	rep, err := c.Get(ctx(t), &kitchen.GetRequest{U32Val: kitchen.Some[uint32](7), Name: kitchen.Some("x")})
	if err != nil || rep.U32Val.Value != 7 || rep.Name.Value != "got x" {
		t.Fatalf("get: %+v, %v", rep, err)
	}
	var got []uint32
	for m, err := range c.GetDump(ctx(t), &kitchen.GetDumpRequest{U8Val: kitchen.Some[uint8](3)}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.U32Val.Value)
	}
	if !slices.Equal(got, []uint32{0, 1, 2}) {
		t.Errorf("dump %v", got)
	}
	if _, err := c.Ping(ctx(t)); err != nil || !pinged {
		t.Errorf("ping: %v", err)
	}
	// A do without reply is acknowledged by the fake kernel.
	if err := c.Set(ctx(t), &kitchen.SetRequest{Name: kitchen.Some("n")}); err != nil || set == nil || set.Name.Value != "n" {
		t.Errorf("set: %v, %+v", err, set)
	}
}

func TestServerFixedHeader(t *testing.T) {
	srv, c := serve(t, nil)
	srv.HandleHdrGet(func(hdr kitchen.KtHeader, req *kitchen.HdrGetRequest) (*kitchen.MainKtHeaderMessage, error) {
		rep := &kitchen.MainKtHeaderMessage{Header: kitchen.KtHeader{Ifindex: hdr.Ifindex + 1, Flags: hdr.Flags}}
		rep.U32Val = req.U32Val
		return rep, nil
	})
	srv.HandleHdrGetDump(func(hdr kitchen.KtHeader, yield func(*kitchen.MainKtHeaderMessage) bool) error {
		yield(&kitchen.MainKtHeaderMessage{Header: hdr})
		return nil
	})
	rep, err := c.HdrGet(ctx(t), kitchen.KtHeader{Ifindex: 3, Flags: 0x0a0b}, &kitchen.HdrGetRequest{U32Val: kitchen.Some[uint32](9)})
	if err != nil || rep.Header.Ifindex != 4 || rep.Header.Flags != 0x0a0b || rep.U32Val.Value != 9 {
		t.Fatalf("hdr-get: %+v, %v", rep, err)
	}
	n := 0
	for m, err := range c.HdrGetDump(ctx(t), kitchen.KtHeader{Ifindex: 5}) {
		if err != nil || m.Header.Ifindex != 5 {
			t.Errorf("dump: %+v, %v", m, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d parts", n)
	}
}

// TestServerErrors: an error a handler returns reaches the client as the
// kernel's would, with the attribute it names as the *genl.Error's path
// (missing when the request lacks it); a dump ends with it.
func TestServerErrors(t *testing.T) {
	srv, c := serve(t, nil)
	srv.HandleGet(func(req *kitchen.GetRequest) (*kitchen.Main, error) {
		if req.Name.Valid {
			return nil, kitchentest.Errorf(unix.ERANGE, "name", "name %q too odd", req.Name.Value)
		}
		return nil, kitchentest.Errorf(unix.EINVAL, "name", "name required")
	})
	srv.HandleGetDump(func(req *kitchen.GetDumpRequest, yield func(*kitchen.Main) bool) error {
		yield(&kitchen.Main{U32Val: kitchen.Some[uint32](1)})
		return errors.New("dump broke")
	})
	srv.HandleHdrGet(func(kitchen.KtHeader, *kitchen.HdrGetRequest) (*kitchen.MainKtHeaderMessage, error) {
		return nil, kitchentest.Errorf(unix.ENODEV, "header", "no such device")
	})

	_, err := c.Get(ctx(t), &kitchen.GetRequest{U32Val: kitchen.Some[uint32](7), Name: kitchen.Some("x")})
	var ge *genl.Error
	if !errors.Is(err, unix.ERANGE) || !errors.As(err, &ge) || ge.Path != "name" || ge.Message != `name "x" too odd` {
		t.Errorf("error at an attribute: %v", err)
	}
	_, err = c.Get(ctx(t), &kitchen.GetRequest{U32Val: kitchen.Some[uint32](7)})
	if !errors.As(err, &ge) || ge.MissingPath != "name" || ge.Path != "" {
		t.Errorf("missing attribute: %v", err)
	}
	_, err = c.HdrGet(ctx(t), kitchen.KtHeader{}, nil)
	if !errors.Is(err, unix.ENODEV) || !errors.As(err, &ge) || ge.Path != "header" {
		t.Errorf("error in the fixed header: %v", err)
	}
	var parts int
	var last error
	for _, err := range c.GetDump(ctx(t), nil) {
		if err != nil {
			last = err
			continue
		}
		parts++
	}
	if parts != 1 || !errors.Is(last, unix.EINVAL) || !errors.As(last, &ge) || ge.Message != "dump broke" {
		t.Errorf("dump: %d parts, %v", parts, last)
	}
	// An op without a handler is refused, saying so, rather than left
	// unanswered.
	if _, err := c.Ping(ctx(t)); !errors.Is(err, unix.EOPNOTSUPP) || !errors.As(err, &ge) || ge.Message != "the kitchen test server has no handler for ping (do)" {
		t.Errorf("no handler: %v", err)
	}
	// A nil handler removes the one set.
	srv.HandleGet(nil)
	if _, err := c.Get(ctx(t), nil); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("handler removed: %v", err)
	}
}

// TestServerKernelChecks: the fake kernel refuses, from the ops the server
// registered, an admin op to an unprivileged caller and ops a kernel
// without them lacks.
func TestServerKernelChecks(t *testing.T) {
	k := genltest.New(genltest.WithPrivilege(genltest.Unprivileged))
	srv, c := serve(t, k, familytest.WithoutOps("ping"))
	calls := 0
	srv.HandleSet(func(*kitchen.SetRequest) error { calls++; return nil })
	if err := c.Set(ctx(t), nil); !errors.Is(err, unix.EPERM) || calls != 0 {
		t.Errorf("admin op, unprivileged: %v (%d calls)", err, calls)
	}
	k.SetPrivilege(genltest.Admin)
	if err := c.Set(ctx(t), nil); err != nil || calls != 1 {
		t.Errorf("admin op, admin: %v (%d calls)", err, calls)
	}
	if _, err := c.Ping(ctx(t)); !errors.Is(err, family.ErrNotSupported) {
		t.Errorf("op left out: %v", err)
	}
}

func TestServerNotify(t *testing.T) {
	srv, c := serve(t, nil)
	// Before the client subscribes: dropped, as the kernel would.
	if err := srv.Notify(kitchen.GroupEvents, &kitchen.NewNtf{Main: kitchen.Main{U32Val: kitchen.Some[uint32](1)}}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx(t), kitchen.GroupEvents)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := srv.Notify(kitchen.GroupEvents, &kitchen.HdrNtf{Header: kitchen.KtHeader{Ifindex: 2}, Main: kitchen.Main{U32Val: kitchen.Some[uint32](2)}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Notify(kitchen.GroupAlerts, &kitchen.Alert{}); err != nil { // not joined
		t.Fatal(err)
	}
	if err := srv.Notify(kitchen.GroupEvents, &kitchen.UnknownNotification{Command: 99}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Notify("nope", &kitchen.Alert{}); err == nil {
		t.Error("unknown group: no error")
	}
	n, err := sub.Next(ctx(t))
	if h, ok := n.(*kitchen.HdrNtf); err != nil || !ok || h.Header.Ifindex != 2 || h.U32Val.Value != 2 {
		t.Errorf("first notification: %#v, %v", n, err)
	}
	n, err = sub.Next(ctx(t))
	if u, ok := n.(*kitchen.UnknownNotification); err != nil || !ok || u.Command != 99 {
		t.Errorf("second notification: %#v, %v", n, err)
	}
	if d := srv.Kernel().Dropped(); d != 2 {
		t.Errorf("%d dropped, want 2", d)
	}
}

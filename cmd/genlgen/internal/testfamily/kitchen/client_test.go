package kitchen_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/cmd/genlgen/internal/testfamily/kitchen"
	"github.com/genlkit/genlkit/cmd/genlgen/internal/testfamily/kitchen/kitchentest"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The client tests run the generated Client against genltest's fake kernel,
// with a family as nlctrl would report it: no real kernel has "kitchen".

const familyID = 0x42

var kitchenFamily = &family.Family{
	ID: familyID, Name: "kitchen", Version: 3, HeaderSize: 8,
	Ops: []family.Op{
		{ID: kitchen.CmdGet, Flags: family.OpDo | family.OpDump},
		{ID: kitchen.CmdSet, Flags: family.OpDo},
		{ID: kitchen.CmdList, Flags: family.OpDo}, // but no dump
		{ID: kitchen.CmdHdrGet, Flags: family.OpDo | family.OpDump},
		// ping and subscribe are missing: an older kernel.
	},
	Groups: []family.Group{{ID: 20, Name: "events"}, {ID: 21, Name: "alerts"}, {ID: 22, Name: "not-in-spec"}},
}

func newClient(t *testing.T, h genltest.Handler) (*kitchen.Client, *genltest.Kernel) {
	t.Helper()
	k := genltest.New()
	k.Handle(h)
	conn, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := kitchen.New(context.Background(), conn, kitchen.WithFamily(kitchenFamily))
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestClientDo(t *testing.T) {
	c, k := newClient(t, func(k *genltest.Kernel, r genltest.Request) {
		k.Push(genltest.Reply(r, kitchen.CmdGet, mainFixture()), genltest.Ack(r))
	})
	rep, err := c.Get(ctx(t), &kitchen.GetRequest{U32Val: kitchen.Some[uint32](7), Name: kitchen.Some("x")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Name.Value != "kitchen" || len(rep.Nests) != 2 {
		t.Errorf("reply: %+v", rep)
	}
	reqs := k.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if uint16(r.Header.Type) != familyID || r.Genl.Command != kitchen.CmdGet || r.Genl.Version != kitchen.FamilyVersion {
		t.Errorf("request header %+v %+v", r.Header, r.Genl)
	}
	var want attrs.Encoder
	want.U32(kitchen.AttrMainU32Val, 7)
	want.String(kitchen.AttrMainName, "x")
	if !bytes.Equal(r.Data, want.Bytes()) {
		t.Errorf("request attributes %x, want %x", r.Data, want.Bytes())
	}
}

func TestClientDump(t *testing.T) {
	c, k := newClient(t, func(k *genltest.Kernel, r genltest.Request) {
		var bad attrs.Encoder
		bad.U16(kitchen.AttrMainU32Val, 1) // malformed: u32 of 2 bytes
		for i := range 3 {
			var e attrs.Encoder
			e.U32(kitchen.AttrMainU32Val, uint32(i))
			k.Push(genltest.ReplyMulti(r, kitchen.CmdGet, e.Bytes(), 0))
			if i == 1 {
				k.Push(genltest.ReplyMulti(r, kitchen.CmdGet, bad.Bytes(), 0))
			}
		}
		k.Push(genltest.Done(r, 0, 0, nil))
	})
	var got []uint32
	var errs []error
	for v, err := range c.GetDump(ctx(t), &kitchen.GetDumpRequest{U8Val: kitchen.Some[uint8](1)}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, v.U32Val.Value)
	}
	if len(got) != 3 || got[2] != 2 {
		t.Errorf("got %v", got)
	}
	// A reply that does not decode is an error naming the op and the
	// attribute; the dump goes on.
	var ae *attrs.Error
	if len(errs) != 1 || !errors.As(errs[0], &ae) || ae.Path != "u32-val" || !strings.HasPrefix(errs[0].Error(), "kitchen get: ") {
		t.Errorf("errors: %v", errs)
	}
	r := k.Requests()[0]
	if r.Header.Flags&netlink.Dump != netlink.Dump {
		t.Errorf("dump flags %v", r.Header.Flags)
	}
	// Breaking out early is fine.
	for range c.GetDump(ctx(t), nil) {
		break
	}
}

func TestClientNoReply(t *testing.T) {
	// The typed test server acknowledges what its handler accepts.
	srv, c := serve(t, nil)
	srv.HandleSet(func(*kitchen.SetRequest) error { return nil })
	err := c.Set(ctx(t), &kitchen.SetRequest{
		Outer: kitchen.Some(kitchen.Outer{Name: "n"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Kernel().Requests()
	if r := reqs[len(reqs)-1]; r.Genl.Command != kitchen.CmdSet || r.Header.Flags&netlink.Acknowledge == 0 {
		t.Errorf("request %+v", r)
	}
}

// TestClientNotSupported: an op the kernel lacks is refused before anything
// is sent.
func TestClientNotSupported(t *testing.T) {
	c, k := newClient(t, func(k *genltest.Kernel, r genltest.Request) { t.Errorf("sent %+v", r) })
	if _, err := c.Ping(ctx(t)); !errors.Is(err, family.ErrNotSupported) {
		t.Errorf("ping: %v", err)
	}
	if err := c.SubscribeOp(ctx(t), nil); !errors.Is(err, family.ErrNotSupported) {
		t.Errorf("subscribe: %v", err)
	}
	n := 0
	for _, err := range c.ListDump(ctx(t)) {
		n++
		if !errors.Is(err, family.ErrNotSupported) || !strings.Contains(err.Error(), "dump") {
			t.Errorf("list dump: %v", err)
		}
	}
	if n != 1 || len(k.Requests()) != 0 {
		t.Errorf("%d results, %d requests", n, len(k.Requests()))
	}
}

func TestClientKernelError(t *testing.T) {
	// The server points the extended ACK at the second attribute (name).
	srv, c := serve(t, nil)
	srv.HandleGet(func(*kitchen.GetRequest) (*kitchen.Main, error) {
		return nil, kitchentest.Errorf(unix.EINVAL, "name", "bad name")
	})
	_, err := c.Get(ctx(t), &kitchen.GetRequest{U32Val: kitchen.Some[uint32](7), Name: kitchen.Some("x")})
	var ge *genl.Error
	if !errors.Is(err, unix.EINVAL) || !errors.As(err, &ge) {
		t.Fatalf("got %v", err)
	}
	// 16 bytes of netlink header, 4 of genl header, 8 of u32-val.
	if ge.Path != "name" || ge.Offset != 28 || !strings.HasPrefix(err.Error(), "kitchen get: ") {
		t.Errorf("path %q at %d, error %q", ge.Path, ge.Offset, err)
	}
}

func TestClientFixedHeader(t *testing.T) {
	c, k := newClient(t, func(k *genltest.Kernel, r genltest.Request) {
		var e attrs.Encoder
		e.U32(kitchen.AttrMainU32Val, 5)
		hdr := make([]byte, 8)
		binary.NativeEndian.PutUint32(hdr, 99)
		binary.BigEndian.PutUint16(hdr[4:], 0x0a0b)
		if r.Header.Flags&netlink.Dump != 0 {
			k.Push(genltest.ReplyMulti(r, kitchen.CmdHdrGet, append(hdr, e.Bytes()...), 0), genltest.ReplyMulti(r, kitchen.CmdHdrGet, hdr[:3], 0), genltest.Done(r, 0, 0, nil))
			return
		}
		k.Push(genltest.Reply(r, kitchen.CmdHdrGet, append(hdr, e.Bytes()...)), genltest.Ack(r))
	})
	rep, err := c.HdrGet(ctx(t), kitchen.KtHeader{Ifindex: 3, Flags: 1}, &kitchen.HdrGetRequest{U32Val: kitchen.Some[uint32](1)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Header.Ifindex != 99 || rep.Header.Flags != 0x0a0b || rep.U32Val.Value != 5 {
		t.Errorf("reply %+v", rep)
	}
	r := k.Requests()[0]
	want := make([]byte, 8)
	binary.NativeEndian.PutUint32(want, 3)
	binary.BigEndian.PutUint16(want[4:], 1)
	var a attrs.Encoder
	a.U32(kitchen.AttrMainU32Val, 1)
	if !bytes.Equal(r.Data, append(want, a.Bytes()...)) {
		t.Errorf("request %x", r.Data)
	}
	n := 0
	for v, err := range c.HdrGetDump(ctx(t), kitchen.KtHeader{}) {
		n++
		switch n {
		case 1:
			if err != nil || v.Header.Ifindex != 99 {
				t.Errorf("part 1: %+v, %v", v, err)
			}
		case 2:
			if !errors.Is(err, attrs.ErrTruncated) {
				t.Errorf("short header: %v", err)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d parts", n)
	}
}

func TestSubscribe(t *testing.T) {
	c, k := newClient(t, nil)
	if _, err := c.Subscribe(ctx(t), "events", "nope"); !errors.Is(err, family.ErrNotFound) {
		t.Fatalf("unknown group: %v", err)
	}
	sub, err := c.Subscribe(ctx(t), kitchen.GroupEvents, kitchen.GroupAlerts, "not-in-spec")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if g := sub.Groups(); len(g) != 3 || g[2] != 22 {
		t.Errorf("groups %v", g)
	}
	var e attrs.Encoder
	e.U32(kitchen.AttrMainU32Val, 11)
	e.String(kitchen.AttrMainName, "ntf")
	hdr := make([]byte, 8)
	binary.NativeEndian.PutUint32(hdr, 12)
	var bad attrs.Encoder
	bad.U8(kitchen.AttrMainU32Val, 1)

	k.PushGroup(20, genltest.Notification(familyID, kitchen.CmdNewNtf, e.Bytes()))
	k.PushGroup(21, genltest.Notification(familyID, kitchen.CmdAlert, e.Bytes()))
	k.PushGroup(20, genltest.Notification(familyID, kitchen.CmdHdrNtf, append(hdr, e.Bytes()...)))
	k.PushGroup(22, genltest.Notification(0x99, kitchen.CmdNewNtf, e.Bytes())) // another family: skipped
	k.PushGroup(22, genltest.Notification(familyID, 77, e.Bytes()))
	k.PushGroup(20, genltest.Notification(familyID, kitchen.CmdNewNtf, bad.Bytes()))
	k.PushGroup(20, genltest.Notification(familyID, kitchen.CmdAlert, e.Bytes()))

	ctx := ctx(t)
	n, err := sub.Next(ctx)
	if nn, ok := n.(*kitchen.NewNtf); err != nil || !ok || nn.Name.Value != "ntf" || nn.Nests != nil || n.OpName() != "new-ntf" {
		t.Errorf("1: %#v, %v", n, err)
	}
	n, err = sub.Next(ctx)
	if a, ok := n.(*kitchen.Alert); err != nil || !ok || a.U32Val.Value != 11 {
		t.Errorf("2: %#v, %v", n, err)
	}
	n, err = sub.Next(ctx)
	if h, ok := n.(*kitchen.HdrNtf); err != nil || !ok || h.Header.Ifindex != 12 || h.U32Val.Value != 11 {
		t.Errorf("3: %#v, %v", n, err)
	}
	n, err = sub.Next(ctx)
	if u, ok := n.(*kitchen.UnknownNotification); err != nil || !ok || u.Command != 77 || u.Group != 22 || !bytes.Equal(u.Data, e.Bytes()) || n.OpName() != "" {
		t.Errorf("4: %#v, %v", n, err)
	}
	n, err = sub.Next(ctx)
	var ae *attrs.Error
	if n != nil || !errors.As(err, &ae) || !strings.HasPrefix(err.Error(), "kitchen new-ntf: u32-val") {
		t.Errorf("5: %#v, %v", n, err)
	}
	n, err = sub.Next(ctx)
	if _, ok := n.(*kitchen.Alert); err != nil || !ok {
		t.Errorf("6: %#v, %v", n, err)
	}

	// Overruns pass through as errors matching genl.ErrOverrun, and All
	// goes on after them.
	k.Overrun()
	k.PushGroup(21, genltest.Notification(familyID, kitchen.CmdAlert, e.Bytes()))
	var seen []string
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for n, err := range sub.All(short) {
		switch {
		case errors.Is(err, genl.ErrOverrun):
			seen = append(seen, "overrun")
		case err != nil:
			seen = append(seen, "end")
		default:
			seen = append(seen, n.OpName())
		}
		if len(seen) == 2 {
			break
		}
	}
	if strings.Join(seen, ",") != "overrun,alert" {
		t.Errorf("stream: %v", seen)
	}
}

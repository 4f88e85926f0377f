package directional_test

import (
	"context"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/cmd/genlgen/internal/testfamily/directional"
	"github.com/genlkit/genlkit/cmd/genlgen/internal/testfamily/directional/directionaltest"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
)

// Requests carry request values; replies are decoded whatever value they
// carry (port-get's dump replies use get's value, as devlink does); and
// notifications are told apart by their reply values.
func TestDirectional(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k := genltest.New()
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		var e attrs.Encoder
		e.U32(directional.AttrDevIndex, 1)
		e.U16(directional.AttrDevPort, 2)
		switch {
		case r.Genl.Command == directional.CmdPortGet && r.Header.Flags&netlink.Dump != 0:
			k.Push(genltest.ReplyMulti(r, directional.CmdGetReply, e.Bytes(), 0), genltest.Done(r, 0, 0, nil))
		case r.Genl.Command == directional.CmdPortGet:
			k.Push(genltest.Reply(r, directional.CmdPortGetReply, e.Bytes()), genltest.Ack(r))
		default:
			k.Push(genltest.Ack(r))
		}
	})
	conn, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fam := &family.Family{ID: 0x50, Name: "directional", Ops: []family.Op{
		{ID: directional.CmdGet, Flags: family.OpDo | family.OpDump},
		{ID: directional.CmdSet, Flags: family.OpDo},
		{ID: directional.CmdPortGet, Flags: family.OpDo | family.OpDump},
	}, Groups: []family.Group{{ID: 3, Name: "config"}}}
	c, err := directional.New(ctx, conn, directional.WithFamily(fam))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.PortGet(ctx, &directional.PortGetRequest{Index: directional.Some[uint32](1)})
	if err != nil || rep.Port.Value != 2 {
		t.Fatalf("do: %+v, %v", rep, err)
	}
	for v, err := range c.PortGetDump(ctx, nil) {
		if err != nil || v.Port.Value != 2 {
			t.Errorf("dump: %+v, %v", v, err)
		}
	}
	if err := c.Set(ctx, &directional.SetRequest{Name: directional.Some("x")}); err != nil {
		t.Fatal(err)
	}
	var cmds []uint8
	for _, r := range k.Requests() {
		cmds = append(cmds, r.Genl.Command)
	}
	if len(cmds) != 3 || cmds[0] != 3 || cmds[1] != 3 || cmds[2] != 2 {
		t.Errorf("request commands %v, want [3 3 2]", cmds)
	}

	// The group is not in the spec: it is joined by its kernel name.
	sub, err := c.Subscribe(ctx, "config")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var e attrs.Encoder
	e.U32(directional.AttrDevIndex, 9)
	k.PushGroup(3, genltest.Notification(0x50, directional.CmdNtf, e.Bytes()))
	k.PushGroup(3, genltest.Notification(0x50, directional.CmdOtherNtf, e.Bytes()))
	k.PushGroup(3, genltest.Notification(0x50, directional.CmdGetReply, e.Bytes()))
	for i, want := range []string{"ntf", "other-ntf", ""} {
		n, err := sub.Next(ctx)
		if err != nil || n.OpName() != want {
			t.Errorf("notification %d: %#v, %v; want %q", i, n, err, want)
		}
	}
}

// TestServer: the typed test server answers with the reply values of the
// spec, per form (port-get's do replies with 7, its dump with get's 1).
func TestServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := directionaltest.NewServer(nil)
	port := &directional.Dev{Index: directional.Some[uint32](1), Port: directional.Some[uint16](2)}
	srv.HandlePortGet(func(req *directional.PortGetRequest) (*directional.Dev, error) { return port, nil })
	srv.HandlePortGetDump(func(_ *directional.PortGetDumpRequest, yield func(*directional.Dev) bool) error {
		yield(port)
		return nil
	})
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := directional.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := c.PortGet(ctx, nil); err != nil || rep.Port.Value != 2 {
		t.Fatalf("do: %+v, %v", rep, err)
	}
	req := genl.Request{Family: srv.Family().ID, Command: directional.CmdPortGet, Version: directional.FamilyVersion}
	var cmds []uint8
	collect := func(m genl.Message) error { cmds = append(cmds, m.Header.Command); return nil }
	if err := conn.Do(ctx, req, collect); err != nil {
		t.Fatal(err)
	}
	for m, err := range conn.Dump(ctx, req) {
		if err != nil {
			t.Fatal(err)
		}
		collect(m)
	}
	if len(cmds) != 2 || cmds[0] != directional.CmdPortGetReply || cmds[1] != directional.CmdGetReply {
		t.Errorf("reply commands %v, want [%d %d]", cmds, directional.CmdPortGetReply, directional.CmdGetReply)
	}
}

package genltest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// familyOf decodes the id and name of a NEWFAMILY message.
func familyOf(t *testing.T, m genl.Message) (uint16, string) {
	t.Helper()
	var id uint16
	var name string
	d := attrs.NewDecoder(m.Data)
	for d.Next() {
		switch d.Type() {
		case unix.CTRL_ATTR_FAMILY_ID:
			id = d.U16()
		case unix.CTRL_ATTR_FAMILY_NAME:
			name = d.String()
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	return id, name
}

func TestControllerGetFamily(t *testing.T) {
	k := genltest.New()
	ctl := k.Controller(genltest.Family{ID: 0x20, Name: "fam", Version: 1})
	c, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	byName := func(e *attrs.Encoder) { e.String(unix.CTRL_ATTR_FAMILY_NAME, "fam") }
	cases := []struct {
		name   string
		encode func(e *attrs.Encoder)
		expect bool // ExpectReply: no ACK asked for
		id     uint16
		err    error
	}{
		{"by name", byName, false, 0x20, nil},
		{"by name, no ack", byName, true, 0x20, nil},
		{"by id", func(e *attrs.Encoder) { e.U16(unix.CTRL_ATTR_FAMILY_ID, unix.GENL_ID_CTRL) }, true, unix.GENL_ID_CTRL, nil},
		{"unknown", func(e *attrs.Encoder) { e.String(unix.CTRL_ATTR_FAMILY_NAME, "nope") }, true, 0, unix.ENOENT},
		{"neither", func(e *attrs.Encoder) {}, false, 0, unix.EINVAL},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e attrs.Encoder
			tc.encode(&e)
			var id uint16
			err := c.Do(ctx, genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY,
				Version: 2, Attrs: e.Bytes(), ExpectReply: tc.expect}, func(m genl.Message) error {
				id, _ = familyOf(t, m)
				return nil
			})
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || id != tc.id {
				t.Fatalf("got id %#x, %v; want %#x, %v", id, err, tc.id, tc.err)
			}
			if n := ctl.Lookups(); n != i+1 {
				t.Fatalf("%d lookups counted after %d requests", n, i+1)
			}
		})
	}
	var names []string
	for m, err := range c.Dump(ctx, genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		_, name := familyOf(t, m)
		names = append(names, name)
	}
	if len(names) != 2 || names[0] != "nlctrl" || names[1] != "fam" {
		t.Fatalf("dump: %v", names)
	}
}

func TestControllerNotifications(t *testing.T) {
	k := genltest.New()
	ctl := k.Controller()
	c, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := genltest.Family{ID: 0x20, Name: "fam", Groups: []genltest.Group{{ID: 0x21, Name: "events"}}}
	ctl.Register(f) // not joined yet: nothing is sent
	if n := k.Queued(); n != 0 {
		t.Fatalf("%d datagrams queued for a Conn outside the notify group", n)
	}
	sub, err := c.Subscribe(unix.GENL_ID_CTRL)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctl.AddGroup("fam", genltest.Group{ID: 0x22, Name: "more"})
	ctl.RemoveGroup("fam", "more")
	ctl.Unregister("fam")
	ctl.Register(f)
	want := []uint8{
		unix.CTRL_CMD_NEWMCAST_GRP, unix.CTRL_CMD_DELMCAST_GRP, // AddGroup, RemoveGroup
		unix.CTRL_CMD_DELMCAST_GRP, unix.CTRL_CMD_DELFAMILY, // Unregister
		unix.CTRL_CMD_NEWFAMILY, unix.CTRL_CMD_NEWMCAST_GRP, // Register
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	i := 0
	for m, err := range sub.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Command != want[i] || m.Group != unix.GENL_ID_CTRL {
			t.Fatalf("notification %d: command %d to group %#x, want %d", i, m.Header.Command, m.Group, want[i])
		}
		if id, name := familyOf(t, m); id != 0x20 || name != "fam" {
			t.Fatalf("notification %d about %#x %q", i, id, name)
		}
		if i++; i == len(want) {
			break
		}
	}
	if got := ctl.Families(); len(got) != 2 || got[1].Name != "fam" || len(got[1].Groups) != 1 {
		t.Fatalf("families %+v", got)
	}
}

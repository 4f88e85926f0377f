package familytest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/familytest"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// A family described by hand: a root set with a nest, an indexed array of
// nests and a nest-type-value, and an op with a fixed header.
var desc = demo("genetlink-legacy")

func demo(protocol string) *family.Descriptor {
	return &family.Descriptor{
		Name: "demo", Protocol: protocol, Version: 2,
		Ops: []family.OpDesc{
			{Name: "get", Value: 1, ReplyValue: 1, Set: "main",
				Do:   &family.OpMsgDesc{Request: []string{"id", "inner", "list", "table"}, Reply: []string{"id"}, HasReply: true, RequestValue: 1, ReplyValue: 1},
				Dump: &family.OpMsgDesc{Reply: []string{"id"}, HasReply: true, RequestValue: 1, ReplyValue: 1}},
			{Name: "hdr", Value: 2, ReplyValue: 7, Set: "main", Header: "hdr",
				Do: &family.OpMsgDesc{Request: []string{"id", "list"}, RequestValue: 2, ReplyValue: 7, HasReply: true}},
			{Name: "ntf", Value: 3, ReplyValue: 3, Set: "main", Notify: true, Group: "events"},
		},
		Sets: []family.SetDesc{
			{Name: "main", Attrs: []family.AttrDesc{
				{Name: "id", Value: 1, Type: "u32"},
				{Name: "inner", Value: 2, Type: "nest", Nested: "inner"},
				{Name: "list", Value: 3, Type: "indexed-array", SubType: "nest", Nested: "inner"},
				{Name: "table", Value: 4, Type: "nest-type-value", Nested: "inner", TypeValue: []string{"key"}},
			}},
			{Name: "inner", Attrs: []family.AttrDesc{{Name: "a", Value: 1, Type: "u32"}, {Name: "b", Value: 2, Type: "u32"}}},
		},
		Structs: []family.StructDesc{{Name: "hdr", Members: []family.MemberDesc{{Name: "x", Type: "u32"}}}},
		Groups:  []string{"events"},
	}
}

// raw is a request or reply as plain attribute bytes.
type raw []byte

func (r raw) MarshalAttrs(e *attrs.Encoder) error {
	d := attrs.NewDecoder(r)
	for d.Next() {
		e.Attr(d.Attr())
	}
	return d.Err()
}

func (r *raw) UnmarshalAttrs(b []byte) error { *r = append((*r)[:0], b...); return nil }

func setup(t *testing.T) (*familytest.Server, *genl.Conn, context.Context) {
	t.Helper()
	srv := familytest.NewServer(nil, desc)
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return srv, conn, ctx
}

func TestRegistration(t *testing.T) {
	srv, _, _ := setup(t)
	f := srv.Family()
	if f.Name != "demo" || f.Version != 2 || f.ID != 0x20 || f.MaxAttr != 4 || len(f.Groups) != 1 || f.Groups[0].Name != "events" {
		t.Errorf("family %+v", f)
	}
	if len(f.Ops) != 2 || f.Ops[0].Flags != unix.GENL_CMD_CAP_DO|unix.GENL_CMD_CAP_DUMP|unix.GENL_CMD_CAP_HASPOL || f.Ops[1].ID != 2 {
		t.Errorf("ops %+v", f.Ops)
	}
}

// request encodes the request attributes of TestErrorPaths: id, inner
// {a}, list {1: {b}}, table {5: {a}}.
func request() []byte {
	var e attrs.Encoder
	e.U32(1, 9)
	n := e.Nest(2)
	e.U32(1, 1)
	e.End(n)
	l := e.Nest(3)
	i := e.Nest(1)
	e.U32(2, 2)
	e.End(i)
	e.End(l)
	tb := e.Nest(4)
	k := e.Nest(5)
	e.U32(1, 3)
	e.End(k)
	e.End(tb)
	return e.Bytes()
}

func TestErrorPaths(t *testing.T) {
	cases := []struct {
		path     string
		types    []uint16 // the attribute the extended ACK points at
		missType uint16
		missNest bool
		msg      string // appended to the message when the path is wrong
	}{
		{path: "id", types: []uint16{1}},
		{path: "inner", types: []uint16{2}},
		{path: "inner.a", types: []uint16{2, 1}},
		{path: "list.1.b", types: []uint16{3, 1, 2}},
		{path: "table.5.a", types: []uint16{4, 5, 1}},
		{path: "2.1", types: []uint16{2, 1}},
		{path: "inner.b", missType: 2, missNest: true},
		{path: "list.4.a", missType: 4, missNest: true},
		{path: "nope", msg: `(test server: path "nope": set main has no attribute "nope")`},
		{path: "list.a", msg: `(test server: path "list.a": "a" where an index or key is expected)`},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			srv, conn, ctx := setup(t)
			srv.Handle("get", false, func(c *familytest.Call) error {
				return familytest.Errorf(unix.EINVAL, tc.path, "bad")
			})
			err := conn.Ack(ctx, genl.Request{Family: srv.Family().ID, Command: 1, Version: 2, Attrs: request()})
			var ge *genl.Error
			if !errors.As(err, &ge) || !errors.Is(err, unix.EINVAL) {
				t.Fatalf("got %v", err)
			}
			if !slices.Equal(ge.AttrTypes, tc.types) || ge.MissingType != tc.missType || (ge.MissingNest >= 0) != tc.missNest {
				t.Errorf("attribute %v, missing %d in nest at %d; want %v, %d", ge.AttrTypes, ge.MissingType, ge.MissingNest, tc.types, tc.missType)
			}
			if want := strings.TrimSpace("bad " + tc.msg); ge.Message != want {
				t.Errorf("message %q, want %q", ge.Message, want)
			}
		})
	}
}

func TestCalls(t *testing.T) {
	srv, conn, ctx := setup(t)
	id := srv.Family().ID
	srv.Handle("hdr", false, func(c *familytest.Call) error {
		var req raw
		if err := c.Decode(&req); err != nil {
			return err
		}
		if len(c.Header()) != 4 || c.Op().Name != "hdr" || c.Dump() {
			t.Errorf("call: header %x, op %s", c.Header(), c.Op().Name)
		}
		return c.Reply(nil, req)
	})
	// A request shorter than the fixed header never reaches the handler.
	err := conn.Ack(ctx, genl.Request{Family: id, Command: 2, Version: 2, Header: []byte{1, 2}})
	var ge *genl.Error
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "shorter than the 4-byte fixed header") {
		t.Errorf("short header: %v", err)
	}
	var e attrs.Encoder
	e.U32(1, 5)
	var cmd uint8
	var data []byte
	err = conn.Do(ctx, genl.Request{Family: id, Command: 2, Version: 2, Header: []byte{1, 2, 3, 4}, Attrs: e.Bytes()}, func(m genl.Message) error {
		cmd, data = m.Header.Command, slices.Clone(m.Data)
		return nil
	})
	if err != nil || cmd != 7 || !slices.Equal(data, e.Bytes()) {
		t.Errorf("reply: command %d, %x, %v", cmd, data, err)
	}
	// No handler: refused, saying so.
	if err := conn.Ack(ctx, genl.Request{Family: id, Command: 1, Version: 2}); !errors.Is(err, unix.EOPNOTSUPP) || !errors.As(err, &ge) || ge.Message != "the demo test server has no handler for get (do)" {
		t.Errorf("no handler: %v", err)
	}
	// A plain error: its errno, or EINVAL, and its text.
	srv.Handle("get", false, func(*familytest.Call) error { return errors.Join(errors.New("gone"), unix.ENOENT) })
	if err := conn.Ack(ctx, genl.Request{Family: id, Command: 1, Version: 2}); !errors.Is(err, unix.ENOENT) {
		t.Errorf("plain error: %v", err)
	}
	// A reply that does not encode ends the dump with an error.
	srv.Handle("get", true, func(c *familytest.Call) error {
		c.Reply(nil, failing{})
		return c.Reply(nil, raw(nil))
	})
	for _, err := range conn.Dump(ctx, genl.Request{Family: id, Command: 1, Version: 2}) {
		if !errors.As(err, &ge) || !strings.Contains(ge.Message, "does not encode: broken") {
			t.Errorf("dump: %v", err)
		}
	}
	if err := srv.Notify("nope", 3, nil, nil); err == nil {
		t.Error("notify to an unknown group: no error")
	}
}

type failing struct{}

func (failing) MarshalAttrs(*attrs.Encoder) error { return errors.New("broken") }

func TestHandleUnknownOp(t *testing.T) {
	srv, _, _ := setup(t)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	srv.Handle("hdr", true, nil) // hdr has no dump
}

// TestStrictValidation: in a genetlink family (strict validation), a
// request attribute the op does not take is refused before the handler,
// pointing at it; a genetlink-legacy family passes it to the handler.
func TestStrictValidation(t *testing.T) {
	for _, tc := range []struct {
		attr uint16
		msg  string
	}{{2, "Unsupported attribute"}, {4, "Unknown attribute type"}, {3, ""}} {
		for _, protocol := range []string{"genetlink", "genetlink-legacy"} {
			srv := familytest.NewServer(nil, demo(protocol))
			conn, err := srv.Dial()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ran := false
			srv.Handle("hdr", false, func(*familytest.Call) error { ran = true; return nil })
			var e attrs.Encoder
			e.U32(1, 1)
			n := e.Nest(tc.attr)
			e.End(n)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = conn.Ack(ctx, genl.Request{Family: srv.Family().ID, Command: 2, Version: 2, Header: make([]byte, 4), Attrs: e.Bytes()})
			cancel()
			refused := protocol == "genetlink" && tc.msg != ""
			var ge *genl.Error
			switch {
			case refused && (!errors.As(err, &ge) || ge.Message != tc.msg || !slices.Equal(ge.AttrTypes, []uint16{tc.attr}) || ran):
				t.Errorf("%s, attribute %d: %v (handler ran: %v)", protocol, tc.attr, err, ran)
			case !refused && (err != nil || !ran):
				t.Errorf("%s, attribute %d: %v (handler ran: %v)", protocol, tc.attr, err, ran)
			}
		}
	}
}

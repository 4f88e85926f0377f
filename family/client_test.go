package family_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// demo is a fake family: command 1 is a do request, command 2 a
// notification on group "events".
var demo = genltest.Family{
	ID: 0x20, Name: "demo", Version: 1,
	Ops:    []genltest.Op{{ID: 1, Flags: unix.GENL_CMD_CAP_DO}},
	Groups: []genltest.Group{{ID: 7, Name: "events"}},
}

// A Client is the core a generated package wraps: it resolves the family,
// checks an op before sending, and lends out a pooled request buffer.
func ExampleClient() {
	k := genltest.New()
	k.Controller(demo)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		fmt.Printf("kernel: command %d version %d, %d bytes\n", r.Genl.Command, r.Genl.Version, len(r.Data))
		k.Push(genltest.Ack(r))
	})
	conn, err := genl.NewConn(k.Transport())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()

	c, err := family.NewClient(ctx, conn, "demo", 2)
	if err != nil {
		log.Fatal(err)
	}
	fam, err := c.Check(ctx, 1, "set", false)
	if err != nil {
		log.Fatal(err)
	}
	b := c.Buffer(4) // a 4-byte fixed header, then attributes
	defer c.Release(b)
	b.Header()[0] = 1
	b.Encoder().U32(1, 42)
	req, err := b.Request(fam, 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(conn.Do(ctx, req, nil))

	_, err = c.Check(ctx, 1, "set", true)
	fmt.Println(errors.Is(err, family.ErrNotSupported), err)
	// Output:
	// kernel: command 1 version 2, 12 bytes
	// <nil>
	// true family demo: op set: dump: operation not supported by the running kernel
}

func TestClientOptions(t *testing.T) {
	k := genltest.New()
	ctrl := k.Controller(demo)
	conn, err := genl.NewConn(k.Transport())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()

	fam := &family.Family{ID: 0x30, Name: "demo"}
	c, err := family.NewClient(ctx, conn, "demo", 1, family.WithFamily(fam))
	if err != nil {
		t.Fatal(err)
	}
	if c.Family() != fam || c.Conn() != conn || ctrl.Lookups() != 0 {
		t.Fatalf("WithFamily: family %v, conn %p, %d lookups", c.Family(), c.Conn(), ctrl.Lookups())
	}

	r, err := family.NewResolver(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err = family.NewClient(ctx, conn, "demo", 1, family.WithResolver(r))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Current(ctx); err != nil || got.ID != 0x20 {
		t.Fatalf("Current = %v, %v; want id 0x20", got, err)
	}

	if _, err := family.NewClient(ctx, conn, "nosuch", 1); !errors.Is(err, family.ErrNotFound) {
		t.Fatalf("NewClient(nosuch) = %v; want ErrNotFound", err)
	}
}

func TestClientRequestBuffer(t *testing.T) {
	_, c := newDemoClient(t, 3)
	fam := c.Family()
	for range 3 { // reused buffers start clean
		b := c.Buffer(4)
		if h := b.Header(); len(h) != 4 || h[0] != 0 {
			t.Fatalf("Header = %x; want 4 zero bytes", h)
		}
		b.Header()[0] = 0xff
		b.Encoder().U8(2, 9)
		req, err := b.Request(fam, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if req.Family != 0x20 || req.Command != 1 || req.Version != 3 || len(req.Header) != 4 || req.Header[0] != 0xff || len(req.Attrs) != 8 {
			t.Fatalf("Request = %+v", req)
		}
		c.Release(b)
	}
	b := c.Buffer(0)
	defer c.Release(b)
	b.Encoder().Binary(1, make([]byte, 1<<17)) // too long for an attribute
	if _, err := b.Request(fam, 1, nil); err == nil {
		t.Fatal("Request with an encoding error: no error")
	}
}

func TestSubscribe(t *testing.T) {
	k, c := newDemoClient(t, 1)
	ctx := context.Background()
	if _, err := family.Subscribe[int](ctx, c, nil, "nosuch"); !errors.Is(err, family.ErrNotFound) {
		t.Fatalf("Subscribe(nosuch) = %v; want ErrNotFound", err)
	}
	decode := func(m genl.Message) (uint8, error) {
		if m.Header.Command == 9 {
			return 0, &attrs.Error{Msg: "bad"}
		}
		return m.Header.Command, nil
	}
	sub, err := family.Subscribe(ctx, c, decode, "events")
	if err != nil {
		t.Fatal(err)
	}
	if g := sub.Groups(); len(g) != 1 || g[0] != 7 {
		t.Fatalf("Groups = %v; want [7]", g)
	}
	k.PushGroup(7, genltest.Notification(0x55, 3, nil)) // another family's
	k.PushGroup(7, genltest.Notification(0x20, 9, nil)) // fails to decode
	k.PushGroup(7, genltest.Notification(0x20, 2, nil))
	var got []string
	for n, err := range sub.All(ctx) {
		got = append(got, fmt.Sprint(n, err != nil))
		if len(got) == 2 {
			sub.Close()
		}
	}
	if fmt.Sprint(got) != "[0 true 2 false 0 true]" {
		t.Fatalf("All yielded %v", got)
	}
}

// newDemoClient returns a fake kernel holding demo and a Client for it whose
// requests carry version.
func newDemoClient(t *testing.T, version uint8) (*genltest.Kernel, *family.Client) {
	t.Helper()
	k := genltest.New()
	k.Controller(demo)
	conn, err := genl.NewConn(k.Transport())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := family.NewClient(context.Background(), conn, "demo", version)
	if err != nil {
		t.Fatal(err)
	}
	return k, c
}

// TestClientLocal: Local keeps one value per key for the client's life,
// made on first use.
func TestClientLocal(t *testing.T) {
	_, c := newDemoClient(t, 1)
	type keyA struct{}
	type keyB struct{}
	made := 0
	newValue := func() any { made++; return new(int) }
	a1, a2 := c.Local(keyA{}, newValue), c.Local(keyA{}, newValue)
	b := c.Local(keyB{}, newValue)
	if a1 != a2 || a1 == b || made != 2 {
		t.Errorf("Local: same key gave %p and %p, other key %p; newValue ran %d times, want 2", a1, a2, b, made)
	}
	_, other := newDemoClient(t, 1)
	if other.Local(keyA{}, newValue) == a1 {
		t.Error("two clients share a value")
	}
}

package genl_test

import (
	"context"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/testutils"
	"github.com/mdlayher/netlink"
)

func TestMain(m *testing.M) { testutils.Main(m) }

const fam = 0x20

func fake(t *testing.T, opts ...genl.Option) (*genltest.Kernel, *genl.Conn) {
	t.Helper()
	k := genltest.New()
	c, err := k.Dial(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return k, c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func u32Attrs(typ uint16, v uint32) []byte {
	var enc attrs.Encoder
	enc.U32(typ, v)
	return enc.Bytes()
}

// echo answers every request with its own payload, then an ACK.
func echo(k *genltest.Kernel, r genltest.Request) {
	if r.Header.Type < 0x10 {
		k.Push(genltest.Ack(r))
		return
	}
	k.Push(genltest.Reply(r, r.Genl.Command, r.Data))
	k.Push(genltest.Ack(r))
}

func dumpHandler(parts [][]byte, end func(r genltest.Request) []byte) genltest.Handler {
	return func(k *genltest.Kernel, r genltest.Request) {
		if r.Header.Flags&netlink.Dump != netlink.Dump {
			echo(k, r)
			return
		}
		var msgs [][]byte
		for _, p := range parts {
			msgs = append(msgs, genltest.ReplyMulti(r, 1, p, 0))
		}
		k.Push(msgs[:len(msgs)/2]...)
		k.Push(msgs[len(msgs)/2:]...)
		k.Push(end(r))
	}
}

func collect(t *testing.T, c *genl.Conn, req genl.Request) ([]uint32, error) {
	t.Helper()
	var vals []uint32
	for m, err := range c.Dump(ctxT(t), req) {
		if err != nil {
			return vals, err
		}
		d := attrs.NewDecoder(m.Data)
		for d.Next() {
			vals = append(vals, d.U32())
		}
	}
	return vals, nil
}

func parts(n int) [][]byte {
	var p [][]byte
	for i := range n {
		p = append(p, u32Attrs(1, uint32(i)))
	}
	return p
}

// holdLeader starts an ACK request with command cmd, which the test's
// kernel handler leaves unanswered (telling the fake with AnswerLater), so
// that its caller leads the Conn until release answers it and checks that
// it succeeded.
func holdLeader(t *testing.T, k *genltest.Kernel, c *genl.Conn, cmd uint8) (release func()) {
	t.Helper()
	lead := make(chan error, 1)
	go func() { lead <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: cmd}) }()
	first, err := k.NextRequest(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		k.Push(genltest.Ack(first))
		if err := <-lead; err != nil {
			t.Error(err)
		}
	}
}

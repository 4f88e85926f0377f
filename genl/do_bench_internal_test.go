package genl

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/mdlayher/netlink"
)

// An answerTransport answers every do-request at once with the same reply
// and an ACK, each a datagram of its own as the kernel queues them. It
// stands in for the kernel in benchmarks of the Conn's own per-request
// work.
type answerTransport struct {
	memTransport
	reply []byte // the reply message; its sequence number is the request's
	ack   []byte
	next  int // what Recv returns next: 0 reply, 1 ACK, 2 nothing
}

func newAnswerTransport(attrs []byte) *answerTransport {
	t := &answerTransport{next: 2}
	t.reply = make([]byte, hdrLen+len(attrs))
	putHeader(t.reply, uint32(len(t.reply)), dumpFamily, 0, 0, 0)
	t.reply[nlmsgHdrLen] = 1
	copy(t.reply[hdrLen:], attrs)
	t.ack = make([]byte, nlmsgHdrLen+4+nlmsgHdrLen)
	putHeader(t.ack, uint32(len(t.ack)), uint16(netlink.Error), uint16(netlink.Capped), 0, 0)
	return t
}

func (t *answerTransport) Send(b []byte) error {
	seq := binary.NativeEndian.Uint32(b[8:12])
	binary.NativeEndian.PutUint32(t.reply[8:12], seq)
	binary.NativeEndian.PutUint32(t.ack[8:12], seq)
	copy(t.ack[nlmsgHdrLen+4:], b[:nlmsgHdrLen])
	t.next = 0
	return nil
}

func (t *answerTransport) Recv(d []Datagram, wait bool) (int, error) {
	n := 0
	for n < len(d) && t.next < 2 {
		q := t.reply
		if t.next == 1 {
			q = t.ack
		}
		t.next++
		d[n].N = copy(d[n].Buf, q)
		d[n].Size, d[n].Trunc, d[n].Port, d[n].Group = len(q), false, 0, 0
		n++
	}
	return n, nil
}

// BenchmarkDoAnswered measures what a Conn does per do-request on its
// own, without a kernel: each request is answered from memory by a reply
// shaped like ethtool linkinfo-get's and an ACK, with the flow control of a
// socket's default receive buffer.
func BenchmarkDoAnswered(b *testing.B) {
	var e attrs.Encoder
	n := e.Nest(1)
	e.U32(1, 7)
	e.String(2, "veth1234")
	e.End(n)
	e.U8(2, 0)
	e.U8(3, 0)
	e.U8(4, 0)
	e.U8(5, 0)
	e.U8(6, 0)
	if err := e.Err(); err != nil {
		b.Fatal(err)
	}
	c, err := NewConn(newAnswerTransport(e.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.fl.setBuffers(212992, 212992)
	ctx := context.Background()
	req := Request{Family: dumpFamily, Command: 2, Version: 1, Attrs: []byte{12, 0, 1, 0x80, 8, 0, 1, 0, 7, 0, 0, 0}}
	var got int
	fn := func(m Message) error { got += len(m.Data); return nil }
	for range 10 {
		if err := c.Do(ctx, req, fn); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Do(ctx, req, fn); err != nil {
			b.Fatal(err)
		}
	}
}

package genl

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/mdlayher/netlink"
)

// A replayTransport answers every dump request with the same prepared
// dump: parts of dumpFamily packed into datagrams of up to 32 KiB, the way
// netlink_dump fills its buffers, and NLMSG_DONE after them. It stands in
// for the kernel in benchmarks of the Conn's own per-message work.
type replayTransport struct {
	memTransport
	mu    sync.Mutex
	parts [][]byte // datagrams of one dump
	next  int      // the next datagram Recv returns
}

const dumpFamily = 0x20

// newReplayTransport prepares a dump of n parts, each carrying attrs.
func newReplayTransport(n int, attrs []byte) *replayTransport {
	t := &replayTransport{}
	msg := make([]byte, hdrLen+len(attrs))
	putHeader(msg, uint32(len(msg)), dumpFamily, uint16(netlink.Multi), 0, 0)
	msg[nlmsgHdrLen] = 1
	copy(msg[hdrLen:], attrs)
	var dg []byte
	for range n {
		if len(dg)+align4(len(msg)) > defaultRecvBufSize {
			t.parts = append(t.parts, dg)
			dg = nil
		}
		dg = append(dg, msg...)
		dg = append(dg, make([]byte, align4(len(msg))-len(msg))...)
	}
	done := make([]byte, nlmsgHdrLen+4)
	putHeader(done, uint32(len(done)), uint16(netlink.Done), uint16(netlink.Multi), 0, 0)
	if len(dg)+len(done) > defaultRecvBufSize {
		t.parts = append(t.parts, dg)
		dg = nil
	}
	t.parts = append(t.parts, append(dg, done...))
	return t
}

func (t *replayTransport) Send(b []byte) error {
	seq := binary.NativeEndian.Uint32(b[8:12])
	t.mu.Lock()
	for _, p := range t.parts {
		for m := p; len(m) >= nlmsgHdrLen; {
			binary.NativeEndian.PutUint32(m[8:12], seq)
			m = m[min(align4(int(binary.NativeEndian.Uint32(m))), len(m)):]
		}
	}
	t.next = 0
	t.mu.Unlock()
	return nil
}

func (t *replayTransport) Recv(d []Datagram, wait bool) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for n < len(d) && t.next < len(t.parts) {
		q := t.parts[t.next]
		t.next++
		d[n].N = copy(d[n].Buf, q)
		d[n].Size, d[n].Trunc, d[n].Port, d[n].Group = len(q), false, 0, 0
		n++
	}
	return n, nil
}

// A memTransport is the rest of a Transport for the in-memory stand-ins
// for the kernel of the benchmarks, which have no socket to configure.
type memTransport struct{}

func (memTransport) SetReadDeadline(time.Time) error { return nil }
func (memTransport) JoinGroup(uint32) error          { return nil }
func (memTransport) LeaveGroup(uint32) error         { return nil }
func (memTransport) PortID() uint32                  { return 1234 }
func (memTransport) Close() error                    { return nil }

// BenchmarkDumpReplay measures what a Conn does per dump part on its own,
// without a kernel: a dump of 2,001 parts shaped like netdev dev-get's
// replayed from memory, each part's attributes read with an attrs.Decoder.
// ns/part divides by the parts of one dump.
func BenchmarkDumpReplay(b *testing.B) {
	var e attrs.Encoder
	e.U32(1, 7)
	e.U64(2, 0x7f)
	e.U32(3, 0)
	e.U64(4, 3)
	e.U64(5, 1)
	if err := e.Err(); err != nil {
		b.Fatal(err)
	}
	a := e.Bytes()
	const parts = 2001
	c, err := NewConn(newReplayTransport(parts, a))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	req := Request{Family: dumpFamily, Command: 1, Version: 1}
	dump := func() int {
		n := 0
		var d attrs.Decoder
		for m, err := range c.Dump(ctx, req) {
			if err != nil {
				b.Fatal(err)
			}
			d.Reset(m.Data)
			for d.Next() {
				switch d.Type() {
				case 1, 3:
					n += int(d.U32() & 1)
				default:
					n += int(d.U64() & 1)
				}
			}
		}
		return n
	}
	dump()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		dump()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/parts, "ns/part")
}

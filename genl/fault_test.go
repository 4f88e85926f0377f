package genl_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Hostile input from the fake kernel (issue 9). Every fault must give a
// defined error to the caller it concerns, or be dropped and counted in
// Stats, and the Conn must keep serving the other callers: each case runs
// with a bystander request in flight beside the victim, and a do-request
// and a dump on the same Conn afterwards.
//
// Faults already proven by other tests (in route_test.go, dump_test.go,
// conn_test.go and subscribe_test.go):
//
//	replies truncated (MSG_TRUNC)    TestTruncated
//	lengths lying                    TestMalformed
//	reply for a sequence nobody asked TestCancel (late reply), TestDuplicateAndStale
//	duplicate ACKs                   TestDuplicateAndStale
//	DONE without MULTI               TestDumpEndings/done_without_multi_or_payload
//	NLM_F_DUMP_INTR                  TestDumpEndings/interrupted, TestDumpInterruptedFlagOnPart
//	NLMSG_ERROR in the middle of a dump TestDumpEndings/error_mid-dump
//	reply from a non-kernel port id  TestSpoofedDropped
//	ENOBUFS overrun                  TestOverrun
//
// TestFaultTable repeats each of them (and adds the gaps: truncated dump
// parts, lengths shorter than the content, short NLMSG_ERROR, unknown
// message types, parts after an error, spoofed multicast) with a bystander
// in flight, and checks the counters exactly.

// A dgram is one datagram the fake kernel delivers.
type dgram struct {
	port, group uint32
	b           []byte
}

func kern(msgs ...[]byte) dgram { return dgram{b: joinMsgs(msgs...)} }

func joinMsgs(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, m...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

// outcome is what the victim's caller saw.
type outcome struct {
	err   error
	data  [][]byte // payloads of the messages handed to the caller
	types []netlink.HeaderType
}

// delta is the change of the counters a fault must leave.
type delta struct {
	Spoofed, Stale, Discarded, Malformed, Truncated, Unrouted uint64
}

func statsDelta(a, b genl.Stats) delta {
	return delta{
		Spoofed: b.Spoofed - a.Spoofed, Stale: b.Stale - a.Stale, Discarded: b.Discarded - a.Discarded,
		Malformed: b.Malformed - a.Malformed, Truncated: b.Truncated - a.Truncated, Unrouted: b.Unrouted - a.Unrouted,
	}
}

type faultCase struct {
	name string
	dump bool // the victim is a dump; otherwise a do-request
	// inject returns the datagrams for the victim's request r (all of
	// them, the final message included).
	inject func(r genltest.Request) []dgram
	// want is the error the victim must get (errors.Is), nil for success.
	want error
	// parts is how many data messages the victim's caller must see, all
	// with the family's type.
	parts int
	delta delta
}

func big() []byte { return make([]byte, 40<<10) } // more than the 32 KiB receive slot

func faultCases() []faultCase {
	p := func(i uint32) []byte { return u32Attrs(1, i) }
	return []faultCase{
		{name: "truncated reply", inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.Reply(r, 1, big())), kern(genltest.Ack(r))}
		}, want: genl.ErrTruncated, delta: delta{Truncated: 1, Stale: 1}},
		{name: "truncated dump part", dump: true, inject: func(r genltest.Request) []dgram {
			return []dgram{
				kern(genltest.ReplyMulti(r, 1, p(1), 0)),
				kern(genltest.ReplyMulti(r, 1, big(), 0)),
				kern(genltest.ReplyMulti(r, 1, p(3), 0), genltest.ReplyMulti(r, 1, p(4), 0)),
				kern(genltest.Done(r, 0, 0, nil)),
			}
		}, want: genl.ErrTruncated, parts: 1, delta: delta{Truncated: 1, Discarded: 3}},
		{name: "length past the end of the datagram", inject: func(r genltest.Request) []dgram {
			bad := genltest.Reply(r, 1, p(666))
			bad[0] = 200
			return []dgram{{b: bad}, kern(genltest.Reply(r, 1, p(1))), kern(genltest.Ack(r))}
		}, parts: 1, delta: delta{Malformed: 1}},
		{name: "length below the header size", inject: func(r genltest.Request) []dgram {
			bad := genltest.Reply(r, 1, p(666))
			bad[0] = 8
			return []dgram{{b: bad}, kern(genltest.Reply(r, 1, p(1)), genltest.Ack(r))}
		}, parts: 1, delta: delta{Malformed: 1}},
		{name: "length shorter than the content", inject: func(r genltest.Request) []dgram {
			// The header claims 16 bytes: a message without a generic
			// netlink header, then 8 bytes that are no message at all.
			bad := genltest.Reply(r, 1, p(666))
			bad[0] = 16
			return []dgram{{b: bad}, kern(genltest.Reply(r, 1, p(1))), kern(genltest.Ack(r))}
		}, want: genl.ErrMalformed, parts: 1, delta: delta{Malformed: 2}},
		{name: "datagram shorter than a header", inject: func(r genltest.Request) []dgram {
			return []dgram{{b: []byte{1, 2, 3}}, kern(genltest.Reply(r, 1, p(1)), genltest.Ack(r))}
		}, parts: 1, delta: delta{Malformed: 1}},
		{name: "NLMSG_ERROR shorter than its error code", inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.Reply(r, 1, p(1))), kern(genltest.Msg(unix.NLMSG_ERROR, 0, r.Header.Sequence, r.Header.PID, []byte{1, 2}))}
		}, want: genl.ErrMalformed, parts: 1, delta: delta{Malformed: 1}},
		{name: "NLMSG_ERROR with lying extack lengths", inject: func(r genltest.Request) []dgram {
			e := genltest.Error(r, unix.EINVAL, &genltest.Extack{Msg: "bad", Offset: 20})
			e[len(e)-8] = 0xff // the offset attribute's length
			return []dgram{kern(e)}
		}, want: unix.EINVAL},
		{name: "unknown control message type", inject: func(r genltest.Request) []dgram {
			odd := genltest.Msg(5, 0, r.Header.Sequence, r.Header.PID, []byte{1, 0, 0, 0, 8, 0, 1, 0, 9, 9, 9, 9})
			return []dgram{kern(odd, genltest.Reply(r, 1, p(1))), kern(genltest.Ack(r))}
		}, parts: 1, delta: delta{Malformed: 1}},
		{name: "NLMSG_NOOP and NLMSG_OVERRUN messages", inject: func(r genltest.Request) []dgram {
			return []dgram{kern(
				genltest.Msg(unix.NLMSG_NOOP, 0, r.Header.Sequence, r.Header.PID, nil),
				genltest.Msg(unix.NLMSG_OVERRUN, 0, r.Header.Sequence, r.Header.PID, nil),
				genltest.Reply(r, 1, p(1)), genltest.Ack(r))}
		}, parts: 1},
		{name: "reply of another family", inject: func(r genltest.Request) []dgram {
			other := genltest.GenlMsg(fam+1, 0, r.Header.Sequence, r.Header.PID, 1, 1, p(666))
			return []dgram{kern(other, genltest.Reply(r, 1, p(1))), kern(genltest.Ack(r))}
		}, parts: 1, delta: delta{Malformed: 1}},
		{name: "reply for a sequence nobody asked", inject: func(r genltest.Request) []dgram {
			ghost := r
			ghost.Header.Sequence += 1000
			return []dgram{kern(genltest.Reply(ghost, 1, p(666)), genltest.Ack(ghost)),
				kern(genltest.Reply(r, 1, p(1)), genltest.Ack(r))}
		}, parts: 1, delta: delta{Stale: 2}},
		{name: "duplicate ACKs", inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.Reply(r, 1, p(1)), genltest.Ack(r), genltest.Ack(r)), kern(genltest.Ack(r))}
		}, parts: 1, delta: delta{Stale: 2}},
		{name: "DONE without MULTI ends a dump", dump: true, inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.ReplyMulti(r, 1, p(1), 0), genltest.ReplyMulti(r, 1, p(2), 0)),
				kern(genltest.Msg(unix.NLMSG_DONE, 0, r.Header.Sequence, r.Header.PID, []byte{0, 0, 0, 0}))}
		}, parts: 2},
		{name: "DONE to a do-request is ignored", inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.Reply(r, 1, p(1)), genltest.Done(r, 0, 0, nil)), kern(genltest.Ack(r))}
		}, parts: 1},
		{name: "DUMP_INTR on DONE", dump: true, inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.ReplyMulti(r, 1, p(1), 0), genltest.ReplyMulti(r, 1, p(2), 0)),
				kern(genltest.Done(r, 0, netlink.DumpInterrupted, nil))}
		}, want: genl.ErrDumpInterrupted, parts: 2},
		{name: "DUMP_INTR on a part", dump: true, inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.ReplyMulti(r, 1, p(1), 0)), kern(genltest.ReplyMulti(r, 1, p(2), netlink.DumpInterrupted)),
				kern(genltest.ReplyMulti(r, 1, p(3), 0), genltest.Done(r, 0, 0, nil))}
		}, want: genl.ErrDumpInterrupted, parts: 3},
		{name: "NLMSG_ERROR in the middle of a dump", dump: true, inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.ReplyMulti(r, 1, p(1), 0), genltest.ReplyMulti(r, 1, p(2), 0)),
				kern(genltest.Error(r, unix.EIO, &genltest.Extack{Msg: "device went away"})),
				kern(genltest.ReplyMulti(r, 1, p(3), 0), genltest.Done(r, 0, 0, nil))}
		}, want: unix.EIO, parts: 2, delta: delta{Stale: 2}},
		{name: "DONE carrying an error", dump: true, inject: func(r genltest.Request) []dgram {
			return []dgram{kern(genltest.ReplyMulti(r, 1, p(1), 0)),
				kern(genltest.Done(r, unix.EMSGSIZE, 0, &genltest.Extack{Msg: "too big"}))}
		}, want: unix.EMSGSIZE, parts: 1},
		{name: "reply from a non-kernel port", inject: func(r genltest.Request) []dgram {
			return []dgram{
				{port: 1234, b: joinMsgs(genltest.Reply(r, 1, p(666)), genltest.Ack(r))},
				{port: 1234, b: joinMsgs(genltest.Error(r, unix.EPERM, nil))},
				kern(genltest.Reply(r, 1, p(1))), kern(genltest.Ack(r))}
		}, parts: 1, delta: delta{Spoofed: 2}},
		{name: "dump parts from a non-kernel port", dump: true, inject: func(r genltest.Request) []dgram {
			return []dgram{
				kern(genltest.ReplyMulti(r, 1, p(1), 0)),
				{port: 99, b: joinMsgs(genltest.ReplyMulti(r, 1, p(666), 0), genltest.Done(r, 0, 0, nil))},
				kern(genltest.ReplyMulti(r, 1, p(2), 0), genltest.Done(r, 0, 0, nil))}
		}, parts: 2, delta: delta{Spoofed: 1}},
		{name: "multicast from a non-kernel port", inject: func(r genltest.Request) []dgram {
			return []dgram{{port: 77, group: 7, b: genltest.Notification(fam, 9, p(666))},
				kern(genltest.Reply(r, 1, p(1)), genltest.Ack(r))}
		}, parts: 1, delta: delta{Spoofed: 1}},
		{name: "notification in a reply's datagram", inject: func(r genltest.Request) []dgram {
			// Sequence 0: a notification, never a reply; no subscription.
			return []dgram{kern(genltest.Notification(fam, 9, p(666)), genltest.Reply(r, 1, p(1)), genltest.Ack(r))}
		}, parts: 1, delta: delta{Unrouted: 1}},
	}
}

func TestFaultTable(t *testing.T) {
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) {
			k, c := fake(t)
			ctx := ctxT(t)

			// The bystander: a do-request in flight the whole time.
			byWant := u32Attrs(1, 4242)
			byRes := make(chan error, 1)
			go func() {
				n := 0
				err := c.Do(ctx, genl.Request{Family: fam, Command: 50, Attrs: byWant}, func(m genl.Message) error {
					n++
					if !bytes.Equal(m.Data, byWant) {
						return fmt.Errorf("bystander got %x", m.Data)
					}
					return nil
				})
				if err == nil && n != 1 {
					err = fmt.Errorf("bystander got %d replies", n)
				}
				byRes <- err
			}()
			by, err := k.NextRequest(ctx)
			if err != nil {
				t.Fatal(err)
			}

			res := make(chan outcome, 1)
			go func() {
				var o outcome
				keep := func(m genl.Message) {
					o.data = append(o.data, slices.Clone(m.Data))
					o.types = append(o.types, m.Netlink.Type)
				}
				if tc.dump {
					for m, err := range c.Dump(ctx, genl.Request{Family: fam, Command: 60}) {
						if err != nil {
							o.err = err
							break
						}
						keep(m)
					}
				} else {
					o.err = c.Do(ctx, genl.Request{Family: fam, Command: 60}, func(m genl.Message) error { keep(m); return nil })
				}
				res <- o
			}()
			r, err := k.NextRequest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.Genl.Command != 60 {
				t.Fatalf("unexpected request %+v", r)
			}

			before := c.Stats()
			for _, d := range tc.inject(r) {
				k.PushRaw(d.port, d.group, d.b)
			}
			// The bystander's answer comes after every faulty datagram:
			// when it completes, all of them have been dispatched.
			k.Push(genltest.Reply(by, 50, by.Data), genltest.Ack(by))

			o := <-res
			if err := <-byRes; err != nil {
				t.Errorf("bystander: %v", err)
			}
			if tc.want == nil && o.err != nil || tc.want != nil && !errors.Is(o.err, tc.want) {
				t.Errorf("victim got %v, want %v", o.err, tc.want)
			}
			if tc.want != nil {
				var e *genl.Error
				if !errors.As(o.err, &e) || e.Family != fam || e.Command != 60 {
					t.Errorf("victim's error %v does not name its request (family %#x cmd 60)", o.err, fam)
				}
			}
			if len(o.data) != tc.parts {
				t.Errorf("victim's caller saw %d messages, want %d: %x", len(o.data), tc.parts, o.data)
			}
			for i, d := range o.data {
				if bytes.Contains(d, u32Attrs(1, 666)) || o.types[i] != fam {
					t.Errorf("victim's caller saw a foreign message: type %#x data %x", uint16(o.types[i]), d)
				}
			}
			if got := statsDelta(before, c.Stats()); got != tc.delta {
				t.Errorf("counters changed by %+v, want %+v", got, tc.delta)
			}
			if testing.Verbose() {
				t.Logf("victim: %v; stats %+v", o.err, c.Stats())
			}

			// The Conn keeps serving: a do-request and a whole dump.
			k.Handle(dumpHandler(parts(3), func(r genltest.Request) []byte { return genltest.Done(r, 0, 0, nil) }))
			if err := c.Do(ctxT(t), genl.Request{Family: fam, Attrs: u32Attrs(1, 5)}, func(m genl.Message) error {
				if !bytes.Equal(m.Data, u32Attrs(1, 5)) {
					return fmt.Errorf("got %x", m.Data)
				}
				return nil
			}); err != nil {
				t.Fatalf("do after the fault: %v", err)
			}
			vals, err := collect(t, c, genl.Request{Family: fam, Command: 1})
			if err != nil || !slices.Equal(vals, []uint32{0, 1, 2}) {
				t.Fatalf("dump after the fault: %v %v", vals, err)
			}
		})
	}
}

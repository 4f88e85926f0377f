package genl_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
)

func TestSpoofedDropped(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.PushFrom(1234, 0, genltest.Reply(r, 1, u32Attrs(1, 666)), genltest.Ack(r))
		k.Push(genltest.Reply(r, 1, u32Attrs(1, 1)))
		k.Push(genltest.Ack(r))
	})
	var got []byte
	if err := c.Do(ctxT(t), genl.Request{Family: fam}, func(m genl.Message) error { got = slices.Clone(m.Data); return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, u32Attrs(1, 1)) || c.Stats().Spoofed != 1 {
		t.Fatalf("got %x, stats %+v", got, c.Stats())
	}
}

func TestReorderedReplies(t *testing.T) {
	k, c := fake(t)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			want := u32Attrs(1, uint32(i))
			err := c.Do(ctxT(t), genl.Request{Family: fam, Attrs: want}, func(m genl.Message) error {
				if !bytes.Equal(m.Data, want) {
					return fmt.Errorf("request %d got %x", i, m.Data)
				}
				return nil
			})
			errs <- err
		}()
	}
	var reqs []genltest.Request
	for range n {
		r, err := k.NextRequest(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	// Answer in reverse order, replies and ACKs in separate datagrams.
	for i := n - 1; i >= 0; i-- {
		k.Push(genltest.Reply(reqs[i], 1, reqs[i].Data))
	}
	for i := n - 1; i >= 0; i-- {
		k.Push(genltest.Ack(reqs[i]))
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestDuplicateAndStale(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.Push(genltest.Reply(r, 1, nil), genltest.Ack(r), genltest.Ack(r))
	})
	for range 2 {
		if err := c.Do(ctxT(t), genl.Request{Family: fam}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Stale != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTruncated(t *testing.T) {
	k, c := fake(t)
	big := make([]byte, 40<<10)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		if r.Genl.Command == 1 {
			k.Push(genltest.Reply(r, 1, big))
		} else {
			k.Push(genltest.Reply(r, 1, nil))
		}
		k.Push(genltest.Ack(r))
	})
	err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 1}, nil)
	if !errors.Is(err, genl.ErrTruncated) {
		t.Fatalf("got %v", err)
	}
	if err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 2}, nil); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Truncated != 1 || st.Stale != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMalformed(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.PushRaw(0, 0, []byte{1, 2, 3})                                      // shorter than a header
		k.PushRaw(0, 0, genltest.Msg(fam, 0, r.Header.Sequence, 0, nil)[:12]) // cut header
		bad := genltest.Msg(fam, 0, r.Header.Sequence, 0, make([]byte, 8))    // length past the end
		bad[0] = 200
		k.PushRaw(0, 0, bad)
		k.Push(genltest.Msg(fam, 0, r.Header.Sequence, r.Header.PID, []byte{1})) // no genl header
		k.Push(genltest.Reply(r, 1, nil))
		k.Push(genltest.Ack(r))
	})
	n := 0
	err := c.Do(ctxT(t), genl.Request{Family: fam}, func(genl.Message) error { n++; return nil })
	if !errors.Is(err, genl.ErrMalformed) || n != 1 {
		t.Fatalf("err %v, %d replies", err, n)
	}
	if st := c.Stats(); st.Malformed < 4 {
		t.Fatalf("stats %+v", st)
	}
}

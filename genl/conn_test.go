package genl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
)

func TestCancel(t *testing.T) {
	k, c := fake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Do(ctx, genl.Request{Family: fam}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
	late := k.Requests()[0]
	k.Push(genltest.Reply(late, 1, nil), genltest.Ack(late))
	k.Handle(echo)
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Stale != 2 {
		t.Errorf("stats %+v", st)
	}

	// A follower (not the leader) cancelled while another call leads.
	k.Handle(nil)
	lead := make(chan error, 1)
	go func() { lead <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: 9}) }()
	r1, _ := k.NextRequest(ctxT(t))
	_ = r1
	r1, _ = k.NextRequest(ctxT(t)) // skip the echo-era requests
	for r1.Genl.Command != 9 {
		r1, _ = k.NextRequest(ctxT(t))
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	f := make(chan error, 1)
	go func() { f <- c.Ack(ctx2, genl.Request{Family: fam, Command: 10}) }()
	time.Sleep(10 * time.Millisecond)
	cancel2()
	if err := <-f; !errors.Is(err, context.Canceled) {
		t.Fatalf("follower got %v", err)
	}
	k.Push(genltest.Ack(r1))
	if err := <-lead; err != nil {
		t.Fatal(err)
	}
}

func TestClose(t *testing.T) {
	k, c := fake(t)
	sub, err := c.Subscribe(3)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	go func() { errs <- c.Ack(context.Background(), genl.Request{Family: fam}) }()
	go func() { _, err := sub.Next(context.Background()); errs <- err }()
	go func() {
		for _, err := range c.Dump(context.Background(), genl.Request{Family: fam}) {
			errs <- err
			return
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case err := <-errs:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("got %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock a call")
		}
	}
	if err := c.Ack(context.Background(), genl.Request{Family: fam}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if !k.Closed() || c.Close() != nil {
		t.Error("transport not closed, or second Close failed")
	}
}

// TestConcurrentFake runs many goroutines of do-requests on one Conn; every
// request must see exactly its own reply before its ACK. The slow kernel
// yields inside sendmsg between the reply and the ACK, so that callers
// sending requests for others meet replies routed to them by the leader.
func TestConcurrentFake(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler genltest.Handler
	}{
		{"echo", echo},
		{"slow", func(k *genltest.Kernel, r genltest.Request) {
			k.Push(genltest.Reply(r, r.Genl.Command, r.Data))
			runtime.Gosched()
			k.Push(genltest.Ack(r))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, c := fake(t)
			k.Handle(tc.handler)
			const G, N = 50, 200
			var wg sync.WaitGroup
			for g := range G {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range N {
						want := u32Attrs(uint16(g+1), uint32(i))
						replies := 0
						err := c.Do(context.Background(), genl.Request{Family: fam, Attrs: want}, func(m genl.Message) error {
							replies++
							if !bytes.Equal(m.Data, want) {
								return fmt.Errorf("goroutine %d request %d got %x", g, i, m.Data)
							}
							return nil
						})
						if err == nil && replies != 1 {
							err = fmt.Errorf("goroutine %d request %d: %d replies before the ACK, want 1", g, i, replies)
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if st := c.Stats(); st.Requests != G*N || st.Stale != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

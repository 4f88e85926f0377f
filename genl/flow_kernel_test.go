package genl_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
)

// Flow control on the real kernel: bursts of callers and big batches must
// never overrun the Conn's own receive buffer nor exceed its send buffer.
// Each case prints a RELIABILITY line that docs/reliability.md quotes.

// burstResult counts what a burst of requests got.
type burstResult struct {
	ok, overrun, other int
	firstErr           error
	took               time.Duration
}

func (r *burstResult) add(err error) {
	switch {
	case err == nil:
		r.ok++
	case errors.Is(err, genl.ErrOverrun):
		r.overrun++
	default:
		r.other++
	}
	if err != nil && r.firstErr == nil {
		r.firstErr = err
	}
}

// burst runs n goroutines that each make one netdev dev-get for lo at the
// same moment.
func burst(t *testing.T, nd *netdev.Client, n int) burstResult {
	t.Helper()
	var (
		mu  sync.Mutex
		r   burstResult
		wg  sync.WaitGroup
		go_ = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-go_
			dev, err := nd.DevGet(ctxT(t), &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)})
			if err == nil && dev.Ifindex.Value != 1 {
				err = fmt.Errorf("reply for ifindex %d", dev.Ifindex.Value)
			}
			mu.Lock()
			r.add(err)
			mu.Unlock()
		}()
	}
	time.Sleep(20 * time.Millisecond) // let every goroutine reach the gate
	start := time.Now()
	close(go_)
	wg.Wait()
	r.took = time.Since(start)
	return r
}

// TestKernelBurst: 300 and 1,000 goroutines each make one dev-get at the
// same moment on a fresh Conn (default 212,992-byte receive buffer). Every
// request must be answered, once, with no overrun.
func TestKernelBurst(t *testing.T) {
	for _, n := range []int{300, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			const rounds = 3
			for round := range rounds {
				_, c := kernelConn(t)
				nd := netdevClient(t, c)
				rb, _ := c.ReadBuffer()
				before := c.Stats()
				r := burst(t, nd, n)
				st := c.Stats()
				reliabilityLine(t, "goroutines", n, "round", round, "rcvbuf", rb, "ok", r.ok, "overrun_errors", r.overrun,
					"other_errors", r.other, "took", r.took.Round(time.Microsecond), "requests", st.Requests-before.Requests,
					"sends", st.Sends-before.Sends, "overruns", st.Overruns, "lost_replies", st.LostReplies, "stale", st.Stale)
				if r.ok != n || st.Overruns != 0 || st.Stale != 0 {
					t.Errorf("round %d: %d of %d answered (%d overrun errors, %d others, first: %v), overruns %d, stale %d",
						round, r.ok, n, r.overrun, r.other, r.firstErr, st.Overruns, st.Stale)
				}
				c.Close()
			}
		})
	}
}

// devGetReqs returns n dev-get requests for lo, with an ACK each.
func devGetReqs(fam uint16, n int) []genl.Request {
	var enc attrs.Encoder
	enc.U32(netdevADevIfindex, 1)
	b := enc.Bytes()
	reqs := make([]genl.Request, n)
	for i := range reqs {
		reqs[i] = genl.Request{Family: fam, Command: netdevCmdDevGet, Version: 1, Attrs: b}
	}
	return reqs
}

// batchCheck runs reqs as one Batch and checks that every request got
// exactly one reply and no error.
func batchCheck(t *testing.T, c *genl.Conn, reqs []genl.Request) (took time.Duration) {
	t.Helper()
	got := make([]int, len(reqs))
	start := time.Now()
	err := c.Batch(ctxT(t), reqs, func(i int, m genl.Message) error {
		got[i]++
		return nil
	})
	took = time.Since(start)
	if err != nil {
		var be *genl.BatchError
		failed := 0
		if errors.As(err, &be) {
			for _, e := range be.Errs {
				if e != nil {
					failed++
				}
			}
		}
		t.Fatalf("Batch of %d: %d failed: %v", len(reqs), failed, err)
	}
	for i, n := range got {
		if n != 1 {
			t.Fatalf("request %d of %d got %d replies", i, len(reqs), n)
		}
	}
	return took
}

// TestKernelBatchWindows: a Batch of 500 dev-gets (more replies than the
// default receive buffer holds at once) and one of 5,000 succeed, every
// request answered once, sent in windows.
func TestKernelBatchWindows(t *testing.T) {
	_, c := kernelConn(t)
	nd := netdevClient(t, c)
	for _, n := range []int{500, 5000} {
		before := c.Stats()
		took := batchCheck(t, c, devGetReqs(nd.Family().ID, n))
		st := c.Stats()
		reliabilityLine(t, "batch", n, "took", took.Round(time.Microsecond), "sends", st.Sends-before.Sends,
			"overruns", st.Overruns, "lost_replies", st.LostReplies)
		if st.Overruns != 0 {
			t.Fatalf("Batch of %d: %d overruns", n, st.Overruns)
		}
	}
}

// TestKernelSmallSendBuffer: with WithWriteBuffer(4096) (the kernel makes
// it 8,192; one sendmsg may carry 8,160 bytes), 1,000 concurrent Do and a
// Batch of 400 (11 KB) succeed: sendmsgs are split at the send buffer.
func TestKernelSmallSendBuffer(t *testing.T) {
	_, c := kernelConn(t, genl.WithWriteBuffer(4096))
	nd := netdevClient(t, c)
	r := burst(t, nd, 1000)
	st := c.Stats()
	reliabilityLine(t, "case", "1000-do", "ok", r.ok, "overrun_errors", r.overrun, "other_errors", r.other,
		"took", r.took.Round(time.Microsecond), "sends", st.Sends, "send_errors", st.SendErrors)
	if r.ok != 1000 {
		t.Fatalf("1,000 concurrent Do: %d answered, first error: %v", r.ok, r.firstErr)
	}
	before := c.Stats()
	took := batchCheck(t, c, devGetReqs(nd.Family().ID, 400))
	st = c.Stats()
	reliabilityLine(t, "case", "batch-400", "took", took.Round(time.Microsecond), "sends", st.Sends-before.Sends,
		"send_errors", st.SendErrors)
	if st.SendErrors != 0 {
		t.Fatalf("send errors: %d", st.SendErrors)
	}
}

// mptcpEndpointIDs dumps the namespace's MPTCP endpoints.
func mptcpEndpointIDs(t *testing.T, c *genl.Conn, famID uint16) []uint8 {
	t.Helper()
	var ids []uint8
	for m, err := range c.Dump(ctxT(t), genl.Request{Family: famID, Command: mptcpCmdGetAddr, Version: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		d := attrs.NewDecoder(m.Data)
		for d.Next() {
			if d.Type() != mptcpAttrAddr {
				continue
			}
			for a := d.Nested(); a.Next(); {
				if a.Type() == mptcpAddrID {
					ids = append(ids, a.U8())
				}
			}
		}
	}
	return ids
}

// TestKernelLostReplyOutcomeUnknown: the ACK of a mutating request (mptcp_pm
// add-addr) is truly lost (the Conn's receive queue was full of answers
// nobody waits for): the kernel made the endpoint, and the caller must
// learn that the outcome is unknown (ErrOutcomeUnknown), not that it
// failed plainly.
func TestKernelLostReplyOutcomeUnknown(t *testing.T) {
	_, c := kernelConn(t, genl.WithReadBuffer(1))
	fi := needFamily(t, c, mptcpFamilyName)
	fillReceiveQueue(t, c)
	var enc attrs.Encoder
	mptcpAddr(&enc, 9, true)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := c.Ack(ctx, genl.Request{Family: fi.ID, Command: mptcpCmdAddAddr, Version: 1, Attrs: enc.Bytes()})
	if !errors.Is(err, genl.ErrOutcomeUnknown) || !errors.Is(err, genl.ErrOverrun) {
		t.Fatalf("add-addr whose ACK was lost: %v, want ErrOutcomeUnknown and ErrOverrun", err)
	}
	ids := mptcpEndpointIDs(t, c, fi.ID)
	reliabilityLine(t, "err", fmt.Sprintf("%q", err.Error()), "endpoints_after", fmt.Sprint(ids))
	if len(ids) != 1 || ids[0] != 9 {
		t.Fatalf("endpoints after the lost ACK: %v, want [9] (the kernel did add it)", ids)
	}
}

// TestKernelCancelledNotSent: a request whose context has already ended is
// never sent: add-addr leaves no endpoint, a dump yields only ctx.Err().
func TestKernelCancelledNotSent(t *testing.T) {
	_, c := kernelConn(t)
	fi := needFamily(t, c, mptcpFamilyName)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var enc attrs.Encoder
	mptcpAddr(&enc, 5, true)
	add := genl.Request{Family: fi.ID, Command: mptcpCmdAddAddr, Version: 1, Attrs: enc.Bytes()}
	if err := c.Ack(ctx, add); !errors.Is(err, context.Canceled) {
		t.Errorf("Ack with a cancelled ctx: %v", err)
	}
	if err := c.Batch(ctx, []genl.Request{add}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Batch with a cancelled ctx: %v", err)
	}
	n := 0
	var derr error
	for _, err := range c.Dump(ctx, genl.Request{Family: fi.ID, Command: mptcpCmdGetAddr, Version: 1}) {
		if err != nil {
			derr = err
			break
		}
		n++
	}
	if n != 0 || !errors.Is(derr, context.Canceled) {
		t.Errorf("Dump with a cancelled ctx: %d messages, %v", n, derr)
	}
	if ids := mptcpEndpointIDs(t, c, fi.ID); len(ids) != 0 {
		t.Fatalf("endpoints %v after requests with a cancelled ctx", ids)
	}
	if st := c.Stats(); st.Requests != 2 || st.Dumps != 1 { // getfamily + the check's dump
		t.Errorf("stats %+v", st)
	}
}

// TestKernelSubscriptionCloseWakesNext: a subscriber alone on the Conn
// blocks in the kernel; Close from another goroutine ends its Next.
func TestKernelSubscriptionCloseWakesNext(t *testing.T) {
	_, c := kernelConn(t)
	nd := netdevClient(t, c)
	sub, err := nd.Subscribe(ctxT(t), netdev.GroupMgmt)
	if err != nil {
		t.Fatal(err)
	}
	next := func(ctx context.Context) error { _, err := sub.Next(ctx); return err }
	took := closeWakesNext(t, c, next, sub.Close)
	reliabilityLine(t, "next_returned_after", took.Round(time.Microsecond))
}

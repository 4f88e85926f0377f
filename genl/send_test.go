package genl_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// TestSenderNotHeld checks that a caller who finds nobody sending, and
// sends, is not kept sending the requests other callers queue meanwhile:
// with 20 goroutines keeping the queue full for 1.5 s, every request
// completes within half a second.
func TestSenderNotHeld(t *testing.T) {
	const cmdLead, cmdLoad = 1, 2
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		if r.Genl.Command == cmdLead {
			k.AnswerLater(r) // unanswered until the end: its caller stays the leader
			return
		}
		time.Sleep(50 * time.Microsecond) // a slow handler inside sendmsg
		echo(k, r)
	})
	release := holdLeader(t, k, c, cmdLead)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	until := time.Now().Add(1500 * time.Millisecond)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(until) {
				start := time.Now()
				if err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: cmdLoad}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				slowest = max(slowest, time.Since(start))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	release()
	t.Logf("slowest request: %v", slowest)
	if slowest > 500*time.Millisecond {
		t.Errorf("slowest request took %v", slowest)
	}
}

// TestFlushStopWakesLeader: a sender that stops after maxFlushTime leaves
// the rest of the queue to the leader. When nothing it sent will be
// answered (requests that promised replies their commands never send), the
// leader, blocked in the kernel, must still be woken to send the rest.
func TestFlushStopWakesLeader(t *testing.T) {
	const cmdLead, cmdSilent, cmdEcho = 1, 2, 3
	k, c := fake(t)
	waitRequests := func(n uint64) {
		for c.Stats().Requests < n {
			time.Sleep(100 * time.Microsecond)
		}
	}
	silentSent := make(chan struct{}, 2)
	silent := 0
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		switch r.Genl.Command {
		case cmdSilent:
			silent++
			silentSent <- struct{}{}
			// The first silent request's sendmsg lasts until the second
			// is queued; the second's until the echo request is queued,
			// and past maxFlushTime.
			waitRequests(uint64(2 + silent))
			if silent == 2 {
				time.Sleep(3 * time.Millisecond)
			}
		case cmdEcho:
			echo(k, r)
		case cmdLead:
			k.AnswerLater(r) // answered by release
		}
	})
	release := holdLeader(t, k, c, cmdLead)
	waitRequests(1)
	// The leader is blocked in the kernel: nothing is queued for it.
	time.Sleep(10 * time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	silentDone := make(chan error, 2)
	for range 2 {
		go func() {
			silentDone <- c.Do(ctx, genl.Request{Family: fam, Command: cmdSilent, ExpectReply: true}, nil)
		}()
		<-silentSent
	}
	// Queued while the second silent request is in sendmsg: the sender
	// stops after it, by time, and leaves this one queued.
	echoDone := make(chan error, 1)
	go func() { echoDone <- c.Ack(ctxT(t), genl.Request{Family: fam, Command: cmdEcho}) }()
	select {
	case err := <-echoDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a request queued when the sender stopped was never sent")
	}
	cancel()
	for range 2 {
		if err := <-silentDone; !errors.Is(err, context.Canceled) {
			t.Errorf("silent request: %v", err)
		}
	}
	release()
}

func TestSendError(t *testing.T) {
	k, c := fake(t)
	k.FailSends(unix.EMSGSIZE)
	err := c.Ack(ctxT(t), genl.Request{Family: fam})
	if !errors.Is(err, unix.EMSGSIZE) {
		t.Fatalf("got %v", err)
	}
	k.FailSends(nil)
	k.Handle(echo)
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.SendErrors != 1 {
		t.Errorf("stats %+v", st)
	}
}

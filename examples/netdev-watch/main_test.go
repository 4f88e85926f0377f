package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/family/netdev/netdevtest"
)

// The watcher against the typed test server of netdev: devices listed by
// the dump, then added and removed by notifications, and a resync after an
// overrun; no kernel, no root. (examples/netdevwatch_test.go runs the
// built program on the kernel.)

// syncBuffer is a bytes.Buffer safe for the watcher and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func dev(idx uint32) *netdev.Dev {
	return &netdev.Dev{Ifindex: netdev.Some(idx), XdpFeatures: netdev.Some(netdev.XdpActBasic)}
}

func TestWatch(t *testing.T) {
	srv := netdevtest.NewServer(nil)
	var mu sync.Mutex
	devs := []uint32{1}
	dumped := make(chan struct{}, 4)
	srv.HandleDevGetDump(func(yield func(*netdev.Dev) bool) error {
		mu.Lock()
		defer mu.Unlock()
		for _, idx := range devs {
			if !yield(dev(idx)) {
				break
			}
		}
		dumped <- struct{}{}
		return nil
	})
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out, errOut syncBuffer
	stdout, stderr = &out, &errOut
	defer func() { stdout, stderr = os.Stdout, os.Stderr }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- watch(ctx, conn, config{list: true, count: 4}) }()
	wait := func(what string) {
		t.Helper()
		select {
		case <-dumped:
		case err := <-done:
			t.Fatalf("watch ended before %s: %v", what, err)
		case <-ctx.Done():
			t.Fatalf("no %s", what)
		}
	}
	// The watcher subscribes before it dumps: once the dump ran, every
	// notification reaches it.
	wait("first dump")
	notify := func(n netdev.Notification) {
		t.Helper()
		if err := srv.Notify(netdev.GroupMgmt, n); err != nil {
			t.Fatal(err)
		}
	}
	notify(&netdev.DevAddNtf{Dev: *dev(1)}) // known from the dump: not an event
	notify(&netdev.DevAddNtf{Dev: *dev(7)})
	notify(&netdev.DevDelNtf{Dev: *dev(7)})
	for strings.Count(out.String(), "\n") < 3 {
		select {
		case err := <-done:
			t.Fatalf("watch ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("notifications not printed; output:\n%s", out.String())
		case <-time.After(time.Millisecond):
		}
	}
	// Lost notifications: device 8 came and device 1 went meanwhile; the
	// watcher notices the overrun, dumps again and says what changed.
	mu.Lock()
	devs = []uint32{8}
	mu.Unlock()
	srv.Kernel().Overrun()
	wait("dump after the overrun")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{
		"present ifindex 1 lo xdp-features basic",
		"added   ifindex 7 ? xdp-features basic",
		"removed ifindex 7 ?",
		"added   ifindex 8 ? xdp-features basic",
		"removed ifindex 1 lo",
	}
	if got := strings.TrimSpace(out.String()); got != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if !strings.Contains(errOut.String(), "netdev-watch: overrun: ") || !strings.Contains(errOut.String(), "stopped after 4 events") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
}

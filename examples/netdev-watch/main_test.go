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
	"golang.org/x/sys/unix"
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

// startWatch runs watch with cfg over a Conn to srv, its output going to
// the buffers it returns, until it ends (done) or 10 s have passed (ctx).
func startWatch(t *testing.T, srv *netdevtest.Server, cfg config) (ctx context.Context, out, errOut *syncBuffer, done <-chan error) {
	t.Helper()
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	out, errOut = new(syncBuffer), new(syncBuffer)
	stdout, stderr = out, errOut
	t.Cleanup(func() { stdout, stderr = os.Stdout, os.Stderr })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	ended := make(chan error, 1)
	go func() { ended <- watch(ctx, conn, cfg) }()
	return ctx, out, errOut, ended
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
	ctx, out, errOut, done := startWatch(t, srv, config{list: true, count: 4})
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

// After an overrun the notifications that said a device came may be lost
// while later ones about it arrive: a dev-change for a device the watcher
// does not know reports it as added. A resync whose dumps overrun as well
// leaves the table stale, and the watcher tries again soon, with or
// without a notification.
func TestWatchLostAddAndFailedResync(t *testing.T) {
	srv := netdevtest.NewServer(nil)
	var mu sync.Mutex
	devs := []uint32{1}
	failDumps := 0
	dumped := make(chan struct{}, 8)
	srv.HandleDevGetDump(func(yield func(*netdev.Dev) bool) error {
		defer func() { dumped <- struct{}{} }()
		mu.Lock()
		defer mu.Unlock()
		if failDumps > 0 {
			failDumps--
			return unix.ENOBUFS // the dump overran too
		}
		for _, idx := range devs {
			if !yield(dev(idx)) {
				break
			}
		}
		return nil
	})
	ctx, out, errOut, done := startWatch(t, srv, config{count: 3})
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			select {
			case err := <-done:
				t.Fatalf("watch ended before %s: %v", what, err)
			case <-ctx.Done():
				t.Fatalf("no %s; stdout:\n%s\nstderr:\n%s", what, out.String(), errOut.String())
			case <-time.After(time.Millisecond):
			}
		}
	}
	<-dumped
	notify := func(n netdev.Notification) {
		t.Helper()
		if err := srv.Notify(netdev.GroupMgmt, n); err != nil {
			t.Fatal(err)
		}
	}
	// Ifindexes no host has, so that the names print as "?".
	notify(&netdev.DevChangeNtf{Dev: *dev(70001)})
	waitFor("the first event", func() bool { return strings.Count(out.String(), "\n") == 1 })

	mu.Lock()
	devs = []uint32{1, 70001, 70002}
	failDumps = 3 // every try of the resync
	mu.Unlock()
	srv.Kernel().Overrun()
	waitFor("the failed resync", func() bool { return strings.Contains(errOut.String(), "netdev-watch: resynchronising: ") })
	// No notification comes: the retry does not wait for one.
	waitFor("the retried resync", func() bool { return strings.Count(out.String(), "\n") == 2 })

	mu.Lock()
	devs = append(devs, 70003)
	mu.Unlock()
	notify(&netdev.DevAddNtf{Dev: *dev(70003)})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{
		"added   ifindex 70001 ? xdp-features basic",
		"added   ifindex 70002 ? xdp-features basic",
		"added   ifindex 70003 ? xdp-features basic",
	}
	if got := strings.TrimSpace(out.String()); got != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

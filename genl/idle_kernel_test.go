package genl_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
)

// TestKernelIdleConnCost opens many Conns in a namespace, each having made
// a request (a family lookup, as a typed client's New does), and checks
// what each costs while idle: one fd, no goroutine, at most 16 KiB of heap.
// Thousands of namespaces, one Conn each, are a real workload.
func TestKernelIdleConnCost(t *testing.T) {
	ns := testutils.NetNS(t)
	const n = 100
	conns := make([]*genl.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	ctx := context.Background()
	runtime.GC()
	baseG, baseFD := runtime.NumGoroutine(), openFDCount()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		c, err := genl.Dial(genl.WithNetNS(ns.Name))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var id uint16
		if err := c.Do(ctx, getFamilyRequest(), func(m genl.Message) error { id = familyID(m.Data); return nil }); err != nil || id == 0 {
			t.Fatalf("GETFAMILY nlctrl: id %d, %v", id, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if fds := openFDCount() - baseFD; fds > n {
		t.Errorf("%d idle Conns hold %d fds, want at most one each", n, fds)
	}
	if g := runtime.NumGoroutine() - baseG; g > 0 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d idle Conns run %d goroutines, want none:\n%s", n, g, buf[:runtime.Stack(buf, true)])
	}
	heap := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("idle Conn: %d bytes of heap", heap)
	if heap > 16<<10 && !raceEnabled { // the race detector's heap figures differ
		t.Errorf("an idle Conn holds %d bytes of heap, want at most 16 KiB", heap)
	}
	runtime.KeepAlive(conns)
}

// raceEnabled is set by race_test.go when the race detector is on.
var raceEnabled bool

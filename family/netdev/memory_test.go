package netdev_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// EnvMemVeths sets the large case of TestDumpMemoryFlat: how many veth
// devices (half as many pairs) to dump; 10000 by default.
const EnvMemVeths = "GENLKIT_MEM_VETHS"

// TestDumpMemoryFlat dumps dev-get through the iterator for 1,000 and
// 10,000 veth devices (500 and 5,000 pairs, plus the namespace's own) and
// checks that the live heap stays flat: the iterator holds one reply at a
// time, so ten times the devices must not mean more live memory. Every 500
// devices the loop forces a GC and reads the live heap; the peak above the
// baseline taken before the dump is the figure. The large case is skipped
// with -short.
func TestDumpMemoryFlat(t *testing.T) {
	large := 10000
	if v := os.Getenv(EnvMemVeths); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("%s=%q", EnvMemVeths, v)
		}
		large = n
	}
	sizes := []int{1000, large}
	if testing.Short() && os.Getenv(EnvMemVeths) == "" {
		sizes = sizes[:1]
	}
	type result struct {
		devices        int
		base           int64
		peakLive       int64 // relative to base; negative when the dump freed more than it kept
		peakHeapNoGC   int64
		allocPerDevice float64
		took           time.Duration
	}
	var results []result
	for _, veths := range sizes {
		t.Run(fmt.Sprint(veths), func(t *testing.T) {
			ns, c, ctx := setup(t)
			pairs := veths / 2
			lines := make([]string, pairs)
			for i := range lines {
				lines[i] = fmt.Sprintf("link add m%d type veth peer name m%dp", i, i)
			}
			start := time.Now()
			ns.IPBatch(t, lines)
			made := time.Since(start)
			want := 2*pairs + len(ns.Initial)
			// The setup's context has aged while the devices were made
			// (minutes under an emulated guest kernel): the dumps get
			// their own.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
			defer cancel()

			// Warm up: the Conn's buffers and the client's pools.
			for range c.DevGetDump(ctx) {
				break
			}
			// Two collections: the first moves the pools' items to their
			// victim caches, the second frees them, so the baseline holds
			// no garbage a collection inside the dump would free.
			var ms runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base := int64(ms.HeapAlloc)
			baseTotal := ms.TotalAlloc
			peakLive, peakNoGC := int64(-1<<62), int64(-1<<62)
			n := 0
			start = time.Now()
			for dev, err := range c.DevGetDump(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				if !dev.Ifindex.Valid {
					t.Fatalf("device without ifindex: %+v", dev)
				}
				n++
				if n%500 == 0 {
					runtime.ReadMemStats(&ms)
					peakNoGC = max(peakNoGC, int64(ms.HeapAlloc)-base)
					runtime.GC()
					runtime.ReadMemStats(&ms)
					peakLive = max(peakLive, int64(ms.HeapAlloc)-base)
				}
			}
			took := time.Since(start)
			runtime.ReadMemStats(&ms)
			if n != want {
				t.Fatalf("dumped %d devices, want %d", n, want)
			}
			r := result{devices: n, base: base, peakLive: peakLive, peakHeapNoGC: peakNoGC,
				allocPerDevice: float64(ms.TotalAlloc-baseTotal) / float64(n), took: took}
			results = append(results, r)
			t.Logf("RELIABILITY test=%s veth_devices=%d pairs=%d create_took=%v devices=%d dump_took=%v base_heap=%d peak_live_heap=%d peak_live_heap_delta=%d peak_heap_delta_nogc=%d alloc_per_device=%.0f",
				t.Name(), veths, pairs, made.Round(time.Millisecond), n, took.Round(time.Millisecond), base, base+peakLive, peakLive, peakNoGC, r.allocPerDevice)
		})
	}
	if len(results) == 2 {
		small, big := results[0], results[1]
		// Flat: the large dump's live heap may not exceed the small one's
		// by more than a quarter of a MiB (GC noise, pools), however many
		// more devices it walks. A small dump that ended below its
		// baseline (the collector freed something the baseline held)
		// counts as zero, not as a lower bar for the large one.
		if big.peakLive > max(small.peakLive, 0)+256<<10 {
			t.Errorf("live heap grows with the dump: %d bytes for %d devices, %d for %d", big.peakLive, big.devices, small.peakLive, small.devices)
		}
		t.Logf("RELIABILITY test=%s peak_live_heap_delta_%d=%d peak_live_heap_delta_%d=%d peak_heap_delta_nogc_%d=%d peak_heap_delta_nogc_%d=%d",
			t.Name(), small.devices, small.peakLive, big.devices, big.peakLive, small.devices, small.peakHeapNoGC, big.devices, big.peakHeapNoGC)
	}
}

package ynlbench_test

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkCrossCPU bounces one cache line between two threads bound to
// CPUs 0 and 1: one operation is a round trip (see crossCPURoundTrip).
func BenchmarkCrossCPU(b *testing.B) {
	if runtime.NumCPU() < 2 {
		b.Skip("needs two CPUs")
	}
	b.ResetTimer()
	if _, err := crossCPURoundTrip(b.N); err != nil {
		b.Fatal(err)
	}
}

// crossCPURoundTrip bounces one cache line n times between two threads
// bound to CPUs 0 and 1, each spinning until the other has written, and
// returns the time per round trip. On a virtual machine it depends on
// where the host runs the two virtual CPUs (two hardware threads of one
// core, two cores sharing a cache, or cores that do not), and it changes
// when the host moves them. genlkit's requests from several goroutines
// cross from one CPU to the other and back several times each (the
// caller's request to the sender in sendmsg, the reply from the kernel's
// handler to the reader, the reader's hand-off to the caller), where C's
// sequential loop never leaves its CPU, so BenchmarkTypedRatio/do-par8
// reports this figure beside its ratios (xcpu-ns).
func crossCPURoundTrip(n int) (time.Duration, error) {
	var line struct {
		_ [64]byte
		v atomic.Int64
		_ [64]byte
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	var failed atomic.Bool
	start := time.Now()
	for side := range int64(2) {
		wg.Go(func() {
			runtime.LockOSThread()
			var prev, set unix.CPUSet
			err := unix.SchedGetaffinity(0, &prev)
			if err == nil {
				set.Set(int(side))
				err = unix.SchedSetaffinity(0, &set)
			}
			if err != nil {
				runtime.UnlockOSThread()
				failed.Store(true)
				errs <- err
				return
			}
			defer func() {
				// The thread goes back to the runtime's pool as it came.
				if unix.SchedSetaffinity(0, &prev) == nil {
					runtime.UnlockOSThread()
				}
				// Else it stays locked, and the runtime ends it with
				// the goroutine.
			}()
			// Side 0 writes odd values, side 1 even ones.
			for i := side; i < 2*int64(n); i += 2 {
				for line.v.Load() != i {
					if failed.Load() {
						return
					}
				}
				line.v.Store(i + 1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, errors.Join(errors.New("binding a thread to CPU 0 or 1"), err)
	}
	return elapsed / time.Duration(max(n, 1)), nil
}

package ynlbench_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkCrossCPU bounces one cache line between two threads bound to
// the first two CPUs the process may use: one operation is a round trip
// (see crossCPURoundTrip).
func BenchmarkCrossCPU(b *testing.B) {
	if _, _, ok := twoCPUs(); !ok {
		b.Skip("needs two CPUs this process may use")
	}
	b.ResetTimer()
	if _, err := crossCPURoundTrip(b.N); err != nil {
		b.Fatal(err)
	}
}

// twoCPUs returns the first two CPUs in the process's affinity mask.
func twoCPUs() (first, second int, ok bool) {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return 0, 0, false
	}
	found := 0
	for cpu := 0; cpu < len(set)*64 && found < 2; cpu++ {
		if set.IsSet(cpu) {
			if found == 0 {
				first = cpu
			} else {
				second = cpu
			}
			found++
		}
	}
	return first, second, found == 2
}

// crossCPURoundTrip bounces one cache line n times between two threads
// bound to the first two CPUs the process may use (twoCPUs), each
// spinning until the other has written, and returns the time per round
// trip. On a virtual machine it depends on
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
	cpu0, cpu1, ok := twoCPUs()
	if !ok {
		return 0, errors.New("fewer than two CPUs this process may use")
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
				set.Set([]int{cpu0, cpu1}[side])
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
		return 0, fmt.Errorf("binding a thread to CPU %d or %d: %w", cpu0, cpu1, err)
	}
	return elapsed / time.Duration(max(n, 1)), nil
}

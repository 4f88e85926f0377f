package testutils

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ProcessCPU is the CPU time the process has used, all threads, user and
// system (the kernel's share of a netlink round trip included).
func ProcessCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ResetTimersCPU resets b's timer and reports the process's CPU time per
// operation as cpu-ns/op when b ends. On a shared machine that is steadier
// than wall time, which counts the time other processes hold the CPUs.
func ResetTimersCPU(b *testing.B) {
	b.ResetTimer()
	start := ProcessCPU()
	b.Cleanup(func() {
		if b.N > 0 && start > 0 {
			b.ReportMetric(float64(ProcessCPU()-start)/float64(b.N), "cpu-ns/op")
		}
	})
}

package testutils

import (
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

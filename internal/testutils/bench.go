package testutils

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ProcessCPU is the CPU time the process has used, all threads, user and
// system (the kernel's share of a netlink round trip included).
func ProcessCPU() time.Duration {
	cpu, _ := ProcessTimes()
	return cpu
}

// ProcessTimes returns the process's CPU time (user + system) and the user
// part of it, read as ProcessCPU reads them.
func ProcessTimes() (cpu, user time.Duration) {
	var ru unix.Rusage
	// RawSyscall: getrusage does not block, and a Syscall would wake the
	// runtime's monitor thread (sysmon) if every P was idle, which then
	// polls every 20 µs for a millisecond or more: the measurement would
	// disturb what it measures, most of all in short rounds.
	if _, _, e := unix.RawSyscall(unix.SYS_GETRUSAGE, uintptr(unix.RUSAGE_SELF), uintptr(unsafe.Pointer(&ru)), 0); e != 0 {
		return 0, 0
	}
	user = time.Duration(ru.Utime.Nano())
	return user + time.Duration(ru.Stime.Nano()), user
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

// PinProcess binds every thread of the process to one CPU and returns a
// function that gives each thread the process's previous CPU set back.
// Threads made meanwhile inherit the binding, and so do child processes: a
// benchmark that compares the process with a peer it starts then runs both
// on the same CPU. A virtual machine's CPUs can differ in speed by half for
// minutes at a time (one shares its host core with other work), so a peer
// left free lands on either, and a ratio between two free processes
// measures where they landed. cpu < 0 leaves the process alone.
//
// While bound, GOMAXPROCS is 1, as the runtime sets it for a process
// started bound to one CPU (taskset -c N): a scheduler left with a
// processor per CPU it cannot use hands work between two processors on
// one CPU, which no Go program run that way pays. The restore function
// sets the previous value back.
func PinProcess(b *testing.B, cpu int) (restore func()) {
	b.Helper()
	if cpu < 0 {
		return func() {}
	}
	var prev unix.CPUSet
	if err := unix.SchedGetaffinity(0, &prev); err != nil {
		b.Fatalf("sched_getaffinity: %v", err)
	}
	if !prev.IsSet(cpu) {
		b.Skipf("CPU %d is not one this process may use", cpu)
	}
	var one unix.CPUSet
	one.Set(cpu)
	if err := setThreadsAffinity(&one); err != nil {
		b.Fatal(err)
	}
	procs := runtime.GOMAXPROCS(1)
	away := prev
	away.Clear(cpu)
	pinned.Lock()
	pinned.on, pinned.away = true, away
	pinned.Unlock()
	restored := false
	restore = func() {
		if !restored {
			restored = true
			pinned.Lock()
			pinned.on = false
			pinned.Unlock()
			if err := setThreadsAffinity(&prev); err != nil {
				b.Error(err)
			}
			runtime.GOMAXPROCS(procs)
		}
	}
	b.Cleanup(restore)
	return restore
}

// AwayFromPinned moves process pid off the CPU PinProcess bound this
// process to, onto the other CPUs the process could use before; it does
// nothing while this process is not bound. A benchmark whose workload
// comes from another process (`ip` making devices for a subscriber) keeps
// the two from taking turns on one CPU.
func AwayFromPinned(pid int) error {
	pinned.Lock()
	on, away := pinned.on, pinned.away
	pinned.Unlock()
	if !on || away.Count() == 0 {
		return nil
	}
	if err := unix.SchedSetaffinity(pid, &away); err != nil {
		return fmt.Errorf("sched_setaffinity %d: %w", pid, err)
	}
	return nil
}

// pinned is what PinProcess did: whether the process is bound, and the
// CPUs it could use before, less the one it is bound to.
var pinned struct {
	sync.Mutex
	on   bool
	away unix.CPUSet
}

// setThreadsAffinity sets the CPU set of every thread of the process,
// listing the threads again until a pass finds none it had not set (a
// thread made during a pass inherits its creator's set, which may not yet
// have been changed).
func setThreadsAffinity(set *unix.CPUSet) error {
	done := map[int]bool{}
	for {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := false
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			// A thread that exited meanwhile is not an error.
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("sched_setaffinity %d: %w", tid, err)
			}
			done[tid], fresh = true, true
		}
		if !fresh {
			return nil
		}
	}
}

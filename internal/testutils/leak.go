package testutils

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// Main runs a package's tests, then fails the test binary when they left
// goroutines or file descriptors behind. Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { testutils.Main(m) }
//
// Goroutines are compared by count against the start (after a grace period
// for ones that are finishing); file descriptors by the set open in
// /proc/self/fd. The check is skipped when tests failed, when benchmarks or
// fuzzing ran, and under GENLKIT_NO_LEAK_CHECK=1.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Start the netpoller before taking the baseline: its epoll fd is
	// opened on first use and lives for the whole process.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	fds := openFDs()
	gs := runtime.NumGoroutine()
	code := m.Run()
	if code != 0 || os.Getenv("GENLKIT_NO_LEAK_CHECK") == "1" || flagSet("test.bench") || flagSet("test.fuzz") {
		return code
	}
	if msg := checkLeaks(gs, fds); msg != "" {
		fmt.Fprintln(os.Stderr, "testutils: leak check failed:\n"+msg)
		return 1
	}
	return code
}

func flagSet(name string) bool {
	for _, a := range os.Args[1:] {
		a = strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, name+"=") && !strings.HasSuffix(a, "=") {
			return true
		}
	}
	return false
}

func checkLeaks(baseGs int, baseFDs map[string]string) string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		var msgs []string
		if n := runtime.NumGoroutine(); n > baseGs {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			msgs = append(msgs, fmt.Sprintf("%d goroutines left running (%d at start):\n%s", n, baseGs, buf))
		}
		var leaked []string
		for fd, target := range openFDs() {
			if _, ok := baseFDs[fd]; !ok {
				leaked = append(leaked, fd+" -> "+target)
			}
		}
		if len(leaked) > 0 {
			sort.Strings(leaked)
			msgs = append(msgs, "file descriptors left open:\n\t"+strings.Join(leaked, "\n\t"))
		}
		if len(msgs) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(msgs, "\n")
		}
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
}

func openFDs() map[string]string {
	m := make(map[string]string)
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return m
	}
	for _, e := range ents {
		t, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the directory's own fd, gone already
		}
		m[e.Name()] = t
	}
	return m
}

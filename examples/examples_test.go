// Package examples_test runs every example program inside a private network
// namespace and checks its output.
package examples_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "genlkit-examples")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles ./examples/name once (unless GENLKIT_PREBUILT has it)
// and returns the binary's path.
func build(t *testing.T, name string) string {
	t.Helper()
	if p := testutils.Prebuilt(name); p != "" {
		return p
	}
	bin := filepath.Join(binDir, name)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	out, err := exec.Command("go", "build", "-o", bin, "./"+name).CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", name, err, out)
	}
	return bin
}

// runIn runs an example inside ns and returns its standard output.
func runIn(t *testing.T, ns *testutils.NS, name string, args ...string) string {
	t.Helper()
	return ns.Exec(t, build(t, name), args...)
}

func TestFamilies(t *testing.T) {
	ns := testutils.NetNS(t)
	out := runIn(t, ns, "families")
	for _, want := range []string{"NAME", "nlctrl", "0x10", "ethtool", "monitor", "mptcp_pm"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A family line per registered family, as iproute2 counts them.
	want := strings.Count(ns.Exec(t, "genl", "ctrl", "list"), "Name: ")
	if got := strings.Count(out, "\n") - 1; got != want {
		t.Errorf("%d family lines, genl ctrl list has %d:\n%s", got, want, out)
	}
	// Details of a family: op 1 and a group of netdev (Linux 6.3 and
	// newer) and of ethtool.
	for _, f := range []struct{ name, group string }{{"netdev", "mgmt"}, {"ethtool", "monitor"}} {
		t.Run(f.name, func(t *testing.T) {
			ns.RequireBuiltinFamily(t, f.name)
			if !regexp.MustCompile(`(?m)^` + f.name + ` `).MatchString(out) {
				t.Errorf("family list lacks %s:\n%s", f.name, out)
			}
			details := runIn(t, ns, "families", "-v", f.name)
			if !regexp.MustCompile(`(?m)^  op 1: do\|dump\|has-policy$`).MatchString(details) ||
				!regexp.MustCompile(`(?m)^  group `+f.group+`: \d+$`).MatchString(details) {
				t.Errorf("%s details:\n%s", f.name, details)
			}
		})
	}
}

func TestRawGenl(t *testing.T) {
	ns := testutils.NetNS(t)
	out := runIn(t, ns, "raw-genl", "-pid", "1")
	if !regexp.MustCompile(`^pid 1 \(\S+\): taskstats v\d+\n  cpu: \d+ runs`).MatchString(out) {
		t.Errorf("unexpected output:\n%s", out)
	}
}

func TestConcurrent(t *testing.T) {
	ns := testutils.NetNS(t)
	out := runIn(t, ns, "concurrent", "-goroutines", "4", "-duration", "300ms")
	m := regexp.MustCompile(`^4 goroutines, one Conn: (\d+) requests in \S+: (\d+) requests/s\n`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if !strings.Contains(out, "Spoofed:0") || !strings.Contains(out, "LostReplies:0") {
		t.Errorf("conn counters show trouble:\n%s", out)
	}
}

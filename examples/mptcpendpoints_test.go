package examples_test

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

func TestMptcpEndpoints(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "m", 1)
	// A signal endpoint with a port listens on it: the address must be local.
	ns.IP(t, "addr", "add", "192.0.2.9/24", "dev", "m0")
	mp := func(args ...string) string { return runIn(t, ns, "mptcp-endpoints", args...) }
	expect := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	}

	expect(mp("list"), "no endpoints\nlimits: subflows 2, add-addr accepted 0\n")
	expect(mp("add", "192.0.2.1", "-flags", "signal"), "added id 1 192.0.2.1 flags signal\n")
	expect(mp("add", "2001:db8::1", "-id", "7", "-flags", "subflow,backup", "-dev", "m0"),
		"added id 7 2001:db8::1 flags subflow,backup dev m0\n")
	expect(mp("add", "-id", "9", "192.0.2.9", "-port", "8080", "-flags", "signal"),
		"added id 9 192.0.2.9 port 8080 flags signal\n")
	expect(mp("list"), "id 1 192.0.2.1 flags signal\n"+
		"id 7 2001:db8::1 flags subflow,backup dev m0\n"+
		"id 9 192.0.2.9 port 8080 flags signal\n"+
		"limits: subflows 2, add-addr accepted 0\n")
	// iproute2 sees the same endpoints.
	ipOut := ns.IP(t, "mptcp", "endpoint", "show")
	for _, want := range []string{"192.0.2.1 id 1 signal", "2001:db8::1 id 7 subflow backup dev m0", "192.0.2.9 port 8080 id 9 signal"} {
		if !strings.Contains(ipOut, want) {
			t.Errorf("ip mptcp endpoint show lacks %q:\n%s", want, ipOut)
		}
	}

	expect(mp("limits", "-subflows", "4", "-addrs", "2"), "limits: subflows 4, add-addr accepted 2\n")
	if out := ns.IP(t, "mptcp", "limits", "show"); !strings.Contains(out, "add_addr_accepted 2 subflows 4") {
		t.Errorf("ip mptcp limits show: %s", out)
	}
	expect(mp("del", "-id", "7"), "deleted id 7\n")
	expect(mp("list"), "id 1 192.0.2.1 flags signal\n"+
		"id 9 192.0.2.9 port 8080 flags signal\n"+
		"limits: subflows 4, add-addr accepted 2\n")

	// Refused inputs: exit status 1 and the kernel's extended ACK text.
	for _, tc := range []struct {
		args []string
		want string
	}{
		// The maximum is 8 up to 6.18 and higher in later kernels; kernels
		// before 6.13 neither name it nor point at the attribute.
		{[]string{"limits", "-subflows", "300"}, `^mptcp-endpoints: limits: the kernel refused it \(invalid argument\): limit greater than maximum( \(\d+\) \(attribute subflows\))?\n$`},
		{[]string{"del", "-id", "42"}, `^mptcp-endpoints: del: the kernel refused it \(invalid argument\): address not found( \(attribute addr\))?\n$`},
	} {
		cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name, build(t, "mptcp-endpoints")}, tc.args...)...)
		out, err := cmd.Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("%v: want exit status 1, got %v (stdout %q)", tc.args, err, out)
			continue
		}
		if got := string(ee.Stderr); !regexp.MustCompile(tc.want).MatchString(got) {
			t.Errorf("%v: stderr\n%s\nwant\n%s", tc.args, got, tc.want)
		}
	}
	// Nothing changed.
	expect(mp("list"), "id 1 192.0.2.1 flags signal\n"+
		"id 9 192.0.2.9 port 8080 flags signal\n"+
		"limits: subflows 4, add-addr accepted 2\n")
	expect(mp("flush"), "flushed all endpoints\n")
	expect(mp("list"), "no endpoints\nlimits: subflows 4, add-addr accepted 2\n")
}

package examples_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/internal/testutils"
)

// A proc is an example running in the background inside a namespace.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string // standard output, line by line; closed at EOF
	mu     sync.Mutex
	stderr bytes.Buffer
	ready  chan struct{} // closed when stderr has a line containing readyText
	done   chan error
}

// start runs an example inside ns and returns once it wrote a stderr line
// containing readyText.
func start(t *testing.T, ns *testutils.NS, readyText, name string, args ...string) *proc {
	t.Helper()
	bin := build(t, name)
	p := &proc{
		cmd:   exec.Command("ip", append([]string{"netns", "exec", ns.Name, bin}, args...)...),
		lines: make(chan string, 1024),
		ready: make(chan struct{}),
		done:  make(chan error, 1),
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stderr)
		readyDone := false
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if !readyDone && strings.Contains(sc.Text(), readyText) {
				readyDone = true
				close(p.ready)
			}
		}
	}()
	go func() {
		pipes.Wait() // Wait must not run before the pipes are drained
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() }) // an error once it has exited
	select {
	case <-p.ready:
	case err := <-p.done:
		t.Fatalf("%s exited before it was ready: %v\n%s", name, err, p.Stderr())
	case <-time.After(15 * time.Second):
		t.Fatalf("%s not ready after 15s:\n%s", name, p.Stderr())
	}
	return p
}

func (p *proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitLines reads output lines until every pattern has matched one, and
// returns the lines read.
func (p *proc) waitLines(t *testing.T, timeout time.Duration, patterns ...string) []string {
	t.Helper()
	res := make([]*regexp.Regexp, len(patterns))
	for i, s := range patterns {
		res[i] = regexp.MustCompile(s)
	}
	matched := make([]bool, len(res))
	left := len(res)
	var got []string
	deadline := time.After(timeout)
	for left > 0 {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("output ended before %v matched; got:\n%s\nstderr:\n%s",
					unmatched(patterns, matched), strings.Join(got, "\n"), p.Stderr())
			}
			got = append(got, l)
			for i, re := range res {
				if !matched[i] && re.MatchString(l) {
					matched[i] = true
					left--
				}
			}
		case <-deadline:
			t.Fatalf("after %v, %v not matched; got:\n%s\nstderr:\n%s",
				timeout, unmatched(patterns, matched), strings.Join(got, "\n"), p.Stderr())
		}
	}
	return got
}

func unmatched(patterns []string, matched []bool) []string {
	var out []string
	for i, m := range matched {
		if !m {
			out = append(out, patterns[i])
		}
	}
	return out
}

// interrupt sends SIGINT, as Ctrl-C does, and waits for a clean exit.
func (p *proc) interrupt(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v\n%s", err, p.Stderr())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit 10s after SIGINT:\n%s", p.Stderr())
	}
}

func TestNetdevWatch(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	p := start(t, ns, "watching group mgmt", "netdev-watch", "-list", "-duration", "60s")
	p.waitLines(t, 10*time.Second, `^present ifindex 1 lo xdp-features none$`)

	v := ns.AddVeths(t, "w", 1)[0]
	p.waitLines(t, 10*time.Second,
		fmt.Sprintf(`^added   ifindex %d w0 xdp-features \S+$`, v.Index),
		fmt.Sprintf(`^added   ifindex %d w0p xdp-features \S+$`, v.PeerIndex))
	ns.DelLinks(t, "w0")
	p.waitLines(t, 10*time.Second,
		fmt.Sprintf(`^removed ifindex %d w0$`, v.Index),
		fmt.Sprintf(`^removed ifindex %d w0p$`, v.PeerIndex))

	p.interrupt(t) // Ctrl-C: a clean stop, exit status 0
	if !regexp.MustCompile(`stopped after \d+ events`).MatchString(p.Stderr()) {
		t.Errorf("stderr:\n%s", p.Stderr())
	}
}

func TestNetdevWatchCount(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	p := start(t, ns, "watching group mgmt", "netdev-watch", "-count", "2", "-duration", "30s")
	ns.IP(t, "link", "add", "c0", "type", "veth", "peer", "name", "c0p")
	got := p.waitLines(t, 10*time.Second, `^added   ifindex \d+ c0 `, `^added   ifindex \d+ c0p `)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("%v\n%s", err, p.Stderr())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("-count 2 did not stop it after %q", got)
	}
	if !strings.Contains(p.Stderr(), "stopped after 2 events") {
		t.Errorf("stderr:\n%s", p.Stderr())
	}
}

// A tiny receive buffer and a slow consumer make the socket overrun: the
// example says so on stderr, dumps again, and still reports every device.
func TestNetdevWatchOverrun(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	p := start(t, ns, "watching group mgmt", "netdev-watch", "-rcvbuf", "1024", "-slow", "10ms", "-duration", "60s")
	const n = 30
	ns.AddVeths(t, "o", n)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf(`^added   ifindex \d+ o%d `, i), fmt.Sprintf(`^added   ifindex \d+ o%dp `, i))
	}
	p.waitLines(t, 30*time.Second, want...)
	p.interrupt(t)
	if !strings.Contains(p.Stderr(), "netdev-watch: overrun: the socket's receive buffer filled up and notifications were lost") {
		t.Errorf("no overrun reported; stderr:\n%s", p.Stderr())
	}
}

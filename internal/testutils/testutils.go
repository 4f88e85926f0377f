// Package testutils is genlkit's test harness for tests that need the
// kernel: it runs them in throwaway network namespaces, adds veths there,
// decides whether to skip, and checks a test binary for leaked goroutines
// and file descriptors.
//
// Kernel-backed tests call RequireKernel (or NetNS, which calls it) first.
// They skip with a reason when not running as root on Linux, and fail
// instead when GENLKIT_REQUIRE_KERNEL=1, as CI sets it. Tests never touch
// the host's interfaces: everything happens inside a namespace the test
// made and deletes in its cleanup.
//
//	func TestX(t *testing.T) {
//		ns := testutils.NetNS(t)
//		ns.AddVeths(t, "v", 3)
//		conn, ctx := ns.Dial(t) // a genl.Conn inside the namespace
//		...
//	}
package testutils

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl"

	"golang.org/x/sys/unix"
)

// EnvRequireKernel is the environment variable that turns kernel-test skips
// into failures when set to 1.
const EnvRequireKernel = "GENLKIT_REQUIRE_KERNEL"

// KernelRequired reports whether GENLKIT_REQUIRE_KERNEL=1 is set.
func KernelRequired() bool { return os.Getenv(EnvRequireKernel) == "1" }

// RequireKernel skips tb unless it runs as root on Linux, with the reason.
// With GENLKIT_REQUIRE_KERNEL=1 it fails tb instead of skipping.
func RequireKernel(tb testing.TB) {
	tb.Helper()
	reason := ""
	switch {
	case runtime.GOOS != "linux":
		reason = "kernel tests need Linux, this is " + runtime.GOOS
	case os.Geteuid() != 0:
		reason = "kernel tests need root (network namespaces, veths)"
	}
	if reason == "" {
		return
	}
	if KernelRequired() {
		tb.Fatalf("%s, and %s=1 requires them", reason, EnvRequireKernel)
	}
	tb.Skip(reason)
}

// RequireTool is RequireKernel for an external program such as "ip": it
// skips (or fails under GENLKIT_REQUIRE_KERNEL=1) when name is not in PATH.
func RequireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if KernelRequired() {
		tb.Fatalf("%s not found, and %s=1 requires kernel tests: %v", name, EnvRequireKernel, err)
	}
	tb.Skipf("%s not found: %v", name, err)
	return ""
}

// RequireFamily skips tb (or fails it under GENLKIT_REQUIRE_KERNEL=1) with
// reason when ok is false, for tests that need an optional kernel feature
// such as a generic netlink family that may be compiled out.
func RequireFamily(tb testing.TB, ok bool, reason string) {
	tb.Helper()
	if ok {
		return
	}
	if KernelRequired() {
		tb.Fatalf("%s, and %s=1 requires it", reason, EnvRequireKernel)
	}
	tb.Skip(reason)
}

// RequireBuiltinFamily is RequireFamily for a family that kernels of a
// recent enough version have built in (netdev is 6.3 and newer): when
// present is false it fails tb under GENLKIT_REQUIRE_KERNEL=1, except in a
// VM harness guest whose GENLKIT_EXPECT_FAMILIES does not list name (an
// older kernel, known to lack it), where it skips.
func RequireBuiltinFamily(tb testing.TB, present bool, name string) {
	tb.Helper()
	if present {
		return
	}
	if os.Getenv(EnvExpectFamilies) != "" && !FamilyExpected(name) {
		tb.Skipf("generic netlink family %q not registered: this kernel is older than the family", name)
	}
	RequireFamily(tb, false, fmt.Sprintf("generic netlink family %q not registered", name))
}

// EnvExpectFamilies is the environment variable listing, comma-separated,
// the generic netlink families the running kernel is known to register
// (modules loaded): the VM harness sets it for each guest kernel.
const EnvExpectFamilies = "GENLKIT_EXPECT_FAMILIES"

// FamilyExpected reports whether GENLKIT_EXPECT_FAMILIES lists name.
func FamilyExpected(name string) bool {
	for f := range strings.SplitSeq(os.Getenv(EnvExpectFamilies), ",") {
		if strings.TrimSpace(f) == name {
			return true
		}
	}
	return false
}

// RequireModuleFamily is RequireFamily for a family that only some kernels
// register (wireguard, nl80211, team… come from modules the host lacks):
// when present is false it skips tb, unless GENLKIT_EXPECT_FAMILIES lists
// name, in which case the kernel should have it and tb fails.
func RequireModuleFamily(tb testing.TB, present bool, name string) {
	tb.Helper()
	if present {
		return
	}
	if FamilyExpected(name) {
		tb.Fatalf("generic netlink family %q not registered, and %s lists it", name, EnvExpectFamilies)
	}
	tb.Skipf("generic netlink family %q not registered by this kernel (a module or a newer kernel has it; the VM harness's guests run this test)", name)
}

// An NS is a network namespace made for one test, bind-mounted under
// /run/netns like `ip netns add` makes it. It is deleted when the test ends.
type NS struct {
	// Name is the namespace's name, for `ip -n Name` and genl.WithNetNS.
	Name string
	// Path is the namespace file, /run/netns/Name.
	Path string
	// Initial are the interfaces the namespace held when it was made, by
	// name: lo, and on a kernel with tunnel or bonding modules loaded
	// their fallback devices (bond0, ip6tnl0, sit0...). Count devices
	// relative to it, never assume lo alone.
	Initial map[string]int
}

var nsCounter atomic.Uint64

// NetNS makes a fresh network namespace for tb, with its loopback up, and
// deletes it in tb's cleanup. It calls RequireKernel first.
func NetNS(tb testing.TB) *NS {
	tb.Helper()
	RequireKernel(tb)
	RequireTool(tb, "ip")
	name := fmt.Sprintf("genlkit-%d-%d", os.Getpid(), nsCounter.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		tb.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &NS{Name: name, Path: filepath.Join("/run/netns", name)}
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			tb.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	ns.IP(tb, "link", "set", "lo", "up")
	ns.Initial = ns.Ifindexes(tb)
	return ns
}

// Dial opens a genl.Conn inside the namespace with opts, closed in tb's
// cleanup, and returns it with a context that ends after 30 seconds or in
// tb's cleanup, whichever comes first.
func (ns *NS) Dial(tb testing.TB, opts ...genl.Option) (*genl.Conn, context.Context) {
	tb.Helper()
	c, err := genl.Dial(append([]genl.Option{genl.WithNetNS(ns.Name)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return c, ctx
}

// Run calls fn on an OS thread that has entered the namespace, and returns
// its error. Goroutines fn starts do not inherit the namespace; sockets fn
// opens stay in it.
func (ns *NS) Run(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is never unlocked: if restoring the namespace failed
		// it must die with the goroutine rather than serve others.
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(ns.Path)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("restore namespace: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Exec runs a program inside the namespace (`ip netns exec`) and returns
// its standard output; it fails tb when the program fails.
func (ns *NS) Exec(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := ns.ExecErr(name, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// ExecErr is Exec returning the error instead of failing a test.
func (ns *NS) ExecErr(name string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s in %s: %v: %s", name, strings.Join(args, " "), ns.Name, err, stderr.Bytes())
	}
	return stdout.String(), nil
}

// IP runs `ip -n Name args...` and returns its output; it fails tb when ip
// fails.
func (ns *NS) IP(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := ns.IPErr(args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// IPErr is IP returning the error instead of failing a test.
func (ns *NS) IPErr(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip -n %s %s: %v: %s", ns.Name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// IPBatch feeds lines to `ip -n Name -batch -`, which is how to make
// thousands of links quickly. It fails tb when ip fails.
func (ns *NS) IPBatch(tb testing.TB, lines []string) {
	tb.Helper()
	if err := ns.IPBatchErr(lines); err != nil {
		tb.Fatal(err)
	}
}

// IPBatchErr is IPBatch returning the error instead of failing a test; it
// is safe to call from any goroutine.
func (ns *NS) IPBatchErr(lines []string) error {
	cmd := exec.Command("ip", "-n", ns.Name, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip -n %s -batch: %v: %s", ns.Name, err, out)
	}
	return nil
}

// A Veth is one veth pair made by AddVeths.
type Veth struct {
	Name, Peer       string
	Index, PeerIndex int
}

// AddVeths makes n veth pairs named prefix0/prefix0p … inside the
// namespace, sets them up, and returns them with their interface indexes.
// Large n is fine: it uses `ip -batch`.
func (ns *NS) AddVeths(tb testing.TB, prefix string, n int) []Veth {
	tb.Helper()
	lines := make([]string, 0, 2*n)
	veths := make([]Veth, n)
	for i := range veths {
		v := &veths[i]
		v.Name = fmt.Sprintf("%s%d", prefix, i)
		v.Peer = v.Name + "p"
		lines = append(lines, fmt.Sprintf("link add %s type veth peer name %s", v.Name, v.Peer))
	}
	for _, v := range veths {
		lines = append(lines, "link set "+v.Name+" up", "link set "+v.Peer+" up")
	}
	ns.IPBatch(tb, lines)
	idx := ns.Ifindexes(tb)
	for i := range veths {
		veths[i].Index = idx[veths[i].Name]
		veths[i].PeerIndex = idx[veths[i].Peer]
	}
	return veths
}

// DelLinks deletes links by name, in one `ip -batch`.
func (ns *NS) DelLinks(tb testing.TB, names ...string) {
	tb.Helper()
	lines := make([]string, len(names))
	for i, n := range names {
		lines[i] = "link del " + n
	}
	ns.IPBatch(tb, lines)
}

// Ifindexes returns the namespace's interfaces by name.
func (ns *NS) Ifindexes(tb testing.TB) map[string]int {
	tb.Helper()
	out := ns.IP(tb, "-o", "link", "show")
	m := make(map[string]int)
	for line := range strings.SplitSeq(out, "\n") {
		// "12: name@peer: <...>"
		var idx int
		var rest string
		if _, err := fmt.Sscanf(line, "%d: %s", &idx, &rest); err != nil {
			continue
		}
		name := strings.TrimSuffix(rest, ":")
		if i := strings.IndexByte(name, '@'); i >= 0 {
			name = name[:i]
		}
		m[name] = idx
	}
	return m
}

// RequireBuiltinFamily is the function RequireBuiltinFamily for a test
// about to use family name in the namespace, whose presence iproute2's
// `genl ctrl get` tells.
func (ns *NS) RequireBuiltinFamily(tb testing.TB, name string) {
	tb.Helper()
	_, err := ns.ExecErr("genl", "ctrl", "get", "name", name)
	RequireBuiltinFamily(tb, err == nil, name)
}

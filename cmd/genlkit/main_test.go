package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/jsonmsg"
	"github.com/genlkit/genlkit/internal/spec/spectest"
	"github.com/genlkit/genlkit/internal/testutils"
)

// binPath is the genlkit binary built once for the tests.
var binPath string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "genlkit-cli-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binPath = filepath.Join(dir, "genlkit")
		if p := testutils.Prebuilt("genlkit"); p != "" {
			binPath = p
		} else if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			return 1
		}
		gs := runtime.NumGoroutine()
		code := m.Run()
		if code == 0 && !testing.Short() {
			// The in-process tests must not leave goroutines behind.
			deadline := time.Now().Add(2 * time.Second)
			for runtime.NumGoroutine() > gs && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > gs {
				fmt.Fprintf(os.Stderr, "leak check: %d goroutines at the end, %d at the start\n", n, gs)
				return 1
			}
		}
		return code
	}()
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// cli runs the built binary with the kernel specs in GENLKIT_SPECS.
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r, _ := runBinary(t, strings.NewReader(stdin), args...)
	return r
}

// runBinary runs the built binary and returns what it printed and its
// process state (for its resource usage).
func runBinary(t *testing.T, stdin io.Reader, args ...string) (result, *os.ProcessState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "GENLKIT_SPECS="+spectest.Dir(t))
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run genlkit %v: %v", args, err)
	}
	return r, cmd.ProcessState
}

// inNS runs the binary inside ns.
func inNS(t *testing.T, ns *testutils.NS, args ...string) result {
	t.Helper()
	return cli(t, "", append([]string{"--netns", ns.Name}, args...)...)
}

func wantOK(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("want success, got %v", r)
	}
}

func wantExit(t *testing.T, r result, code int, stderr string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, stderr) {
		t.Errorf("want exit %d with %q on stderr, got %v", code, stderr, r)
	}
}

// wantJSON compares output JSON with the expected text, ignoring spacing.
func wantJSON(t *testing.T, got, want string) {
	t.Helper()
	norm := func(s string) string {
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(s)); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, s)
		}
		return buf.String()
	}
	if g, w := norm(got), norm(want); g != w {
		t.Errorf("JSON differs\n got %s\nwant %s", g, w)
	}
}

// ifindexes returns the namespace's interfaces by name, from `ip -j link`.
func ifindexes(t *testing.T, ns *testutils.NS) map[string]int {
	t.Helper()
	var links []struct {
		Ifindex int    `json:"ifindex"`
		Ifname  string `json:"ifname"`
	}
	if err := json.Unmarshal([]byte(ns.IP(t, "-j", "link", "show")), &links); err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range links {
		m[l.Ifname] = l.Ifindex
	}
	return m
}

func TestFamilies(t *testing.T) {
	ns := testutils.NetNS(t)
	r := inNS(t, ns, "families")
	wantOK(t, r)
	var got []struct {
		Name   string `json:"name"`
		ID     int    `json:"id"`
		Ops    int    `json:"ops"`
		Groups []struct {
			Name string `json:"name"`
			ID   int    `json:"id"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	c, err := genl.Dial(genl.WithNetNS(ns.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want, err := family.List(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d families, the kernel lists %d", len(got), len(want))
	}
	for i, f := range want {
		if got[i].Name != f.Name || got[i].ID != int(f.ID) || got[i].Ops != len(f.Ops) || len(got[i].Groups) != len(f.Groups) {
			t.Errorf("family %d: got %+v, want %s id %d", i, got[i], f.Name, f.ID)
		}
	}

	// Table output: aligned columns with a header.
	r = inNS(t, ns, "families", "--output", "table")
	wantOK(t, r)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.HasPrefix(lines[0], "NAME ") || !strings.Contains(lines[0], "GROUPS") || len(lines) != len(want)+1 {
		t.Errorf("table:\n%s", r.stdout)
	}
	hasNetdev := slices.ContainsFunc(want, func(f *family.Family) bool { return f.Name == "netdev" }) // 6.3 and newer
	if hasNetdev && !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "netdev ") && strings.Contains(l, "mgmt,page-pool") }) {
		t.Errorf("no netdev row:\n%s", r.stdout)
	}
}

func TestFamilyAndPolicy(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	r := inNS(t, ns, "family", "netdev", "--policy")
	wantOK(t, r)
	obj, err := jsonmsg.ParseObject([]byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := obj.Get("ops")
	first := ops.([]any)[0].(*jsonmsg.Object)
	if s, _ := jsonmsg.Marshal(first); string(s) != `{"id": 1, "name": "dev-get", "flags": ["do", "dump", "has-policy"]}` {
		t.Errorf("first op: %s", s)
	}
	pol, _ := obj.Get("policy")
	devGet := pol.([]any)[0].(*jsonmsg.Object)
	do, _ := devGet.Get("do")
	ifx, _ := do.(*jsonmsg.Object).Get("ifindex")
	if s, _ := jsonmsg.Marshal(ifx); string(s) != `{"attr": 1, "type": "u32", "min-value": 1, "max-value": 4294967295}` {
		t.Errorf("dev-get do ifindex policy: %s", s)
	}
	// The dump-only qstats-get is named, not filed under command 0.
	if !strings.Contains(r.stdout, `"op": "qstats-get", "cmd": 12, "dump": {`) {
		t.Errorf("qstats-get policy missing: %s", r.stdout)
	}

	r = inNS(t, ns, "family", "netdev", "--policy", "-o", "table")
	wantOK(t, r)
	for _, want := range []string{"CMD  OP", "GROUP", "mgmt", "Policy:",
		"dev-get (cmd 1):", "ifindex (1): u32 range [1, 4294967295]", "queues (2): nested policy"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	// Columns as wide as the longest op name the kernel has.
	if !regexp.MustCompile(`(?m)^1 +dev-get +do,dump,has-policy$`).MatchString(r.stdout) {
		t.Errorf("table lacks the dev-get row:\n%s", r.stdout)
	}
}

func TestOps(t *testing.T) {
	r := cli(t, "", "ops", "netdev", "--output", "json")
	wantOK(t, r)
	var ops []struct {
		Name  string   `json:"name"`
		Kinds []string `json:"kinds"`
		Do    *struct {
			Request []string `json:"request"`
			Reply   []string `json:"reply"`
		} `json:"do"`
		Group string `json:"group"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ops); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, op := range ops {
		switch op.Name {
		case "dev-get":
			found++
			if !slices.Equal(op.Kinds, []string{"do", "dump"}) || !slices.Equal(op.Do.Request, []string{"ifindex"}) ||
				!slices.Contains(op.Do.Reply, "xdp-features") {
				t.Errorf("dev-get: %+v", op)
			}
		case "dev-add-ntf":
			found++
			if !slices.Equal(op.Kinds, []string{"notify"}) || op.Group != "mgmt" {
				t.Errorf("dev-add-ntf: %+v", op)
			}
		}
	}
	if found != 2 {
		t.Errorf("ops: %s", r.stdout)
	}
	r = cli(t, "", "ops", "netdev", "-o", "table")
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "dev-get: do, dump (cmd 1)\n  do request:\n    ifindex: u32\n") {
		t.Errorf("table: %s", r.stdout)
	}
	// --spec names the family's file directly.
	r = cli(t, "", "ops", "mptcp_pm", "--spec", filepath.Join(spectest.Dir(t), "mptcp_pm.yaml"))
	wantOK(t, r)
	if !strings.Contains(r.stdout, `"name": "get-addr"`) {
		t.Errorf("--spec: %s", r.stdout)
	}
}

// vethFeatures is what this kernel reports for a veth's XDP features.
const vethFeatures = `"xdp-features": ["basic", "redirect", "rx-sg"], "xdp-rx-metadata-features": ["hash", "timestamp", "vlan-tag"], "xsk-features": []`

func TestDumpNetdev(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	ns.AddVeths(t, "v", 1)
	idx := ifindexes(t, ns)
	r := inNS(t, ns, "dump", "netdev", "dev-get")
	wantOK(t, r)
	// The kernel dumps devices in ifindex order: lo, the veths and the
	// devices a distro kernel's modules put in every namespace.
	var got []json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	var order []int
	byIndex := map[int]string{}
	for _, e := range got {
		var d struct{ Ifindex int }
		json.Unmarshal(e, &d)
		order = append(order, d.Ifindex)
		byIndex[d.Ifindex] = string(e)
	}
	want := slices.Sorted(maps.Values(idx))
	if !slices.Equal(order, want) {
		t.Errorf("dump: ifindexes %v, want %v (ip link: %v)", order, want, idx)
	}
	wantJSON(t, byIndex[idx["lo"]], fmt.Sprintf(`{"ifindex": %d, "xdp-features": [], "xdp-rx-metadata-features": [], "xsk-features": []}`, idx["lo"]))
	for _, name := range []string{"v0", "v0p"} {
		wantJSON(t, byIndex[idx[name]], fmt.Sprintf(`{"ifindex": %d, %s}`, idx[name], vethFeatures))
	}

	r = inNS(t, ns, "do", "netdev", "dev-get", "--json", fmt.Sprintf(`{"ifindex": %d}`, idx["v0"]))
	wantOK(t, r)
	wantJSON(t, r.stdout, fmt.Sprintf(`{"ifindex": %d, %s}`, idx["v0"], vethFeatures))

	// Table output: a key: value tree.
	r = inNS(t, ns, "dump", "netdev", "dev-get", "-o", "table")
	wantOK(t, r)
	if !strings.Contains(r.stdout, fmt.Sprintf("ifindex: %d (v0)\nxdp-features: [basic, redirect, rx-sg]\n", idx["v0"])) {
		t.Errorf("table:\n%s", r.stdout)
	}

	// The request from a file and from stdin.
	f := filepath.Join(t.TempDir(), "req.json")
	os.WriteFile(f, []byte(fmt.Sprintf(`{"ifindex": %d}`, idx["lo"])), 0o644)
	r = inNS(t, ns, "do", "netdev", "dev-get", "--json", "@"+f)
	wantOK(t, r)
	wantJSON(t, r.stdout, fmt.Sprintf(`{"ifindex": %d, "xdp-features": [], "xdp-rx-metadata-features": [], "xsk-features": []}`, idx["lo"]))
	r = cli(t, fmt.Sprintf(`{"ifindex": %d}`, idx["lo"]), "--netns", ns.Name, "do", "netdev", "dev-get", "--json", "-")
	wantOK(t, r)
	wantJSON(t, r.stdout, fmt.Sprintf(`{"ifindex": %d, "xdp-features": [], "xdp-rx-metadata-features": [], "xsk-features": []}`, idx["lo"]))
}

func TestDoEthtool(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "v", 1)
	idx := ifindexes(t, ns)
	r := inNS(t, ns, "do", "ethtool", "linkinfo-get", "--json", `{"header": {"dev-name": "v0"}}`)
	wantOK(t, r)
	wantJSON(t, r.stdout, fmt.Sprintf(`{"header": {"dev-index": %d, "dev-name": "v0"}, "port": 0, "phyaddr": 0, "tp-mdix": 0, "tp-mdix-ctrl": 0, "transceiver": 0}`, idx["v0"]))

	// Flags by name; a bitset with names in a nest.
	r = inNS(t, ns, "do", "ethtool", "channels-get", "--json", `{"header": {"dev-index": `+fmt.Sprint(idx["v0"])+`, "flags": ["omit-reply"]}}`)
	wantOK(t, r)
	if !strings.Contains(r.stdout, `"header": {"dev-index": `) {
		t.Errorf("channels-get: %s", r.stdout)
	}
}

func TestMptcpEndpoints(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.IP(t, "mptcp", "endpoint", "add", "192.0.2.1", "id", "1", "signal")
	// The CLI adds one itself, writing the address as text.
	r := inNS(t, ns, "do", "mptcp_pm", "add-addr", "--json", `{"addr": {"family": 2, "id": 2, "addr4": "192.0.2.2", "flags": 4}}`)
	wantOK(t, r)
	if r.stdout != "" {
		t.Errorf("a do without a reply printed %q", r.stdout)
	}
	r = inNS(t, ns, "do", "mptcp_pm", "add-addr", "--json", `{"addr": {"family": 10, "id": 3, "addr6": "2001:db8::3", "flags": 1}}`)
	wantOK(t, r)

	var eps []struct {
		Address string `json:"address"`
		ID      int    `json:"id"`
	}
	if err := json.Unmarshal([]byte(ns.IP(t, "-j", "mptcp", "endpoint", "show")), &eps); err != nil {
		t.Fatal(err)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].ID < eps[j].ID })
	if len(eps) != 3 || eps[1].Address != "192.0.2.2" || eps[2].Address != "2001:db8::3" {
		t.Fatalf("ip mptcp endpoint show: %+v", eps)
	}

	r = inNS(t, ns, "dump", "mptcp_pm", "get-addr")
	wantOK(t, r)
	// 192.0.2.1 is 3221225985: addr4 is a big-endian u32, printed as ynl does.
	wantJSON(t, r.stdout, `[{"addr": {"family": 2, "port": 0, "id": 1, "flags": 1, "addr4": 3221225985}}, `+
		`{"addr": {"family": 2, "port": 0, "id": 2, "flags": 4, "addr4": 3221225986}}, `+
		`{"addr": {"family": 10, "port": 0, "id": 3, "flags": 1, "addr6": "20010db8000000000000000000000003"}}]`)
	r = inNS(t, ns, "do", "mptcp_pm", "get-addr", "--json", `{"addr": {"id": 1}}`)
	wantOK(t, r)
	wantJSON(t, r.stdout, `{"addr": {"family": 2, "port": 0, "id": 1, "flags": 1, "addr4": 3221225985}}`)

	// NLM_F_EXCL style flags are passed through; deleting works.
	r = inNS(t, ns, "do", "mptcp_pm", "del-addr", "--json", `{"addr": {"id": 2}}`)
	wantOK(t, r)
	r = inNS(t, ns, "do", "mptcp_pm", "get-addr", "--json", `{"addr": {"id": 2}}`)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: Invalid argument (EINVAL): get-addr") {
		t.Errorf("deleted endpoint: %v", r)
	}
}

func TestSubscribeNetdev(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "--netns", ns.Name, "subscribe", "netdev", "mgmt", "--count", "2", "--duration", "20s")
	cmd.Env = append(os.Environ(), "GENLKIT_SPECS="+spectest.Dir(t))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Make links until the subscriber has seen two notifications: the
	// first ones may come before it joined the group.
	var err error
loop:
	for i := 0; ; i++ {
		name := fmt.Sprintf("w%d", i)
		ns.IP(t, "link", "add", name, "type", "veth", "peer", "name", name+"p")
		ns.IP(t, "link", "del", name)
		select {
		case err = <-done:
			break loop
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err != nil {
		t.Fatalf("subscribe: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	for _, l := range lines {
		var n struct {
			Name string         `json:"name"`
			Msg  map[string]any `json:"msg"`
		}
		if err := json.Unmarshal([]byte(l), &n); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if !slices.Contains([]string{"dev-add-ntf", "dev-del-ntf", "dev-change-ntf"}, n.Name) || n.Msg["ifindex"] == nil {
			t.Errorf("notification %s", l)
		}
	}

	// --duration ends a quiet subscription with success.
	r := inNS(t, ns, "subscribe", "netdev", "mgmt", "page-pool", "--duration", "300ms")
	wantOK(t, r)
	// Groups the spec omits are found live.
	r = inNS(t, ns, "subscribe", "mptcp_pm", "mptcp_pm_events", "--duration", "100ms")
	wantOK(t, r)
	r = inNS(t, ns, "subscribe", "netdev", "mgmnt")
	wantExit(t, r, 2, `family netdev has no group "mgmnt"; did you mean "mgmt"?`)
}

func TestBatch(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	ns.AddVeths(t, "v", 1)
	idx := ifindexes(t, ns)
	r := inNS(t, ns, "batch", "netdev", "--op", "dev-get", "--json", fmt.Sprintf(`{"ifindex": %d}`, idx["lo"]),
		"--op", "dev-get", "--json", fmt.Sprintf(`{"ifindex": %d}`, idx["v0"]))
	wantOK(t, r)
	wantJSON(t, r.stdout, fmt.Sprintf(`[{"ifindex": %d, "xdp-features": [], "xdp-rx-metadata-features": [], "xsk-features": []}, {"ifindex": %d, %s}]`,
		idx["lo"], idx["v0"], vethFeatures))

	// JSON lines on stdin; a request the kernel only acknowledged gives
	// {"ok": true}, a failed one {"ok": false, …}, makes the exit status 1
	// and is reported on stderr.
	stdin := `{"name": "add-addr", "msg": {"addr": {"family": 2, "id": 5, "addr4": "192.0.2.5", "flags": 1}}}
{"name": "get-addr", "msg": {"addr": {"id": 5}}}
{"op": "get-addr", "msg": {"addr": {"id": 9}}}
`
	r = cli(t, stdin, "--netns", ns.Name, "batch", "mptcp_pm")
	if r.code != 1 || !strings.Contains(r.stderr, "Error: [2] Invalid argument (EINVAL): get-addr") {
		t.Errorf("batch with a failure: %v", r)
	}
	// Some kernels (6.12) point no extended ACK at the attribute here.
	attr := ": attribute addr"
	if !strings.Contains(r.stdout, attr) {
		attr = ""
	}
	wantJSON(t, r.stdout, `[{"ok": true}, {"addr": {"family": 2, "port": 0, "id": 5, "flags": 1, "addr4": 3221225989}}, `+
		`{"ok": false, "errno": "EINVAL", "error": "Invalid argument (EINVAL): get-addr: address not found`+attr+`"}]`)
}

func TestCheck(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	specFile := filepath.Join(spectest.Dir(t), "netdev.yaml")
	r := inNS(t, ns, "check", "netdev", "--spec", specFile, "-o", "table")
	if r.code != 1 {
		t.Fatalf("check netdev: %v", r)
	}
	// queue-create is newer than 6.18 (../shared/specs/README.md): check
	// names it on kernels without it.
	missing := "queue-create: missing in the kernel (cmd 16, do)"
	if got := strings.Contains(r.stdout, missing); got == netdevHasOp(t, ns, 16) || !strings.Contains(r.stdout, "differences") {
		t.Errorf("check says %q: %v, kernel has queue-create: %v\n%s", missing, got, !got, r.stdout)
	}
	r = inNS(t, ns, "check", "mptcp_pm", "--output", "json")
	if r.code != 1 {
		t.Fatalf("check mptcp_pm: %v", r)
	}
	var res struct {
		Agree bool `json:"agree"`
		Diffs []struct {
			Kind string `json:"kind"`
			Text string `json:"text"`
		} `json:"differences"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, d := range res.Diffs {
		if d.Kind == "group-extra" {
			groups = append(groups, d.Text)
		}
	}
	// The project overlay adds the two groups the spec leaves out; the
	// get-addr dump attributes still differ.
	if res.Agree || len(groups) != 0 {
		t.Errorf("check mptcp_pm: %s", r.stdout)
	}
}

// An errorCase is a command line and the exit code and stderr it gives.
type errorCase struct {
	args   []string
	code   int
	stderr string
}

func TestErrors(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	ns.AddVeths(t, "v", 1)
	for _, tc := range []errorCase{
		{[]string{"dump", "netdv", "dev-get"}, 2, "genlkit: unknown family \"netdv\"; did you mean \"netdev\"?\nRun 'genlkit families'"},
		{[]string{"dump", "netdev", "dev-gett"}, 2, "genlkit: family netdev has no op \"dev-gett\"; did you mean \"dev-get\"?\nRun 'genlkit ops netdev'"},
		{[]string{"do", "netdev", "qstats-get"}, 2, "op qstats-get of netdev has no do form\nTry 'genlkit dump netdev qstats-get'."},
		{[]string{"do", "netdev", "dev-add-ntf"}, 2, "op dev-add-ntf of netdev is a notification, not a request"},
		{[]string{"do", "netdev", "dev-get", "--json", "{"}, 2, "genlkit: --json: invalid JSON: unexpected end of input\n"},
		{[]string{"do", "netdev", "dev-get", "--json", "[1]"}, 2, "invalid JSON: want an object, got an array"},
		{[]string{"do", "netdev", "dev-get", "--json", `{"ifindx": 1}`}, 2, `genlkit: json .ifindx: no attribute "ifindx" in set dev; did you mean "ifindex"?`},
		{[]string{"do", "netdev", "dev-get", "--json", `{"ifindex": "lo"}`}, 2, `genlkit: json .ifindex (u32 "ifindex"): "lo" is not a number`},
		{[]string{"do", "netdev", "dev-get", "--json", `{"ifindex": 999}`}, 1, "Error: No such device (ENODEV): dev-get\n"},
		{[]string{"do", "netdev", "dev-get"}, 1, "Error: Invalid argument (EINVAL): dev-get: missing attribute ifindex\n"},
		{[]string{"do", "netdev", "napi-get", "--json", `{"id": 999}`}, 1, "Error: No such file or directory (ENOENT): napi-get: attribute id\n"},
		{[]string{"do", "ethtool", "linkinfo-get", "--json", `{"header": {"dev-index": 999}}`}, 1,
			"Error: No such device (ENODEV): linkinfo-get: no device matches ifindex: attribute header.dev-index\n"},
		{[]string{"do", "netdev", "queue-create", "--json", `{"ifindex": 1}`}, 1, "queue-create"},
		{[]string{"do", "netdev"}, 2, "do: missing arguments\nUsage: genlkit do FAMILY OP"},
		{[]string{"frobnicate"}, 2, "unknown command \"frobnicate\""},
		{[]string{"dumb", "netdev", "dev-get"}, 2, "unknown command \"dumb\"; did you mean \"dump\"?"},
		{[]string{"families", "--output", "yaml"}, 2, "unknown output format \"yaml\""},
		{[]string{"families", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		undescribedFamilyOps(t, ns),
		absentFamilyDo(t, ns),
	} {
		if tc.args == nil {
			continue // every candidate family is registered
		}
		r := inNS(t, ns, tc.args...)
		if tc.code == 1 && r.code == 1 && tc.stderr[len(tc.stderr)-1] == '\n' && r.stderr != tc.stderr {
			t.Errorf("%v: stderr %q, want exactly %q", tc.args, r.stderr, tc.stderr)
			continue
		}
		wantExit(t, r, tc.code, tc.stderr)
	}
}

// netdevHasOp reports whether the kernel's netdev family in ns has command
// cmd.
func netdevHasOp(t *testing.T, ns *testutils.NS, cmd uint32) bool {
	t.Helper()
	c, ctx := ns.Dial(t)
	f, err := family.Get(ctx, c, "netdev")
	if err != nil {
		t.Fatal(err)
	}
	_, ok := f.Op(cmd)
	return ok
}

// absentFamilyDo returns the case of TestErrors for a do request to a
// family genlkit describes that the kernel does not register (none of
// these is in the kernels the project tests on), or a case with nil args.
func absentFamilyDo(t *testing.T, ns *testutils.NS) (tc errorCase) {
	t.Helper()
	c, ctx := ns.Dial(t)
	for _, fo := range [][2]string{{"psp", "dev-get"}, {"drm-ras", "get-error-counter"}, {"lockd", "server-get"}} {
		if _, err := family.Get(ctx, c, fo[0]); errors.Is(err, family.ErrNotFound) {
			tc.args = []string{"do", fo[0], fo[1]}
			tc.code = 1
			tc.stderr = "Error: family " + fo[0] + " is not registered in the running kernel"
			return tc
		}
	}
	return tc
}

// undescribedFamilyOps returns the case of TestErrors for the ops of a
// family the kernel registers in ns that genlkit has no descriptor for, or
// a case with nil args when it describes every one (Linux 6.18 in a
// network namespace: nlctrl, netdev, ethtool, tcp_metrics, mptcp_pm,
// SEG6, IOAM6, TASKSTATS).
func undescribedFamilyOps(t *testing.T, ns *testutils.NS) (tc errorCase) {
	t.Helper()
	c, ctx := ns.Dial(t)
	fams, err := family.List(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if _, ok := family.Lookup(f.Name); !ok {
			return errorCase{[]string{"ops", f.Name}, 2, "family " + f.Name + " has no descriptor"}
		}
	}
	return tc
}

func TestCompletion(t *testing.T) {
	ns := testutils.NetNS(t)
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"dum"}, []string{"dump"}},
		{[]string{"dump", "netd"}, []string{"netdev"}},
		{[]string{"dump", "mptcp"}, []string{"mptcp_pm"}},
		{[]string{"dump", "netdev", "dev"}, []string{"dev-get"}},
		{[]string{"do", "netdev", "q"}, []string{"queue-create", "queue-get"}},
		{[]string{"subscribe", "netdev", ""}, []string{"mgmt", "page-pool"}},
		{[]string{"subscribe", "mptcp_pm", ""}, []string{"mptcp_pm_cmds", "mptcp_pm_events"}},
		{[]string{"batch", "netdev", "--op", "dev"}, []string{"dev-get"}},
		{[]string{"ops", "netdev", "dev-"}, []string{"dev-add-ntf", "dev-change-ntf", "dev-del-ntf", "dev-get"}},
		{[]string{"--output", ""}, []string{"json", "table"}},
		{[]string{"do", "--js"}, []string{"--json"}},
		{[]string{"completion", ""}, []string{"bash", "fish", "zsh"}},
	} {
		r := inNS(t, ns, append([]string{"__complete"}, tc.words...)...)
		wantOK(t, r)
		got := strings.Fields(r.stdout)
		if !slices.Equal(got, tc.want) {
			t.Errorf("complete %q: got %q, want %q", tc.words, got, tc.want)
		}
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := cli(t, "", "completion", sh)
		wantOK(t, r)
		if !strings.Contains(r.stdout, "__complete") {
			t.Errorf("%s script: %s", sh, r.stdout)
		}
	}
}

// In-process tests of what needs no kernel.

func runInProcess(args ...string) result {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

func TestUsageInProcess(t *testing.T) {
	r := runInProcess("--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Commands:") || !strings.Contains(r.stdout, "subscribe") {
		t.Errorf("--help: %v", r)
	}
	r = runInProcess()
	if r.code != 2 || !strings.Contains(r.stdout, "Usage: genlkit") {
		t.Errorf("no args: %v", r)
	}
	r = runInProcess("do", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--json") || !strings.Contains(r.stdout, "--create") || !strings.Contains(r.stdout, "--netns") {
		t.Errorf("do --help: %v", r)
	}
	r = runInProcess("help", "check")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage: genlkit check FAMILY") {
		t.Errorf("help check: %v", r)
	}
	r = runInProcess("completion", "tcsh")
	if r.code != 2 || !strings.Contains(r.stderr, `no completion for shell "tcsh"`) {
		t.Errorf("completion tcsh: %v", r)
	}
	r = runInProcess("batch", "netdev", "--json", "{}")
	if r.code != 2 || !strings.Contains(r.stderr, "--json must follow an --op") {
		t.Errorf("batch --json first: %v", r)
	}
	// The spec's family must be the one named.
	dir := spectest.Dir(t)
	r = runInProcess("ops", "ethtool", "--spec", filepath.Join(dir, "netdev.yaml"))
	if r.code != 2 || !strings.Contains(r.stderr, `describes family "netdev", not "ethtool"`) {
		t.Errorf("spec mismatch: %v", r)
	}
	// Global flags before the command are kept.
	r = runInProcess("--output", "json", "--spec", filepath.Join(dir, "netdev.yaml"), "ops", "netdev")
	if r.code != 0 || !strings.HasPrefix(r.stdout, `[{"name": "dev-get"`) {
		t.Errorf("globals first: %v", r)
	}
}

// TestDumpEveryFamily runs the CLI's dump of one op of each family it
// describes that the kernel registers (in a VM harness guest: wireguard,
// nl80211, openvswitch, fou, devlink, dpll…), in a fresh namespace, and
// asks nlctrl for each of them with `do`. Every dump must answer a JSON
// array; a family GENLKIT_EXPECT_FAMILIES lists must be there.
func TestDumpEveryFamily(t *testing.T) {
	ns := testutils.NetNS(t)
	cases := []struct {
		family, op, json string
		min              int // entries the fresh namespace has at least
	}{
		{"nlctrl", "getfamily", "", 1},
		{"netdev", "dev-get", "", len(ns.Initial)},
		// With the request header, which Linux 6.1 requires even in a
		// dump (without it: EINVAL, "request header missing").
		{"ethtool", "linkstate-get", `{"header": {}}`, len(ns.Initial)},
		{"mptcp_pm", "get-addr", "", 0},
		{"tcp_metrics", "get", "", 0},
		{"wireguard", "get-device", `{"ifname": "none0"}`, -1}, // no such device
		{"nl80211", "get-wiphy", "", 0},
		{"nl80211", "get-interface", "", 0},
		{"ovs_datapath", "get", "", 0},
		{"ovs_vport", "get", "", -1}, // no datapath
		{"fou", "get", "", 0},
		{"devlink", "get", "", 0},
		{"dpll", "device-get", "", 0},
		{"net-shaper", "cap-get", "", -1}, // needs a device
		{"dev-energymodel", "get-perf-domains", "", 0},
	}
	c, ctx := ns.Dial(t)
	fams, err := family.List(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.family+"/"+tc.op, func(t *testing.T) {
			i := slices.IndexFunc(fams, func(f *family.Family) bool { return f.Name == tc.family })
			testutils.RequireModuleFamily(t, i >= 0, tc.family)
			args := []string{"dump", tc.family, tc.op}
			if tc.json != "" {
				args = append(args, "--json", tc.json)
			}
			r := inNS(t, ns, args...)
			if tc.min < 0 {
				// Refused by the kernel: exit 1 and its reason, with the op.
				wantExit(t, r, 1, "): "+tc.op)
				if !strings.HasPrefix(r.stderr, "Error: ") {
					t.Errorf("stderr %q: want the kernel's error", r.stderr)
				}
				return
			}
			wantOK(t, r)
			var got []map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("%v\n%s", err, r.stdout)
			}
			if len(got) < tc.min {
				t.Errorf("%d entries, want at least %d:\n%s", len(got), tc.min, r.stdout)
			}
			// nlctrl's view of the family, through the CLI's do.
			r = inNS(t, ns, "do", "nlctrl", "getfamily", "--json", fmt.Sprintf(`{"family-name": %q}`, tc.family))
			wantOK(t, r)
			var nf struct {
				ID   int    `json:"family-id"`
				Name string `json:"family-name"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &nf); err != nil || nf.Name != tc.family || nf.ID != int(fams[i].ID) {
				t.Errorf("do nlctrl getfamily %s: %+v, %v; want id %d", tc.family, nf, err, fams[i].ID)
			}
		})
	}
}

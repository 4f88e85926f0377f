package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/internal/spec/spectest"
	"github.com/genlkit/genlkit/internal/testutils"
)

// Tests of the output for people (tables) and of the CLI's rough edges,
// compared with ethtool and iproute2 where they print the same thing.

// tableLines runs the binary in ns with -o table and returns its
// "key: value" lines, trimmed, by key.
func tableLines(t *testing.T, ns *testutils.NS, args ...string) (map[string]string, result) {
	t.Helper()
	r := inNS(t, ns, append(args, "-o", "table")...)
	wantOK(t, r)
	m := map[string]string{}
	for _, l := range strings.Split(r.stdout, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), ": ")
		if ok {
			m[k] = v
		}
	}
	return m, r
}

// TestFeaturesTable: features-get prints one line per named feature, as
// ethtool -k does, with the same on/off, [fixed] and [requested] states, on
// each kind of device (a macvlan asks for features it cannot have: ethtool
// calls them fixed, without what was requested).
func TestFeaturesTable(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "v", 1)
	ns.IPBatch(t, []string{
		"link add br0 type bridge",
		"tuntap add dev tap0 mode tap",
		"link add mv0 link v0 type macvlan mode bridge",
		"link set mv0 up",
	})
	req := `{"header": {"dev-name": "v0"}}`
	got, r := tableLines(t, ns, "do", "ethtool", "features-get", "--json", req)
	if regexp.MustCompile(`(?m)^\s*(- )?index:`).MatchString(r.stdout) || strings.Contains(r.stdout, `name: ""`) {
		t.Errorf("raw bitsets in the table:\n%s", r.stdout)
	}
	if n := strings.Count(r.stdout, "\n"); n > 100 {
		t.Errorf("%d lines", n)
	}
	for k, v := range map[string]string{"rx-lro": "off [fixed]", "tx-scatter-gather": "on", "vlan-challenged": "off [fixed]"} {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	// Every feature ethtool lists under its kernel name reads the same.
	ethtool := testutils.RequireTool(t, "ethtool")
	for _, dev := range []string{"v0", "br0", "tap0", "mv0"} {
		got, _ := tableLines(t, ns, "do", "ethtool", "features-get", "--json", fmt.Sprintf(`{"header": {"dev-name": %q}}`, dev))
		out := ns.Exec(t, ethtool, "-k", dev)
		n := 0
		for _, l := range strings.Split(out, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(l), ": ")
			if !ok {
				continue
			}
			if g, ok := got[k]; ok {
				n++
				if g != v {
					t.Errorf("%s %s: genlkit %q, ethtool %q", dev, k, g, v)
				}
			}
		}
		if n < 40 {
			t.Errorf("%s: only %d features in common with ethtool -k:\n%s", dev, n, out)
		}
	}
	// A wanted state the device does not take shows as requested.
	r = inNS(t, ns, "do", "ethtool", "features-set", "--json", `{"header": {"dev-name": "v0"}, "wanted": {"bits": {"bit": [{"name": "rx-gro", "value": true}]}}}`)
	wantOK(t, r)
	got, _ = tableLines(t, ns, "do", "ethtool", "features-get", "--json", req)
	if got["rx-gro"] != "on" {
		t.Errorf("rx-gro after features-set: %q", got["rx-gro"])
	}
}

// TestFeaturesSetFixed: changing a fixed feature fails, naming it, as
// ethtool -K does; the JSON reply is printed as before.
func TestFeaturesSetFixed(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "v", 1)
	r := inNS(t, ns, "do", "ethtool", "features-set", "--json", `{"header": {"dev-name": "v0"}, "wanted": {"bits": {"bit": [{"name": "rx-lro", "value": true}]}}}`)
	wantExit(t, r, 1, "Error: features-set: could not change some requested features: rx-lro (requested on, still off)\n")
	if !strings.Contains(r.stdout, `"wanted": {"size": 64, "bits": {"bit": [{"index": 15, "name": "rx-lro", "value": true}]}}`) {
		t.Errorf("reply: %s", r.stdout)
	}
	ethtool := testutils.RequireTool(t, "ethtool")
	if _, err := ns.ExecErr(ethtool, "-K", "v0", "lro", "on"); err == nil {
		t.Error("ethtool -K lro on succeeded; the comparison is moot")
	}
}

// TestSubscribeFeaturesTable: a features notification (compact bitsets)
// is shown with the features named, as features-get is.
func TestSubscribeFeaturesTable(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "v", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "--netns", ns.Name, "subscribe", "ethtool", "monitor", "-o", "table", "--count", "1", "--duration", "20s")
	cmd.Env = append(os.Environ(), "GENLKIT_SPECS="+spectest.Dir(t))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	on := true
	for {
		inNS(t, ns, "do", "ethtool", "features-set", "--json",
			fmt.Sprintf(`{"header": {"dev-name": "v0"}, "wanted": {"bits": {"bit": [{"name": "rx-gro", "value": %v}]}}}`, on))
		on = !on
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			s := out.String()
			if !strings.HasPrefix(s, "features-ntf:\n") || !regexp.MustCompile(`\n    rx-gro: (on|off)\n`).MatchString(s) ||
				!strings.Contains(s, "    rx-lro: off [fixed]\n") || strings.Contains(s, "value:") {
				t.Errorf("notification:\n%s", s)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestMptcpEndpointTable: endpoints read as `ip mptcp endpoint` shows
// them: addresses as text, flags by name, the device by name.
func TestMptcpEndpointTable(t *testing.T) {
	ns := testutils.NetNS(t)
	v := ns.AddVeths(t, "v", 1)[0]
	ns.IP(t, "mptcp", "endpoint", "add", "192.0.2.1", "id", "1", "signal", "backup", "dev", "v0")
	ns.IP(t, "mptcp", "endpoint", "add", "2001:db8::2", "id", "2", "subflow")
	_, r := tableLines(t, ns, "dump", "mptcp_pm", "get-addr")
	want := fmt.Sprintf(`addr:
  family: inet
  port: 0
  id: 1
  flags: signal backup
  if-idx: %d (v0)
  addr4: 192.0.2.1

addr:
  family: inet6
  port: 0
  id: 2
  flags: subflow
  addr6: 2001:db8::2
`, v.Index)
	if r.stdout != want {
		t.Errorf("got:\n%s\nwant:\n%s", r.stdout, want)
	}
	show := ns.IP(t, "mptcp", "endpoint", "show")
	for _, w := range []string{"192.0.2.1 id 1 signal backup dev v0", "2001:db8::2 id 2 subflow"} {
		if !strings.Contains(show, w) {
			t.Errorf("ip mptcp endpoint show lacks %q:\n%s", w, show)
		}
	}
}

// TestTCPMetricsTable: tcp_metrics' RTTs are shown in their real units (the
// kernel keeps rtt times 8 and rttvar times 4), as ip tcp_metrics does.
func TestTCPMetricsTable(t *testing.T) {
	ns := testutils.NetNS(t)
	err := ns.Run(func() error {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write(make([]byte, 1<<20))
			c.Close()
		}()
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, c)
		c.Close()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	var raw []struct {
		Vals map[string]int64 `json:"vals"`
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got, _ = tableLines(t, ns, "dump", "tcp_metrics", "get")
		if got["rtt-us"] != "" || time.Now().After(deadline) {
			break
		}
	}
	if got["addr-ipv4"] != "127.0.0.1" {
		t.Fatalf("table: %v", got)
	}
	r := inNS(t, ns, "dump", "tcp_metrics", "get")
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil || len(raw) != 1 {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	for key, scale := range map[string]int64{"rtt-us": 8, "rttvar-us": 4} {
		d, err := time.ParseDuration(got[key])
		want := time.Duration(raw[0].Vals[key]) * time.Microsecond / time.Duration(scale)
		if err != nil || d != want.Truncate(time.Microsecond) {
			t.Errorf("%s: %q, want %v (raw %d)", key, got[key], want, raw[0].Vals[key])
		}
	}
	if _, err := time.ParseDuration(got["age"]); err != nil {
		t.Errorf("age %q is not a duration", got["age"])
	}
	// ip tcp_metrics prints the same rtt, in microseconds.
	m := regexp.MustCompile(` rtt (\d+)us rttvar (\d+)us`).FindStringSubmatch(ns.IP(t, "tcp_metrics", "show"))
	if m == nil {
		t.Fatal("ip tcp_metrics show: no rtt")
	}
	for i, key := range []string{"rtt-us", "rttvar-us"} {
		us, _ := strconv.ParseInt(m[i+1], 10, 64)
		if d, _ := time.ParseDuration(got[key]); d != time.Duration(us)*time.Microsecond {
			t.Errorf("%s: genlkit %s, ip tcp_metrics %dus", key, got[key], us)
		}
	}
}

// TestFamilyEdges: a family by id, a family without ops, nested policy
// details in JSON, --pretty everywhere, an op the kernel lacks.
func TestFamilyEdges(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "v", 1)
	byName := inNS(t, ns, "family", "ethtool")
	wantOK(t, byName)
	var f struct {
		ID int `json:"id"`
	}
	json.Unmarshal([]byte(byName.stdout), &f)
	byID := inNS(t, ns, "family", strconv.Itoa(f.ID))
	wantOK(t, byID)
	if byID.stdout != byName.stdout {
		t.Errorf("family %d:\n%s\nfamily ethtool:\n%s", f.ID, byID.stdout, byName.stdout)
	}
	wantExit(t, inNS(t, ns, "family", "65000"), 2, "no family has id 65000")
	genl := testutils.RequireTool(t, "genl")
	if out := ns.Exec(t, genl, "ctrl", "get", "id", strconv.Itoa(f.ID)); !strings.Contains(out, "Name: ethtool") {
		t.Errorf("genl ctrl get id %d: %s", f.ID, out)
	}

	r := inNS(t, ns, "family", "ethtool", "--policy")
	wantOK(t, r)
	if !strings.Contains(r.stdout, `"header": {"attr": 1, "type": "nested", "policy-index": 1, "maxattr": `) {
		t.Errorf("nested policy without its index and maxattr: %.400s", r.stdout)
	}

	for _, args := range [][]string{{"families"}, {"family", "netdev"}, {"ops", "netdev"}, {"dump", "netdev", "dev-get"}, {"check", "mptcp_pm"}} {
		r := inNS(t, ns, append(args, "--pretty", "-o", "json")...)
		if r.code > 1 || !strings.Contains(r.stdout, "\n  ") {
			t.Errorf("%v --pretty: %v", args, r)
		}
	}

	fam := inNS(t, ns, "family", "netdev")
	if !strings.Contains(fam.stdout, `"queue-create"`) {
		r = inNS(t, ns, "do", "netdev", "queue-create", "--json", `{"ifindex": 1}`)
		wantExit(t, r, 1, "Error: Operation not supported (EOPNOTSUPP): family netdev: op queue-create")
	}
}

// TestFamilyWithoutOps: a family that only multicasts (VFS_DQUOT, visible
// only in the initial namespace, read without changing anything) has no
// policies, which is not an error.
func TestFamilyWithoutOps(t *testing.T) {
	testutils.RequireKernel(t)
	r := cli(t, "", "family", "VFS_DQUOT", "--policy", "-o", "table")
	if r.code == 2 && strings.Contains(r.stderr, "unknown family") {
		t.Skip("VFS_DQUOT is not registered (CONFIG_QUOTA_NETLINK_INTERFACE)")
	}
	wantOK(t, r)
	if !strings.Contains(r.stdout, "VFS_DQUOT: id ") || !strings.Contains(r.stdout, "Policy: no policies") {
		t.Errorf("table:\n%s", r.stdout)
	}
	r = cli(t, "", "family", "VFS_DQUOT", "--policy", "-o", "json")
	wantOK(t, r)
	if !strings.Contains(r.stdout, `"ops": [], `) || !strings.Contains(r.stdout, `"policy": []`) {
		t.Errorf("json: %s", r.stdout)
	}
}

// TestRequestEdges: an unknown key in a nest lists what the set has; the
// module EEPROM is read with ethtool's defaults.
func TestRequestEdges(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "v", 1)
	r := inNS(t, ns, "do", "ethtool", "features-set", "--json", `{"header": {"dev-name": "v0"}, "wanted": {"rx-gro": false}}`)
	wantExit(t, r, 2, `no attribute "rx-gro" in set bitset (its attributes: nomask, size, bits, value, mask)`)
	wantExit(t, r, 2, `{"bits": {"bit": [{"name": "rx-gro", "value": true}]}}`)

	// A veth has no module: the kernel says so, as it does to ethtool -m,
	// instead of refusing a request without offset and length.
	r = inNS(t, ns, "do", "ethtool", "module-eeprom-get", "--json", `{"header": {"dev-name": "v0"}}`)
	wantExit(t, r, 1, "Error: Operation not supported (EOPNOTSUPP): module-eeprom-get\n")
	ethtool := testutils.RequireTool(t, "ethtool")
	if out, err := ns.ExecErr(ethtool, "-m", "v0"); err == nil || !strings.Contains(out+err.Error(), "Operation not supported") {
		t.Errorf("ethtool -m v0: %v: %s", err, out)
	}
}

// TestOpsTree: ops shows nested attribute trees with types, narrow enough
// to read.
func TestOpsTree(t *testing.T) {
	r := cli(t, "", "ops", "ethtool", "features-set", "-o", "table")
	wantOK(t, r)
	for _, w := range []string{
		"features-set: do (cmd 12)\n  do request:\n    header: nest (set header)\n      dev-index: u32\n      dev-name: string\n      flags: u32 flags header-flags\n",
		"        bit: nest (set bitset-bit), multi-attr\n          index: u32\n",
		"    wanted: nest (set bitset), as above\n",
		"  do reply:\n",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("lacks %q:\n%s", w, r.stdout)
		}
	}
	r = cli(t, "", "ops", "ethtool", "-o", "table")
	wantOK(t, r)
	for _, l := range strings.Split(r.stdout, "\n") {
		if len(l) > 120 {
			t.Errorf("line of %d columns: %s", len(l), l)
			break
		}
	}
	r = cli(t, "", "ops", "mptcp_pm", "get-addr", "-o", "json")
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, `{"name": "get-addr", "value": 3,`) {
		t.Errorf("json: %s", r.stdout)
	}
	wantExit(t, cli(t, "", "ops", "netdev", "dev-gett"), 2, `did you mean "dev-get"?`)
}

// TestLinkModesTable: link modes, link info and link state read as ethtool
// shows them (the speed in Mb/s, named link modes, "none" for a veth which
// reports none; duplex, port, transceiver and MDI-X by ethtool's words) on
// a veth and a bridge (whose duplex and port ethtool does not know).
func TestLinkModesTable(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "v", 1)
	ns.IP(t, "link", "add", "br0", "type", "bridge")
	ethtool := testutils.RequireTool(t, "ethtool")
	for _, dev := range []string{"v0", "br0"} {
		req := fmt.Sprintf(`{"header": {"dev-name": %q}}`, dev)
		modes, _ := tableLines(t, ns, "do", "ethtool", "linkmodes-get", "--json", req)
		if modes["ours"] != "none" {
			t.Errorf("%s ours: %q", dev, modes["ours"])
		}
		info, _ := tableLines(t, ns, "do", "ethtool", "linkinfo-get", "--json", req)
		state, _ := tableLines(t, ns, "do", "ethtool", "linkstate-get", "--json", req)
		out := ns.Exec(t, ethtool, dev)
		for _, c := range []struct{ ours, theirs string }{
			{modes["speed"], "Speed"}, {modes["autoneg"], "Auto-negotiation"}, {modes["duplex"], "Duplex"},
			{info["port"], "Port"}, {info["transceiver"], "Transceiver"}, {info["phyaddr"], "PHYAD"},
			{state["link"], "Link detected"},
		} {
			m := regexp.MustCompile(`\t` + c.theirs + `: (.+)\n`).FindStringSubmatch(out)
			if m == nil || c.ours != m[1] {
				t.Errorf("%s %s: genlkit %q, ethtool %q", dev, c.theirs, c.ours, m)
			}
		}
		if m := regexp.MustCompile(`\tMDI-X: (.+)\n`).FindStringSubmatch(out); m != nil && m[1] != info["tp-mdix"] {
			t.Errorf("%s MDI-X: genlkit %q, ethtool %q", dev, info["tp-mdix"], m[1])
		}
	}
}

// TestBatchNamesRequest: a mistake in one request of a batch names the
// request (its stdin line, or its index for --op), and nothing is sent.
func TestBatchNamesRequest(t *testing.T) {
	ns := testutils.NetNS(t)
	ok := `{"name": "add-addr", "msg": {"addr": {"family": 2, "id": 5, "addr4": "192.0.2.5"}}}`
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{ok + "\n\n" + `{"name": "nosuch"}` + "\n", nil, `stdin line 3: family mptcp_pm has no op "nosuch"`},
		{ok + "\n" + `{"name": "get-addr", "msg": {"addr": {"addr4": "2001:db8::1"}}}` + "\n", nil, "stdin line 2: json .addr.addr4"},
		{"", []string{"--op", "add-addr", "--json", `{"addr": {"family": 2, "id": 5, "addr4": "192.0.2.5"}}`,
			"--op", "get-addr", "--json", `{"addr": {"addr6": "192.0.2.1"}}`}, "request [1]: json .addr.addr6"},
		{"", []string{"--op", "add-addr", "--json", `{"addr": {"family": 2, "id": 5, "addr4": "192.0.2.5"}}`,
			"--op", "get-addr", "--json", `{"addr": `}, "request [1]: --json: invalid JSON"},
	} {
		r := cli(t, tc.stdin, append([]string{"--netns", ns.Name, "batch", "mptcp_pm"}, tc.args...)...)
		wantExit(t, r, 2, "genlkit: "+tc.want)
	}
	if out := ns.IP(t, "mptcp", "endpoint", "show"); strings.TrimSpace(out) != "" {
		t.Errorf("endpoints: %s", out)
	}
}

// TestSubscribeUnknownTable: a notification the descriptor has no op for
// (the mptcp_pm spec lists no events) is shown in a table by its command
// number, not as "<nil>".
func TestSubscribeUnknownTable(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.AddVeths(t, "v", 1)
	ns.IP(t, "addr", "add", "192.0.2.1/24", "dev", "v0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "--netns", ns.Name, "subscribe", "mptcp_pm", "mptcp_pm_events", "-o", "table", "--count", "1", "--duration", "20s")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		// An MPTCP listener (and connection) makes the kernel send events.
		err := ns.Run(func() error {
			var lc net.ListenConfig
			lc.SetMultipathTCP(true)
			ln, err := lc.Listen(ctx, "tcp4", "192.0.2.1:0")
			if err != nil {
				return err
			}
			defer ln.Close()
			d := net.Dialer{}
			d.SetMultipathTCP(true)
			c, err := d.DialContext(ctx, "tcp4", ln.Addr().String())
			if err == nil {
				c.Close()
			}
			return err
		})
		if err != nil {
			t.Fatalf("MPTCP connection: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			if s := out.String(); !regexp.MustCompile(`^cmd \d+ \(unknown to the descriptor\):\n  `).MatchString(s) {
				t.Errorf("notification:\n%s", s)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

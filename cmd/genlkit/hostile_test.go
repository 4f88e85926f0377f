package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

// cliRSS runs the binary like cli and also returns its peak resident
// memory in bytes.
func cliRSS(t *testing.T, stdin string, args ...string) (result, int64) {
	t.Helper()
	r, ps := runBinary(t, stdin, args...)
	ru, _ := ps.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return r, 0
	}
	return r, ru.Maxrss * 1024
}

// TestDeepJSON: input nested past the documented limit is a usage error of
// one short line, in bounded memory, from --json @FILE, --json - and batch
// lines on stdin, and is refused before any kernel is asked.
func TestDeepJSON(t *testing.T) {
	deep := strings.Repeat("[", 5_000_000)
	f := filepath.Join(t.TempDir(), "deep.json")
	if err := os.WriteFile(f, []byte(`{"ifindex": `+deep), 0o644); err != nil {
		t.Fatal(err)
	}
	const maxRSS = 256 << 20
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"--json @FILE", "", []string{"do", "netdev", "dev-get", "--json", "@" + f}},
		{"--json -", `{"ifindex": ` + deep, []string{"dump", "netdev", "dev-get", "--json", "-"}},
		{"batch stdin", `{"name": "dev-get", "msg": ` + strings.Repeat(`{"a": `, 1_000_000) + "\n", []string{"batch", "netdev"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, rss := cliRSS(t, tc.stdin, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %.300s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) != 1 || len(lines[0]) > 160 || !strings.Contains(lines[0], "more than 1000 levels") {
				t.Errorf("stderr: %q", r.stderr)
			}
			if rss > maxRSS {
				t.Errorf("peak RSS %d MiB, want under %d MiB", rss>>20, maxRSS>>20)
			}
		})
	}
}

// TestEmptyNetNS: an empty --netns (an unset shell variable) is a usage
// error, never the host's namespace.
func TestEmptyNetNS(t *testing.T) {
	for _, args := range [][]string{
		{"--netns", "", "families"},
		{"--netns=", "families"},
		{"families", "--netns", ""},
		{"families", "--netns="},
		{"do", "netdev", "dev-get", "--netns=", "--json", `{"ifindex": 1}`},
	} {
		r := runInProcess(args...)
		if r.code != 2 || !strings.Contains(r.stderr, "empty network namespace name") || r.stdout != "" {
			t.Errorf("%q: %v", args, r)
		}
	}
}

// TestJSONInputRefused: input that would reach the kernel other than as
// written is a usage error naming what and where.
func TestJSONInputRefused(t *testing.T) {
	ns := testutils.NetNS(t)
	long := strings.Repeat("x", 70001)
	for _, tc := range []struct {
		args   []string
		stderr []string
	}{
		{[]string{"do", "ethtool", "linkinfo-get", "--json", `{"header": {"dev-name": "v0\u0000x"}}`},
			[]string{"json .header.dev-name", "NUL"}},
		{[]string{"do", "netdev", "dev-get", "--json", `{"ifindex": 1, "ifindex": 2}`},
			[]string{`duplicate key "ifindex"`}},
		{[]string{"do", "mptcp_pm", "add-addr", "--json", `{"addr": {"family": 10, "id": 3, "addr6": "192.0.2.3"}}`},
			[]string{"json .addr.addr6", "IPv4", "IPv6"}},
		{[]string{"do", "ethtool", "linkinfo-get", "--json", `{"header": {"dev-name": "` + long + `"}}`},
			[]string{"json .header.dev-name", "does not fit"}},
	} {
		r := inNS(t, ns, tc.args...)
		if r.code != 2 {
			t.Errorf("%.80q: %.300v", tc.args, r)
			continue
		}
		for _, w := range tc.stderr {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%.80q: stderr %q lacks %q", tc.args, r.stderr, w)
			}
		}
	}
	// Nothing was added.
	if out := ns.IP(t, "mptcp", "endpoint", "show"); strings.TrimSpace(out) != "" {
		t.Errorf("endpoints: %s", out)
	}
}

// TestSpecLoadFailure: a --spec that cannot be loaded is a usage error.
func TestSpecLoadFailure(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: [unterminated\n"), 0o644)
	for _, file := range []string{"/nonexistent.yaml", bad} {
		r := runInProcess("-o", "json", "ops", "netdev", "--spec", file)
		if r.code != 2 || !strings.Contains(r.stderr, "genlkit: load spec") {
			t.Errorf("--spec %s: %v", file, r)
		}
	}
}

// TestTableEscapesControl: a kernel string with control characters (an
// interface name) is printed escaped in tables, as it is in JSON.
func TestTableEscapesControl(t *testing.T) {
	ns := testutils.NetNS(t)
	name := "\x1b[31mv"
	ns.IP(t, "link", "add", name, "type", "veth", "peer", "name", "vp")
	// (ip -j prints the name raw, which is not JSON: ask by name.)
	r := inNS(t, ns, "do", "ethtool", "linkinfo-get", "-o", "table", "--json", `{"header": {"dev-name": "\u001b[31mv"}}`)
	wantOK(t, r)
	if strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stdout, `\x1b[31mv`) {
		t.Errorf("table:\n%q", r.stdout)
	}
	if got := printable("a\tb\u202ec\xff\u0085"); got != `a\tb\u202ec\xff\u0085` {
		t.Errorf("printable = %q", got)
	}
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

// cliRSS runs the binary like cli, its standard input read from the file
// stdin (if not ""), and also returns its peak resident memory in bytes.
// The test's own memory stays small (a child's peak counts its parent's
// memory at the time it was started), so the inputs are written to files
// piece by piece.
func cliRSS(t *testing.T, stdin string, args ...string) (result, int64) {
	t.Helper()
	in := io.Reader(strings.NewReader(""))
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		in = f
	}
	r, ps := runBinary(t, in, args...)
	ru, _ := ps.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return r, 0
	}
	return r, ru.Maxrss * 1024
}

// writeRepeated writes head, then part n times, then tail to a new file in
// dir and returns its path.
func writeRepeated(t *testing.T, dir, head, part string, n int, tail string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	w.WriteString(head)
	for range n {
		w.WriteString(part)
	}
	w.WriteString(tail)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// TestHostileJSON: input nested past the documented limit, or longer than
// any request can be, is a usage error of one short line, in bounded
// memory, from --json @FILE, --json - and batch lines on stdin, and is
// refused before any kernel is asked.
func TestHostileJSON(t *testing.T) {
	dir := t.TempDir()
	deep := writeRepeated(t, dir, `{"ifindex": `, "[", 5_000_000, "")
	deepLines := writeRepeated(t, dir, `{"name": "dev-get", "msg": `, `{"a": `, 1_000_000, "\n")
	const huge = 64 << 20
	big := writeRepeated(t, dir, `{"header": {"dev-name": "`, "x", huge, `"}}`)
	bigLines := writeRepeated(t, dir, `{"name": "linkinfo-get"}`+"\n"+`{"name": "linkinfo-get", "msg": {"header": {"dev-name": "`, "x", huge, `"}}}`+"\n")
	const tooDeep, tooLong = "more than 1000 levels", "more than 16 MiB of JSON"
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
		maxRSS      int64
	}{
		{"deep --json @FILE", "", []string{"do", "netdev", "dev-get", "--json", "@" + deep}, tooDeep, 256 << 20},
		{"deep --json -", deep, []string{"dump", "netdev", "dev-get", "--json", "-"}, tooDeep, 256 << 20},
		{"deep batch stdin", deepLines, []string{"batch", "netdev"}, tooDeep, 256 << 20},
		{"huge --json @FILE", "", []string{"do", "ethtool", "linkinfo-get", "--json", "@" + big}, tooLong, 96 << 20},
		{"huge --json -", big, []string{"do", "ethtool", "linkinfo-get", "--json", "-"}, tooLong, 96 << 20},
		{"huge batch stdin", bigLines, []string{"batch", "ethtool"}, "stdin line 2: " + tooLong, 96 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, rss := cliRSS(t, tc.stdin, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %.300s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) != 1 || len(lines[0]) > 160 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("stderr: %.300q", r.stderr)
			}
			if rss > tc.maxRSS {
				t.Errorf("peak RSS %d MiB, want under %d MiB", rss>>20, tc.maxRSS>>20)
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

// TestBatchTooMany: a batch of more requests than the documented limit
// is a usage error naming the line, read in bounded memory, before any
// kernel is asked.
func TestBatchTooMany(t *testing.T) {
	lines := writeRepeated(t, t.TempDir(), "", `{"name": "dev-get", "msg": {"ifindex": 1}}`+"\n", maxBatchRequests+1, "")
	r, rss := cliRSS(t, lines, "--netns", "/nonexistent", "batch", "netdev")
	if r.code != 2 || !strings.Contains(r.stderr, fmt.Sprintf("stdin line %d: more than %d requests in one batch", maxBatchRequests+1, maxBatchRequests)) {
		t.Errorf("%v", r)
	}
	if rss > 512<<20 {
		t.Errorf("peak RSS %d MiB", rss>>20)
	}
}

// TestNegativeLimits: a negative --timeout, --duration or --count is a
// usage error naming the flag, not "no limit" (a subscribe that never
// ends).
func TestNegativeLimits(t *testing.T) {
	for _, args := range [][]string{
		{"--timeout", "-1s", "families"},
		{"dump", "netdev", "dev-get", "--timeout=-5ms"},
		{"subscribe", "netdev", "mgmt", "--duration", "-1s"},
		{"subscribe", "netdev", "mgmt", "--count", "-5"},
	} {
		r := runInProcess(append([]string{"--netns", "/nonexistent"}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "must not be negative") || r.stdout != "" {
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

// TestErrorsEscapeControl: an error quoting what was given (a JSON key, a
// namespace name) escapes control characters, so a usage error stays one
// line and nothing reaches the terminal raw.
func TestErrorsEscapeControl(t *testing.T) {
	ns := testutils.NetNS(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--netns", ns.Name, "do", "ethtool", "linkinfo-get", "--json", `{"head\u0000er": {}}`}, 2, `json .head\x00er: `},
		{[]string{"--netns", ns.Name, "do", "ethtool", "linkinfo-get", "--json", `{"header": {"x\u001b[31m\ny": 1}}`}, 2, `json .header.x\x1b[31m\ny: `},
		{[]string{"--netns", "/nonexistent/a\x1bb", "families"}, 1, `/nonexistent/a\x1bb`},
	} {
		r := cli(t, "", tc.args...)
		first, _, _ := strings.Cut(r.stderr, "\n")
		if r.code != tc.code || !strings.Contains(first, tc.want) || strings.ContainsAny(r.stderr, "\x00\x1b") {
			t.Errorf("%q: %v", tc.args, r)
		}
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
	// families lists every family: a spec there is a mistake, not ignored.
	r := runInProcess("--netns", "/nonexistent", "families", "--spec", bad)
	if r.code != 2 || !strings.Contains(r.stderr, "families: --spec describes one family") {
		t.Errorf("families --spec: %v", r)
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

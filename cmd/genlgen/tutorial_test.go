package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/spec/spectest"
)

// tutorialPath is the tutorial TestCustomFamilyTutorial runs.
const tutorialPath = "../../docs/custom-family.md"

// A tutorialBlock is one fenced code block of a tutorial: commands to run
// ("sh"), a file to write ("go file=acme/acme.go", any language with
// file=), or text shown only ("text").
type tutorialBlock struct {
	line int // of the opening fence
	lang string
	file string
	body string
}

var fenceInfo = regexp.MustCompile("^```([a-z]*)(?: file=(\\S+))?$")

// parseTutorial returns the fenced blocks of a markdown document.
func parseTutorial(md string) ([]tutorialBlock, error) {
	var blocks []tutorialBlock
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		m := fenceInfo.FindStringSubmatch(lines[i])
		if m == nil {
			return nil, fmt.Errorf("line %d: fence %q is not ```LANG [file=PATH]", i+1, lines[i])
		}
		b := tutorialBlock{line: i + 1, lang: m[1], file: m[2]}
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("line %d: fence not closed", b.line)
		}
		b.body = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// tutorialScript turns the blocks into one bash script, in order: commands
// as they are, files written with a quoted here-document. Every block that
// is not "text" must be one of the two, so nothing shown to be run or
// written is left out.
func tutorialScript(blocks []tutorialBlock) (string, error) {
	var s strings.Builder
	for _, b := range blocks {
		fmt.Fprintf(&s, "# %s:%d\n", filepath.Base(tutorialPath), b.line)
		switch {
		case b.file != "":
			if strings.Contains(b.body, "\nEOF_TUTORIAL\n") {
				return "", fmt.Errorf("line %d: the block holds the here-document delimiter", b.line)
			}
			fmt.Fprintf(&s, "mkdir -p %q\ncat >%q <<'EOF_TUTORIAL'\n%sEOF_TUTORIAL\n", filepath.Dir(b.file), b.file, b.body)
		case b.lang == "sh":
			s.WriteString(b.body)
		case b.lang == "text":
		default:
			return "", fmt.Errorf("line %d: a %q block is neither commands (sh), a file (file=PATH) nor text", b.line, b.lang)
		}
	}
	return s.String(), nil
}

func TestParseTutorial(t *testing.T) {
	md := "intro\n```sh\ngo mod init x\n```\n```go file=a/b.go\npackage b\n```\n```text\nshown\n```\n"
	blocks, err := parseTutorial(md)
	if err != nil {
		t.Fatal(err)
	}
	script, err := tutorialScript(blocks)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go mod init x\n", "cat >\"a/b.go\" <<'EOF_TUTORIAL'\npackage b\nEOF_TUTORIAL\n"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, "shown") {
		t.Errorf("text block in the script:\n%s", script)
	}
	for _, bad := range []string{"```go\nx\n```\n", "```sh\nx\n", "```sh title\nx\n```\n"} {
		if blocks, err := parseTutorial(bad); err == nil {
			if _, err := tutorialScript(blocks); err == nil {
				t.Errorf("%q accepted", bad)
			}
		}
	}
}

// TestCustomFamilyTutorial runs every command of docs/custom-family.md and
// writes every file it shows, in order, in a new module outside the tree
// whose go.mod replaces genlkit with this checkout, then checks what the
// tutorial promises: the package's tests pass (the tutorial runs them),
// go generate is idempotent, the package has one go:generate line for
// genlgen and one package comment. Modules come from the module cache
// first (after "go mod download" in the checkout), so it runs offline.
func TestCustomFamilyTutorial(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the tutorial builds and tests a new module (tens of seconds)")
	}
	if err := exec.Command("python3", "-c", "import yaml, jsonschema").Run(); err != nil {
		msg := fmt.Sprintf("the tutorial validates the spec with python3's yaml and jsonschema modules (python3-yaml, python3-jsonschema): %v", err)
		if os.Getenv(spectest.EnvRequire) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	specs := spectest.Dir(t)
	md, err := os.ReadFile(tutorialPath)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseTutorial(string(md))
	if err != nil {
		t.Fatal(err)
	}
	script, err := tutorialScript(blocks)
	if err != nil {
		t.Fatal(err)
	}
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}

	tmp := t.TempDir()
	// $LINUX: a kernel tree as far as the tutorial uses one, the schemas.
	netlinkDir := filepath.Join(tmp, "linux", "Documentation", "netlink")
	if err := os.MkdirAll(netlinkDir, 0o755); err != nil {
		t.Fatal(err)
	}
	schemas, err := filepath.Glob(filepath.Join(specs, "schemas", "*.yaml"))
	if err != nil || len(schemas) == 0 {
		t.Fatalf("no schemas in %s/schemas: %v", specs, err)
	}
	for _, s := range schemas {
		if err := os.Symlink(s, filepath.Join(netlinkDir, filepath.Base(s))); err != nil {
			t.Fatal(err)
		}
	}
	work := filepath.Join(tmp, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	env := tutorialEnv(t, checkout, filepath.Join(tmp, "linux"))

	cmd := exec.Command("bash", "-eu", "-o", "pipefail", "-x", "-c", script)
	cmd.Dir, cmd.Env = work, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the tutorial's commands failed: %v\n%s", err, out)
	}

	mod := filepath.Join(work, "acme")
	before := snapshot(t, mod)
	run := func(args ...string) string {
		t.Helper()
		c := exec.Command("go", args...)
		c.Dir, c.Env = mod, env
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("generate", "./...")
	if after := snapshot(t, mod); !equalSnapshots(before, after) {
		t.Errorf("go generate is not idempotent: files changed:\n%s", diffSnapshots(before, after))
	}

	var lines []string
	for name, content := range before {
		if filepath.Dir(name) != "acme" || !strings.HasSuffix(name, ".go") {
			continue
		}
		for l := range strings.SplitSeq(content, "\n") {
			if strings.HasPrefix(l, "//go:generate ") && strings.Contains(l, "genlgen") {
				lines = append(lines, name+": "+l)
			}
		}
	}
	if len(lines) != 1 {
		t.Errorf("%d go:generate lines run genlgen, want 1: %q", len(lines), lines)
	}
	if doc := run("doc", "./acme"); strings.Count(doc, "Package acme ") != 1 || strings.Contains(doc, "typed client for the acme generic netlink family") {
		t.Errorf("go doc joins package comments:\n%s", doc)
	}
	if gomod := before["go.mod"]; !strings.Contains(gomod, "tool github.com/genlkit/genlkit/cmd/genlgen") {
		t.Errorf("go.mod has no tool directive for genlgen:\n%s", gomod)
	}
}

// tutorialEnv is the environment the tutorial runs in: $GENLKIT is the
// checkout, $LINUX the kernel tree; modules come from the module cache,
// and the specs directory of genlkit's own
// development is not set, as a user has none.
func tutorialEnv(t *testing.T, checkout, linux string) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	// Only the module cache: what the new module needs is what genlkit
	// needs, there after "go mod download" in the checkout. A network
	// proxy behind it would make the lookup of genlkit's latest version
	// (replaced by the checkout, so any will do) fail offline.
	proxy := "file://" + filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GENLKIT_SPECS", "GOPROXY", "GOSUMDB", "GOFLAGS", "GOWORK", "GOTOOLCHAIN", "GENLKIT", "LINUX":
		default:
			env = append(env, kv)
		}
	}
	// go.sum lines come from the module cache; with no network there is
	// no checksum database to consult.
	return append(env, "GENLKIT="+checkout, "LINUX="+linux, "GOPROXY="+proxy,
		"GOSUMDB=off", "GOFLAGS=-buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
}

// snapshot returns the files under dir by relative path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func equalSnapshots(a, b map[string]string) bool { return diffSnapshots(a, b) == "" }

func diffSnapshots(a, b map[string]string) string {
	var d bytes.Buffer
	for name, content := range a {
		if c, ok := b[name]; !ok {
			fmt.Fprintf(&d, "removed %s\n", name)
		} else if c != content {
			fmt.Fprintf(&d, "changed %s\n", name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			fmt.Fprintf(&d, "added %s\n", name)
		}
	}
	return d.String()
}

package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

// TestOwnedFamilies: the families described by the project's own specs
// (no kernel spec) are compiled in, so the CLI sends them requests:
// TASKSTATS for a process of the test's own (its struct taskstats, of the
// kernel's version, shows the members the kernel sent), SEG6's tunnel
// source and IOAM6's namespaces in a private namespace, and thermal's
// zone dump.
func TestOwnedFamilies(t *testing.T) {
	testutils.RequireKernel(t)
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	pid := child.Process.Pid

	r := cli(t, "", "do", "TASKSTATS", "get", "--json", fmt.Sprintf(`{"pid": %d}`, pid))
	wantOK(t, r)
	var ts struct {
		AggrPID struct {
			PID   int            `json:"pid"`
			Stats map[string]any `json:"stats"`
		} `json:"aggr-pid"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ts); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	st := ts.AggrPID.Stats
	if ts.AggrPID.PID != pid || st["ac-pid"] != float64(pid) || st["ac-comm"] != "sleep" || st["version"] == nil {
		t.Errorf("TASKSTATS get: %s", r.stdout)
	}
	// Members past the struct the kernel sent are left out, not zero:
	// version 16 (Linux 6.13 to 6.18 at least) ends at irq-delay-min.
	if v, _ := st["version"].(float64); v < 17 {
		if _, ok := st["cpu-delay-max-ts"]; ok {
			t.Errorf("version %v struct shows cpu-delay-max-ts", v)
		}
	}

	ns := testutils.NetNS(t)
	wantOK(t, inNS(t, ns, "do", "SEG6", "set-tunsrc", "--json", `{"dst": "2001:db8::9"}`))
	r = inNS(t, ns, "do", "SEG6", "get-tunsrc")
	wantOK(t, r)
	wantJSON(t, r.stdout, `{"dst": "2001:db8::9"}`)
	if out := ns.IP(t, "sr", "tunsrc", "show"); !strings.Contains(out, "2001:db8::9") {
		t.Errorf("ip sr tunsrc show: %q", out)
	}

	wantOK(t, inNS(t, ns, "do", "IOAM6", "add-namespace", "--json", `{"ns-id": 5, "ns-data": 7}`))
	r = inNS(t, ns, "dump", "IOAM6", "dump-namespaces")
	wantOK(t, r)
	wantJSON(t, r.stdout, `[{"ns-id": 5, "ns-data": 7}]`)
	if out := ns.IP(t, "ioam", "namespace", "show"); !strings.Contains(out, "namespace 5, data 0x00000007") {
		t.Errorf("ip ioam namespace show: %q", out)
	}

	wantOK(t, cli(t, "", "dump", "thermal", "tz-get-id"))
}

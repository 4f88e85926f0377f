package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

// The CLI over the Conn's flow control and context handling: a batch of
// more requests than the receive buffer holds answers for, and a deadline
// that has passed before anything is sent.

// TestBatchBeyondReceiveBuffer: 300 dev-gets on stdin (each with a reply and
// an ACK; about 128 fit in the default receive buffer at once) all succeed,
// in order.
func TestBatchBeyondReceiveBuffer(t *testing.T) {
	ns := testutils.NetNS(t)
	const n = 300
	stdin := strings.Repeat(`{"name":"dev-get","msg":{"ifindex":1}}`+"\n", n)
	r := cli(t, stdin, "--netns", ns.Name, "batch", "netdev")
	wantOK(t, r)
	var out []struct {
		Ifindex int `json:"ifindex"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("output: %v\n%s", err, r.stdout)
	}
	if len(out) != n {
		t.Fatalf("%d results for %d requests", len(out), n)
	}
	for i, d := range out {
		if d.Ifindex != 1 {
			t.Fatalf("result %d: ifindex %d", i, d.Ifindex)
		}
	}
}

// TestExpiredTimeoutSendsNothing: with --timeout 1ns the deadline has
// passed before the request could be sent: the CLI fails and the kernel's
// state is unchanged (no endpoint added).
func TestExpiredTimeoutSendsNothing(t *testing.T) {
	ns := testutils.NetNS(t)
	r := inNS(t, ns, "--timeout", "1ns", "do", "mptcp_pm", "add-addr", "--json",
		`{"addr": {"family": 2, "id": 4, "addr4": "192.0.2.4", "flags": 1}}`)
	if r.code == 0 {
		t.Errorf("--timeout 1ns add-addr succeeded: %v", r)
	}
	if eps := strings.TrimSpace(ns.IP(t, "mptcp", "endpoint", "show")); eps != "" {
		t.Fatalf("endpoints after a request whose deadline had passed: %q", eps)
	}
}

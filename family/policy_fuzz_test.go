package family_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// FuzzGetPolicy feeds arbitrary CTRL_CMD_GETPOLICY dump replies (two
// messages, so that tables spread over several messages are merged) to
// family.GetPolicy through the public API and a fake kernel, then walks and
// prints the policy. Nothing may panic or loop, whatever the bytes (nested
// tables may reference each other in cycles, indexes may be huge).
//
// The seed corpus in testdata/fuzz/FuzzGetPolicy is real kernel output,
// captured with GENLKIT_WRITE_CORPUS=1 go test -run=TestWritePolicyCorpus.
func FuzzGetPolicy(f *testing.F) {
	f.Add([]byte{}, []byte{})
	var e attrs.Encoder
	e.U16(unix.CTRL_ATTR_FAMILY_ID, 0x14)
	pol := e.Nest(unix.CTRL_ATTR_POLICY)
	t0 := e.Nest(0)
	a := e.Nest(1)
	e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, 11) // nested
	e.U32(unix.NL_POLICY_TYPE_ATTR_POLICY_IDX, 0)
	e.U32(unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, 1)
	e.End(a)
	e.End(t0)
	e.End(pol)
	f.Add(e.Bytes(), e.Bytes()) // a table that nests itself

	var mu sync.Mutex
	var parts [2][]byte
	k := genltest.New()
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		mu.Lock()
		p := parts
		mu.Unlock()
		k.Push(genltest.ReplyMulti(r, unix.CTRL_CMD_GETPOLICY, p[0], 0), genltest.ReplyMulti(r, unix.CTRL_CMD_GETPOLICY, p[1], 0))
		k.Push(genltest.Done(r, 0, 0, nil))
	})
	c, err := k.Dial()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	f.Fuzz(func(t *testing.T, a, b []byte) {
		mu.Lock()
		parts = [2][]byte{a, b}
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p, err := family.GetPolicy(ctx, c, "fuzz", nil)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("GetPolicy hung: %v", err)
			}
			return
		}
		for _, op := range p.Ops {
			_, _ = p.Op(op.Op)
		}
		for _, s := range p.Sets {
			if s == nil {
				continue
			}
			_ = p.Set(s.Index)
			for _, at := range s.Attrs {
				_, _ = s.Attr(uint16(at.Attr))
				_ = at.String()
			}
		}
		_ = p.Print(io.Discard, func(op uint32) string { return strconv.Itoa(int(op)) })
	})
}

// TestWritePolicyCorpus captures real GETPOLICY dumps from the running
// kernel, in a private namespace, as FuzzGetPolicy's seed corpus. It only
// runs with GENLKIT_WRITE_CORPUS=1.
func TestWritePolicyCorpus(t *testing.T) {
	if os.Getenv("GENLKIT_WRITE_CORPUS") != "1" {
		t.Skip("set GENLKIT_WRITE_CORPUS=1 to rewrite testdata/fuzz/FuzzGetPolicy")
	}
	ns := testutils.NetNS(t)
	c, err := genl.Dial(genl.WithNetNS(ns.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := filepath.Join("testdata", "fuzz", "FuzzGetPolicy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range []string{"nlctrl", "netdev", "ethtool", "mptcp_pm", "devlink", "wireguard"} {
		var e attrs.Encoder
		e.String(unix.CTRL_ATTR_FAMILY_NAME, name)
		msgs, err := c.DumpAll(context.Background(), genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETPOLICY,
			Version: 2, Attrs: e.Bytes()}, 1)
		if err != nil {
			t.Logf("%s: %v (skipped)", name, err)
			continue
		}
		// Consecutive pairs, at most 6 per family.
		for i := 0; i+1 < len(msgs) && i < 12; i += 2 {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n[]byte(%s)\n", strconv.Quote(string(msgs[i].Data)), strconv.Quote(string(msgs[i+1].Data)))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%02d", name, i/2)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	t.Logf("wrote %d seeds to %s", n, dir)
}

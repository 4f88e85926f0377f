package family_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
)

// dialNS returns a Conn inside a fresh network namespace.
func dialNS(t *testing.T) (*genl.Conn, *testutils.NS) {
	t.Helper()
	testutils.RequireKernel(t)
	ns := testutils.NetNS(t)
	c, err := genl.Dial(genl.WithNetNS(ns.Path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ns
}

func TestGetUnknownFamily(t *testing.T) {
	c, _ := dialNS(t)
	_, err := family.Get(context.Background(), c, "no-such-family")
	if !errors.Is(err, family.ErrNotFound) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	if want := `"no-such-family"`; !contains(err.Error(), want) {
		t.Fatalf("error %q does not name the family", err)
	}
	r, err := family.NewResolver(c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Family(context.Background(), "no-such-family"); !errors.Is(err, family.ErrNotFound) {
		t.Fatalf("resolver: got %v", err)
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestResolverSingleFlight(t *testing.T) {
	c, _ := dialNS(t)
	r, err := family.NewResolver(c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	names := []string{"nlctrl", "netdev", "ethtool", "mptcp_pm", "tcp_metrics"}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			name := names[i%len(names)]
			f, err := r.Family(context.Background(), name)
			if err != nil || f.Name != name {
				t.Errorf("Family(%s) = %v, %v", name, f, err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if n := r.Fetches(); n != 5 {
		t.Fatalf("%d kernel requests for 5 names on a cold cache, want 5", n)
	}
	// Cached now: no more requests.
	for _, n := range names {
		if _, err := r.Family(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.Fetches(); n != 5 {
		t.Fatalf("cached lookups reached the kernel: %d requests", n)
	}
}

package family_test

import (
	"context"
	"os"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The benchmarks resolve benchFamily in a private network namespace:
// nlctrl, as the genl benchmarks do, so that the
// kernel's share of each round trip is small and the libraries' costs show.
var benchFamily = "nlctrl"

// startTimers reports allocations and the process's CPU time per
// operation (the kernel's share of a round trip included) from here on.
func startTimers(b *testing.B) {
	b.ReportAllocs()
	testutils.ResetTimersCPU(b)
}

func benchConns(b *testing.B) (*genl.Conn, *genetlink.Conn) {
	b.Helper()
	testutils.RequireKernel(b)
	ns := testutils.NetNS(b)
	c, err := genl.Dial(genl.WithNetNS(ns.Path))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	f, err := os.Open(ns.Path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	m, err := genetlink.Dial(&netlink.Config{NetNS: int(f.Fd())})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return c, m
}

func BenchmarkResolve(b *testing.B) {
	c, m := benchConns(b)
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		r, err := family.NewResolver(c)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Family(ctx, benchFamily); err != nil {
			b.Fatal(err)
		}
		startTimers(b)
		for b.Loop() {
			if _, err := r.Family(ctx, benchFamily); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		startTimers(b)
		for b.Loop() {
			if _, err := family.Get(ctx, c, benchFamily); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mdlayher", func(b *testing.B) {
		startTimers(b)
		for b.Loop() {
			if _, err := m.GetFamily(benchFamily); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkList(b *testing.B) {
	c, m := benchConns(b)
	ctx := context.Background()
	b.Run("genlkit", func(b *testing.B) {
		startTimers(b)
		for b.Loop() {
			if _, err := family.List(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mdlayher", func(b *testing.B) {
		startTimers(b)
		for b.Loop() {
			if _, err := m.ListFamilies(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListDumpOnly is the floor under BenchmarkList: the same dump of
// every family on the same kind of Conn, each message walked but nothing
// decoded.
func BenchmarkListDumpOnly(b *testing.B) {
	c, _ := benchConns(b)
	ctx := context.Background()
	req := genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 2}
	startTimers(b)
	for b.Loop() {
		n := 0
		for m, err := range c.Dump(ctx, req) {
			if err != nil {
				b.Fatal(err)
			}
			n += len(m.Data)
		}
		if n == 0 {
			b.Fatal("empty dump")
		}
	}
}

package testutils_test

import (
	"maps"
	"net"
	"os"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

func TestMain(m *testing.M) { testutils.Main(m) }

func TestNetNS(t *testing.T) {
	ns := testutils.NetNS(t)
	if _, err := os.Stat(ns.Path); err != nil {
		t.Fatal(err)
	}
	veths := ns.AddVeths(t, "tu", 2)
	if len(veths) != 2 || veths[0].Index == 0 || veths[1].PeerIndex == 0 || veths[0].Peer != "tu0p" {
		t.Fatalf("veths %+v", veths)
	}
	var inside []string
	if err := ns.Run(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			inside = append(inside, i.Name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(inside)
	// lo, and on a distro kernel the fallback devices of its modules.
	if _, ok := ns.Initial["lo"]; !ok {
		t.Fatalf("initial interfaces %v lack lo", ns.Initial)
	}
	want := []string{"tu0", "tu0p", "tu1", "tu1p"}
	for name := range ns.Initial {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(inside, want) {
		t.Fatalf("interfaces inside: %v, want %v", inside, want)
	}
	// The host never sees them.
	if _, err := net.InterfaceByName("tu0"); err == nil {
		t.Fatal("veth visible outside the namespace")
	}
	if out := ns.Exec(t, "ip", "-o", "link", "show", "tu1"); out == "" {
		t.Fatal("Exec printed nothing")
	}
	ns.DelLinks(t, "tu0", "tu1")
	if idx := ns.Ifindexes(t); !maps.Equal(idx, ns.Initial) {
		t.Fatalf("after DelLinks: %v, want the initial %v", idx, ns.Initial)
	}
}

func TestNetNSCleanup(t *testing.T) {
	var path string
	t.Run("inner", func(t *testing.T) {
		path = testutils.NetNS(t).Path
	})
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s still exists after the test: %v", path, err)
	}
}

package genetlink_test

import (
	"os"
	"testing"

	"github.com/genlkit/genlkit/genl/genetlink"
	"github.com/genlkit/genlkit/internal/testutils"
	mgenetlink "github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// conn is the method set the benchmarks use, shared by mdlayher's Conn and
// the drop-in.
type conn interface {
	GetFamily(name string) (mgenetlink.Family, error)
	ListFamilies() ([]mgenetlink.Family, error)
	Execute(m mgenetlink.Message, family uint16, flags netlink.HeaderFlags) ([]mgenetlink.Message, error)
	Close() error
}

// BenchmarkConn runs the same calls on mdlayher/genetlink's Conn and on
// the drop-in, in a private network namespace, alternating between them in
// blocks of 32 calls, and reports each one's process CPU time per call
// (the kernel's share included) and the ratio, "speedup" (genetlink's CPU
// time over the drop-in's). ns/op and the allocation figures count one
// block of each peer per iteration; the per-call figures are the metrics.
//
//	go test -run '^$' -bench BenchmarkConn -count 5 ./genl/genetlink
func BenchmarkConn(b *testing.B) {
	ns := testutils.NetNS(b)
	f, err := os.Open(ns.Path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	cfg := &netlink.Config{NetNS: int(f.Fd())}
	m, err := mgenetlink.Dial(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	g, err := genetlink.Dial(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	getNlctrl := mgenetlink.Message{
		Header: mgenetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1},
		Data:   []byte{11, 0, unix.CTRL_ATTR_FAMILY_NAME, 0, 'n', 'l', 'c', 't', 'r', 'l', 0, 0},
	}
	ops := []struct {
		name string
		fn   func(conn) error
	}{
		{"GetFamily", func(c conn) error { _, err := c.GetFamily("nlctrl"); return err }},
		{"ExecuteDo", func(c conn) error { _, err := c.Execute(getNlctrl, unix.GENL_ID_CTRL, netlink.Request); return err }},
		{"ListFamilies", func(c conn) error { _, err := c.ListFamilies(); return err }},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			b.ReportAllocs()
			testutils.Alternate(b,
				testutils.Peer{Name: "genetlink", Op: func() error { return op.fn(m) }},
				testutils.Peer{Name: "genlkit", Op: func() error { return op.fn(g) }})
		})
	}
}

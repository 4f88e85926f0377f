package genl_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/testutils"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func netdevClient(t *testing.T, c *genl.Conn) *netdev.Client {
	t.Helper()
	nd, err := netdev.New(ctxT(t), c)
	if err != nil {
		testutils.RequireBuiltinFamily(t, !errors.Is(err, fs.ErrNotExist), "netdev")
		t.Fatal(err)
	}
	return nd
}

// countDump runs a whole dev-get dump and returns the number of devices.
func countDump(ctx context.Context, nd *netdev.Client) (int, error) {
	n := 0
	for dev, err := range nd.DevGetDump(ctx) {
		if err != nil {
			return n, err
		}
		if !dev.Ifindex.Valid {
			return n, fmt.Errorf("device without ifindex")
		}
		n++
	}
	return n, nil
}

// addVethPairs makes n veth pairs in one `ip -batch`, left down (netdev
// reports them all the same), which is about twice as fast as AddVeths.
func addVethPairs(t *testing.T, ns *testutils.NS, prefix string, n int) {
	t.Helper()
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("link add %s%d type veth peer name %s%dp", prefix, i, prefix, i)
	}
	ns.IPBatch(t, lines)
}

func openFDCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func familyNameAttr(name string) []byte {
	var enc attrs.Encoder
	enc.String(unix.CTRL_ATTR_FAMILY_NAME, name)
	return enc.Bytes()
}

// fillReceiveQueue fills the receive queue of c, whose receive buffer is
// the smallest, with answers nobody waits for: requests sent on its socket
// behind its back, answered until the kernel drops the answers that no
// longer fit (and reports ENOBUFS). A Conn discards such answers as stale.
// It returns how many requests it sent.
func fillReceiveQueue(t *testing.T, c *genl.Conn) int {
	t.Helper()
	const n = 16 // each answer takes more than the smallest receive buffer
	fd := genl.SockFD(c)
	for i := range n {
		b := genltest.GenlMsg(unix.GENL_ID_CTRL, netlink.Request, 0x7fff0000+uint32(i), c.PortID(),
			unix.CTRL_CMD_GETFAMILY, 1, familyNameAttr("nlctrl"))
		if err := unix.Send(fd, b, 0); err != nil {
			t.Fatalf("request behind the Conn's back: %v", err)
		}
	}
	return n
}

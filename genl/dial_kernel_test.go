package genl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/testutils"
)

// TestKernelDialConnected: a Conn's socket is connected to the kernel,
// with a port the kernel picks or a fixed one (WithPortID), alone or with
// NETLINK_LISTEN_ALL_NSID: unicast from another socket is refused at the
// sender (ECONNREFUSED), while requests, dumps and multicast notifications
// work as before and nothing is counted as spoofed.
func TestKernelDialConnected(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func() []genl.Option
	}{
		{"kernel port", func() []genl.Option { return nil }},
		{"fixed port", func() []genl.Option {
			return []genl.Option{genl.WithPortID(4242)} // the namespace is the test's own
		}},
		{"listen all nsid", func() []genl.Option { return []genl.Option{genl.WithListenAllNSID()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, c := kernelConn(t, tc.opts()...)
			nd := netdevClient(t, c)
			fi := needFamily(t, c, netdevFamilyName)
			sub := subscribeMgmt(t, c, fi)

			// Another socket in the namespace cannot unicast to the Conn.
			var fd int
			if err := ns.Run(func() error {
				var err error
				fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			forged := genltest.GenlMsg(fi.ID, 0, 0, 0, netdevCmdDevAddNtf, 1, nil)
			err := unix.Sendto(fd, forged, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: c.PortID()})
			if !errors.Is(err, unix.ECONNREFUSED) {
				t.Errorf("unicast from another socket to the Conn's port %d: %v, want ECONNREFUSED", c.PortID(), err)
			}

			// Notifications still arrive.
			veths := ns.AddVeths(t, "dc", 1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for {
				m, err := sub.Next(ctx)
				if err != nil {
					t.Fatalf("waiting for dev-add of %d: %v", veths[0].Index, err)
				}
				if m.Header.Command == netdevCmdDevAddNtf {
					break
				}
			}
			// Requests and dumps too.
			dev, err := nd.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some(uint32(veths[0].Index))})
			if err != nil || dev.Ifindex.Value != uint32(veths[0].Index) {
				t.Fatalf("dev-get %d: %+v, %v", veths[0].Index, dev, err)
			}
			if n, err := countDump(ctx, nd); err != nil || n != 2+len(ns.Initial) {
				t.Fatalf("dump: %d devices, %v", n, err)
			}
			if st := c.Stats(); st.Spoofed != 0 || st.Stale != 0 || st.Malformed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestKernelPortTaken: WithPortID on a port another socket holds fails
// Dial with EADDRINUSE.
func TestKernelPortTaken(t *testing.T) {
	_, c := kernelConn(t)
	ns := testutils.NetNS(t)
	c1, err := genl.Dial(genl.WithNetNS(ns.Name), genl.WithPortID(c.PortID()))
	if err != nil {
		t.Fatalf("a port in another namespace: %v", err)
	}
	defer c1.Close()
	c2, err := genl.Dial(genl.WithNetNS(ns.Name), genl.WithPortID(c.PortID()))
	if err == nil {
		c2.Close()
		t.Fatal("second Conn on the same port in the same namespace: no error")
	}
	if !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("second Conn on the same port: %v, want EADDRINUSE", err)
	}
}

package genl_test

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// rmemAlloc returns the receive memory the kernel charges the socket
// (SO_MEMINFO, SK_MEMINFO_RMEM_ALLOC): the truesize of the queued skbs.
func rmemAlloc(t *testing.T, fd int) int {
	t.Helper()
	var mi [unix.SK_MEMINFO_VARS]uint32
	l := uint32(unsafe.Sizeof(mi))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&mi[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		t.Fatalf("getsockopt SO_MEMINFO: %v", e)
	}
	return int(mi[unix.SK_MEMINFO_RMEM_ALLOC])
}

// costRequest encodes a generic netlink request.
func costRequest(typ uint16, flags netlink.HeaderFlags, seq, pid uint32, cmd uint8, data []byte) []byte {
	return genltest.GenlMsg(typ, flags|netlink.Request, seq, pid, cmd, 1, data)
}

// TestKernelReplyCostBound holds the flow control's cost bounds against the
// kernel's own accounting: for each kind of answer, a request is sent on
// the Conn's socket behind its back and, before anything is read, the
// memory the kernel charges for the queued answer (SO_MEMINFO) must not
// exceed genl's bound computed from the datagrams' sizes.
func TestKernelReplyCostBound(t *testing.T) {
	_, c := kernelConn(t)
	netdevFam := needFamily(t, c, netdevFamilyName)
	mptcp, mptcpErr := getFamily(ctxT(t), c, mptcpFamilyName)
	fd := genl.SockFD(c)
	var ifindex, endpoint attrs.Encoder
	ifindex.U32(netdevADevIfindex, 1)
	mptcpAddr(&endpoint, 3, true)
	ack := netlink.Acknowledge
	cases := []struct {
		name string
		req  []byte
		dump bool
	}{
		{"nlctrl getfamily nlctrl + ACK", costRequest(unix.GENL_ID_CTRL, ack, 1<<30, c.PortID(), unix.CTRL_CMD_GETFAMILY, familyNameAttr("nlctrl")), false},
		{"nlctrl getfamily netdev + ACK", costRequest(unix.GENL_ID_CTRL, ack, 1<<30+1, c.PortID(), unix.CTRL_CMD_GETFAMILY, familyNameAttr("netdev")), false},
		{"nlctrl getfamily error + extack", costRequest(unix.GENL_ID_CTRL, ack, 1<<30+2, c.PortID(), unix.CTRL_CMD_GETFAMILY, familyNameAttr("no-such-family")), false},
		{"netdev dev-get + ACK", costRequest(netdevFam.ID, ack, 1<<30+3, c.PortID(), netdevCmdDevGet, ifindex.Bytes()), false},
		{"nlctrl getfamily dump", costRequest(unix.GENL_ID_CTRL, netlink.Dump, 1<<30+4, c.PortID(), unix.CTRL_CMD_GETFAMILY, nil), true},
	}
	if mptcpErr == nil {
		cases = append(cases, struct {
			name string
			req  []byte
			dump bool
		}{"mptcp_pm add-addr ACK", costRequest(mptcp.ID, ack, 1<<30+5, c.PortID(), mptcpCmdAddAddr, endpoint.Bytes()), false})
	}
	buf := make([]byte, 64<<10)
	for _, tc := range cases {
		if err := unix.Send(fd, tc.req, 0); err != nil {
			t.Fatalf("%s: send: %v", tc.name, err)
		}
		charged := rmemAlloc(t, fd)
		var sizes []int
		bound := 0
		for {
			n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
			if errors.Is(err, unix.EAGAIN) {
				break
			}
			if err != nil {
				t.Fatalf("%s: recv: %v", tc.name, err)
			}
			sizes = append(sizes, n)
			if tc.dump {
				bound += genl.DumpPartCost
			} else {
				bound += genl.ReplyCost(n)
			}
			if tc.dump && len(sizes) == 1 {
				break // the kernel queues the next part as this one is read
			}
		}
		reliabilityLine(t, "answer", fmt.Sprintf("%q", tc.name), "datagrams", fmt.Sprint(sizes), "charged", charged, "bound", bound)
		if len(sizes) == 0 || charged > bound {
			t.Errorf("%s: datagrams %v, kernel charged %d bytes, bound %d", tc.name, sizes, charged, bound)
		}
		for { // drain what a dump queued meanwhile
			if _, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT); err != nil {
				break
			}
		}
	}
}

// Command program exercises every method of mdlayher/genetlink's Conn
// against the running kernel and prints what it sees. The drop-in's tests
// build it as it is and with its genetlink import replaced by
// github.com/genlkit/genlkit/genl/genetlink, run both in fresh network
// namespaces and compare the output line by line.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// netdev and mptcp_pm numbers (include/uapi/linux/netdev.h, mptcp_pm.h).
const (
	netdevCmdDevGet    = 1
	netdevCmdDevAddNtf = 2
	netdevAttrIfindex  = 1
	mptcpCmdSetLimits  = 5
	mptcpCmdGetLimits  = 6
	mptcpAttrRcvAdd    = 2
	mptcpAttrSubflows  = 3
)

func main() {
	c, err := genetlink.Dial(nil)
	check("dial", err)
	check("set-option", c.SetOption(netlink.ExtendedAcknowledge, true))
	check("set-read-buffer", c.SetReadBuffer(1<<20))
	check("set-write-buffer", c.SetWriteBuffer(1<<20))

	// GetFamily and ListFamilies.
	ctrl, err := c.GetFamily("nlctrl")
	check("get-family", err)
	fmt.Printf("nlctrl: %+v\n", ctrl)
	fams, err := c.ListFamilies()
	check("list-families", err)
	var names []string
	for _, f := range fams {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	fmt.Println("families:", names)
	_, err = c.GetFamily("no-such-family")
	printErr("get-family missing", err)

	// Execute: a do with a reply, a dump, a kernel error with an extended
	// ACK, a do acknowledged without data.
	msgs, err := c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1},
		Data:   attrs(func(ae *netlink.AttributeEncoder) { ae.String(unix.CTRL_ATTR_FAMILY_NAME, "netdev") }),
	}, unix.GENL_ID_CTRL, netlink.Request)
	check("execute do", err)
	fmt.Println("execute do:", len(msgs), msgs[0].Header, len(msgs[0].Data) > 0)

	netdev, err := c.GetFamily("netdev")
	check("get-family netdev", err)
	msgs, err = c.Execute(genetlink.Message{Header: genetlink.Header{Command: netdevCmdDevGet, Version: netdev.Version}},
		netdev.ID, netlink.Request|netlink.Dump)
	check("execute dump", err)
	fmt.Println("execute dump:", len(msgs), ifindexes(msgs))

	_, err = c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: netdevCmdDevGet, Version: netdev.Version},
		Data:   attrs(func(ae *netlink.AttributeEncoder) { ae.Uint8(netdevAttrIfindex, 1) }),
	}, netdev.ID, netlink.Request)
	printErr("execute bad attribute", err)
	_, err = c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: netdevCmdDevGet, Version: netdev.Version},
		Data:   attrs(func(ae *netlink.AttributeEncoder) { ae.Uint32(netdevAttrIfindex, 9999) }),
	}, netdev.ID, netlink.Request)
	printErr("execute no device", err)

	mptcp, err := c.GetFamily("mptcp_pm")
	check("get-family mptcp_pm", err)
	msgs, err = c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: mptcpCmdSetLimits, Version: mptcp.Version},
		Data: attrs(func(ae *netlink.AttributeEncoder) {
			ae.Uint32(mptcpAttrRcvAdd, 3)
			ae.Uint32(mptcpAttrSubflows, 4)
		}),
	}, mptcp.ID, netlink.Request|netlink.Acknowledge)
	check("execute ack", err)
	fmt.Println("execute ack:", len(msgs), msgs[0].Header, len(msgs[0].Data))
	msgs, err = c.Execute(genetlink.Message{Header: genetlink.Header{Command: mptcpCmdGetLimits, Version: mptcp.Version}},
		mptcp.ID, netlink.Request)
	check("execute get limits", err)
	fmt.Printf("limits: %d %x\n", len(msgs), msgs[0].Data)

	// Send and Receive: a dump, validated against the request.
	req, err := c.Send(genetlink.Message{Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1}},
		unix.GENL_ID_CTRL, netlink.Request|netlink.Dump)
	check("send", err)
	gmsgs, nmsgs, err := c.Receive()
	check("receive", err)
	check("validate", netlink.Validate(req, nmsgs))
	fmt.Println("send/receive dump:", len(gmsgs) == len(fams), len(gmsgs) == len(nmsgs), req.Header.Flags)

	// Send and Receive: a do with a reply and an ACK, read in two Receives.
	req, err = c.Send(genetlink.Message{
		Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1},
		Data:   attrs(func(ae *netlink.AttributeEncoder) { ae.String(unix.CTRL_ATTR_FAMILY_NAME, "nlctrl") }),
	}, unix.GENL_ID_CTRL, netlink.Request|netlink.Acknowledge)
	check("send do", err)
	gmsgs, nmsgs, err = c.Receive()
	check("receive reply", err)
	check("validate reply", netlink.Validate(req, nmsgs))
	fmt.Println("reply:", len(gmsgs), gmsgs[0].Header, nmsgs[0].Header.Type == unix.GENL_ID_CTRL)
	gmsgs, nmsgs, err = c.Receive()
	check("receive ack", err)
	check("validate ack", netlink.Validate(req, nmsgs))
	fmt.Println("ack:", len(gmsgs), nmsgs[0].Header.Type)

	// Send and Receive: a kernel error.
	_, err = c.Send(genetlink.Message{
		Header: genetlink.Header{Command: netdevCmdDevGet, Version: netdev.Version},
		Data:   attrs(func(ae *netlink.AttributeEncoder) { ae.Uint32(netdevAttrIfindex, 9999) }),
	}, netdev.ID, netlink.Request|netlink.Acknowledge)
	check("send error", err)
	_, _, err = c.Receive()
	printErr("receive error", err)

	// Deadlines: a Receive with nothing to read times out.
	check("set-read-deadline", c.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	_, _, err = c.Receive()
	var oe *netlink.OpError
	fmt.Println("deadline:", errors.As(err, &oe) && oe.Timeout(), errors.Is(err, os.ErrDeadlineExceeded))
	check("set-deadline", c.SetDeadline(time.Time{}))
	check("set-write-deadline", c.SetWriteDeadline(time.Now().Add(time.Minute)))
	_, err = c.GetFamily("nlctrl")
	check("get-family after deadlines", err)

	// JoinGroup, on a second Conn as notifications would disturb the
	// first one's Executes under genetlink: netdev announces a new device
	// to its mgmt group.
	c2, err := genetlink.Dial(nil)
	check("dial 2", err)
	var mgmt uint32
	for _, g := range netdev.Groups {
		if g.Name == "mgmt" {
			mgmt = g.ID
		}
	}
	check("join-group", c2.JoinGroup(mgmt))
	if out, err := exec.Command("ip", "link", "add", "gkc0", "type", "veth", "peer", "name", "gkc1").CombinedOutput(); err != nil {
		fail("ip link add", fmt.Errorf("%v: %s", err, out))
	}
	seen := 0
	for seen < 2 {
		gmsgs, nmsgs, err = c2.Receive()
		check("receive notification", err)
		for i, m := range gmsgs {
			if m.Header.Command == netdevCmdDevAddNtf {
				seen++
				fmt.Println("notification:", m.Header, nmsgs[i].Header.Sequence, len(ifindexes([]genetlink.Message{m})))
			}
		}
	}
	check("leave-group", c2.LeaveGroup(mgmt))

	check("close 2", c2.Close())

	// SetBPF and RemoveBPF: a filter that accepts everything.
	prog, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0xffff}})
	check("assemble", err)
	check("set-bpf", c.SetBPF(prog))
	_, err = c.GetFamily("netdev")
	check("get-family with a filter", err)
	check("remove-bpf", c.RemoveBPF())
	fmt.Println("bpf: ok")

	// SyscallConn: read a socket option.
	rc, err := c.SyscallConn()
	check("syscall-conn", err)
	var rcvbuf int
	var gerr error
	check("control", rc.Control(func(fd uintptr) { rcvbuf, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }))
	check("getsockopt", gerr)
	fmt.Println("rcvbuf:", rcvbuf >= 1<<20)

	check("close", c.Close())
	_, err = c.GetFamily("nlctrl")
	fmt.Println("after close:", err != nil)
}

func attrs(fn func(*netlink.AttributeEncoder)) []byte {
	ae := netlink.NewAttributeEncoder()
	fn(ae)
	b, err := ae.Encode()
	check("encode", err)
	return b
}

func ifindexes(msgs []genetlink.Message) []uint32 {
	var out []uint32
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(m.Data)
		check("decode", err)
		for ad.Next() {
			if ad.Type() == netdevAttrIfindex {
				out = append(out, ad.Uint32())
			}
		}
	}
	return out
}

// printErr prints what callers of genetlink look at in an error.
func printErr(what string, err error) {
	var oe *netlink.OpError
	if !errors.As(err, &oe) {
		fail(what, fmt.Errorf("not a *netlink.OpError: %T %v", err, err))
	}
	_, isOp := err.(*netlink.OpError)
	fmt.Printf("%s: op=%q err=%v message=%q offset=%d assert=%v notexist=%v perm=%v nodev=%v\n", what, oe.Op, oe.Err,
		oe.Message, oe.Offset, isOp, errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission), errors.Is(err, unix.ENODEV))
}

func check(what string, err error) {
	if err != nil {
		fail(what, err)
	}
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

package genl

import "time"

// SockFD returns the fd of a Conn's socket, -1 for another Transport, so
// that kernel tests can act on the socket behind the Conn's back.
func SockFD(c *Conn) int {
	if c.sock == nil {
		return -1
	}
	return c.sock.fd
}

// ReplyCost and DumpPartCost expose the flow control's bounds on the
// receive-buffer memory the kernel charges for an answer, so that a kernel
// test can hold them against the kernel's own accounting (SO_MEMINFO).
var ReplyCost = replyCost

// DumpPartCost is dumpPartCost.
const DumpPartCost = dumpPartCost

// InFlight returns the receive-buffer bytes a Conn holds reserved for
// answers still to come, and how many ACK-less requests it has yet to find
// answered or silent, so that a test can check that every request settled.
func InFlight(c *Conn) (reserved, unsettled int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fl.inflight, len(c.unsettledLocked(nil)) + c.acklessBusy
}

// LeaderParked reports whether a Conn's leader is blocked in a receive.
func LeaderParked(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leaderParked
}

// SockWaitRecv waits in a Conn's socket for a datagram with the given
// read deadline, as the Conn's reader would; the Conn must have no reader
// meanwhile. It leaves no deadline set.
func SockWaitRecv(c *Conn, deadline time.Time) (int, error) {
	if err := c.sock.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	defer c.sock.SetReadDeadline(time.Time{})
	return c.sock.Recv([]Datagram{{Buf: make([]byte, 8192)}}, true)
}

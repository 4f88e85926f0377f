package genl

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

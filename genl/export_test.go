package genl

// SockFD returns the fd of a Conn's socket, -1 for another Transport, so
// that kernel tests can act on the socket behind the Conn's back.
func SockFD(c *Conn) int {
	if c.sock == nil {
		return -1
	}
	return c.sock.fd
}

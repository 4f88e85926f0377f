package genl

import (
	"errors"
	"net"
	"syscall"
)

// SyscallConn returns the Conn's socket as a syscall.RawConn, for socket
// options the Conn has no method for (getsockopt, setsockopt). Only
// Control works: the Conn reads and writes the socket itself, so Read and
// Write return errors.ErrUnsupported. A Conn over another Transport
// returns errors.ErrUnsupported.
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	if c.sock == nil {
		return nil, errors.ErrUnsupported
	}
	return rawConn{c.sock}, nil
}

type rawConn struct{ t *sockTransport }

// Control calls fn with the socket's fd, which stays open during the call.
func (r rawConn) Control(fn func(fd uintptr)) error {
	r.t.fdMu.RLock()
	defer r.t.fdMu.RUnlock()
	if r.t.closing.Load() {
		return net.ErrClosed
	}
	fn(uintptr(r.t.fd))
	return nil
}

func (rawConn) Read(func(fd uintptr) bool) error  { return errors.ErrUnsupported }
func (rawConn) Write(func(fd uintptr) bool) error { return errors.ErrUnsupported }

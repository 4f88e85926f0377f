package genl

import (
	"time"
)

// A Transport is the kernel side of a [Conn]: something that carries netlink
// datagrams to and from the kernel. [Dial] uses a NETLINK_GENERIC socket;
// package genltest provides an in-memory fake for unit tests. Most users never
// see a Transport.
//
// A Conn calls Send from one goroutine at a time and Recv from one goroutine
// at a time (possibly a different one); SetReadDeadline, JoinGroup and
// LeaveGroup may be called concurrently with both. Close is called once, when
// no Send or Recv is in progress: the Conn first wakes a blocked Recv with a
// past read deadline and waits for it to return.
type Transport interface {
	// Send delivers one datagram holding one or more netlink messages.
	Send(b []byte) error
	// Recv fills up to len(d) datagrams and returns how many it filled.
	// With wait false it returns (0, nil) when nothing is queued; with wait
	// true it blocks until at least one datagram is available, the read
	// deadline passes (an error matching os.ErrDeadlineExceeded) or the
	// Transport is closed (net.ErrClosed). A lost-message condition on the
	// socket (ENOBUFS) is returned as unix.ENOBUFS with n == 0. Another
	// error is taken for one the socket reports once (the kernel's sk_err)
	// and dropped, unless the next Recv fails too.
	Recv(d []Datagram, wait bool) (n int, err error)
	// SetReadDeadline sets the deadline for a blocked Recv; a zero time
	// means none. Setting a past deadline wakes a blocked Recv.
	SetReadDeadline(t time.Time) error
	// JoinGroup and LeaveGroup change multicast group membership by id.
	JoinGroup(group uint32) error
	LeaveGroup(group uint32) error
	// PortID returns the local netlink port id.
	PortID() uint32
	// Close releases the transport.
	Close() error
}

// A Datagram is one received netlink datagram, as filled in by
// [Transport.Recv].
type Datagram struct {
	// Buf is the buffer to receive into; its length is the capacity offered.
	Buf []byte
	// N is the number of bytes received into Buf.
	N int
	// Size is the datagram's full size; it exceeds N when Trunc is set.
	Size int
	// Trunc reports that the datagram did not fit in Buf (MSG_TRUNC): the
	// rest of it is lost.
	Trunc bool
	// Port is the sender's port id: 0 for the kernel.
	Port uint32
	// Group is the multicast group the datagram was sent to, 0 for unicast.
	Group uint32
}

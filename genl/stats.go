package genl

// counters are guarded by Conn.mu.
type counters struct {
	requests, dumps, sends, datagrams, messages               uint64
	spoofed, stale, discarded, unrouted, malformed, truncated uint64
	overruns, lostReplies, subDrops, warnings                 uint64
	sendErrors, recvErrors, sockErrors                        uint64
}

func (c *Conn) countDiscarded(n int) {
	if n > 0 {
		c.mu.Lock()
		c.st.discarded += uint64(n)
		c.mu.Unlock()
	}
}

func (c *Conn) countMalformed() {
	c.mu.Lock()
	c.st.malformed++
	c.mu.Unlock()
}

// Stats are a Conn's counters since Dial. Every message the Conn drops is
// counted in one of them.
type Stats struct {
	Requests  uint64 // do-requests and batch members started
	Dumps     uint64 // dumps started
	Sends     uint64 // sendmsg calls (coalesced requests count once)
	Datagrams uint64 // datagrams received
	Messages  uint64 // netlink messages received in well-formed datagrams

	Spoofed     uint64 // datagrams dropped: from a port other than the kernel's (multicast; a Dial'ed socket is connected to the kernel, which refuses others' unicast)
	Stale       uint64 // messages dropped: no request waits for their sequence number (late replies after cancellation, duplicates)
	Discarded   uint64 // messages of abandoned dumps, drained and dropped
	Unrouted    uint64 // notifications dropped: no subscription for their group
	Malformed   uint64 // datagrams whose remaining bytes were not a valid netlink message; messages with a request's sequence number of a reserved control type or of another family; replies too short to decode
	Truncated   uint64 // datagrams larger than the receive buffer (MSG_TRUNC)
	Overruns    uint64 // receive-buffer overruns (ENOBUFS) reported by the kernel
	LostReplies uint64 // requests failed with ErrOverrun because their reply was lost
	SubDrops    uint64 // notifications dropped because a subscription's queue was full
	Warnings    uint64 // successful requests that carried an extended ACK message
	SendErrors  uint64 // requests that failed to send
	RecvErrors  uint64 // receive errors that failed the reading caller's request: the receive failed again right after a SocketErrors one
	// SocketErrors counts errors the kernel reported on the socket (sk_err)
	// other than ENOBUFS, dropped: they belong to no request. The one seen
	// in practice is EINVAL from netlink_recvmsg finding no dump to
	// continue when a dump started by a concurrent request finished
	// inside that request's sendmsg.
	SocketErrors uint64
}

// Stats returns a snapshot of the Conn's counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.st
	return Stats{
		Requests: s.requests, Dumps: s.dumps, Sends: s.sends,
		Datagrams: s.datagrams, Messages: s.messages,
		Spoofed: s.spoofed, Stale: s.stale, Discarded: s.discarded,
		Unrouted: s.unrouted, Malformed: s.malformed, Truncated: s.truncated,
		Overruns: s.overruns, LostReplies: s.lostReplies, SubDrops: s.subDrops,
		Warnings: s.warnings, SendErrors: s.sendErrors, RecvErrors: s.recvErrors,
		SocketErrors: s.sockErrors,
	}
}

// Package genl is genlkit's generic netlink connection: one Conn that many
// goroutines share for do-requests, dumps, batches and multicast
// notifications, routed by sequence number, at close to the speed of raw
// system calls.
//
// A Request names the family (by numeric id; package family resolves names),
// command and version, and carries attributes built with attrs.Encoder:
//
//	var enc attrs.Encoder
//	enc.String(unix.CTRL_ATTR_FAMILY_NAME, "nlctrl")
//	err := conn.Do(ctx, genl.Request{Family: unix.GENL_ID_CTRL,
//		Command: unix.CTRL_CMD_GETFAMILY, Version: 1, Attrs: enc.Bytes()},
//		func(m genl.Message) error {
//			var d attrs.Decoder
//			d.Reset(m.Data)
//			for d.Next() { ... }
//			return d.Err()
//		})
//
// Do waits for the reply and the ACK; Ack waits for the ACK alone; Dump
// streams a dump as an iterator; Batch sends any number of requests
// together, in windows the receive buffer has room for; Execute is a
// copying convenience call shaped like genetlink.Conn.Execute. Every call
// takes a context: one that has already ended returns ctx.Err() and sends
// nothing; cancelling it later returns ctx.Err() at once, and the late
// reply is dropped without disturbing other callers.
//
// A Conn never sends more requests at once than its receive buffer can
// hold the answers of (see Conn), so bursts of callers and big batches do
// not lose replies. A reply lost all the same, crowded out by multicast
// notifications, fails its request with an error matching ErrOverrun and
// ErrOutcomeUnknown: the kernel received the request and may have carried
// it out.
//
// Kernel errors are *Error values that match their errno with errors.Is and
// carry the extended ACK, including the path of the offending attribute in
// the request. Subscribe delivers multicast notifications on the same Conn.
// Stats counts everything the Conn had to drop.
//
// Package genltest provides an in-memory fake kernel for unit tests.
package genl

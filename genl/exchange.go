package genl

import (
	"context"
	"net"

	"github.com/mdlayher/netlink"
)

// Exchange runs one request with exactly the netlink flags given, the way
// genetlink.Conn.Execute does, for the drop-in of package genl/genetlink
// and other code that needs the raw exchange: netlink.Dump makes it a dump;
// otherwise netlink.Acknowledge asks the kernel for an ACK, and without it
// the request completes at its reply (a command that sends none then waits
// until ctx ends). Other flags (netlink.Create, netlink.Echo...) are sent
// as given; NLM_F_REQUEST is always set.
//
// sent, if not nil, receives the netlink header of the request as the Conn
// encoded it (sequence number and port id filled in) once it is queued,
// before any reply is handed to fn. fn receives each reply; the Message is
// only valid during the call. When the kernel acknowledges a do-request
// with success, fn also receives the ACK: a Message whose Netlink.Type is
// netlink.Error and whose Data is the request's netlink header, which the
// kernel echoes, as genetlink decodes an ACK. Errors are those of Do and Dump.
func (c *Conn) Exchange(ctx context.Context, req Request, flags netlink.HeaderFlags, sent func(netlink.Header), fn func(Message) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dump := flags&netlink.Dump == netlink.Dump
	ack := !dump && flags&netlink.Acknowledge != 0
	req.ExpectReply = !dump && !ack
	req.Flags |= flags &^ (netlink.Acknowledge | netlink.Dump)
	op := "do"
	var cl *call
	if dump {
		op = "dump"
		var err error
		if cl, err = c.startDump(ctx, &req); err != nil {
			return err
		}
	} else {
		var err error
		if cl, err = c.start(&req, op, flags&netlink.Acknowledge); err != nil {
			return err
		}
	}
	if sent != nil {
		sent(parseHeader(cl.buf))
	}
	var ferr error
	err := c.run(ctx, cl, func(m Message, _ error) bool {
		if fn != nil && ferr == nil {
			ferr = fn(m)
		}
		return true
	})
	var echo []byte
	if ack && fn != nil && err == nil && ferr == nil {
		// The kernel echoes a successful request's header alone.
		echo = append(echo, cl.buf[:nlmsgHdrLen]...)
	}
	c.finish(cl)
	if err != nil {
		return err
	}
	if ferr != nil {
		return ferr
	}
	if echo != nil {
		// The ACK: error 0, then the request's header.
		var m Message
		m.Netlink = netlink.Header{Length: uint32(nlmsgHdrLen + 4 + len(echo)), Type: netlink.Error,
			Sequence: parseHeader(echo).Sequence, PID: c.pid}
		m.Data = echo
		return fn(m)
	}
	return nil
}

// startDump takes the Conn's dump lock, reading the socket meanwhile if
// need be (an abandoned dump drains only when someone reads), and sends
// the dump request req.
func (c *Conn) startDump(ctx context.Context, req *Request) (*call, error) {
	c.mu.Lock()
	for c.dumpBusy && !c.closed {
		c.mu.Unlock()
		w := waiter{wake: make(chan struct{}, 1), waitDump: true}
		if err := c.await(ctx, &w, nil); err != nil {
			return nil, err
		}
		c.mu.Lock()
	}
	if c.closed {
		c.mu.Unlock()
		return nil, net.ErrClosed
	}
	c.dumpBusy = true
	c.st.dumps++
	cl := c.newCallLocked(req, "dump", netlink.Dump)
	c.dumpSeq = cl.seq
	c.submitLocked(cl)
	c.takeLeadLocked(cl)
	c.mu.Unlock()
	return cl, nil
}

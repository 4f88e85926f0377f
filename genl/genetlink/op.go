package genetlink

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/genlkit/genlkit/genl"
	"github.com/mdlayher/netlink"
)

// An opWait is a blocking call in progress: its context ends at the
// deadline that applies to it, which may change while it waits, or when
// the Conn closes.
type opWait struct {
	read, write bool
	cancel      context.CancelCauseFunc
	timer       *time.Timer
}

func (w *opWait) stop() {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// armLocked makes w's context end at the earliest deadline that applies.
func (c *Conn) armLocked(w *opWait) {
	w.stop()
	var dl time.Time
	for _, d := range []struct {
		on bool
		t  time.Time
	}{{w.read, c.readDL}, {w.write, c.writeDL}} {
		if d.on && !d.t.IsZero() && (dl.IsZero() || d.t.Before(dl)) {
			dl = d.t
		}
	}
	if dl.IsZero() {
		return
	}
	if left := time.Until(dl); left > 0 {
		cancel := w.cancel
		w.timer = time.AfterFunc(left, func() { cancel(os.ErrDeadlineExceeded) })
		return
	}
	w.cancel(os.ErrDeadlineExceeded)
}

// begin starts a blocking call bound by the read and/or write deadline.
func (c *Conn) begin(read, write bool) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	w := &opWait{read: read, write: write, cancel: cancel}
	c.mu.Lock()
	if c.closed {
		cancel(net.ErrClosed)
	} else {
		c.waits[w] = struct{}{}
		c.armLocked(w)
	}
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		delete(c.waits, w)
		w.stop()
		c.mu.Unlock()
		cancel(nil)
	}
}

func (c *Conn) setDeadline(t time.Time, read, write bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if read {
		c.readDL = t
	}
	if write {
		c.writeDL = t
	}
	for w := range c.waits {
		if (read && w.read) || (write && w.write) {
			c.armLocked(w)
		}
	}
}

// failure turns an error of the genl.Conn into the *netlink.OpError
// mdlayher/netlink returns for the same failure.
func (c *Conn) failure(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
	}
	var oe *netlink.OpError
	if errors.As(err, &oe) {
		return oe
	}
	return opError("receive", err)
}

// opError wraps err as mdlayher/netlink does; nil stays nil.
func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	var oe *netlink.OpError
	if errors.As(err, &oe) {
		return oe
	}
	return &netlink.OpError{Op: op, Err: err}
}

// request turns a generic netlink Message for family into a genl.Request.
// Data holds the family's fixed header, if any, and the attributes: sent
// as they are.
func request(m Message, family uint16) genl.Request {
	return genl.Request{Family: family, Command: m.Header.Command, Version: m.Header.Version, Attrs: m.Data}
}

// convert copies a received message into the Message and netlink.Message
// genetlink's Receive returns; the Message's Data shares the other's.
func convert(r genl.Message) (Message, netlink.Message) {
	b := make([]byte, 4+len(r.Data))
	b[0], b[1] = r.Header.Command, r.Header.Version
	copy(b[4:], r.Data)
	return Message{Header: r.Header, Data: b[4:]}, netlink.Message{Header: r.Netlink, Data: b}
}

package family

import (
	"context"
	"errors"
	"iter"
	"sync"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
)

// A Client is the family-independent core of a typed client for one generic
// netlink family on a genl.Conn: the packages genlgen generates wrap one. It
// finds the family to address, checks operations against what the running
// kernel reports, and lends out request buffers it reuses. It is safe for
// concurrent use.
type Client struct {
	conn    *genl.Conn
	name    string
	version uint8
	res     *Resolver
	fam     *Family
	bufs    sync.Pool
	locals  sync.Map // key → value, see Local
}

// A ClientOption configures a Client.
type ClientOption func(*Client)

// WithResolver resolves the family through r, a cache shared with other
// clients that follows the family if it is registered again; by default
// the client asks the kernel once.
func WithResolver(r *Resolver) ClientOption { return func(c *Client) { c.res = r } }

// WithFamily uses fam, already resolved on the Conn, instead of asking the
// kernel.
func WithFamily(fam *Family) ClientOption { return func(c *Client) { c.fam = fam } }

// NewClient returns a Client for the family called name on conn, whose
// requests carry version, resolving the family (its id, operations and
// groups) unless an option supplies it. A kernel without the family gives an
// error matching [ErrNotFound].
func NewClient(ctx context.Context, conn *genl.Conn, name string, version uint8, opts ...ClientOption) (*Client, error) {
	c := &Client{conn: conn, name: name, version: version}
	for _, o := range opts {
		o(c)
	}
	if c.fam != nil {
		return c, nil
	}
	var err error
	if c.res != nil {
		c.fam, err = c.res.Family(ctx, name)
	} else {
		c.fam, err = Get(ctx, conn, name)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Conn returns the Conn the Client sends on.
func (c *Client) Conn() *genl.Conn { return c.conn }

// Family returns the family as the running kernel reported it to NewClient.
func (c *Client) Family() *Family { return c.fam }

// Local returns the value the client keeps under key, made by newValue
// the first time key is asked for (concurrent first calls may each run
// newValue; one result is kept and returned to all). Hand-written helpers
// beside a generated package keep their per-client state here, such as the
// ethtool package's cache of string sets: it lives as long as the client,
// and so belongs to the client's Conn and its network namespace. Use an
// unexported key type, as with context values.
func (c *Client) Local(key any, newValue func() any) any {
	if v, ok := c.locals.Load(key); ok {
		return v
	}
	v, _ := c.locals.LoadOrStore(key, newValue())
	return v
}

// Current returns the family to address now: the resolver's current answer
// with [WithResolver], or else the one NewClient found.
func (c *Client) Current(ctx context.Context) (*Family, error) {
	if c.res != nil {
		return c.res.Family(ctx, c.name)
	}
	return c.fam, nil
}

// Check returns the family to address after checking that the running
// kernel accepts command cmd as a dump (dump true) or a do request; op is
// the caller's name for it, used in the error, which matches
// [ErrNotSupported].
func (c *Client) Check(ctx context.Context, cmd uint8, op string, dump bool) (*Family, error) {
	fam, err := c.Current(ctx)
	if err != nil {
		return nil, err
	}
	if err := fam.CheckOp(uint32(cmd), op, dump); err != nil {
		return nil, err
	}
	return fam, nil
}

// A RequestBuffer is a request a Client lends out to encode into: the
// family's fixed header, if any, then attributes. Give it back with
// [Client.Release] once the request is sent.
type RequestBuffer struct {
	enc     attrs.Encoder
	b       []byte
	hdr     int
	version uint8
}

// Buffer returns a RequestBuffer holding hdr zero bytes for a fixed header,
// ready for attributes.
func (c *Client) Buffer(hdr int) *RequestBuffer {
	b, _ := c.bufs.Get().(*RequestBuffer)
	if b == nil {
		b = &RequestBuffer{b: make([]byte, 0, 256)}
	}
	buf := b.b[:0]
	for range hdr {
		buf = append(buf, 0)
	}
	b.enc.Reset(buf)
	b.hdr, b.version = hdr, c.version
	return b
}

// Release gives b back to the Client for reuse; b must not be used after.
func (c *Client) Release(b *RequestBuffer) {
	if cap(b.enc.Bytes()) > 64<<10 {
		return // keep no huge buffers
	}
	b.b = b.enc.Bytes()[:0]
	c.bufs.Put(b)
}

// Header returns the fixed header at the front of b, to fill in place.
func (b *RequestBuffer) Header() []byte { return b.enc.Bytes()[:b.hdr] }

// Encoder returns the encoder that appends attributes to b.
func (b *RequestBuffer) Encoder() *attrs.Encoder { return &b.enc }

// Request returns the request for command cmd of fam that b holds; names
// names the attributes in error paths the kernel reports, and may be nil.
// The request refers to b's bytes, so send it before releasing b. An
// encoding error recorded in b is returned instead.
func (b *RequestBuffer) Request(fam *Family, cmd uint8, names genl.AttrNamer) (genl.Request, error) {
	if err := b.enc.Err(); err != nil {
		return genl.Request{}, err
	}
	all := b.enc.Bytes()
	return genl.Request{Family: fam.ID, Command: cmd, Version: b.version, Header: all[:b.hdr], Attrs: all[b.hdr:], Names: names}, nil
}

// A Subscription receives one family's notifications from the multicast
// groups it joined, each decoded to an N. Close it to leave them.
type Subscription[N any] struct {
	sub    *genl.Subscription
	family uint16
	decode func(genl.Message) (N, error)
}

// Subscribe joins multicast groups of c's family by name, as the running
// kernel names them, and decodes what arrives with decode. A group the
// kernel lacks is an error matching [ErrNotFound] before anything is joined.
func Subscribe[N any](ctx context.Context, c *Client, decode func(genl.Message) (N, error), groups ...string) (*Subscription[N], error) {
	fam, err := c.Current(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]uint32, 0, len(groups))
	for _, name := range groups {
		g, err := fam.Group(name)
		if err != nil {
			return nil, err
		}
		ids = append(ids, g.ID)
	}
	sub, err := c.conn.Subscribe(ids...)
	if err != nil {
		return nil, err
	}
	return &Subscription[N]{sub: sub, family: fam.ID, decode: decode}, nil
}

// Next waits for the next notification of the family and decodes it. A
// notification that fails to decode is an error naming its op, and Next
// may be called again. Lost notifications are an error matching
// genl.ErrOverrun; net.ErrClosed once the subscription or its Conn is
// closed; ctx.Err() when ctx ends.
func (s *Subscription[N]) Next(ctx context.Context) (N, error) {
	for {
		m, err := s.sub.Next(ctx)
		if err != nil {
			var zero N
			return zero, err
		}
		if uint16(m.Netlink.Type) != s.family {
			continue // another family's unicast notification
		}
		return s.decode(m)
	}
}

// All returns the notifications as an iterator. Overruns and decode errors
// are yielded and the stream goes on; any other error is yielded last.
func (s *Subscription[N]) All(ctx context.Context) iter.Seq2[N, error] {
	return func(yield func(N, error) bool) {
		for {
			n, err := s.Next(ctx)
			if err != nil && !isRecoverable(err) {
				yield(n, err)
				return
			}
			if !yield(n, err) {
				return
			}
		}
	}
}

// isRecoverable reports whether a notification stream goes on after err:
// an overrun or a notification that failed to decode.
func isRecoverable(err error) bool {
	var de *attrs.Error
	return errors.Is(err, genl.ErrOverrun) || errors.As(err, &de)
}

// Groups returns the ids of the groups s joined.
func (s *Subscription[N]) Groups() []uint32 { return s.sub.Groups() }

// Close leaves the groups and ends the subscription.
func (s *Subscription[N]) Close() error { return s.sub.Close() }

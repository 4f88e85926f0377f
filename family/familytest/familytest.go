// Package familytest serves a whole generic netlink family, described by
// its [family.Descriptor], on the fake kernel of package genl/genltest. It
// is the runtime of the typed test servers genlgen generates (package
// <family>test beside each generated family package, such as
// family/netdev/netdevtest): tests use those, which give each op a
// handler with the op's own request and reply types.
//
// A Server registers the family with the fake nlctrl, with ids assigned
// and the operations, their flags and the multicast groups the descriptor
// lists, so that a client resolves the family as it would on a kernel. It
// answers each request as the kernel's generic netlink does: a do request
// gets its handler's reply (and the ACK asked for, which the fake kernel
// adds), a dump its handler's replies and NLMSG_DONE, and a failing
// handler an NLMSG_ERROR (in NLMSG_DONE for a dump) whose extended ACK
// points at the request attribute the handler named by its path. Requests
// the family does not support are refused by the fake kernel before they
// reach a handler.
package familytest

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"syscall"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/genlkit/genlkit/internal/jsonmsg"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A Marshaler is a message's attributes as generated set types hold them.
type Marshaler interface {
	MarshalAttrs(e *attrs.Encoder) error
}

// An Unmarshaler decodes a message's attributes, as generated request types
// do.
type Unmarshaler interface {
	UnmarshalAttrs(b []byte) error
}

// A HandlerFunc serves one request of an op. It answers with c.Reply (once
// for a do, once per part for a dump) and returns nil, or returns an error
// to refuse the request; see [Error].
type HandlerFunc func(c *Call) error

// An Option configures a Server.
type Option func(*config)

type config struct {
	id      uint16
	without []string
}

// WithFamilyID registers the family with id instead of the lowest free id
// from 0x20 up.
func WithFamilyID(id uint16) Option { return func(c *config) { c.id = id } }

// WithoutOps registers the family without the ops named (spec names), as
// a kernel older than the spec would: clients see them as not supported.
func WithoutOps(names ...string) Option {
	return func(c *config) { c.without = append(c.without, names...) }
}

// A Server is a family served on a genltest.Kernel. Its methods are safe
// for concurrent use.
type Server struct {
	k     *genltest.Kernel
	d     *family.Descriptor
	fam   genltest.Family
	codec *jsonmsg.Codec

	mu       sync.Mutex
	handlers map[handlerKey]HandlerFunc
}

type handlerKey struct {
	cmd  uint8
	dump bool
}

// NewServer registers the family d describes with k's fake nlctrl (made if
// k has none, see genltest.Kernel.Ctrl) and serves its requests on k. A nil
// k is a new genltest.Kernel. Ops have no handler until one is set:
// requests to them are refused with EOPNOTSUPP and a message saying so.
func NewServer(k *genltest.Kernel, d *family.Descriptor, opts ...Option) *Server {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if k == nil {
		k = genltest.New()
	}
	s := &Server{k: k, d: d, codec: jsonmsg.New(d), handlers: make(map[handlerKey]HandlerFunc)}
	f := genltest.Family{
		ID:         cfg.id,
		Name:       d.Name,
		Version:    uint32(d.Version),
		HeaderSize: uint32(s.codec.HeaderSize(nil)),
	}
	for _, op := range d.Ops {
		if op.Notify || op.Event || slices.Contains(cfg.without, op.Name) {
			continue
		}
		if set := d.Set(op.Set); set != nil {
			for _, a := range set.Attrs {
				f.MaxAttr = max(f.MaxAttr, uint32(a.Value))
			}
		}
		perm := uint32(0)
		if slices.Contains(op.Flags, "admin-perm") {
			perm |= unix.GENL_ADMIN_PERM
		}
		if slices.Contains(op.Flags, "uns-admin-perm") {
			perm |= unix.GENL_UNS_ADMIN_PERM
		}
		for _, m := range []struct {
			form *family.OpMsgDesc
			cap  uint32
		}{{op.Do, unix.GENL_CMD_CAP_DO}, {op.Dump, unix.GENL_CMD_CAP_DUMP}} {
			if m.form == nil {
				continue
			}
			fl := m.cap | perm
			if len(m.form.Request) > 0 {
				fl |= unix.GENL_CMD_CAP_HASPOL
			}
			id := uint32(requestValue(&op, m.form))
			if i := slices.IndexFunc(f.Ops, func(o genltest.Op) bool { return o.ID == id }); i >= 0 {
				f.Ops[i].Flags |= fl
			} else {
				f.Ops = append(f.Ops, genltest.Op{ID: id, Flags: fl})
			}
		}
	}
	for _, g := range d.Groups {
		f.Groups = append(f.Groups, genltest.Group{Name: g})
	}
	s.fam = k.Ctrl().Add(f)
	k.HandleFamily(s.fam.ID, s.serve)
	return s
}

// requestValue returns the command number of requests of one form of op.
func requestValue(op *family.OpDesc, m *family.OpMsgDesc) uint8 {
	if m.RequestValue != 0 {
		return m.RequestValue
	}
	return op.Value
}

// Kernel returns the fake kernel the server runs on.
func (s *Server) Kernel() *genltest.Kernel { return s.k }

// Family returns the family as registered with the fake nlctrl: its id,
// operations and multicast groups with their ids.
func (s *Server) Family() genltest.Family {
	f := s.fam
	f.Ops = slices.Clone(f.Ops)
	f.Groups = slices.Clone(f.Groups)
	return f
}

// Descriptor returns the descriptor the server was made from.
func (s *Server) Descriptor() *family.Descriptor { return s.d }

// Dial returns a genl.Conn over the server's kernel.
func (s *Server) Dial(opts ...genl.Option) (*genl.Conn, error) { return s.k.Dial(opts...) }

// Handle sets the handler of the do (dump false) or dump form of the op
// named op (its spec name); nil removes it. It panics if the descriptor
// has no such op or form: that is a mistake in the test's code, which
// generated servers do not make.
func (s *Server) Handle(op string, dump bool, h HandlerFunc) {
	o := s.d.Op(op)
	var m *family.OpMsgDesc
	if o != nil {
		m = o.Do
		if dump {
			m = o.Dump
		}
	}
	if m == nil {
		panic(fmt.Sprintf("familytest: %s has no %s op %q", s.d.Name, formName(dump), op))
	}
	key := handlerKey{requestValue(o, m), dump}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.handlers, key)
	} else {
		s.handlers[key] = h
	}
}

func formName(dump bool) string {
	if dump {
		return "dump"
	}
	return "do"
}

// Notify multicasts a notification of the family to the group named group:
// command cmd, the fixed header hdr (nil for none) and the attributes of v
// (nil for none). As the kernel does, it reaches the Conn only if the Conn
// joined the group. An unknown group is an error.
func (s *Server) Notify(group string, cmd uint8, hdr encoding.BinaryMarshaler, v Marshaler) error {
	data, err := message(hdr, v)
	if err != nil {
		return fmt.Errorf("familytest: %s notification %d: %w", s.d.Name, cmd, err)
	}
	return s.NotifyRaw(group, cmd, data)
}

// NotifyRaw is Notify with the payload after the generic netlink header
// (fixed header and attributes) as it is.
func (s *Server) NotifyRaw(group string, cmd uint8, data []byte) error {
	i := slices.IndexFunc(s.fam.Groups, func(g genltest.Group) bool { return g.Name == group })
	if i < 0 {
		return fmt.Errorf("familytest: %s has no multicast group %q", s.d.Name, group)
	}
	s.k.PushGroup(s.fam.Groups[i].ID, genltest.GenlMsg(s.fam.ID, 0, 0, 0, cmd, uint8(s.fam.Version), data))
	return nil
}

// message returns a fixed header followed by the attributes of v; a nil
// hdr or v (or nil pointer) is none.
func message(hdr encoding.BinaryMarshaler, v Marshaler) ([]byte, error) {
	var b []byte
	if !isNil(hdr) {
		h, err := hdr.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = h
	}
	if isNil(v) {
		return b, nil
	}
	var e attrs.Encoder
	if err := v.MarshalAttrs(&e); err != nil {
		return nil, err
	}
	return append(b, e.Bytes()...), nil
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// serve answers one request to the family.
func (s *Server) serve(k *genltest.Kernel, r genltest.Request) {
	dump := r.Header.Flags&netlink.Dump == netlink.Dump
	c := &Call{s: s, r: r, dump: dump}
	for i := range s.d.Ops {
		o := &s.d.Ops[i]
		if m := o.Do; dump {
			m = o.Dump
			if m != nil && requestValue(o, m) == r.Genl.Command {
				c.op = o
			}
		} else if m != nil && requestValue(o, m) == r.Genl.Command {
			c.op = o
		}
		if c.op != nil {
			break
		}
	}
	s.mu.Lock()
	h := s.handlers[handlerKey{r.Genl.Command, dump}]
	s.mu.Unlock()
	var err error
	switch {
	case c.op == nil:
		err = Errorf(unix.EOPNOTSUPP, "", "%s has no %s op with command %d", s.d.Name, formName(dump), r.Genl.Command)
	case h == nil:
		err = Errorf(unix.EOPNOTSUPP, "", "the %s test server has no handler for %s (%s)", s.d.Name, c.op.Name, formName(dump))
	default:
		c.hdrLen = s.codec.HeaderSize(c.op)
		if len(r.Data) < c.hdrLen {
			err = Errorf(unix.EINVAL, "", "request of %d bytes is shorter than the %d-byte fixed header", len(r.Data), c.hdrLen)
			break
		}
		if err = c.validate(); err != nil {
			break
		}
		err = h(c)
		if c.err != nil {
			err = c.err // a reply that failed to encode
		}
	}
	if err == nil {
		if dump {
			k.Push(genltest.Done(r, 0, 0, nil))
		}
		return
	}
	errno, ext := c.extack(err)
	if dump {
		k.Push(genltest.Done(r, errno, 0, ext))
		return
	}
	k.Push(genltest.Error(r, errno, ext))
}

// A Call is one request being served.
type Call struct {
	s      *Server
	r      genltest.Request
	op     *family.OpDesc
	dump   bool
	hdrLen int
	err    error // the first reply that failed to encode
}

// Request returns the request as the fake kernel received it.
func (c *Call) Request() genltest.Request { return c.r }

// Op returns the descriptor of the request's op.
func (c *Call) Op() *family.OpDesc { return c.op }

// Dump reports whether the request is a dump.
func (c *Call) Dump() bool { return c.dump }

// Header returns the request's fixed header (nil when the op has none).
func (c *Call) Header() []byte {
	if c.hdrLen == 0 {
		return nil
	}
	return c.r.Data[:c.hdrLen]
}

// Attrs returns the request's attributes.
func (c *Call) Attrs() []byte { return c.r.Data[c.hdrLen:] }

// Decode decodes the request's attributes into v. A request that does not
// decode is an error that refuses it with EINVAL and the decoder's message.
func (c *Call) Decode(v Unmarshaler) error {
	if err := v.UnmarshalAttrs(c.Attrs()); err != nil {
		return &Error{Errno: unix.EINVAL, Message: "request does not decode: " + err.Error()}
	}
	return nil
}

// Reply sends a reply: for a do request the one reply, for a dump one part
// of it. It carries the op's reply command, the fixed header hdr (nil for
// none) and the attributes of v (nil for none). A reply that does not
// encode is an error, which refuses the request (ends the dump) whether or
// not the handler returns it; later replies are not sent.
func (c *Call) Reply(hdr encoding.BinaryMarshaler, v Marshaler) error {
	if c.err != nil {
		return c.err
	}
	data, err := message(hdr, v)
	if err != nil {
		c.err = &Error{Errno: unix.EINVAL, Message: fmt.Sprintf("the test server's %s reply does not encode: %v", c.op.Name, err)}
		return c.err
	}
	m := c.op.Do
	var flags netlink.HeaderFlags
	if c.dump {
		m, flags = c.op.Dump, netlink.Multi
	}
	cmd := m.ReplyValue
	if cmd == 0 {
		cmd = c.op.ReplyValue
	}
	c.s.k.Push(genltest.GenlMsg(uint16(c.r.Header.Type), flags, c.r.Header.Sequence, c.r.Header.PID, cmd, c.r.Genl.Version, data))
	return nil
}

// An Error refuses a request: the fake kernel answers with Errno and an
// extended ACK carrying Message and, when Path is set, the attribute of
// the request it is about, as the kernel's NL_SET_ERR_MSG_ATTR does. Path
// names the attribute as genl.Error.Path does: attribute names (or type
// numbers, and the indexes of arrays) from the outermost nest in, joined
// with dots ("addr.id"), or "header" for the fixed header. The client's
// *genl.Error then has the same Path. When the request lacks the
// attribute, the extended ACK reports it missing (as GENL_REQ_ATTR_CHECK
// does), and the client's *genl.Error has it as MissingPath.
//
// A handler returning any other error refuses the request with the errno
// the error wraps (a syscall.Errno), or EINVAL, and the error's text as
// the message.
type Error struct {
	Errno   syscall.Errno
	Message string
	Path    string
}

// Errorf returns an Error with errno, the path of the attribute it is
// about ("" for none) and a message formatted as fmt.Sprintf does.
func Errorf(errno syscall.Errno, path, format string, args ...any) *Error {
	return &Error{Errno: errno, Message: fmt.Sprintf(format, args...), Path: path}
}

// Error implements error.
func (e *Error) Error() string {
	s := e.Errno.Error()
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Path != "" {
		s += " (attribute " + e.Path + ")"
	}
	return s
}

// Unwrap returns Errno.
func (e *Error) Unwrap() error { return e.Errno }

// extack returns the errno and extended ACK that answer err.
func (c *Call) extack(err error) (unix.Errno, *genltest.Extack) {
	var e *Error
	if !errors.As(err, &e) {
		errno := unix.EINVAL
		errors.As(err, &errno)
		return nonZero(errno), &genltest.Extack{Msg: err.Error()}
	}
	ext := &genltest.Extack{Msg: e.Message}
	if e.Path != "" {
		loc, lerr := c.locate(e.Path)
		if lerr != nil {
			ext.Msg += " (test server: " + lerr.Error() + ")"
		}
		ext.Offset, ext.MissType, ext.MissNest = loc.offset, loc.missType, loc.missNest
	}
	return nonZero(e.Errno), ext
}

func nonZero(e unix.Errno) unix.Errno {
	if e == 0 {
		return unix.EINVAL
	}
	return e
}

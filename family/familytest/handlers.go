package familytest

// Adapters from the typed handlers of generated servers to HandlerFunc,
// one per shape of op: with or without request attributes, a do with a
// reply or only acknowledged, a dump. Each returns nil for a nil h, so
// that Handle removes the handler. Ops with a fixed header are adapted in
// the generated code.

// Do adapts a do handler that takes the decoded request and returns the
// reply (nil for none).
func Do[Req any, PReq interface {
	*Req
	Unmarshaler
}, Rep Marshaler](h func(PReq) (Rep, error)) HandlerFunc {
	if h == nil {
		return nil
	}
	return func(c *Call) error {
		req := PReq(new(Req))
		if err := c.Decode(req); err != nil {
			return err
		}
		rep, err := h(req)
		return c.replyTo(rep, err)
	}
}

// DoNoRequest adapts a do handler of an op that takes no attributes.
func DoNoRequest[Rep Marshaler](h func() (Rep, error)) HandlerFunc {
	if h == nil {
		return nil
	}
	return func(c *Call) error {
		rep, err := h()
		return c.replyTo(rep, err)
	}
}

// Ack adapts a do handler of an op the kernel only acknowledges.
func Ack[Req any, PReq interface {
	*Req
	Unmarshaler
}](h func(PReq) error) HandlerFunc {
	if h == nil {
		return nil
	}
	return func(c *Call) error {
		req := PReq(new(Req))
		if err := c.Decode(req); err != nil {
			return err
		}
		return h(req)
	}
}

// AckNoRequest adapts a do handler of an op that takes no attributes and
// is only acknowledged.
func AckNoRequest(h func() error) HandlerFunc {
	if h == nil {
		return nil
	}
	return func(*Call) error { return h() }
}

// Dump adapts a dump handler that takes the decoded request and yields
// the replies.
func Dump[Req any, PReq interface {
	*Req
	Unmarshaler
}, Rep Marshaler](h func(PReq, func(Rep) bool) error) HandlerFunc {
	if h == nil {
		return nil
	}
	return func(c *Call) error {
		req := PReq(new(Req))
		if err := c.Decode(req); err != nil {
			return err
		}
		return h(req, yielder[Rep](c))
	}
}

// DumpNoRequest adapts a dump handler of an op that takes no attributes.
func DumpNoRequest[Rep Marshaler](h func(func(Rep) bool) error) HandlerFunc {
	if h == nil {
		return nil
	}
	return func(c *Call) error { return h(yielder[Rep](c)) }
}

// yielder returns the yield function of a dump: it sends one reply and
// reports whether the dump may go on.
func yielder[Rep Marshaler](c *Call) func(Rep) bool {
	return func(rep Rep) bool { return c.Reply(nil, rep) == nil }
}

// replyTo sends the reply of a do handler that returned rep and err.
func (c *Call) replyTo(rep Marshaler, err error) error {
	if err != nil || isNil(rep) {
		return err
	}
	return c.Reply(nil, rep)
}

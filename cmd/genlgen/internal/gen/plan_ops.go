package gen

import (
	"fmt"

	"github.com/genlkit/genlkit/internal/spec"
)

// A reqOf says which call a request type belongs to.
type reqOf struct {
	op   *op
	call *call
}

type op struct {
	spec       *spec.Op
	name       string // Go base name
	cmdC       string
	replyC     string // directional: reply value constant, or ""
	set        *set
	header     *cstruct
	do, dump   *call
	methodBase string
}

type call struct {
	method   string
	dump     bool
	cmd      uint8
	cmdExpr  string
	req      *spec.Message
	reply    *spec.Message
	hasReq   bool // the method takes a request argument
	reqTyp   *set // the request type, when hasReq
	replyTyp string
	replyMsg *msgType // the fixed-header wrapper of the reply, if any
}

type notif struct {
	spec   *spec.Op
	name   string // Go type
	set    *set
	header *cstruct
	cmd    uint8
	cmdC   string
}

type group struct {
	g    *spec.MulticastGroup
	name string
}

// A msgType wraps a set with a family's fixed header, for ops that carry one.
type msgType struct {
	name   string
	header *cstruct
	set    *set
}

func (p *plan) planOps() error {
	f := p.spec
	if f.Operations == nil {
		return nil
	}
	methods := newNamespace(reservedMethods...)
	asyncCmds := map[uint8]*notif{}
	wraps := map[[2]any]*msgType{}
	wrap := func(h *cstruct, s *set) *msgType {
		k := [2]any{h, s}
		if m := wraps[k]; m != nil {
			return m
		}
		m := &msgType{header: h, set: s} // named below

		wraps[k] = m
		p.msgs = append(p.msgs, m)
		s.wraps = append(s.wraps, m)
		return m
	}
	for _, so := range f.Operations.List {
		if so.IsReserved() {
			continue
		}
		o := &op{spec: so, name: goName(so.Name)}
		o.cmdC = p.top.claim("Cmd"+o.name, "")
		if p.directional && so.HasRequestValue && so.HasReplyValue {
			o.replyC = p.top.claim("Cmd"+o.name+"Reply", "")
		}
		if so.Set != nil {
			o.set = p.setBy[so.Set]
		}
		if so.FixedHeaderDef != nil {
			o.header = p.structBy[so.FixedHeaderDef]
		}
		if so.IsCall() && o.set == nil {
			return errorf(so.Pos, "op %q has no attribute set", so.Name)
		}
		base := methods.claim(p.methodName(o.name), "Op")
		o.methodBase = base
		for _, m := range []struct {
			mode *spec.Mode
			dump bool
		}{{so.Do, false}, {so.Dump, true}} {
			if m.mode == nil {
				continue
			}
			c := &call{dump: m.dump, req: m.mode.Request, reply: m.mode.Reply}
			if m.dump {
				c.method = methods.claim(base+"Dump", "")
			} else {
				c.method = base
			}
			c.cmd = so.RequestValue
			if c.req != nil && c.req.HasValue {
				c.cmd = c.req.Value
			}
			c.cmdExpr = o.cmdC
			if c.cmd != so.RequestValue || !so.HasRequestValue {
				c.cmdExpr = fmt.Sprint(c.cmd)
			}
			c.hasReq = c.req != nil && len(c.req.Attributes) > 0
			if c.reply != nil || m.dump {
				c.replyTyp = o.set.name
				if o.header != nil {
					c.replyMsg = wrap(o.header, o.set)
				}
			}
			if m.dump {
				o.dump = c
			} else {
				o.do = c
			}
		}
		p.ops = append(p.ops, o)
		if so.IsAsync() {
			s := o.set
			if s == nil {
				return errorf(so.Pos, "notification %q has no attribute set", so.Name)
			}
			cmd := so.ReplyValue
			if so.Event != nil && so.Event.HasValue {
				cmd = so.Event.Value
			}
			n := &notif{spec: so, set: s, header: o.header, cmd: cmd, cmdC: o.cmdC}
			if o.replyC != "" {
				n.cmdC = o.replyC
			}
			if prev := asyncCmds[cmd]; prev != nil {
				// Two notifications with one command value cannot be told
				// apart; the first in the spec wins.
				continue
			}
			asyncCmds[cmd] = n
			p.notifs = append(p.notifs, n)
		}
	}
	// Message wrappers: those with the family's default fixed header get
	// the plain <Set>Message, whatever the op order; ops overriding the
	// header get <Set><Header>Message.
	var def *cstruct
	if f.Operations.FixedHeaderDef != nil {
		def = p.structBy[f.Operations.FixedHeaderDef]
	}
	for _, m := range p.msgs {
		if m.header == def {
			m.name = p.top.claim(m.set.name+"Message", "")
		}
	}
	for _, m := range p.msgs {
		if m.header != def {
			m.name = p.top.claim(m.set.name+m.header.name+"Message", "")
		}
	}
	for _, o := range p.ops {
		for _, c := range []*call{o.do, o.dump} {
			if c != nil && c.replyMsg != nil {
				c.replyTyp = c.replyMsg.name
			}
		}
	}
	for _, n := range p.notifs {
		n.name = p.top.claim(goName(n.spec.Name), "Notification")
	}
	// Request types, after every other type: one per call that takes
	// attributes, with exactly the attributes the spec lists for it.
	for _, o := range p.ops {
		for _, c := range []*call{o.do, o.dump} {
			if c == nil || !c.hasReq {
				continue
			}
			rs := p.requestType(o, c)
			c.reqTyp = rs
			p.sets = append(p.sets, rs)
		}
	}
	// Namers for the sets requests are encoded in.
	for _, o := range p.ops {
		if (o.do != nil && o.do.hasReq) || (o.dump != nil && o.dump.hasReq) {
			r := o.set.root
			if r.namerV == "" {
				r.namerV = "namer" + r.name
			}
		}
	}
	return nil
}

// requestType plans the request type of call c of op o: the fields of the
// op's set for the attributes the spec lists in the request, in set order.
func (p *plan) requestType(o *op, c *call) *set {
	rs := &set{
		spec: o.set.spec,
		name: p.top.claim(c.method+"Request", "Type"),
		root: o.set.root,
		req:  &reqOf{op: o, call: c},
	}
	want := map[string]bool{}
	for _, a := range c.req.Attributes {
		want[a.Name] = true
	}
	for _, fl := range o.set.fields {
		if !want[fl.attr.Name] {
			continue
		}
		cp := *fl
		rs.fields = append(rs.fields, &cp)
		delete(want, fl.attr.Name)
	}
	// What is left (pad and unused attributes) has no field to send.
	return rs
}

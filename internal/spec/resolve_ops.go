package spec

import (
	"fmt"
	"math"
)

// This file resolves operations: it numbers them under the family's enum
// model, gives their messages values and resolves their references.

// operations numbers the operations and resolves their references.
func (r *resolver) operations() {
	f := r.f
	ops := f.Operations
	f.ops = make(map[string]*Op)
	for _, op := range ops.List {
		if prev := f.ops[op.Name]; prev != nil {
			r.errorf(op.KeyPos("name"), "duplicate operation %q (first at %s)", op.Name, prev.Pos)
			continue
		}
		f.ops[op.Name] = op
	}
	if ops.FixedHeader != "" {
		ops.FixedHeaderDef = r.structRef(ops.FixedHeader, ops.KeyPos("fixed-header"), "operations fixed-header")
	}
	if ops.EnumModel == EnumModelDirectional {
		r.numberDirectional()
	} else {
		r.numberUnified()
	}
	// Own attribute sets and notify targets first: a notification may
	// precede the op it notifies (handshake's "ready" notifies "accept").
	for _, op := range ops.List {
		r.opRefs(op)
	}
	for _, op := range ops.List {
		r.op(op)
	}
	r.uniqueValues()
}

func opWhat(op *Op) string { return fmt.Sprintf("operation %q", op.Name) }

// messages returns the request and reply messages of the op's modes.
func (op *Op) messages() (reqs, reps []*Message) {
	for _, m := range []*Mode{op.Do, op.Dump} {
		if m == nil {
			continue
		}
		if m.Request != nil {
			reqs = append(reqs, m.Request)
		}
		if m.Reply != nil {
			reps = append(reps, m.Reply)
		}
	}
	return reqs, reps
}

// numberUnified numbers operations from 1 in list order; an explicit value
// restarts the count. Requests, replies and notifications share the value.
func (r *resolver) numberUnified() {
	next := 1
	for _, op := range r.f.Operations.List {
		if op.Has("value") {
			next = int(op.value)
		}
		if next > math.MaxUint8 {
			r.errorf(op.Pos, "%s: implicit value %d is out of range (at most 255)", opWhat(op), next)
		} else {
			op.RequestValue, op.ReplyValue = uint8(next), uint8(next)
			op.HasRequestValue, op.HasReplyValue = true, true
		}
		next++
		reqs, reps := op.messages()
		for _, m := range append(reqs, reps...) {
			if m.explicit {
				r.errorf(m.KeyPos("value"), "%s: message \"value\" is only used with enum-model directional", opWhat(op))
			}
		}
		r.messageValues(op)
	}
}

// numberDirectional numbers operations the way the kernel's YNL tooling
// (tools/net/ynl/pyynl/lib/nlspec.py) does for enum-model directional:
// request and reply values are counted separately from 1. A do/dump op takes
// the next request value and, if its do (or, without do, its dump) has a
// reply, the next reply value; values written in that do (or dump) request
// and reply restart the counts. A notification (notify or event) takes the
// next reply value; its "value" restarts the reply count.
func (r *resolver) numberDirectional() {
	req, rsp := 1, 1
	for _, op := range r.f.Operations.List {
		what := opWhat(op)
		switch {
		case op.IsAsync():
			if op.Has("value") {
				rsp = int(op.value)
			}
			r.setReply(op, rsp)
			rsp++
		case op.IsCall():
			if op.Has("value") {
				r.errorf(op.KeyPos("value"), "%s: operation \"value\" is not used with enum-model directional; write \"value\" in the do/dump request and reply", what)
			}
			mode := op.Do
			if mode == nil {
				mode = op.Dump
			}
			if mode.Request != nil && mode.Request.explicit {
				req = int(mode.Request.Value)
			}
			if mode.Reply != nil && mode.Reply.explicit {
				rsp = int(mode.Reply.Value)
			}
			if req > math.MaxUint8 {
				r.errorf(op.Pos, "%s: implicit request value %d is out of range (at most 255)", what, req)
			} else {
				op.RequestValue, op.HasRequestValue = uint8(req), true
			}
			req++
			if mode.Reply != nil {
				r.setReply(op, rsp)
				rsp++
			}
		default:
			r.errorf(op.Pos, "%s has no do, dump, notify or event, which enum-model directional cannot number", what)
		}
		r.messageValues(op)
	}
}

func (r *resolver) setReply(op *Op, v int) {
	if v > math.MaxUint8 {
		r.errorf(op.Pos, "%s: implicit reply value %d is out of range (at most 255)", opWhat(op), v)
		return
	}
	op.ReplyValue, op.HasReplyValue = uint8(v), true
}

// messageValues gives each message without an explicit value the op's.
func (r *resolver) messageValues(op *Op) {
	reqs, reps := op.messages()
	for _, m := range reqs {
		if !m.explicit {
			m.Value, m.HasValue = op.RequestValue, op.HasRequestValue
		}
	}
	for _, m := range reps {
		if !m.explicit {
			m.Value, m.HasValue = op.ReplyValue, op.HasReplyValue
		}
	}
	if op.Event != nil {
		op.Event.Value, op.Event.HasValue = op.ReplyValue, op.HasReplyValue
	}
}

// uniqueValues reports operations sharing a request value. Reply values
// may be shared with the directional model: devlink's "port-get" and
// "port-new" both reply with DEVLINK_CMD_PORT_NEW (7).
func (r *resolver) uniqueValues() {
	reqs := make(map[uint8]*Op)
	directional := r.f.Operations.EnumModel == EnumModelDirectional
	for _, op := range r.f.Operations.List {
		if !op.HasRequestValue || (directional && !op.IsCall()) {
			continue
		}
		if prev := reqs[op.RequestValue]; prev != nil {
			r.errorf(op.Pos, "%s has value %d, already used by operation %q", opWhat(op), op.RequestValue, prev.Name)
			continue
		}
		reqs[op.RequestValue] = op
	}
}

// opRefs resolves the op's own attribute set and its notify target.
func (r *resolver) opRefs(op *Op) {
	f := r.f
	what := opWhat(op)
	if op.AttributeSet != "" {
		op.Set = f.sets[op.AttributeSet]
		if op.Set == nil {
			r.errorf(op.KeyPos("attribute-set"), "%s references unknown attribute set %q", what, op.AttributeSet)
		}
	}
	if op.Notify != "" {
		op.NotifyOp = f.ops[op.Notify]
		switch t := op.NotifyOp; {
		case t == nil:
			r.errorf(op.KeyPos("notify"), "%s notifies unknown operation %q", what, op.Notify)
		case !t.IsCall():
			r.errorf(op.KeyPos("notify"), "%s notifies operation %q, which has no do or dump to take the reply format from", what, op.Notify)
		}
	}
}

// op resolves the remaining references of an operation.
func (r *resolver) op(op *Op) {
	f := r.f
	what := opWhat(op)
	switch {
	case op.AttributeSet != "":
	case op.NotifyOp != nil:
		op.Set = op.NotifyOp.Set
		if op.NotifyOp.AttributeSet == "" {
			r.errorf(op.KeyPos("notify"), "%s has no attribute-set and notifies operation %q, which has none either", what, op.Notify)
		}
	case op.IsCall() || op.Event != nil:
		r.errorf(op.Pos, "%s needs an attribute-set", what)
	}
	op.FixedHeader = cmpOr(op.FixedHeader, f.Operations.FixedHeader)
	switch {
	case op.Has("fixed-header"):
		op.FixedHeaderDef = r.structRef(op.FixedHeader, op.KeyPos("fixed-header"), what)
	case op.FixedHeader != "":
		op.FixedHeaderDef = f.Operations.FixedHeaderDef
	}
	if op.Mcgrp != "" {
		op.McastGrp = f.mcgrps[op.Mcgrp]
		if op.McastGrp == nil {
			r.errorf(op.KeyPos("mcgrp"), "%s references unknown multicast group %q", what, op.Mcgrp)
		}
	}
	for _, x := range []struct {
		m    *Mode
		name string
	}{{op.Do, "do"}, {op.Dump, "dump"}} {
		if x.m == nil {
			continue
		}
		r.messageAttrs(op, x.m.Request, what+" "+x.name+" request")
		r.messageAttrs(op, x.m.Reply, what+" "+x.name+" reply")
	}
	r.messageAttrs(op, op.Event, what+" event")
}

// messageAttrs resolves the attribute names of a message in the op's set.
func (r *resolver) messageAttrs(op *Op, m *Message, what string) {
	if m == nil || op.Set == nil {
		return
	}
	m.Attributes = m.Attributes[:0]
	for i, name := range m.attrNames {
		a := op.Set.Attribute(name)
		if a == nil {
			r.errorf(m.attrPos[i], "%s: unknown attribute %q in set %q", what, name, op.Set.Name)
			continue
		}
		m.Attributes = append(m.Attributes, a)
	}
}

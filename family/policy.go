package family

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// An AttrPolicy is the kernel's validation policy for one attribute of a
// policy table: the attribute's number, its policy as nlctrl reports it
// (type, value or length bounds, masks, the nested table's index and
// maximum attribute; see [genl.Policy], which an extended ACK's
// NLMSGERR_ATTR_POLICY shares), and the nested table itself.
type AttrPolicy struct {
	// Attr is the attribute type number the policy is for.
	Attr uint16
	// Policy holds the policy's fields; Has tells which the kernel sent.
	genl.Policy
	// Nested is the table numbered PolicyIdx, which validates a nest's
	// attributes (a nested array's entries), or nil when the kernel
	// reported none.
	Nested *AttrSetPolicy
}

// An AttrSetPolicy is one policy table: the policies of the attributes that
// may appear together at one level, sorted by attribute type.
type AttrSetPolicy struct {
	// Index is the table's number within its [Policy].
	Index uint32
	// Attrs are the attribute policies, sorted by Attr.
	Attrs []AttrPolicy
}

// Attr returns the policy of attribute type t.
func (s *AttrSetPolicy) Attr(t uint16) (AttrPolicy, bool) {
	i, ok := slices.BinarySearchFunc(s.Attrs, t, func(a AttrPolicy, t uint16) int { return int(a.Attr) - int(t) })
	if !ok {
		return AttrPolicy{}, false
	}
	return s.Attrs[i], true
}

// An OpPolicy names the policy tables an operation validates its do and
// dump requests with. A nil table means the kernel reported none.
type OpPolicy struct {
	Op   uint32
	Do   *AttrSetPolicy
	Dump *AttrSetPolicy
}

// A Policy is a family's attribute validation policy as the kernel reports
// it (CTRL_CMD_GETPOLICY): per operation, the top-level table for do and for
// dump requests, and the nested tables they reference.
type Policy struct {
	// Family is the family the policy belongs to.
	Family string
	// Ops are the operations' tables, sorted by Op.
	Ops []OpPolicy
	// Sets are all tables, sorted by Index.
	Sets []*AttrSetPolicy
}

// Op returns the tables of operation cmd.
func (p *Policy) Op(cmd uint32) (OpPolicy, bool) {
	for _, o := range p.Ops {
		if o.Op == cmd {
			return o, true
		}
	}
	return OpPolicy{}, false
}

// Set returns table number idx.
func (p *Policy) Set(idx uint32) *AttrSetPolicy {
	for _, s := range p.Sets {
		if s.Index == idx {
			return s
		}
	}
	return nil
}

// Print writes the policy as an indented tree: each operation, its do and
// dump tables, and nested tables under the attribute that references them.
// opName, when not nil, names operations by command number.
func (p *Policy) Print(w io.Writer, opName func(uint32) string) error {
	pw := &printer{w: w}
	for _, o := range p.Ops {
		name := strconv.Itoa(int(o.Op))
		if opName != nil {
			if n := opName(o.Op); n != "" {
				name = n + " (" + name + ")"
			}
		}
		pw.printf("op %s\n", name)
		for _, k := range []struct {
			kind string
			set  *AttrSetPolicy
		}{{"do", o.Do}, {"dump", o.Dump}} {
			if k.set == nil {
				continue
			}
			pw.printf("  %s: policy %d\n", k.kind, k.set.Index)
			pw.set(k.set, 1, map[uint32]bool{})
		}
	}
	return pw.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) set(s *AttrSetPolicy, depth int, seen map[uint32]bool) {
	if seen[s.Index] {
		p.printf("%s(policy %d, recursive)\n", strings.Repeat("  ", depth+1), s.Index)
		return
	}
	seen[s.Index] = true
	defer delete(seen, s.Index)
	for _, a := range s.Attrs {
		p.printf("%sattr %d: %s\n", strings.Repeat("  ", depth+1), a.Attr, a)
		if a.Nested != nil {
			p.set(a.Nested, depth+1, seen)
		}
	}
}

// policyBuilder collects the messages of a GETPOLICY dump.
type policyBuilder struct {
	p    Policy
	sets map[uint32]*AttrSetPolicy
}

var opPolicyAttrNames = []string{unix.CTRL_ATTR_POLICY_DO: "do", unix.CTRL_ATTR_POLICY_DUMP: "dump"}

// add decodes the attributes of one GETPOLICY reply message. Operations
// are kept in the order the kernel sent them (see fileOps).
func (b *policyBuilder) add(msg []byte) error {
	if b.sets == nil {
		b.sets = make(map[uint32]*AttrSetPolicy)
	}
	d := attrs.NewDecoder(msg)
	d.SetNames(ctrlAttrNames)
	for d.Next() {
		switch d.Type() {
		case unix.CTRL_ATTR_FAMILY_NAME:
			b.p.Family = d.String()
		case unix.CTRL_ATTR_OP_POLICY:
			ops := d.Nested()
			for ops.Next() {
				op := OpPolicy{Op: uint32(ops.Type())}
				od := ops.Nested()
				od.SetNames(opPolicyAttrNames)
				for od.Next() {
					switch od.Type() {
					case unix.CTRL_ATTR_POLICY_DO:
						op.Do = b.set(od.U32())
					case unix.CTRL_ATTR_POLICY_DUMP:
						op.Dump = b.set(od.U32())
					}
				}
				b.p.Ops = append(b.p.Ops, op)
			}
		case unix.CTRL_ATTR_POLICY:
			sets := d.Nested()
			for sets.Next() {
				s := b.set(uint32(sets.Type()))
				ad := sets.Nested()
				for ad.Next() {
					pd := ad.Nested()
					a := AttrPolicy{Attr: ad.Type(), Policy: genl.DecodePolicy(&pd)}
					if a.Has(unix.NL_POLICY_TYPE_ATTR_POLICY_IDX) {
						a.Nested = b.set(a.PolicyIdx)
					}
					s.Attrs = append(s.Attrs, a)
				}
			}
		}
	}
	return d.Err()
}

// set returns table idx, creating it on first reference.
func (b *policyBuilder) set(idx uint32) *AttrSetPolicy {
	if s, ok := b.sets[idx]; ok {
		return s
	}
	s := &AttrSetPolicy{Index: idx}
	b.sets[idx] = s
	return s
}

// needsOps reports whether an operation's policies came filed under
// command 0, which fileOps must sort out with the family's op list.
func (b *policyBuilder) needsOps() bool {
	for _, o := range b.p.Ops {
		if o.Op == 0 {
			return true
		}
	}
	return false
}

// errOpsMismatch reports a whole-family policy dump whose operations do not
// line up with the family's op list.
var errOpsMismatch = errors.New("the policy dump's operations do not line up with the family's operations")

// fileOps files every operation's policies under its command.
//
// nlctrl numbers an operation's entry in CTRL_ATTR_OP_POLICY with the
// command of its do handler, so an operation without one (dump only) comes
// back as command 0 (Linux 6.18, ctrl_dumppolicy_put_op), both in a dump of
// one op and of the whole family. A dump of one op is about op only. A
// dump of the whole family walks the operations in the order that
// GETFAMILY lists them and skips those without a policy; f's ops flagged
// OpHasPolicy therefore pair up, in order, with the entries of the dump.
// An entry with a command of its own must name its op; one under command 0
// must belong to an op without a do handler (or to command 0 itself).
func (b *policyBuilder) fileOps(op *uint32, f *Family) error {
	if op != nil {
		for i := range b.p.Ops {
			b.p.Ops[i].Op = *op
		}
		return nil
	}
	if f == nil {
		return nil
	}
	j := 0
	for _, o := range f.Ops {
		if o.Flags&OpHasPolicy == 0 {
			continue
		}
		if j == len(b.p.Ops) {
			return fmt.Errorf("%w: %d entries, more ops with a policy", errOpsMismatch, len(b.p.Ops))
		}
		e := &b.p.Ops[j]
		switch {
		case e.Op == o.ID:
		case e.Op == 0 && o.Flags&OpDo == 0:
			e.Op = o.ID
		default:
			return fmt.Errorf("%w: entry %d is for command %d, op %d is next", errOpsMismatch, j, e.Op, o.ID)
		}
		j++
	}
	if j != len(b.p.Ops) {
		return fmt.Errorf("%w: %d entries, %d ops with a policy", errOpsMismatch, len(b.p.Ops), j)
	}
	return nil
}

// policy sorts and returns the collected policy.
func (b *policyBuilder) policy() *Policy {
	for _, s := range b.sets {
		slices.SortFunc(s.Attrs, func(x, y AttrPolicy) int { return int(x.Attr) - int(y.Attr) })
		b.p.Sets = append(b.p.Sets, s)
	}
	slices.SortFunc(b.p.Sets, func(x, y *AttrSetPolicy) int { return cmpU32(x.Index, y.Index) })
	slices.SortStableFunc(b.p.Ops, func(x, y OpPolicy) int { return cmpU32(x.Op, y.Op) })
	p := b.p
	return &p
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

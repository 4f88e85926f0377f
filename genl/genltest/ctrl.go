package genltest

import (
	"slices"
	"sync"

	"github.com/genlkit/genlkit/attrs"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A Family is a generic netlink family as a fake [Controller] describes it
// in its replies and notifications.
type Family struct {
	ID         uint16
	Name       string
	Version    uint32
	HeaderSize uint32
	MaxAttr    uint32
	Ops        []Op
	Groups     []Group
}

// An Op is one operation of a fake [Family]: its command and its
// GENL_CMD_CAP_* and GENL_*ADMIN_PERM flags.
type Op struct {
	ID    uint32
	Flags uint32
}

// A Group is one multicast group of a fake [Family].
type Group struct {
	ID   uint32
	Name string
}

// Nlctrl is the controller family itself, as the kernel describes it; a
// Controller holds it unless told otherwise.
var Nlctrl = Family{
	ID: unix.GENL_ID_CTRL, Name: "nlctrl", Version: 2, MaxAttr: unix.CTRL_ATTR_OP,
	Ops: []Op{
		{ID: unix.CTRL_CMD_GETFAMILY, Flags: unix.GENL_CMD_CAP_DO | unix.GENL_CMD_CAP_DUMP | unix.GENL_CMD_CAP_HASPOL},
		{ID: unix.CTRL_CMD_GETPOLICY, Flags: unix.GENL_CMD_CAP_DUMP | unix.GENL_CMD_CAP_HASPOL},
	},
	Groups: []Group{{ID: unix.GENL_ID_CTRL, Name: "notify"}},
}

// A Controller is a fake nlctrl, layered on a [Kernel]: it answers the
// Conn's CTRL_CMD_GETFAMILY requests (by name, by id, and dumps) from the
// families it holds, and announces families and multicast groups coming
// and going on nlctrl's notify group (id GENL_ID_CTRL) as the kernel does,
// to a Conn that joined it. Requests to other families go to the Kernel's
// handlers, after the checks of the ops the controller holds for the
// family (see the package documentation). Its methods are safe for
// concurrent use.
type Controller struct {
	k       *Kernel
	mu      sync.Mutex
	fams    []Family
	lookups int
}

// Controller makes k answer nlctrl's requests with a fake controller
// holding Nlctrl and fams, and returns it. Calling it again replaces the
// controller.
func (k *Kernel) Controller(fams ...Family) *Controller {
	c := &Controller{k: k, fams: append([]Family{Nlctrl}, fams...)}
	k.mu.Lock()
	k.ctrl = c
	k.mu.Unlock()
	return c
}

// Ctrl returns k's fake nlctrl, making one that holds only Nlctrl if k has
// none yet.
func (k *Kernel) Ctrl() *Controller {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ctrl == nil {
		k.ctrl = &Controller{k: k, fams: []Family{Nlctrl}}
	}
	return k.ctrl
}

// Lookups returns how many CTRL_CMD_GETFAMILY do-requests (by name or id,
// not dumps) the controller has answered, found or not.
func (c *Controller) Lookups() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups
}

// Families returns copies of the families the controller holds.
func (c *Controller) Families() []Family {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Family, len(c.fams))
	for i, f := range c.fams {
		out[i] = f.clone()
	}
	return out
}

// Register adds f, replacing a family with the same name, and announces it
// as the kernel's genl_register_family does: CTRL_CMD_NEWFAMILY, then
// CTRL_CMD_NEWMCAST_GRP for each of its groups.
func (c *Controller) Register(f Family) {
	f = f.clone()
	c.mu.Lock()
	if i := c.index(f.Name); i >= 0 {
		c.fams[i] = f
	} else {
		c.fams = append(c.fams, f)
	}
	c.mu.Unlock()
	c.notify(unix.CTRL_CMD_NEWFAMILY, FamilyAttrs(f))
	for _, g := range f.Groups {
		c.notify(unix.CTRL_CMD_NEWMCAST_GRP, groupAttrs(f, g))
	}
}

// First ids Add gives families and multicast groups.
const (
	firstFamilyID = 0x20
	firstGroupID  = 0x40
)

// Add registers f like Register, first giving it, if its ID is 0, the
// lowest family id from 0x20 up that no family holds, and each of its
// groups whose ID is 0 the lowest group id from 0x40 up that no group
// holds, as the kernel allocates ids for a family it registers. It returns
// f with its ids.
func (c *Controller) Add(f Family) Family {
	f = f.clone()
	c.mu.Lock()
	if f.ID == 0 {
		f.ID = firstFamilyID
		for c.idTaken(f.Name, func(g Family) bool { return g.ID == f.ID }) {
			f.ID++
		}
	}
	next := uint32(firstGroupID)
	for i := range f.Groups {
		if f.Groups[i].ID != 0 {
			continue
		}
		for c.groupTaken(f, next) {
			next++
		}
		f.Groups[i].ID = next
		next++
	}
	c.mu.Unlock()
	c.Register(f)
	return f
}

// idTaken reports whether a family other than the one called name matches
// taken; c.mu must be held.
func (c *Controller) idTaken(name string, taken func(Family) bool) bool {
	return slices.ContainsFunc(c.fams, func(g Family) bool { return g.Name != name && taken(g) })
}

// groupTaken reports whether group id is in use by another family or by
// f itself.
func (c *Controller) groupTaken(f Family, id uint32) bool {
	has := func(g Family) bool {
		return slices.ContainsFunc(g.Groups, func(gr Group) bool { return gr.ID == id })
	}
	return has(f) || c.idTaken(f.Name, has)
}

// refuse returns the errno with which the kernel refuses request r to a
// family the controller holds with its operations, before any handler
// runs (genl_family_rcv_msg): EOPNOTSUPP for an unknown command or a form
// (do or dump) the op lacks, EPERM for an admin op the caller p may not
// use. It returns 0 to let r through, also for a family it does not hold
// or holds without operations.
func (c *Controller) refuse(r Request, p Privilege) unix.Errno {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.fams, func(f Family) bool { return f.ID == uint16(r.Header.Type) })
	if i < 0 || len(c.fams[i].Ops) == 0 {
		return 0
	}
	ops := c.fams[i].Ops
	j := slices.IndexFunc(ops, func(o Op) bool { return o.ID == uint32(r.Genl.Command) })
	if j < 0 {
		return unix.EOPNOTSUPP
	}
	fl := ops[j].Flags
	const caps = unix.GENL_CMD_CAP_DO | unix.GENL_CMD_CAP_DUMP
	switch dump := r.Header.Flags&netlink.Dump == netlink.Dump; {
	case fl&caps == 0:
	case dump && fl&unix.GENL_CMD_CAP_DUMP == 0, !dump && fl&unix.GENL_CMD_CAP_DO == 0:
		return unix.EOPNOTSUPP
	}
	switch {
	case fl&unix.GENL_ADMIN_PERM != 0 && p != Admin,
		fl&unix.GENL_UNS_ADMIN_PERM != 0 && p == Unprivileged:
		return unix.EPERM
	}
	return 0
}

// Unregister removes the family called name and announces it as the
// kernel's genl_unregister_family does: CTRL_CMD_DELMCAST_GRP for each of
// its groups, then CTRL_CMD_DELFAMILY. It reports whether it had the
// family.
func (c *Controller) Unregister(name string) bool {
	c.mu.Lock()
	i := c.index(name)
	if i < 0 {
		c.mu.Unlock()
		return false
	}
	f := c.fams[i]
	c.fams = slices.Delete(c.fams, i, i+1)
	c.mu.Unlock()
	for _, g := range f.Groups {
		c.notify(unix.CTRL_CMD_DELMCAST_GRP, groupAttrs(f, g))
	}
	c.notify(unix.CTRL_CMD_DELFAMILY, FamilyAttrs(f))
	return true
}

// AddGroup adds g to the family called name and announces it with
// CTRL_CMD_NEWMCAST_GRP. It reports whether it had the family.
func (c *Controller) AddGroup(name string, g Group) bool {
	c.mu.Lock()
	i := c.index(name)
	if i < 0 {
		c.mu.Unlock()
		return false
	}
	f := &c.fams[i]
	f.Groups = append(slices.Clip(f.Groups), g)
	msg := groupAttrs(*f, g)
	c.mu.Unlock()
	c.notify(unix.CTRL_CMD_NEWMCAST_GRP, msg)
	return true
}

// RemoveGroup removes the group called group from the family called name
// and announces it with CTRL_CMD_DELMCAST_GRP. It reports whether it had
// the group.
func (c *Controller) RemoveGroup(name, group string) bool {
	c.mu.Lock()
	i := c.index(name)
	if i < 0 {
		c.mu.Unlock()
		return false
	}
	f := &c.fams[i]
	j := slices.IndexFunc(f.Groups, func(g Group) bool { return g.Name == group })
	if j < 0 {
		c.mu.Unlock()
		return false
	}
	g := f.Groups[j]
	f.Groups = slices.Delete(slices.Clone(f.Groups), j, j+1)
	msg := groupAttrs(*f, g)
	c.mu.Unlock()
	c.notify(unix.CTRL_CMD_DELMCAST_GRP, msg)
	return true
}

// index returns the position of the family called name, or -1; c.mu must
// be held.
func (c *Controller) index(name string) int {
	return slices.IndexFunc(c.fams, func(f Family) bool { return f.Name == name })
}

// notify multicasts an nlctrl notification, like genl_ctrl_event, to a
// Conn that joined the notify group.
func (c *Controller) notify(cmd uint8, data []byte) {
	c.k.mu.Lock()
	joined := c.k.groups[unix.GENL_ID_CTRL] > 0
	c.k.mu.Unlock()
	if joined {
		c.k.PushGroup(unix.GENL_ID_CTRL, GenlMsg(unix.GENL_ID_CTRL, 0, 0, 0, cmd, uint8(Nlctrl.Version), data))
	}
}

// serve answers one request to nlctrl, as ctrl_getfamily and
// ctrl_dumpfamily do: a reply (and an ACK when asked for), a dump, or an
// error.
func (c *Controller) serve(r Request) {
	k := c.k
	if r.Genl.Command != unix.CTRL_CMD_GETFAMILY {
		k.Push(Error(r, unix.EOPNOTSUPP, nil))
		return
	}
	if r.Header.Flags&netlink.Dump == netlink.Dump {
		c.mu.Lock()
		var msgs [][]byte
		for _, f := range c.fams {
			msgs = append(msgs, ReplyMulti(r, unix.CTRL_CMD_NEWFAMILY, FamilyAttrs(f), 0))
		}
		c.mu.Unlock()
		msgs = append(msgs, Done(r, 0, 0, nil))
		k.Push(msgs...)
		return
	}
	var (
		id        uint16
		name      string
		byID, byN bool
	)
	d := attrs.NewDecoder(r.Data)
	for d.Next() {
		switch d.Type() {
		case unix.CTRL_ATTR_FAMILY_ID:
			id, byID = d.U16(), true
		case unix.CTRL_ATTR_FAMILY_NAME:
			name, byN = d.String(), true
		}
	}
	c.mu.Lock()
	c.lookups++
	i := -1
	switch {
	case d.Err() != nil:
	case byID:
		i = slices.IndexFunc(c.fams, func(f Family) bool { return f.ID == id })
	case byN:
		i = c.index(name)
	default:
		c.mu.Unlock()
		k.Push(Error(r, unix.EINVAL, &Extack{Msg: "no family id or name"}))
		return
	}
	if i < 0 {
		c.mu.Unlock()
		k.Push(Error(r, unix.ENOENT, nil))
		return
	}
	data := FamilyAttrs(c.fams[i])
	c.mu.Unlock()
	msgs := [][]byte{Reply(r, unix.CTRL_CMD_NEWFAMILY, data)}
	if r.Header.Flags&netlink.Acknowledge != 0 {
		msgs = append(msgs, Ack(r))
	}
	k.Push(msgs...)
}

// FamilyAttrs encodes f as nlctrl's ctrl_fill_info does, for replies and
// for CTRL_CMD_NEWFAMILY and CTRL_CMD_DELFAMILY notifications.
func FamilyAttrs(f Family) []byte {
	var e attrs.Encoder
	e.String(unix.CTRL_ATTR_FAMILY_NAME, f.Name)
	e.U16(unix.CTRL_ATTR_FAMILY_ID, f.ID)
	e.U32(unix.CTRL_ATTR_VERSION, f.Version)
	e.U32(unix.CTRL_ATTR_HDRSIZE, f.HeaderSize)
	e.U32(unix.CTRL_ATTR_MAXATTR, f.MaxAttr)
	if len(f.Ops) > 0 {
		ops := e.Nest(unix.CTRL_ATTR_OPS)
		for i, o := range f.Ops {
			n := e.Nest(uint16(i + 1))
			e.U32(unix.CTRL_ATTR_OP_ID, o.ID)
			e.U32(unix.CTRL_ATTR_OP_FLAGS, o.Flags)
			e.End(n)
		}
		e.End(ops)
	}
	if len(f.Groups) > 0 {
		groupsAttr(&e, f.Groups...)
	}
	return e.Bytes()
}

// groupsAttr encodes CTRL_ATTR_MCAST_GROUPS with one nest per group.
func groupsAttr(e *attrs.Encoder, groups ...Group) {
	gs := e.Nest(unix.CTRL_ATTR_MCAST_GROUPS)
	for i, g := range groups {
		n := e.Nest(uint16(i + 1))
		e.U32(unix.CTRL_ATTR_MCAST_GRP_ID, g.ID)
		e.String(unix.CTRL_ATTR_MCAST_GRP_NAME, g.Name)
		e.End(n)
	}
	e.End(gs)
}

// groupAttrs encodes one group of f as nlctrl's ctrl_fill_mcgrp_info does,
// for CTRL_CMD_NEWMCAST_GRP and CTRL_CMD_DELMCAST_GRP notifications.
func groupAttrs(f Family, g Group) []byte {
	var e attrs.Encoder
	e.String(unix.CTRL_ATTR_FAMILY_NAME, f.Name)
	e.U16(unix.CTRL_ATTR_FAMILY_ID, f.ID)
	groupsAttr(&e, g)
	return e.Bytes()
}

func (f Family) clone() Family {
	f.Ops = slices.Clone(f.Ops)
	f.Groups = slices.Clone(f.Groups)
	return f
}

package gen

import (
	"fmt"
	"strconv"
	"strings"
)

func (g *generator) genNotify(f *file) {
	p := g.p
	ctx := contextPkg.Ident("Context")
	msg := genlPkg.Ident("Message")

	doc := "A Notification is a message the kernel sends on its own, decoded by its command value: "
	if len(p.notifs) > 0 {
		var names []string
		for _, n := range p.notifs {
			names = append(names, "*"+n.name)
		}
		doc += "one concrete type per notification op of the spec (" + strings.Join(names, ", ") + "), and "
	}
	doc += "*UnknownNotification for any other command."
	f.Comment(wrap(doc, 76))
	f.P("type Notification interface {")
	f.P("// OpName returns the spec's name of the notification op, or \"\" for an")
	f.P("// unknown command.")
	f.P("OpName() string")
	f.P("notification()")
	f.P("}")
	f.P()
	f.P("// UnknownNotification is a notification whose command the spec does not")
	f.P("// describe as a notification. Data is a copy of the payload after the")
	f.P("// generic netlink header: the fixed header, if any, then attributes, which")
	f.P("// the set types' UnmarshalAttrs can decode.")
	f.P("type UnknownNotification struct {")
	f.P("Command uint8")
	f.P("Version uint8")
	f.P("Group   uint32")
	f.P("Data    []byte")
	f.P("}")
	f.P()
	f.P("// OpName returns \"\".")
	f.P("func (*UnknownNotification) OpName() string { return \"\" }")
	f.P("func (*UnknownNotification) notification()  {}")
	f.P()
	for _, n := range p.notifs {
		so := n.spec
		mech := fmt.Sprintf("%s is the %s notification %s (command %d", n.name, p.spec.Name, so.Name, n.cmd)
		if so.Mcgrp != "" {
			mech += ", group " + so.Mcgrp
		}
		mech += fmt.Sprintf("): attributes %s of set %s.", attrList(so.NotifyAttributes()), n.set.spec.Name)
		g.doc(f, mech, so.Doc)
		f.P("type ", n.name, " struct {")
		if n.header != nil {
			f.P("Header ", n.header.name)
		}
		f.P(n.set.name)
		f.P("}")
		f.P()
		f.P("// OpName returns ", strconv.Quote(so.Name), ".")
		f.P("func (*", n.name, ") OpName() string { return ", strconv.Quote(so.Name), " }")
		f.P("func (*", n.name, ") notification()  {}")
		f.P()
	}

	f.P("// decodeNotification decodes m by its command value.")
	f.P("func decodeNotification(m ", msg, ") (Notification, error) {")
	if len(p.notifs) > 0 {
		f.P("switch m.Header.Command {")
		for _, n := range p.notifs {
			name := strconv.Quote(n.spec.Name)
			f.P("case ", n.cmdC, ":")
			f.P("n := new(", n.name, ")")
			data := "m.Data"
			if n.header != nil {
				f.P("if len(m.Data) < ", n.header.sizeC, " {")
				f.P("return nil, opError(", name, ", ", attrsPkg.Ident("HeaderTooShort"), "(", strconv.Quote(n.header.def.Name), ", ", n.header.sizeC, ", len(m.Data)))")
				f.P("}")
				f.P("n.Header.get(m.Data)")
				data = "m.Data[" + n.header.sizeC + ":]"
			}
			f.P("if err := n.", n.set.name, ".decodeMessage(", data, "); err != nil {")
			f.P("return nil, opError(", name, ", err)")
			f.P("}")
			f.P("return n, nil")
		}
		f.P("}")
		g.use("opError")
	}
	f.P("return &UnknownNotification{Command: m.Header.Command, Version: m.Header.Version, Group: m.Group, Data: ", bytesPkg.Ident("Clone"), "(m.Data)}, nil")
	f.P("}")
	f.P()

	f.P("// A Subscription receives the family's notifications from the multicast")
	f.P("// groups it joined. Close it to leave them.")
	f.P("type Subscription struct {")
	f.P("sub    *", genlPkg.Ident("Subscription"))
	f.P("family uint16")
	f.P("}")
	f.P()
	f.P("// Subscribe joins multicast groups of the family by name (see the Group")
	f.P("// constants), as the running kernel names them: a group the kernel has but")
	f.P("// the spec omits can be joined too, and one it lacks is an error matching")
	f.P("// family.ErrNotFound before anything is joined.")
	f.P("func (c *Client) Subscribe(ctx ", ctx, ", groups ...string) (*Subscription, error) {")
	f.P("fam, err := c.family(ctx)")
	f.P("if err != nil {")
	f.P("return nil, err")
	f.P("}")
	f.P("ids := make([]uint32, 0, len(groups))")
	f.P("for _, name := range groups {")
	f.P("g, err := fam.Group(name)")
	f.P("if err != nil {")
	f.P("return nil, err")
	f.P("}")
	f.P("ids = append(ids, g.ID)")
	f.P("}")
	f.P("sub, err := c.conn.Subscribe(ids...)")
	f.P("if err != nil {")
	f.P("return nil, err")
	f.P("}")
	f.P("return &Subscription{sub: sub, family: fam.ID}, nil")
	f.P("}")
	f.P()
	f.P("// Next waits for the next notification of the family and decodes it. A")
	f.P("// notification that fails to decode is an error naming its op, and Next")
	f.P("// may be called again. Lost notifications are an error matching")
	f.P("// genl.ErrOverrun; net.ErrClosed once the subscription or its Conn is")
	f.P("// closed; ctx.Err() when ctx ends.")
	f.P("func (s *Subscription) Next(ctx ", ctx, ") (Notification, error) {")
	f.P("for {")
	f.P("m, err := s.sub.Next(ctx)")
	f.P("if err != nil {")
	f.P("return nil, err")
	f.P("}")
	f.P("if uint16(m.Netlink.Type) != s.family {")
	f.P("continue // another family's unicast notification")
	f.P("}")
	f.P("return decodeNotification(m)")
	f.P("}")
	f.P("}")
	f.P()
	f.P("// All returns the notifications as an iterator. Overruns and decode errors")
	f.P("// are yielded and the stream goes on; any other error is yielded last.")
	f.P("func (s *Subscription) All(ctx ", ctx, ") ", iterPkg.Ident("Seq2"), "[Notification, error] {")
	f.P("return func(yield func(Notification, error) bool) {")
	f.P("for {")
	f.P("n, err := s.Next(ctx)")
	f.P("if err != nil && n == nil && !isRecoverable(err) {")
	f.P("yield(nil, err)")
	f.P("return")
	f.P("}")
	f.P("if !yield(n, err) {")
	f.P("return")
	f.P("}")
	f.P("}")
	f.P("}")
	f.P("}")
	f.P()
	f.P("// isRecoverable reports whether the stream goes on after err: an overrun")
	f.P("// or a notification that failed to decode.")
	f.P("func isRecoverable(err error) bool {")
	f.P("var de *", attrsPkg.Ident("Error"))
	f.P("return ", errorsPkg.Ident("Is"), "(err, ", genlPkg.Ident("ErrOverrun"), ") || ", errorsPkg.Ident("As"), "(err, &de)")
	f.P("}")
	f.P()
	f.P("// Groups returns the ids of the groups s joined.")
	f.P("func (s *Subscription) Groups() []uint32 { return s.sub.Groups() }")
	f.P()
	f.P("// Close leaves the groups and ends the subscription.")
	f.P("func (s *Subscription) Close() error { return s.sub.Close() }")
}

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
			f.P("if err := n.", n.set.name, ".", g.decodeNewCall(n.set.name), "(", data, ", nil); err != nil {")
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
	f.P("// groups it joined, each decoded to a Notification. Close it to leave them.")
	f.P("type Subscription = ", familyPkg.Ident("Subscription"), "[Notification]")
	f.P()
	f.P("// Subscribe joins multicast groups of the family by name (see the Group")
	f.P("// constants), as the running kernel names them: a group the kernel has but")
	f.P("// the spec omits can be joined too, and one it lacks is an error matching")
	f.P("// family.ErrNotFound before anything is joined.")
	f.P("func (c *Client) Subscribe(ctx ", ctx, ", groups ...string) (*Subscription, error) {")
	f.P("return ", familyPkg.Ident("Subscribe"), "(ctx, c.core, decodeNotification, groups...)")
	f.P("}")
}

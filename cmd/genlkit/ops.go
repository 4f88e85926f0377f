package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/internal/jsonmsg"
)

func (a *app) cmdOps(args []string) error {
	if err := wantArgs(a.cmd, args, 1, 2); err != nil {
		return err
	}
	desc, err := a.descriptor(args[0])
	if err != nil {
		return err
	}
	if desc == nil {
		if f, err := a.liveFamily(args[0]); err == nil {
			return usagef("Give its YNL spec with --spec FILE, or run 'genlkit family "+f.Name+"' for what the kernel says.",
				"family %s has no descriptor compiled into genlkit", f.Name)
		}
		return a.unknownFamily(args[0])
	}
	d := desc.desc
	ops := make([]*family.OpDesc, 0, len(d.Ops))
	if len(args) == 2 {
		op, err := findOp(d, args[1], "")
		if err != nil {
			return err
		}
		ops = append(ops, op)
	} else {
		for i := range d.Ops {
			ops = append(ops, &d.Ops[i])
		}
	}
	if a.tableOutput() {
		for i, op := range ops {
			if i > 0 {
				fmt.Fprintln(a.stdout)
			}
			printOpTree(a.stdout, d, op)
		}
		return nil
	}
	out := []any{}
	for _, op := range ops {
		out = append(out, opJSON(op))
	}
	if len(args) == 2 {
		return a.printJSON(out[0])
	}
	return a.printJSON(out)
}

// opJSON describes an op: its kinds, attribute set, and the attribute
// names of its requests and replies.
func opJSON(op *family.OpDesc) *jsonmsg.Object {
	o := jsonmsg.NewObject()
	o.Set("name", op.Name)
	o.Set("value", uint64(op.Value))
	o.Set("reply-value", uint64(op.ReplyValue))
	o.Set("kinds", strList(opKinds(op)))
	o.Set("attribute-set", op.Set)
	for _, m := range opForms(op) {
		mo := jsonmsg.NewObject()
		mo.Set("request", strList(m.md.Request))
		if m.md.HasReply {
			mo.Set("reply", strList(m.md.Reply))
		} else {
			mo.Set("reply", nil)
		}
		o.Set(m.name, mo)
	}
	if op.Notify || op.Event {
		o.Set("attributes", strList(op.EventAttrs))
	}
	if op.Group != "" {
		o.Set("group", op.Group)
	}
	if len(op.Flags) > 0 {
		o.Set("flags", strList(op.Flags))
	}
	return o
}

// An opForm is the do or the dump form of an op.
type opForm struct {
	name string // "do" or "dump"
	md   *family.OpMsgDesc
}

// opForms returns the forms op has, do first.
func opForms(op *family.OpDesc) []opForm {
	var out []opForm
	if op.Do != nil {
		out = append(out, opForm{"do", op.Do})
	}
	if op.Dump != nil {
		out = append(out, opForm{"dump", op.Dump})
	}
	return out
}

// printOpTree writes an op's heading and the attribute trees of its
// requests and replies (or of its notifications), nested, with types.
func printOpTree(w io.Writer, d *family.Descriptor, op *family.OpDesc) {
	cmd := "cmd " + strconv.Itoa(int(op.Value))
	if op.Notify || op.Event {
		cmd = "cmd " + strconv.Itoa(int(op.ReplyValue))
	} else if op.ReplyValue != op.Value {
		cmd += ", reply cmd " + strconv.Itoa(int(op.ReplyValue))
	}
	extra := ""
	if op.Group != "" {
		extra += ", group " + op.Group
	}
	if len(op.Flags) > 0 {
		extra += ", " + strings.Join(op.Flags, ",")
	}
	fmt.Fprintf(w, "%s: %s (%s%s)\n", op.Name, strings.Join(opKinds(op), ", "), cmd, extra)
	set := d.Set(op.Set)
	if op.Notify || op.Event {
		printAttrList(w, d, set, "attributes", op.EventAttrs)
		return
	}
	for _, m := range opForms(op) {
		printAttrList(w, d, set, m.name+" request", m.md.Request)
		if m.md.HasReply {
			printAttrList(w, d, set, m.name+" reply", m.md.Reply)
		} else {
			fmt.Fprintf(w, "  %s reply: none (an ACK)\n", m.name)
		}
	}
}

func printAttrList(w io.Writer, d *family.Descriptor, set *family.SetDesc, title string, names []string) {
	if len(names) == 0 {
		fmt.Fprintf(w, "  %s: no attributes\n", title)
		return
	}
	fmt.Fprintf(w, "  %s:\n", title)
	shown := map[string]bool{}
	for _, n := range names {
		var a *family.AttrDesc
		if set != nil {
			a = set.Attr(n)
		}
		if a == nil {
			fmt.Fprintf(w, "    %s\n", n)
			continue
		}
		printAttrTree(w, d, a, "    ", map[string]bool{set.Name: true}, shown)
	}
}

// printAttrTree writes one attribute with its type and, for nests, the
// attributes of its nested set below it. A set being printed higher up (a
// recursive nest), or already shown in the same list, is named, not
// printed again.
func printAttrTree(w io.Writer, d *family.Descriptor, a *family.AttrDesc, indent string, open, shown map[string]bool) {
	t := attrTypeText(d, a)
	if a.Nested != "" && (open[a.Nested] || shown[a.Nested]) {
		t += ", as above"
	}
	fmt.Fprintf(w, "%s%s: %s\n", indent, a.Name, t)
	if a.Nested == "" || open[a.Nested] || shown[a.Nested] {
		return
	}
	shown[a.Nested] = true
	sub := d.Set(a.Nested)
	if sub == nil {
		return
	}
	open[a.Nested] = true
	defer delete(open, a.Nested)
	for i := range sub.Attrs {
		sa := &sub.Attrs[i]
		if sa.Type == "unused" || sa.Type == "pad" {
			continue
		}
		printAttrTree(w, d, sa, indent+"  ", open, shown)
	}
}

// attrTypeText describes an attribute's type: "u32", "u32 enum foo",
// "nest (set bar)", "binary struct baz", "multi-attr", "big-endian"...
func attrTypeText(d *family.Descriptor, a *family.AttrDesc) string {
	t := a.Type
	switch {
	case a.Type == "indexed-array" && a.SubType != "":
		t += " of " + a.SubType
	case a.SubType != "":
		t += " array of " + a.SubType
	}
	if a.Enum != "" {
		kind := "enum"
		if e := d.Enum(a.Enum); a.EnumAsFlags || (e != nil && e.Flags) {
			kind = "flags"
		}
		t += " " + kind + " " + a.Enum
	}
	if a.Struct != "" {
		t += " struct " + a.Struct
	}
	if a.Nested != "" {
		t += " (set " + a.Nested + ")"
	}
	if a.SubMessage != "" {
		t += " (sub-message " + a.SubMessage + " by " + a.Selector + ")"
	}
	var notes []string
	if a.Multi {
		notes = append(notes, "multi-attr")
	}
	if a.BigEndian {
		notes = append(notes, "big-endian")
	}
	if a.Hint != "" {
		notes = append(notes, a.Hint)
	}
	if len(notes) > 0 {
		t += ", " + strings.Join(notes, ", ")
	}
	return t
}

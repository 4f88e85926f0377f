package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/internal/jsonmsg"
	"golang.org/x/sys/unix"
)

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

func groupList(f *family.Family) []any {
	out := []any{}
	for _, g := range f.Groups {
		o := jsonmsg.NewObject()
		o.Set("name", g.Name)
		o.Set("id", uint64(g.ID))
		out = append(out, o)
	}
	return out
}

func groupNames(f *family.Family) string {
	if len(f.Groups) == 0 {
		return "-"
	}
	names := make([]string, len(f.Groups))
	for i, g := range f.Groups {
		names[i] = printable(g.Name)
	}
	return strings.Join(names, ",")
}

func (a *app) cmdFamilies(args []string) error {
	if err := wantArgs(a.cmd, args, 0, 0); err != nil {
		return err
	}
	if a.specArg != "" {
		// A spec describes one family; ignoring it would hide a mistake.
		return usagef("Give --spec to a command that names the family: 'genlkit family NAME --spec FILE'.", "families: --spec describes one family, not the list")
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	ctx, cancel := a.requestContext()
	defer cancel()
	fams, err := family.List(ctx, c)
	if err != nil {
		return err // family.List says "list families: …"
	}
	if a.tableOutput() {
		w := newTable(a.stdout)
		fmt.Fprintln(w, "NAME\tID\tVERSION\tHDRSIZE\tMAXATTR\tOPS\tGROUPS\tDESCRIPTOR")
		for _, f := range fams {
			src := a.descriptorSource(f.Name)
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", printable(f.Name), f.ID, f.Version, f.HeaderSize, f.MaxAttr,
				len(f.Ops), groupNames(f), src)
		}
		return w.Flush()
	}
	out := []any{}
	for _, f := range fams {
		o := familyJSON(f)
		o.Set("ops", uint64(len(f.Ops)))
		o.Set("groups", groupList(f))
		o.Set("descriptor", a.descriptorSource(f.Name))
		out = append(out, o)
	}
	return a.printJSON(out)
}

// familyJSON returns the JSON fields every family listing starts with.
func familyJSON(f *family.Family) *jsonmsg.Object {
	o := jsonmsg.NewObject()
	o.Set("name", f.Name)
	o.Set("id", uint64(f.ID))
	o.Set("version", uint64(f.Version))
	o.Set("hdrsize", uint64(f.HeaderSize))
	o.Set("maxattr", uint64(f.MaxAttr))
	return o
}

// opFlagNames lists an op's flags as words: do, dump, has-policy,
// admin-perm, uns-admin-perm.
func opFlagNames(fl family.OpFlags) []string {
	var out []string
	for _, x := range []struct {
		f    family.OpFlags
		name string
	}{{family.OpDo, "do"}, {family.OpDump, "dump"}, {family.OpHasPolicy, "has-policy"},
		{family.OpAdminPerm, "admin-perm"}, {family.OpUnsAdminPerm, "uns-admin-perm"}} {
		if fl&x.f != 0 {
			out = append(out, x.name)
		}
	}
	if rest := fl &^ (family.OpDo | family.OpDump | family.OpHasPolicy | family.OpAdminPerm | family.OpUnsAdminPerm); rest != 0 {
		out = append(out, fmt.Sprintf("%#x", uint32(rest)))
	}
	return out
}

// opNamer names a live family's commands by request value from its
// descriptor; unnamed ones are "cmd-N".
func opNamer(d *family.Descriptor) func(uint32) string {
	return func(cmd uint32) string {
		if d != nil {
			for _, op := range d.Ops {
				for _, m := range []*family.OpMsgDesc{op.Do, op.Dump} {
					if m != nil && uint32(m.RequestValue) == cmd {
						return op.Name
					}
				}
			}
		}
		return "cmd-" + strconv.FormatUint(uint64(cmd), 10)
	}
}

func (a *app) cmdFamily(args []string) error {
	if err := wantArgs(a.cmd, args, 1, 1); err != nil {
		return err
	}
	name := args[0]
	f, desc, err := a.resolve(name, true)
	if err != nil {
		return err
	}
	var d *family.Descriptor
	if desc != nil {
		d = desc.desc
	}
	nameOf := opNamer(d)
	var pol *family.Policy
	if a.policy {
		ctx, cancel := a.requestContext()
		defer cancel()
		pol, err = a.kernelPolicy(ctx, f)
		if errors.Is(err, unix.ENODATA) {
			// A family without ops (VFS_DQUOT only multicasts), or whose
			// ops have no policy (psample), has no policy to dump: the
			// kernel answers ENODATA.
			pol, err = &family.Policy{Family: f.Name}, nil
		}
		if err != nil {
			return fmt.Errorf("get the policy of %s: %w", name, err)
		}
	}
	if a.tableOutput() {
		w := a.stdout
		fmt.Fprintf(w, "%s: id %d, version %d, header %d bytes, max attribute %d", printable(f.Name), f.ID, f.Version, f.HeaderSize, f.MaxAttr)
		if desc != nil {
			fmt.Fprintf(w, ", descriptor %s", desc.source)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w)
		tw := newTable(w)
		if len(f.Ops) == 0 {
			fmt.Fprintln(tw, "(no ops)")
		} else {
			fmt.Fprintln(tw, "CMD\tOP\tFLAGS")
		}
		for _, op := range f.Ops {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", op.ID, nameOf(op.ID), strings.Join(opFlagNames(op.Flags), ","))
		}
		tw.Flush()
		if len(f.Groups) > 0 {
			fmt.Fprintln(w)
			tw = newTable(w)
			fmt.Fprintln(tw, "GROUP\tID")
			for _, g := range f.Groups {
				fmt.Fprintf(tw, "%s\t%d\n", printable(g.Name), g.ID)
			}
			tw.Flush()
		}
		if pol != nil {
			fmt.Fprintln(w)
			if len(pol.Ops) == 0 {
				fmt.Fprintln(w, "Policy: no policies (no op of the family has one)")
			} else {
				fmt.Fprintln(w, "Policy:")
				printPolicy(w, pol, d, nameOf)
			}
		}
		return nil
	}
	o := familyJSON(f)
	ops := []any{}
	for _, op := range f.Ops {
		oo := jsonmsg.NewObject()
		oo.Set("id", uint64(op.ID))
		oo.Set("name", nameOf(op.ID))
		oo.Set("flags", strList(opFlagNames(op.Flags)))
		ops = append(ops, oo)
	}
	o.Set("ops", ops)
	o.Set("groups", groupList(f))
	if pol != nil {
		o.Set("policy", policyJSON(pol, d, nameOf))
	}
	return a.printJSON(o)
}

func strList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// opSet returns the attribute set an op's requests use, or nil.
func opSet(d *family.Descriptor, cmd uint32) *family.SetDesc {
	if d == nil {
		return nil
	}
	for _, op := range d.Ops {
		for _, m := range []*family.OpMsgDesc{op.Do, op.Dump} {
			if m != nil && uint32(m.RequestValue) == cmd {
				return d.Set(op.Set)
			}
		}
	}
	return nil
}

// printPolicy writes a policy as an indented tree, naming operations and
// attributes from the descriptor when there is one.
func printPolicy(w io.Writer, p *family.Policy, d *family.Descriptor, nameOf func(uint32) string) {
	for _, op := range p.Ops {
		fmt.Fprintf(w, "  %s (cmd %d):\n", nameOf(op.Op), op.Op)
		set := opSet(d, op.Op)
		for _, form := range []struct {
			name string
			t    *family.AttrSetPolicy
		}{{"do", op.Do}, {"dump", op.Dump}} {
			if form.t == nil {
				continue
			}
			if len(form.t.Attrs) == 0 {
				fmt.Fprintf(w, "    %s: no attributes\n", form.name)
				continue
			}
			fmt.Fprintf(w, "    %s:\n", form.name)
			printPolicyTable(w, p, d, form.t, set, "      ", map[uint32]bool{})
		}
	}
}

func printPolicyTable(w io.Writer, p *family.Policy, d *family.Descriptor, t *family.AttrSetPolicy, set *family.SetDesc, indent string, seen map[uint32]bool) {
	seen[t.Index] = true
	defer delete(seen, t.Index)
	for _, ap := range t.Attrs {
		name := strconv.Itoa(int(ap.Attr))
		var ad *family.AttrDesc
		if set != nil {
			if ad = set.AttrByValue(ap.Attr); ad != nil {
				name = fmt.Sprintf("%s (%d)", ad.Name, ap.Attr)
			}
		}
		fmt.Fprintf(w, "%s%s: %s\n", indent, name, ap.String())
		if ap.Nested != nil && !seen[ap.Nested.Index] {
			var sub *family.SetDesc
			if ad != nil && d != nil {
				sub = d.Set(ad.Nested)
			}
			printPolicyTable(w, p, d, ap.Nested, sub, indent+"  ", seen)
		}
	}
}

func policyJSON(p *family.Policy, d *family.Descriptor, nameOf func(uint32) string) []any {
	out := []any{}
	for _, op := range p.Ops {
		o := jsonmsg.NewObject()
		o.Set("op", nameOf(op.Op))
		o.Set("cmd", uint64(op.Op))
		set := opSet(d, op.Op)
		if op.Do != nil {
			o.Set("do", policyTableJSON(d, op.Do, set, map[uint32]bool{}))
		}
		if op.Dump != nil {
			o.Set("dump", policyTableJSON(d, op.Dump, set, map[uint32]bool{}))
		}
		out = append(out, o)
	}
	return out
}

func policyTableJSON(d *family.Descriptor, t *family.AttrSetPolicy, set *family.SetDesc, seen map[uint32]bool) *jsonmsg.Object {
	seen[t.Index] = true
	defer delete(seen, t.Index)
	o := jsonmsg.NewObject()
	for _, ap := range t.Attrs {
		key := strconv.Itoa(int(ap.Attr))
		var ad *family.AttrDesc
		if set != nil {
			if ad = set.AttrByValue(ap.Attr); ad != nil {
				key = ad.Name
			}
		}
		e := jsonmsg.NewObject()
		e.Set("attr", uint64(ap.Attr))
		e.Set("type", ap.Type.String())
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S) {
			e.Set("min-value", ap.MinValueS)
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S) {
			e.Set("max-value", ap.MaxValueS)
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U) {
			e.Set("min-value", ap.MinValueU)
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U) {
			e.Set("max-value", ap.MaxValueU)
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH) {
			e.Set("min-length", uint64(ap.MinLength))
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH) {
			e.Set("max-length", uint64(ap.MaxLength))
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_MASK) {
			e.Set("mask", "0x"+strconv.FormatUint(ap.Mask, 16))
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK) {
			e.Set("bitfield32-mask", "0x"+strconv.FormatUint(uint64(ap.Bitfield32Mask), 16))
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_POLICY_IDX) {
			e.Set("policy-index", uint64(ap.PolicyIdx))
		}
		if ap.Has(unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE) {
			e.Set("maxattr", uint64(ap.PolicyMaxType))
		}
		if ap.Nested != nil {
			if seen[ap.Nested.Index] {
				e.Set("nested-policy", uint64(ap.Nested.Index))
			} else {
				var sub *family.SetDesc
				if ad != nil && d != nil {
					sub = d.Set(ad.Nested)
				}
				e.Set("nested", policyTableJSON(d, ap.Nested, sub, seen))
			}
		}
		o.Set(key, e)
	}
	return o
}

// opKinds lists an op's kinds: do, dump, notify, event.
func opKinds(op *family.OpDesc) []string {
	var k []string
	if op.Do != nil {
		k = append(k, "do")
	}
	if op.Dump != nil {
		k = append(k, "dump")
	}
	if op.Notify {
		k = append(k, "notify")
	}
	if op.Event {
		k = append(k, "event")
	}
	return k
}

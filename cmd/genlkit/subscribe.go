package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/jsonmsg"
)

func (a *app) cmdSubscribe(args []string) error {
	if err := wantArgs(a.cmd, args, 2, -1); err != nil {
		return err
	}
	f, desc, err := a.resolve(args[0], true)
	if err != nil {
		return err
	}
	var ids []uint32
	for _, g := range args[1:] {
		grp, err := f.Group(g)
		if err != nil {
			names := make([]string, len(f.Groups))
			for i, x := range f.Groups {
				names[i] = x.Name
			}
			hint := fmt.Sprintf("Family %s has groups: %s.", f.Name, groupNames(f))
			if len(f.Groups) == 0 {
				hint = fmt.Sprintf("Family %s has no multicast groups.", f.Name)
			}
			if best := jsonmsg.Closest(g, names); best != "" {
				return usagef(hint, "family %s has no group %q; did you mean %q?", f.Name, g, best)
			}
			return usagef(hint, "family %s has no group %q", f.Name, g)
		}
		if !slices.Contains(ids, grp.ID) {
			ids = append(ids, grp.ID)
		}
	}
	sub, err := a.conn.Subscribe(ids...)
	if err != nil {
		return fmt.Errorf("join the groups of %s: %w", f.Name, err)
	}
	defer sub.Close()

	ctx := a.context()
	if a.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.duration)
		defer cancel()
	}
	table := a.output == "table" // JSON lines unless a table is asked for
	vw := a.newView(desc)
	var overruns, lost uint64
	n := 0
	for {
		m, err := sub.Next(ctx)
		var oe *genl.OverrunError
		switch {
		case errors.As(err, &oe):
			overruns++
			lost += oe.Dropped
			fmt.Fprintf(a.stderr, "genlkit: notifications were lost (receive buffer overrun %d: %v)\n", overruns, oe)
			continue
		case errors.Is(err, genl.ErrOverrun):
			overruns++
			fmt.Fprintf(a.stderr, "genlkit: notifications were lost (receive buffer overrun %d)\n", overruns)
			continue
		case err != nil:
			if overruns > 0 {
				fmt.Fprintf(a.stderr, "genlkit: %d overruns", overruns)
				if lost > 0 {
					fmt.Fprintf(a.stderr, ", %d notifications dropped", lost)
				}
				fmt.Fprintln(a.stderr)
			}
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil // interrupted or --duration elapsed
			}
			return fmt.Errorf("receive notifications: %w", err)
		}
		obj := notification(desc, f, m)
		if table {
			msg, _ := obj.Get("msg")
			if mo, ok := msg.(*jsonmsg.Object); ok && desc != nil {
				msg = vw.message(desc.codec.OpByReply(m.Header.Command), mo)
			}
			if name, ok := obj.Get("name"); ok {
				fmt.Fprintf(a.stdout, "%v:\n", name)
			} else {
				// A command the descriptor has no notification for.
				fmt.Fprintf(a.stdout, "cmd %d (unknown to the descriptor):\n", m.Header.Command)
			}
			if e, ok := obj.Get("error"); ok {
				fmt.Fprintf(a.stdout, "  error: %s\n", printable(fmt.Sprint(e)))
			}
			printTree(a.stdout, msg, "  ")
		} else if err := a.printJSON(obj); err != nil {
			return err
		}
		n++
		if a.subscribeMaxLines > 0 && n >= a.subscribeMaxLines {
			return nil
		}
	}
}

// notification decodes one notification as {"name": op, "msg": {…}}, the
// shape YNL prints. A command the descriptor does not know is printed as
// {"cmd": N, "msg": {…}} with its attributes unknown.
func notification(desc *described, f *family.Family, m genl.Message) *jsonmsg.Object {
	out := jsonmsg.NewObject()
	var op *family.OpDesc
	if desc != nil {
		op = desc.codec.OpByNotify(m.Header.Command)
	}
	if op != nil {
		out.Set("name", op.Name)
		msg, err := desc.codec.DecodeMessage(op, m.Data)
		if err == nil {
			out.Set("msg", msg)
			return out
		}
		out.Set("error", err.Error())
	} else {
		out.Set("cmd", uint64(m.Header.Command))
	}
	// Unknown command, or one that does not decode: show the raw attributes.
	hs := int(f.HeaderSize)
	raw := m.Data
	if len(raw) >= hs {
		raw = raw[hs:]
	}
	var codec *jsonmsg.Codec
	if desc != nil {
		codec = desc.codec
	} else {
		codec = jsonmsg.New(&family.Descriptor{Name: f.Name})
	}
	msg, err := codec.DecodeAttrs("", raw)
	if err != nil {
		out.Set("raw", fmt.Sprintf("%x", m.Data))
		if _, ok := out.Get("error"); !ok {
			out.Set("error", err.Error())
		}
		return out
	}
	out.Set("msg", msg)
	return out
}

package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/jsonmsg"
)

// maxRequestJSON is the most JSON one request may be written in (a --json
// file or standard input, or one batch line). A netlink request is at most
// the socket's send buffer (a few hundred KiB), so more is a mistake, and
// the bound keeps memory small however big the input.
const maxRequestJSON = 16 << 20

// maxBatchRequests is the most requests one batch may hold: every request
// and its result are kept until the batch ends (about 2 KiB each), so the
// bound keeps memory under a few hundred MiB. Split bigger batches.
const maxBatchRequests = 100_000

// errJSONTooLong is the usage error of input longer than maxRequestJSON.
func errJSONTooLong(what string) error {
	return usagef("", "%s: more than %d MiB of JSON; no netlink request is that large", what, maxRequestJSON>>20)
}

// readJSONArg returns the text of a --json argument: inline, @FILE, or -
// for standard input.
func (a *app) readJSONArg(arg string) ([]byte, error) {
	var r io.Reader
	switch {
	case arg == "-":
		r = a.stdin
	case strings.HasPrefix(arg, "@"):
		f, err := os.Open(arg[1:])
		if err != nil {
			return nil, usagef("", "--json %s: %v", arg, err)
		}
		defer f.Close()
		r = f
	default:
		return []byte(arg), nil
	}
	b, err := io.ReadAll(io.LimitReader(r, maxRequestJSON+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("--json %s: %w", arg, err)
	case len(b) > maxRequestJSON:
		return nil, errJSONTooLong("--json " + arg)
	}
	return b, nil
}

// parseRequest parses the JSON of a request; a mistake is a usage error.
func (a *app) parseRequest(arg string) (*jsonmsg.Object, error) {
	if arg == "" {
		return jsonmsg.NewObject(), nil
	}
	b, err := a.readJSONArg(arg)
	if err != nil {
		return nil, err
	}
	o, err := jsonmsg.ParseObject(b)
	if err != nil {
		return nil, usagef(jsonHint(err, `Write the request as a JSON object, e.g. --json '{"ifindex": 1}'.`), "--json: %v", err)
	}
	return o, nil
}

// requestDefaults are the attributes a request is given when the JSON
// leaves them out, by "family/op" (do form), as the family's own tool fills
// them: ethtool -m reads the first 128 bytes of page 0 of the module
// EEPROM at I2C address 0x50, and the kernel refuses the request without
// them.
var requestDefaults = map[string][]struct {
	key   string
	value uint64
}{
	"ethtool/module-eeprom-get": {{"offset", 0}, {"length", 128}, {"page", 0}, {"bank", 0}, {"i2c-address", 0x50}},
}

// withDefaults returns msg with the defaults of a do request of op added
// where msg has no value of its own.
func withDefaults(fam, op string, dump bool, msg *jsonmsg.Object) *jsonmsg.Object {
	defs := requestDefaults[fam+"/"+op]
	if dump || len(defs) == 0 {
		return msg
	}
	out := jsonmsg.NewObject()
	for _, k := range msg.Keys() {
		v, _ := msg.Get(k)
		out.Set(k, v)
	}
	for _, d := range defs {
		if _, ok := out.Get(d.key); !ok {
			out.Set(d.key, d.value)
		}
	}
	return out
}

// encodeHint is the hint under an error encoding a request of op.
func encodeHint(desc *described, op *family.OpDesc, err error) string {
	var ee *jsonmsg.EncodeError
	if desc.desc.Name == "ethtool" && errors.As(err, &ee) && strings.Contains(ee.Msg, "in set bitset") {
		key := ee.Path[strings.LastIndex(ee.Path, ".")+1:]
		return fmt.Sprintf(`An ethtool bitset names its bits in a list: {"bits": {"bit": [{"name": %q, "value": true}]}}.`, key)
	}
	return fmt.Sprintf("Run 'genlkit ops %s' for the attributes of %s.", desc.desc.Name, op.Name)
}

// jsonHint returns the hint for a JSON parse error: none for nesting past
// jsonmsg.MaxDepth, whose one line says it all.
func jsonHint(err error, hint string) string {
	if errors.Is(err, jsonmsg.ErrTooDeep) {
		return ""
	}
	return hint
}

// buildRequest encodes msg as a request of op in its do or dump form.
func buildRequest(f *family.Family, desc *described, op *family.OpDesc, msg *jsonmsg.Object, dump bool) (genl.Request, error) {
	m := op.Do
	if dump {
		m = op.Dump
	}
	msg = withDefaults(desc.desc.Name, op.Name, dump, msg)
	hdr, body, err := desc.codec.EncodeRequest(op, msg)
	if err != nil {
		return genl.Request{}, usagef(encodeHint(desc, op, err), "%v", err)
	}
	if err := f.CheckOp(uint32(m.RequestValue), op.Name, dump); err != nil {
		return genl.Request{}, err
	}
	if hs := int(f.HeaderSize); hs != len(hdr) && (hs != 0 || len(hdr) != 0) {
		// Trust the kernel's header size: pad or cut what the spec made.
		h := make([]byte, hs)
		copy(h, hdr)
		hdr = h
	}
	return genl.Request{
		Family:  f.ID,
		Command: m.RequestValue,
		Version: desc.desc.Version,
		Header:  hdr,
		Attrs:   body,
		Names:   desc.codec.AttrNamer(op),
	}, nil
}

// decodeReply decodes one reply message of op; a message with another
// command number is decoded as the op that replies with it, when there is
// one.
func decodeReply(desc *described, op *family.OpDesc, want uint8, m genl.Message) (*jsonmsg.Object, error) {
	dop := op
	if m.Header.Command != want {
		if other := desc.codec.OpByReply(m.Header.Command); other != nil {
			dop = other
		}
	}
	obj, err := desc.codec.DecodeMessage(dop, m.Data)
	if err != nil {
		return nil, fmt.Errorf("decode the reply of %s: %w", op.Name, err)
	}
	return obj, nil
}

func (a *app) requestFlags() netlink.HeaderFlags {
	var fl netlink.HeaderFlags
	if a.create {
		fl |= netlink.Create
	}
	if a.excl {
		fl |= netlink.Excl
	}
	if a.replace {
		fl |= netlink.Replace
	}
	if a.appendF {
		fl |= netlink.Append
	}
	return fl
}

func (a *app) warn(e *genl.Error) {
	fmt.Fprintf(a.stderr, "Warning: %s\n", e.Message)
}

// prepareRequest checks the FAMILY OP arguments of do or dump (form), and
// builds the request from the --json message.
func (a *app) prepareRequest(args []string, form string) (*described, *family.OpDesc, genl.Request, error) {
	if err := wantArgs(a.cmd, args, 2, 2); err != nil {
		return nil, nil, genl.Request{}, err
	}
	msg, err := a.parseRequest(a.jsonArg)
	if err != nil {
		return nil, nil, genl.Request{}, err
	}
	f, desc, err := a.resolve(args[0], false)
	if err != nil {
		return nil, nil, genl.Request{}, err
	}
	op, err := findOp(desc.desc, args[1], form)
	if err != nil {
		return nil, nil, genl.Request{}, err
	}
	req, err := buildRequest(f, desc, op, msg, form == "dump")
	if err != nil {
		return nil, nil, genl.Request{}, err
	}
	return desc, op, req, nil
}

func (a *app) cmdDo(args []string) error {
	desc, op, req, err := a.prepareRequest(args, "do")
	if err != nil {
		return err
	}
	req.Flags = a.requestFlags()
	req.OnWarning = a.warn
	var replies []any
	var decodeErr error
	ctx, cancel := a.requestContext()
	defer cancel()
	err = a.conn.Do(ctx, req, func(m genl.Message) error {
		obj, err := decodeReply(desc, op, op.Do.ReplyValue, m)
		if err != nil {
			decodeErr = err
			return nil
		}
		replies = append(replies, obj)
		return nil
	})
	if err != nil {
		return &opError{op: op.Name, err: err}
	}
	if decodeErr != nil {
		return decodeErr
	}
	var perr error
	switch len(replies) {
	case 0:
		return nil // a do without a reply prints nothing
	case 1:
		perr = a.printResult(desc, op, replies[0])
	default:
		perr = a.printResult(desc, op, replies)
	}
	if perr != nil {
		return perr
	}
	return a.checkReply(desc, op, replies)
}

// checkReply finds failures a reply reports although the request
// succeeded: an ethtool features-set whose reply lists wanted features the
// kernel did not apply (ethtool exits 1 for them too).
func (a *app) checkReply(desc *described, op *family.OpDesc, replies []any) error {
	if desc.desc.Name != "ethtool" || op.Name != "features-set" {
		return nil
	}
	for _, r := range replies {
		if o, ok := r.(*jsonmsg.Object); ok {
			if err := a.newView(desc).featuresNotApplied(o); err != nil {
				return &opError{op: op.Name, err: err}
			}
		}
	}
	return nil
}

// printResult prints a reply (an object) or several (an array) of op: as
// JSON, or as trees rendered for people.
func (a *app) printResult(desc *described, op *family.OpDesc, v any) error {
	if !a.tableOutput() {
		return a.printJSON(v)
	}
	vw := a.newView(desc)
	show := func(x any) any {
		if o, ok := x.(*jsonmsg.Object); ok {
			return vw.message(op, o)
		}
		return x
	}
	if arr, ok := v.([]any); ok {
		for i, x := range arr {
			if i > 0 {
				fmt.Fprintln(a.stdout)
			}
			printTree(a.stdout, show(x), "")
		}
		return nil
	}
	printTree(a.stdout, show(v), "")
	return nil
}

func (a *app) cmdDump(args []string) error {
	desc, op, req, err := a.prepareRequest(args, "dump")
	if err != nil {
		return err
	}
	ctx, cancel := a.requestContext()
	defer cancel()
	const attempts = 3
	var out []any
	for try := 1; ; try++ {
		out = []any{}
		var derr error
		for m, err := range a.conn.Dump(ctx, req) {
			if err != nil {
				derr = err
				break
			}
			obj, err := decodeReply(desc, op, op.Dump.ReplyValue, m)
			if err != nil {
				return err
			}
			out = append(out, obj)
		}
		if errors.Is(derr, genl.ErrDumpInterrupted) && try < attempts {
			continue
		}
		if errors.Is(derr, genl.ErrDumpInterrupted) {
			fmt.Fprintf(a.stderr, "Warning: %s: the dump was interrupted %d times; results may be inconsistent\n", op.Name, attempts)
			break
		}
		if derr != nil {
			return &opError{op: op.Name, err: derr}
		}
		break
	}
	if a.tableOutput() {
		if len(out) == 0 {
			fmt.Fprintln(a.stdout, "(no entries)")
		}
		return a.printResult(desc, op, out)
	}
	return a.printJSON(out)
}

// A batchItem is one request of a batch.
type batchItem struct {
	op   string
	json string
	line int // its line on stdin, or 0 when given by flags
}

// where names the request, for errors about it: "stdin line 3" or
// "request [2]" (its index in the results).
func (it batchItem) where(i int) string {
	if it.line > 0 {
		return fmt.Sprintf("stdin line %d", it.line)
	}
	return fmt.Sprintf("request [%d]", i)
}

// inRequest prefixes err, about one request of a batch, with where it is.
func inRequest(err error, where string) error {
	if ue, ok := errors.AsType[*usageError](err); ok {
		return &usageError{msg: where + ": " + ue.msg, hint: ue.hint}
	}
	return fmt.Errorf("%s: %w", where, err)
}

func batchFlags(a *app, fs *flag.FlagSet) {
	fs.Func("op", "add a do request of `OP` to the batch (repeat for more)", func(s string) error {
		a.batch = append(a.batch, batchItem{op: s})
		return nil
	})
	fs.Func("json", "the JSON `OBJECT` of the preceding --op (@FILE reads a file)", func(s string) error {
		if len(a.batch) == 0 {
			return errors.New("--json must follow an --op")
		}
		if a.batch[len(a.batch)-1].json != "" {
			return fmt.Errorf("--op %s has two --json", a.batch[len(a.batch)-1].op)
		}
		a.batch[len(a.batch)-1].json = s
		return nil
	})
	fs.BoolVar(&a.create, "create", false, "set NLM_F_CREATE on every request")
	fs.BoolVar(&a.excl, "excl", false, "set NLM_F_EXCL on every request")
	fs.BoolVar(&a.replace, "replace", false, "set NLM_F_REPLACE on every request")
	fs.BoolVar(&a.appendF, "append", false, "set NLM_F_APPEND on every request")
}

// readBatchLines reads a batch from stdin: one JSON object per line,
// {"name": OP, "msg": {…}} (the shape subscribe prints; "op" is accepted
// for "name").
func (a *app) readBatchLines() ([]batchItem, []*jsonmsg.Object, error) {
	var items []batchItem
	var msgs []*jsonmsg.Object
	sc := bufio.NewScanner(a.stdin)
	sc.Buffer(make([]byte, 64*1024), maxRequestJSON)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		hint := `Write one request per line: {"name": "OP", "msg": {…}}.`
		o, err := jsonmsg.ParseObject(text)
		if err != nil {
			return nil, nil, usagef(jsonHint(err, hint), "stdin line %d: %v", line, err)
		}
		name, _ := o.Get("name")
		if name == nil {
			name, _ = o.Get("op")
		}
		s, ok := name.(string)
		if !ok {
			return nil, nil, usagef(hint, "stdin line %d: no op name", line)
		}
		msg := jsonmsg.NewObject()
		if m, ok := o.Get("msg"); ok && m != nil {
			if msg, ok = m.(*jsonmsg.Object); !ok {
				return nil, nil, usagef(hint, "stdin line %d: \"msg\" is not an object", line)
			}
		}
		if len(items) == maxBatchRequests {
			return nil, nil, usagef("Split the requests into several batches.", "stdin line %d: more than %d requests in one batch", line, maxBatchRequests)
		}
		items = append(items, batchItem{op: s, line: line})
		msgs = append(msgs, msg)
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return nil, nil, errJSONTooLong(fmt.Sprintf("stdin line %d", line+1))
	} else if err != nil {
		return nil, nil, fmt.Errorf("read stdin: %w", err)
	}
	return items, msgs, nil
}

func (a *app) cmdBatch(args []string) error {
	if err := wantArgs(a.cmd, args, 1, 1); err != nil {
		return err
	}
	items := a.batch
	var msgs []*jsonmsg.Object
	if len(items) == 0 {
		var err error
		if items, msgs, err = a.readBatchLines(); err != nil {
			return err
		}
		if len(items) == 0 {
			return usagef("Give --op OP [--json …] for each request, or JSON lines on stdin.", "batch: no requests")
		}
	} else {
		for i, it := range items {
			m, err := a.parseRequest(it.json)
			if err != nil {
				return inRequest(err, it.where(i))
			}
			msgs = append(msgs, m)
		}
	}
	f, desc, err := a.resolve(args[0], false)
	if err != nil {
		return err
	}
	ops := make([]*family.OpDesc, len(items))
	reqs := make([]genl.Request, len(items))
	for i, it := range items {
		if ops[i], err = findOp(desc.desc, it.op, "do"); err != nil {
			return inRequest(err, it.where(i))
		}
		if reqs[i], err = buildRequest(f, desc, ops[i], msgs[i], false); err != nil {
			return inRequest(err, it.where(i))
		}
		reqs[i].Flags = a.requestFlags()
		reqs[i].OnWarning = a.warn
	}
	replies := make([][]any, len(items))
	var decodeErr error
	ctx, cancel := a.requestContext()
	defer cancel()
	err = a.conn.Batch(ctx, reqs, func(i int, m genl.Message) error {
		obj, err := decodeReply(desc, ops[i], ops[i].Do.ReplyValue, m)
		if err != nil {
			decodeErr = err
			return nil
		}
		replies[i] = append(replies[i], obj)
		return nil
	})
	var be *genl.BatchError
	if err != nil && !errors.As(err, &be) {
		return err
	}
	// One result per request, in order: its reply (an array when it got
	// several), {"ok": true} when the kernel only acknowledged it, or
	// {"ok": false, "errno": …, "error": …} when it failed.
	results := make([]any, len(items))
	failed := func(i int) error {
		if be != nil && i < len(be.Errs) {
			return be.Errs[i]
		}
		return nil
	}
	for i, r := range replies {
		switch {
		case failed(i) != nil:
			results[i] = batchFailure(ops[i].Name, failed(i))
		case len(r) == 0:
			ok := jsonmsg.NewObject()
			ok.Set("ok", true)
			results[i] = ok
		case len(r) == 1:
			results[i] = r[0]
		default:
			results[i] = r
		}
	}
	if a.tableOutput() {
		vw := a.newView(desc)
		for i, r := range results {
			fmt.Fprintf(a.stdout, "[%d] %s:", i, ops[i].Name)
			switch {
			case failed(i) != nil:
				fmt.Fprintln(a.stdout, " failed: "+printable(errorText(&opError{op: ops[i].Name, err: failed(i)})))
			case len(replies[i]) == 0:
				fmt.Fprintln(a.stdout, " ok")
			default:
				fmt.Fprintln(a.stdout)
				if o, ok := r.(*jsonmsg.Object); ok {
					r = vw.message(ops[i], o)
				}
				printTree(a.stdout, r, "  ")
			}
		}
	} else if err := a.printJSON(results); err != nil {
		return err
	}
	if be != nil {
		for i, e := range be.Errs {
			if e != nil {
				fmt.Fprintf(a.stderr, "Error: [%d] %s\n", i, errorText(&opError{op: ops[i].Name, err: e}))
			}
		}
		return errSilent
	}
	return decodeErr
}

// batchFailure is the result of a failed request of a batch:
// {"ok": false, "errno": "EINVAL", "error": "Invalid argument (EINVAL): …"}.
func batchFailure(op string, err error) *jsonmsg.Object {
	o := jsonmsg.NewObject()
	o.Set("ok", false)
	var errno unix.Errno
	if errors.As(err, &errno) {
		o.Set("errno", errnoName(errno))
	}
	o.Set("error", errorText(&opError{op: op, err: err}))
	return o
}

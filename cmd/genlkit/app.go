package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/jsonmsg"
	"github.com/genlkit/genlkit/internal/spec"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // kernel or runtime error, check mismatch
	exitUsage   = 2 // bad command line
)

// A usageError is a mistake on the command line: exit status 2, with a hint.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// errSilent ends a command with exit status 1 after it has said why.
var errSilent = errors.New("failed")

// A command is one genlkit subcommand.
type command struct {
	name    string
	args    string // positional arguments, for the usage line
	summary string
	hidden  bool
	flags   func(a *app, fs *flag.FlagSet)
	run     func(a *app, args []string) error
}

// app holds the state of one run.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	// Global flags.
	netns   string
	output  string
	specArg string
	timeout time.Duration

	// Command flags.
	jsonArg           string
	policy            bool
	create, excl      bool
	replace, appendF  bool
	duration          time.Duration
	batch             []batchItem
	pretty            bool
	subscribeMaxLines int
	placeholders      bool

	cmd   *command
	conn  *genl.Conn
	specs map[string]*spec.Family // loaded from the spec directories
	ctx   context.Context
	stop  context.CancelFunc
}

func commands() []*command {
	return []*command{
		{name: "families", summary: "list the generic netlink families the running kernel has",
			run: (*app).cmdFamilies},
		{name: "family", args: "NAME|ID", summary: "show one family: its ops with their flags, its groups, and with --policy the kernel's attribute policy",
			flags: func(a *app, fs *flag.FlagSet) {
				fs.BoolVar(&a.policy, "policy", false, "show the kernel's attribute policy of every op")
			}, run: (*app).cmdFamily},
		{name: "ops", args: "FAMILY [OP]", summary: "list a family's ops (or one), their kinds and their request and reply attribute trees, from its descriptor or --spec",
			run: (*app).cmdOps},
		{name: "do", args: "FAMILY OP", summary: "send a do request and print the reply",
			flags: requestFlags(true), run: (*app).cmdDo},
		{name: "dump", args: "FAMILY OP", summary: "send a dump request and print every reply as a JSON array",
			flags: requestFlags(false), run: (*app).cmdDump},
		{name: "batch", args: "FAMILY", summary: "send several do requests in one sendmsg (--op OP [--json …] repeated, or JSON lines on stdin) and print each result in order: the reply, {\"ok\": true} or {\"ok\": false, \"errno\": …, \"error\": …}",
			flags: batchFlags, run: (*app).cmdBatch},
		{name: "subscribe", args: "FAMILY GROUP...", summary: "print the notifications of multicast groups, one JSON object per line, until interrupted or --duration",
			flags: func(a *app, fs *flag.FlagSet) {
				a.duration, a.subscribeMaxLines = 0, 0
				fs.Var(nonNegative[time.Duration]{&a.duration, time.ParseDuration}, "duration", "stop after this `duration` (e.g. 10s); 0 runs until interrupted")
				fs.Var(nonNegative[int]{&a.subscribeMaxLines, strconv.Atoi}, "count", "stop after `N` notifications; 0 for no limit")
			}, run: (*app).cmdSubscribe},
		{name: "check", args: "FAMILY", summary: "compare a family's spec (--spec) or descriptor with the running kernel: ops, groups and attribute policies; exit 1 on differences",
			run: (*app).cmdCheck},
		{name: "spec", args: "FAMILY", summary: "draft a YNL spec (YAML) of a family from the running kernel: ops and their flags, request policies as attribute sets, multicast groups",
			flags: func(a *app, fs *flag.FlagSet) {
				fs.BoolVar(&a.placeholders, "placeholders", false, "name every op, set and attribute by number, ignoring the names a spec or compiled-in descriptor knows")
			}, run: (*app).cmdSpec},
		{name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script",
			run: (*app).cmdCompletion},
		{name: "help", args: "[COMMAND]", summary: "show help for genlkit or one command",
			run: (*app).cmdHelp},
		{name: "__complete", hidden: true, run: (*app).cmdComplete},
	}
}

func requestFlags(do bool) func(a *app, fs *flag.FlagSet) {
	return func(a *app, fs *flag.FlagSet) {
		fs.StringVar(&a.jsonArg, "json", "", "the request's attributes as a JSON object; @FILE reads a file, - reads stdin")
		if do {
			fs.BoolVar(&a.create, "create", false, "set NLM_F_CREATE")
			fs.BoolVar(&a.excl, "excl", false, "set NLM_F_EXCL")
			fs.BoolVar(&a.replace, "replace", false, "set NLM_F_REPLACE")
			fs.BoolVar(&a.appendF, "append", false, "set NLM_F_APPEND")
		}
	}
}

func globalFlags(a *app, fs *flag.FlagSet) {
	fs.Func("netns", "run in the network namespace `NAME` (under /run/netns) or at a path", func(s string) error {
		if s == "" {
			// An unset shell variable must not mean the host's namespace.
			return errors.New("empty network namespace name")
		}
		a.netns = s
		return nil
	})
	fs.StringVar(&a.output, "output", "", "output format: json or table (default: table on a terminal, json otherwise)")
	fs.StringVar(&a.output, "o", "", "shorthand for --output")
	fs.StringVar(&a.specArg, "spec", "", "describe the family with the YNL spec `FILE` instead of the compiled-in descriptor")
	a.timeout = 30 * time.Second
	fs.Var(nonNegative[time.Duration]{&a.timeout, time.ParseDuration}, "timeout", "give up on a request after this `duration` (0: never)")
	fs.BoolVar(&a.pretty, "pretty", false, "indent JSON output")
}

// nonNegative is a flag holding a count or a duration that may not be
// negative: "-1s" or "-5" is a mistake (a usage error), never "no limit".
type nonNegative[T int | time.Duration] struct {
	p     *T
	parse func(string) (T, error)
}

func (f nonNegative[T]) String() string {
	if f.p == nil {
		return ""
	}
	return fmt.Sprint(*f.p)
}

func (f nonNegative[T]) Set(s string) error {
	v, err := f.parse(s)
	switch {
	case err != nil:
		return errors.New("parse error")
	case v < 0:
		return errors.New("must not be negative")
	}
	*f.p = v
	return nil
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames(hidden bool) []string {
	var names []string
	for _, c := range commands() {
		if !c.hidden || hidden {
			names = append(names, c.name)
		}
	}
	return names
}

// dispatch parses the command line and runs the command.
func (a *app) dispatch(args []string) error {
	// Global flags may come before the command.
	pre := flag.NewFlagSet("genlkit", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	globalFlags(a, pre)
	help := pre.Bool("help", false, "")
	pre.BoolVar(help, "h", false, "")
	if err := pre.Parse(args); err != nil {
		return usagef("Run 'genlkit --help' for usage.", "%v", err)
	}
	rest := pre.Args()
	if *help || len(rest) == 0 {
		a.printUsage(a.stdout)
		if len(rest) == 0 && !*help {
			return &usageError{msg: "no command given"}
		}
		return nil
	}
	c := findCommand(rest[0])
	if c == nil {
		hint := "Run 'genlkit --help' for the list of commands."
		if best := jsonmsg.Closest(rest[0], commandNames(false)); best != "" {
			return usagef(hint, "unknown command %q; did you mean %q?", rest[0], best)
		}
		return usagef(hint, "unknown command %q", rest[0])
	}
	a.cmd = c
	if c.name == "__complete" {
		return c.run(a, rest[1:])
	}
	pos, err := a.parseFlags(c, rest[1:])
	if errors.Is(err, flag.ErrHelp) {
		a.printCommandUsage(a.stdout, c)
		return nil
	}
	if err != nil {
		return err
	}
	if a.output != "" && a.output != "json" && a.output != "table" {
		return usagef("Use --output json or --output table.", "unknown output format %q", a.output)
	}
	return c.run(a, pos)
}

// parseFlags parses a command's flags and the global ones, which may be
// mixed with its positional arguments; it returns the positional ones.
func (a *app) parseFlags(c *command, args []string) ([]string, error) {
	fs := flag.NewFlagSet("genlkit "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// Defining the flags resets them to their defaults: keep the globals
	// given before the command.
	netns, output, specArg, timeout, pretty := a.netns, a.output, a.specArg, a.timeout, a.pretty
	globalFlags(a, fs)
	a.netns, a.output, a.specArg, a.timeout, a.pretty = netns, output, specArg, timeout, pretty
	if c.flags != nil {
		c.flags(a, fs)
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef(fmt.Sprintf("Run 'genlkit %s --help' for usage.", c.name), "%s: %v", c.name, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse stops at the first positional argument, or after "--".
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, nil
}

func (a *app) printUsage(w io.Writer) {
	fmt.Fprintln(w, "genlkit: talk to Linux generic netlink families: list, describe, do, dump, batch, subscribe, check, draft specs.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: genlkit [global flags] COMMAND [arguments] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		if c.hidden {
			continue
		}
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Global flags (anywhere on the line):")
	fs := flag.NewFlagSet("genlkit", flag.ContinueOnError)
	globalFlags(&app{}, fs)
	printFlags(w, fs)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Examples:")
	fmt.Fprintln(w, "  genlkit families")
	fmt.Fprintln(w, "  genlkit dump netdev dev-get")
	fmt.Fprintln(w, `  genlkit do ethtool linkinfo-get --json '{"header": {"dev-name": "eth0"}}'`)
	fmt.Fprintln(w, "  genlkit subscribe netdev mgmt --duration 10s")
	fmt.Fprintln(w, "  genlkit check netdev --spec netdev.yaml")
	fmt.Fprintln(w, "  genlkit spec TASKSTATS > taskstats.yaml")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit status: 0 ok, 1 kernel or runtime error (or check found differences), 2 usage error.")
	fmt.Fprintln(w, "Run 'genlkit COMMAND --help' for a command's flags.")
}

func (a *app) printCommandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: genlkit %s %s [flags]\n\n%s.\n", c.name, c.args, upperFirst(c.summary))
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	if c.flags != nil {
		c.flags(&app{}, fs)
		fmt.Fprintln(w, "\nFlags:")
		printFlags(w, fs)
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	fs = flag.NewFlagSet(c.name, flag.ContinueOnError)
	globalFlags(&app{}, fs)
	printFlags(w, fs)
}

func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "o" {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		arg := "--" + f.Name
		if name != "" {
			arg += " " + name
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  %-22s %s%s\n", arg, usage, def)
	})
}

func (a *app) cmdHelp(args []string) error {
	if len(args) == 0 {
		a.printUsage(a.stdout)
		return nil
	}
	c := findCommand(args[0])
	if c == nil || c.hidden {
		return usagef("Run 'genlkit --help' for the list of commands.", "unknown command %q", args[0])
	}
	a.printCommandUsage(a.stdout, c)
	return nil
}

// exit reports err and returns the exit status.
func (a *app) exit(err error) int {
	if err == nil {
		return exitOK
	}
	// Messages quote what was given (JSON keys, names) and what the kernel
	// said: escape what a terminal would act on. A usage error is one line;
	// a runtime error keeps the lines it was joined from.
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "genlkit: %s\n", printable(ue.msg))
		if ue.hint != "" {
			fmt.Fprintln(a.stderr, ue.hint)
		}
		return exitUsage
	case errors.Is(err, errSilent):
		return exitFailure
	}
	lines := strings.Split(errorText(err), "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	fmt.Fprintln(a.stderr, "Error: "+strings.Join(lines, "\n"))
	return exitFailure
}

func (a *app) close() {
	if a.conn != nil {
		a.conn.Close()
	}
	if a.stop != nil {
		a.stop()
	}
}

// context returns the run's context: cancelled by SIGINT or SIGTERM.
func (a *app) context() context.Context {
	if a.ctx == nil {
		a.ctx, a.stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	}
	return a.ctx
}

// requestContext is the context of one request, bounded by --timeout.
func (a *app) requestContext() (context.Context, context.CancelFunc) {
	if a.timeout <= 0 {
		return context.WithCancel(a.context())
	}
	return context.WithTimeout(a.context(), a.timeout)
}

// dial opens the run's connection, in --netns when given.
func (a *app) dial() (*genl.Conn, error) {
	if a.conn != nil {
		return a.conn, nil
	}
	var opts []genl.Option
	if a.netns != "" {
		opts = append(opts, genl.WithNetNS(a.netns))
	}
	c, err := genl.Dial(opts...)
	if err != nil {
		if a.netns != "" {
			return nil, fmt.Errorf("open a generic netlink socket in network namespace %s: %w", a.netns, err)
		}
		return nil, fmt.Errorf("open a generic netlink socket: %w", err)
	}
	a.conn = c
	return c, nil
}

// A described family is a family's descriptor with where it came from.
type described struct {
	desc   *family.Descriptor
	codec  *jsonmsg.Codec
	source string // "compiled in", or the spec file
}

// descriptor returns the descriptor of the family called name: from
// --spec, compiled in, or from $GENLKIT_SPECS. It returns nil, nil when
// there is none.
func (a *app) descriptor(name string) (*described, error) {
	if a.specArg != "" {
		f, err := spec.Load(a.specArg)
		if err != nil {
			return nil, usagef("", "load spec: %v", err)
		}
		d := f.Descriptor()
		if name != "" && d.Name != name {
			return nil, usagef("Give the family name the spec declares, or another --spec.",
				"spec %s describes family %q, not %q", a.specArg, d.Name, name)
		}
		return &described{desc: d, codec: jsonmsg.New(d), source: a.specArg}, nil
	}
	if d, ok := family.Lookup(name); ok {
		return &described{desc: d, codec: jsonmsg.New(d), source: "compiled in"}, nil
	}
	if f := a.specFor(name); f != nil {
		d := f.Descriptor()
		return &described{desc: d, codec: jsonmsg.New(d), source: f.Path}, nil
	}
	return nil, nil
}

// knownFamilyNames lists the families genlkit can name: live ones (when
// the kernel answers), compiled-in ones and those in $GENLKIT_SPECS.
func (a *app) knownFamilyNames(live []*family.Family) []string {
	set := map[string]bool{}
	for _, f := range live {
		set[f.Name] = true
	}
	for _, d := range family.Descriptors() {
		set[d.Name] = true
	}
	for name := range a.specFamilies() {
		set[name] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// liveFamilies lists the kernel's families, nil when it cannot be asked.
func (a *app) liveFamilies() []*family.Family {
	c, err := a.dial()
	if err != nil {
		return nil
	}
	ctx, cancel := a.requestContext()
	defer cancel()
	fams, err := family.List(ctx, c)
	if err != nil {
		return nil
	}
	return fams
}

// unknownFamily is the usage error for a family name nothing knows.
func (a *app) unknownFamily(name string) error {
	names := a.knownFamilyNames(a.liveFamilies())
	hint := "Run 'genlkit families' to list the kernel's families."
	if best := jsonmsg.Closest(name, names); best != "" {
		return usagef(hint, "unknown family %q; did you mean %q?", name, best)
	}
	return usagef(hint, "unknown family %q", name)
}

// liveFamily asks the kernel for the family called name.
func (a *app) liveFamily(name string) (*family.Family, error) {
	return a.askFamily(func(ctx context.Context, c *genl.Conn) (*family.Family, error) {
		return family.Get(ctx, c, name)
	})
}

// askFamily runs one nlctrl lookup on the run's connection, within
// --timeout.
func (a *app) askFamily(get func(context.Context, *genl.Conn) (*family.Family, error)) (*family.Family, error) {
	c, err := a.dial()
	if err != nil {
		return nil, err
	}
	ctx, cancel := a.requestContext()
	defer cancel()
	return get(ctx, c)
}

// liveFamilyByID asks the kernel for the family with id.
func (a *app) liveFamilyByID(id uint16) (*family.Family, error) {
	return a.askFamily(func(ctx context.Context, c *genl.Conn) (*family.Family, error) {
		return family.GetByID(ctx, c, id)
	})
}

// resolve finds a family both live and described, for commands that send
// requests or decode messages. Without a descriptor it fails with a usage
// error unless optional is set.
func (a *app) resolve(name string, optional bool) (*family.Family, *described, error) {
	if id, err := strconv.ParseUint(name, 10, 16); err == nil && a.specArg == "" {
		// A family id, as `genl ctrl get id` takes.
		f, err := a.liveFamilyByID(uint16(id))
		if errors.Is(err, family.ErrNotFound) {
			return nil, nil, usagef("Run 'genlkit families' to list the kernel's families.", "no family has id %d%s", id, a.nsNote())
		}
		if err != nil {
			return nil, nil, err
		}
		name = f.Name
	}
	desc, err := a.descriptor(name)
	if err != nil {
		return nil, nil, err
	}
	f, err := a.liveFamily(name)
	if errors.Is(err, family.ErrNotFound) {
		if desc == nil {
			return nil, nil, a.unknownFamily(name)
		}
		return nil, nil, fmt.Errorf("family %s is not registered in the running kernel%s", name, a.nsNote())
	}
	if err != nil {
		return nil, nil, err
	}
	if desc == nil && !optional {
		return nil, nil, usagef("Give its YNL spec with --spec FILE (or set GENLKIT_SPECS to a directory of specs).",
			"family %s has no descriptor compiled into genlkit", name)
	}
	return f, desc, nil
}

func (a *app) nsNote() string {
	if a.netns != "" {
		return " (network namespace " + a.netns + ")"
	}
	return ""
}

// opNames lists a descriptor's ops that have the given form ("do", "dump"
// or "" for all).
func opNames(d *family.Descriptor, form string) []string {
	var names []string
	for _, op := range d.Ops {
		if (form == "do" && op.Do == nil) || (form == "dump" && op.Dump == nil) {
			continue
		}
		names = append(names, op.Name)
	}
	return names
}

// findOp returns the op called name, which must have the given form.
func findOp(d *family.Descriptor, name, form string) (*family.OpDesc, error) {
	op := d.Op(name)
	if op == nil {
		hint := fmt.Sprintf("Run 'genlkit ops %s' to list its ops.", d.Name)
		if best := jsonmsg.Closest(name, opNames(d, form)); best != "" {
			return nil, usagef(hint, "family %s has no op %q; did you mean %q?", d.Name, name, best)
		}
		return nil, usagef(hint, "family %s has no op %q", d.Name, name)
	}
	switch {
	case form == "do" && op.Do == nil && op.Dump != nil:
		return nil, usagef(fmt.Sprintf("Try 'genlkit dump %s %s'.", d.Name, name), "op %s of %s has no do form", name, d.Name)
	case form == "dump" && op.Dump == nil && op.Do != nil:
		return nil, usagef(fmt.Sprintf("Try 'genlkit do %s %s'.", d.Name, name), "op %s of %s has no dump form", name, d.Name)
	case (form == "do" && op.Do == nil) || (form == "dump" && op.Dump == nil):
		return nil, usagef(fmt.Sprintf("Notifications arrive with 'genlkit subscribe %s GROUP'.", d.Name), "op %s of %s is a notification, not a request", name, d.Name)
	}
	return op, nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func wantArgs(c *command, args []string, min, max int) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		what := "too many arguments"
		if len(args) < min {
			what = "missing arguments"
		}
		return usagef(fmt.Sprintf("Usage: genlkit %s %s", c.name, c.args), "%s: %s", c.name, what)
	}
	return nil
}

// specFamilies returns the valid specs in the spec directories by family
// name, loading them once. The first directory wins.
func (a *app) specFamilies() map[string]*spec.Family {
	if a.specs != nil {
		return a.specs
	}
	a.specs = map[string]*spec.Family{}
	for _, dir := range specDirs(os.Getenv("GENLKIT_SPECS")) {
		fams, _ := spec.LoadDir(dir) // invalid specs are skipped
		for _, f := range fams {
			if _, ok := a.specs[f.Name]; !ok {
				a.specs[f.Name] = f
			}
		}
	}
	return a.specs
}

// specFor returns the spec of the family called name from the spec
// directories, or nil.
func (a *app) specFor(name string) *spec.Family {
	return a.specFamilies()[name]
}

// descriptorSource says where the descriptor of a family would come from:
// "compiled in", "spec", or "-" for nowhere.
func (a *app) descriptorSource(name string) string {
	if _, ok := family.Lookup(name); ok {
		return "compiled in"
	}
	if a.specFor(name) != nil {
		return "spec"
	}
	return "-"
}

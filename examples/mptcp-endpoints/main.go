// Command mptcp-endpoints manages the MPTCP path manager's endpoints and
// limits in the current network namespace, like `ip mptcp endpoint` and
// `ip mptcp limits`, through the mptcp_pm generic netlink family and the
// generated package family/mptcppm.
//
// It shows do requests that the kernel only acknowledges, a dump, and how
// to read the kernel's reason when it refuses a request: errors.As the
// error to a *genl.Error, whose Message is the extended ACK text and Path
// the attribute it is about.
//
// Run it as root, preferably in a scratch namespace (`sudo ip netns add
// demo`, then prefix each command with `sudo ip netns exec demo`):
//
//	go run ./examples/mptcp-endpoints list
//	go run ./examples/mptcp-endpoints add 192.0.2.1 -flags signal
//	go run ./examples/mptcp-endpoints add 2001:db8::1 -id 7 -flags subflow,backup -dev eth0
//	go run ./examples/mptcp-endpoints del -id 7
//	go run ./examples/mptcp-endpoints limits -subflows 4 -addrs 2
//	go run ./examples/mptcp-endpoints limits        # show them
//	go run ./examples/mptcp-endpoints flush
//
// Output:
//
//	$ mptcp-endpoints add 192.0.2.1 -flags signal
//	added id 1 192.0.2.1 flags signal
//	$ mptcp-endpoints list
//	id 1 192.0.2.1 flags signal
//	limits: subflows 2, add-addr accepted 0
//	$ mptcp-endpoints limits -subflows 9
//	mptcp-endpoints: limits: the kernel refused it (invalid argument): limit greater than maximum (8) (attribute subflows)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/mptcppm"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

const usage = `usage:
  mptcp-endpoints list
  mptcp-endpoints add ADDRESS [-id N] [-flags signal,subflow,backup,fullmesh] [-port N] [-dev NAME]
  mptcp-endpoints del -id N
  mptcp-endpoints limits [-subflows N] [-addrs N]
  mptcp-endpoints flush`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := run(ctx, os.Args[1], os.Args[2:])
	if err == nil {
		return
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(os.Stderr, "mptcp-endpoints: %v\n%s\n", err, usage)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, "mptcp-endpoints:", explain(os.Args[1], err))
	switch {
	case errors.Is(err, family.ErrNotFound):
		fmt.Fprintln(os.Stderr, "mptcp-endpoints: this kernel has no mptcp_pm family (CONFIG_MPTCP)")
	case errors.Is(err, fs.ErrPermission):
		fmt.Fprintln(os.Stderr, "mptcp-endpoints: changing endpoints needs CAP_NET_ADMIN; run as root")
	}
	os.Exit(1)
}

type usageError string

func (e usageError) Error() string { return string(e) }

// explain turns an error into one line. When the kernel refused the
// request, the generated client's error wraps a *genl.Error carrying the
// extended ACK: lead with the kernel's own words and the attribute they
// are about.
func explain(cmd string, err error) string {
	var ge *genl.Error
	if !errors.As(err, &ge) || ge.Message == "" {
		return err.Error()
	}
	msg := fmt.Sprintf("%s: the kernel refused it (%v): %s", cmd, ge.Err, ge.Message)
	switch {
	case ge.Path != "":
		msg += " (attribute " + ge.Path + ")"
	case ge.MissingPath != "":
		msg += " (missing attribute " + ge.MissingPath + ")"
	}
	return msg
}

// stdout receives the command's results (a test's buffer in the tests).
var stdout io.Writer = os.Stdout

func run(ctx context.Context, cmd string, args []string) error {
	conn, err := genl.Dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	return runOn(ctx, conn, cmd, args)
}

// runOn runs a command on conn: a socket, or in the tests a Conn over the
// typed test server of package mptcppmtest.
func runOn(ctx context.Context, conn *genl.Conn, cmd string, args []string) error {
	c, err := mptcppm.New(ctx, conn)
	if err != nil {
		return err
	}
	switch cmd {
	case "list", "show":
		if len(args) > 0 {
			return usageError("list takes no arguments")
		}
		return list(ctx, c)
	case "add":
		return add(ctx, c, args)
	case "del", "delete":
		return del(ctx, c, args)
	case "limits":
		return limits(ctx, c, args)
	case "flush":
		if err := c.FlushAddrs(ctx, &mptcppm.FlushAddrsRequest{Addr: &mptcppm.Address{}}); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "flushed all endpoints")
		return nil
	}
	return usageError(fmt.Sprintf("unknown command %q", cmd))
}

func list(ctx context.Context, c *mptcppm.Client) error {
	eps, err := endpoints(ctx, c)
	if err != nil {
		return err
	}
	if len(eps) == 0 {
		fmt.Fprintln(stdout, "no endpoints")
	}
	for _, a := range eps {
		fmt.Fprintln(stdout, format(a))
	}
	return showLimits(ctx, c)
}

func endpoints(ctx context.Context, c *mptcppm.Client) ([]*mptcppm.Address, error) {
	var eps []*mptcppm.Address
	for a, err := range c.GetAddrDump(ctx) {
		if err != nil {
			return nil, err
		}
		if a.Addr != nil {
			eps = append(eps, a.Addr)
		}
	}
	return eps, nil
}

func add(ctx context.Context, c *mptcppm.Client, args []string) error {
	fs := flag.NewFlagSet("add", flag.ContinueOnError)
	id := fs.Uint("id", 0, "endpoint `id`, 1-255 (default: the kernel picks one)")
	flags := fs.String("flags", "", "comma-separated `flags`: signal, subflow, backup, fullmesh")
	port := fs.Uint("port", 0, "`port` (signal endpoints only)")
	dev := fs.String("dev", "", "interface `name` subflows from this endpoint use")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("add needs one address")
	}
	ip, err := netip.ParseAddr(pos[0])
	if err != nil {
		return usageError(err.Error())
	}
	if *id > 255 || *port > 65535 {
		return usageError("-id is 1-255, -port 0-65535")
	}
	a := &mptcppm.Address{}
	setAddr(a, ip)
	if *id != 0 {
		a.ID.Set(uint8(*id))
	}
	if *port != 0 {
		a.Port.Set(uint16(*port))
	}
	if *flags != "" {
		f, err := parseFlags(*flags)
		if err != nil {
			return err
		}
		a.Flags.Set(f)
	}
	if *dev != "" {
		ifi, err := net.InterfaceByName(*dev)
		if err != nil {
			return err
		}
		a.IfIdx.Set(int32(ifi.Index))
	}
	if err := c.AddAddr(ctx, &mptcppm.AddAddrRequest{Addr: a}); err != nil {
		return err
	}
	// The kernel only acknowledges add-addr: find the endpoint it made,
	// with the id it picked, in a dump.
	eps, err := endpoints(ctx, c)
	if err != nil {
		return err
	}
	for _, e := range eps {
		if addrOf(e) == ip && (*id == 0 || e.ID.Value == uint8(*id)) {
			fmt.Fprintln(stdout, "added", format(e))
			return nil
		}
	}
	fmt.Fprintln(stdout, "added", ip)
	return nil
}

func del(ctx context.Context, c *mptcppm.Client, args []string) error {
	fs := flag.NewFlagSet("del", flag.ContinueOnError)
	id := fs.Uint("id", 0, "endpoint `id` to delete, 1-255")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *id == 0 || *id > 255 {
		return usageError("del needs -id N, 1-255")
	}
	err = c.DelAddr(ctx, &mptcppm.DelAddrRequest{Addr: &mptcppm.Address{ID: mptcppm.Some(uint8(*id))}})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "deleted id", *id)
	return nil
}

func limits(ctx context.Context, c *mptcppm.Client, args []string) error {
	fs := flag.NewFlagSet("limits", flag.ContinueOnError)
	subflows := fs.Int("subflows", -1, "maximum subflows per connection (`N`)")
	addrs := fs.Int("addrs", -1, "maximum ADD_ADDR announcements accepted per connection (`N`)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("limits takes only -subflows and -addrs")
	}
	if *subflows >= 0 || *addrs >= 0 {
		// Attributes left out keep their value. Out-of-range values are
		// passed on as given, so the kernel's own check shows.
		var req mptcppm.SetLimitsRequest
		if *subflows >= 0 {
			req.Subflows.Set(uint32(*subflows))
		}
		if *addrs >= 0 {
			req.RcvAddAddrs.Set(uint32(*addrs))
		}
		if err := c.SetLimits(ctx, &req); err != nil {
			return err
		}
	}
	return showLimits(ctx, c)
}

func showLimits(ctx context.Context, c *mptcppm.Client) error {
	l, err := c.GetLimits(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "limits: subflows %d, add-addr accepted %d\n", l.Subflows.Value, l.RcvAddAddrs.Value)
	return nil
}

// parse parses flags that may come before or after positional arguments
// ("add 192.0.2.1 -id 5" and "add -id 5 192.0.2.1").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError(err.Error())
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// The endpoint flags, from linux/mptcp.h (MPTCP_PM_ADDR_FLAG_*): the
// mptcp_pm spec leaves the attribute a plain u32.
var flagNames = []struct {
	bit  uint32
	name string
}{
	{1 << 0, "signal"},
	{1 << 1, "subflow"},
	{1 << 2, "backup"},
	{1 << 3, "fullmesh"},
	{1 << 4, "implicit"},
	{1 << 5, "laminar"},
}

func parseFlags(s string) (uint32, error) {
	var f uint32
	for name := range strings.SplitSeq(s, ",") {
		found := false
		for _, n := range flagNames {
			if n.name == name {
				f |= n.bit
				found = true
			}
		}
		if !found {
			return 0, usageError(fmt.Sprintf("unknown flag %q (signal, subflow, backup, fullmesh)", name))
		}
	}
	return f, nil
}

func formatFlags(f uint32) string {
	var names []string
	for _, n := range flagNames {
		if f&n.bit != 0 {
			names = append(names, n.name)
			f &^= n.bit
		}
	}
	if f != 0 {
		names = append(names, "0x"+strconv.FormatUint(uint64(f), 16))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// setAddr fills the family and address attributes: addr4 is a big-endian
// u32 in the spec, so the generated field is a number, not a netip.Addr.
func setAddr(a *mptcppm.Address, ip netip.Addr) {
	if ip.Is4() {
		b := ip.As4()
		a.Family.Set(unix.AF_INET)
		a.Addr4.Set(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		return
	}
	b := ip.As16()
	a.Family.Set(unix.AF_INET6)
	a.Addr6 = b[:]
}

func addrOf(a *mptcppm.Address) netip.Addr {
	if v, ok := a.Addr4.Get(); ok {
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	if len(a.Addr6) == 16 {
		return netip.AddrFrom16([16]byte(a.Addr6))
	}
	return netip.Addr{}
}

func format(a *mptcppm.Address) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id %d %v", a.ID.Value, addrOf(a))
	if p := a.Port.Value; p != 0 {
		fmt.Fprintf(&b, " port %d", p)
	}
	fmt.Fprintf(&b, " flags %s", formatFlags(a.Flags.Value))
	if idx, ok := a.IfIdx.Get(); ok && idx > 0 {
		name := strconv.Itoa(int(idx))
		if ifi, err := net.InterfaceByIndex(int(idx)); err == nil {
			name = ifi.Name
		}
		fmt.Fprintf(&b, " dev %s", name)
	}
	return b.String()
}

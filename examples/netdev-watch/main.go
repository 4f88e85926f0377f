// Command netdev-watch prints network devices as they appear, change and
// disappear, from the notifications of the netdev family's "mgmt" multicast
// group, using the generated package family/netdev.
//
// It shows the pattern for following kernel state: subscribe first, then
// dump what exists (so nothing falls between the two), then apply
// notifications; stop cleanly when the context ends (Ctrl-C, -duration or
// -count); and when the socket overruns, so that notifications were lost,
// say so on stderr, dump again to resynchronise (again and again while
// that dump overruns too) and carry on. A change to a device it does not
// know is reported as its addition, whose notification was lost.
//
// netdev notifications carry the interface index, not the name, so names
// come from the interface table of the namespace the program runs in.
//
// Run it (as root, in the namespace to watch), then add or delete links from
// another terminal:
//
//	sudo go run ./examples/netdev-watch                 # until Ctrl-C
//	sudo go run ./examples/netdev-watch -list -count 4  # list devices, stop after 4 events
//	sudo ip netns exec NAME go run ./examples/netdev-watch -duration 30s
//
// Output, while `ip link add v0 type veth peer name v0p` and
// `ip link del v0` run:
//
//	added   ifindex 3 v0p xdp-features none
//	added   ifindex 4 v0 xdp-features none
//	removed ifindex 4 v0
//	removed ifindex 3 v0p
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
)

type config struct {
	count    int           // stop after this many events (0: no limit)
	duration time.Duration // stop after this long (0: no limit)
	list     bool          // print the devices present at the start
	rcvbuf   int           // socket receive buffer (0: the default)
	slow     time.Duration // pause after each event, to provoke overruns
}

func main() {
	var cfg config
	flag.IntVar(&cfg.count, "count", 0, "stop after `N` device events (0: no limit)")
	flag.DurationVar(&cfg.duration, "duration", 0, "stop after this long (0: until Ctrl-C)")
	flag.BoolVar(&cfg.list, "list", false, "print the devices present at the start")
	flag.IntVar(&cfg.rcvbuf, "rcvbuf", 0, "socket receive buffer in `bytes` (small values make overruns likely)")
	flag.DurationVar(&cfg.slow, "slow", 0, "pause after each event (with a small -rcvbuf, provokes overruns)")
	flag.Parse()

	// Ctrl-C (or SIGTERM) cancels ctx; every blocking call below returns.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "netdev-watch:", err)
		if errors.Is(err, family.ErrNotFound) {
			fmt.Fprintln(os.Stderr, "netdev-watch: this kernel has no netdev family (Linux 6.3 or newer has it)")
		}
		os.Exit(1)
	}
}

// A watcher tracks the devices it knows, by interface index.
type watcher struct {
	c      *netdev.Client
	cfg    config
	devs   map[uint32]string // ifindex -> name ("" when not known)
	events int
	stale  bool // a resync after an overrun failed: try again
}

// stdout receives the events, stderr the watcher's own news (buffers in
// the tests).
var stdout, stderr io.Writer = os.Stdout, os.Stderr

func run(ctx context.Context, cfg config) error {
	var opts []genl.Option
	if cfg.rcvbuf > 0 {
		opts = append(opts, genl.WithReadBuffer(cfg.rcvbuf))
	}
	conn, err := genl.Dial(opts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	return watch(ctx, conn, cfg)
}

// watch follows the devices through conn: a socket, or in the tests a Conn
// over the typed test server of package netdevtest.
func watch(ctx context.Context, conn *genl.Conn, cfg config) error {
	c, err := netdev.New(ctx, conn)
	if err != nil {
		return err
	}

	// Subscribe before the dump: a device added in between is then seen
	// twice (harmless) rather than never.
	sub, err := c.Subscribe(ctx, netdev.GroupMgmt)
	if err != nil {
		return err
	}
	defer sub.Close()

	w := &watcher{c: c, cfg: cfg, devs: make(map[uint32]string)}
	if err := w.resync(ctx, cfg.list); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "netdev-watch: watching group %s (%d devices present); Ctrl-C to stop\n",
		netdev.GroupMgmt, len(w.devs))

	for cfg.count == 0 || w.events < cfg.count {
		next := ctx
		cancel := context.CancelFunc(func() {})
		if w.stale {
			// Do not wait for ever with a stale table.
			next, cancel = context.WithTimeout(ctx, staleRetry)
		}
		n, err := sub.Next(next)
		cancel()
		var decodeErr *attrs.Error
		switch {
		case ctx.Err() != nil:
			// Ctrl-C, -duration: a clean stop.
			fmt.Fprintf(stderr, "netdev-watch: stopped after %d events\n", w.events)
			return nil
		case w.stale && errors.Is(err, context.DeadlineExceeded):
			w.retryResync(ctx)
			continue
		case errors.Is(err, genl.ErrOverrun):
			// The socket's receive buffer filled up and the kernel dropped
			// notifications: what we know may be stale. Say so, read the
			// device list again, and go on.
			fmt.Fprintf(stderr, "netdev-watch: overrun: the socket's receive buffer filled up and notifications were lost (%v); re-reading the device list\n", err)
			w.stale = true
			w.retryResync(ctx)
			continue
		case errors.As(err, &decodeErr):
			// One malformed notification; the stream goes on.
			fmt.Fprintln(stderr, "netdev-watch:", err)
			continue
		case err != nil:
			return err
		}
		if w.stale {
			// The last resync failed (its dump overran too): the
			// table may still miss what the lost notifications said.
			w.retryResync(ctx)
		}
		w.apply(n)
		if cfg.slow > 0 {
			select { // a slow consumer; Ctrl-C still stops it at once
			case <-time.After(cfg.slow):
			case <-ctx.Done():
			}
		}
	}
	fmt.Fprintf(stderr, "netdev-watch: stopped after %d events\n", w.events)
	return nil
}

// staleRetry is how long the watcher waits for a notification, while a
// failed resync left its table stale, before it tries again.
const staleRetry = 200 * time.Millisecond

// retryResync reads the device list again while the table is stale, and
// says so when it cannot; the next notification, or staleRetry without
// one, tries again.
func (w *watcher) retryResync(ctx context.Context) {
	if err := w.resync(ctx, false); err != nil {
		if ctx.Err() == nil {
			fmt.Fprintln(stderr, "netdev-watch: resynchronising:", err)
		}
		return
	}
	w.stale = false
}

// apply prints one notification and updates the device table.
func (w *watcher) apply(n netdev.Notification) {
	switch n := n.(type) {
	case *netdev.DevAddNtf:
		idx := n.Ifindex.Value
		if _, ok := w.devs[idx]; ok {
			return // already known: the dump (or a resync) saw it first
		}
		w.devs[idx] = ifname(idx)
		w.print("added  ", idx, &n.Dev)
	case *netdev.DevChangeNtf:
		idx := n.Ifindex.Value
		if _, ok := w.devs[idx]; !ok {
			// Its dev-add was lost to an overrun whose resync has not
			// caught up yet: the device is new to us.
			w.devs[idx] = ifname(idx)
			w.print("added  ", idx, &n.Dev)
			return
		}
		w.print("changed", idx, &n.Dev)
	case *netdev.DevDelNtf:
		idx := n.Ifindex.Value
		if _, ok := w.devs[idx]; !ok {
			return // never known, or a resync already removed it
		}
		w.print("removed", idx, nil)
		delete(w.devs, idx)
	default:
		// page-pool notifications are in another group
	}
}

func (w *watcher) print(what string, idx uint32, d *netdev.Dev) {
	w.events++
	name := w.devs[idx]
	if name == "" {
		name = "?"
	}
	if d == nil {
		fmt.Fprintf(stdout, "%s ifindex %d %s\n", what, idx, name)
		return
	}
	fmt.Fprintf(stdout, "%s ifindex %d %s xdp-features %s\n", what, idx, name, xdpFeatures(d))
}

// resync dumps the devices and reconciles the table with them: after an
// overrun it prints the additions and removals the lost notifications
// would have shown. The first call only fills the table (and, with list,
// prints it).
func (w *watcher) resync(ctx context.Context, list bool) error {
	first := len(w.devs) == 0 && w.events == 0
	var devs []*netdev.Dev
	var err error
	// The dump shares the socket with the notifications that overran it:
	// if its replies are lost too, try again.
	for try := 0; try < 3; try++ {
		devs, err = dumpDevs(ctx, w.c)
		if !errors.Is(err, genl.ErrOverrun) {
			break
		}
	}
	if err != nil {
		return err
	}
	seen := make(map[uint32]bool, len(devs))
	for _, d := range devs {
		idx := d.Ifindex.Value
		seen[idx] = true
		if _, ok := w.devs[idx]; ok {
			continue
		}
		w.devs[idx] = ifname(idx)
		switch {
		case list:
			fmt.Fprintf(stdout, "present ifindex %d %s xdp-features %s\n", idx, w.devs[idx], xdpFeatures(d))
		case !first:
			w.print("added  ", idx, d)
		}
	}
	var gone []uint32
	for idx := range w.devs {
		if !seen[idx] {
			gone = append(gone, idx)
		}
	}
	slices.Sort(gone)
	for _, idx := range gone {
		w.print("removed", idx, nil)
		delete(w.devs, idx)
	}
	return nil
}

func dumpDevs(ctx context.Context, c *netdev.Client) ([]*netdev.Dev, error) {
	var devs []*netdev.Dev
	for d, err := range c.DevGetDump(ctx) {
		if err != nil {
			return nil, err
		}
		devs = append(devs, d)
	}
	return devs, nil
}

func xdpFeatures(d *netdev.Dev) string {
	if f := d.XdpFeatures.Value; f != 0 {
		return f.String()
	}
	return "none"
}

// ifname names a device of this process's network namespace; "" when it
// is already gone.
func ifname(idx uint32) string {
	ifi, err := net.InterfaceByIndex(int(idx))
	if err != nil {
		return ""
	}
	return ifi.Name
}

// Command ethtool-link shows an interface the way `ethtool` and `ethtool -k`
// do — link info, link modes, link state and offload features — through
// the ethtool generic netlink family and the generated package
// family/ethtool. With -set-feature it changes one feature and prints the
// notification the change produced.
//
// It shows do requests addressed by a request header (the interface name),
// reading ethtool's bitsets with Bitset.Values (feature and link mode names
// with their values; a notification's compact bitsets named from the
// features string set), a set request built with NewBitset whose reply says
// what changed, and subscribing to a multicast group (ethtool's "monitor")
// before making a change so that its notification cannot be missed.
//
// Run it (changing a feature needs root):
//
//	go run ./examples/ethtool-link -i eth0
//	sudo go run ./examples/ethtool-link -i eth0 -set-feature rx-gro=off
//	sudo go run ./examples/ethtool-link -netns NAME -i v0   # inside /run/netns/NAME
//
// Output for one end of a veth pair:
//
//	v0 (ifindex 5)
//	link info: port tp, phy address 0, transceiver internal, mdi-x unknown
//	link modes: speed 10000Mb/s, duplex full, autoneg off
//	  supported: none
//	  advertised: none
//	link state: link detected yes
//	features: 25 of 60 on, 29 changeable
//	  esp-hw-offload: off [fixed]
//	  ...
//	  rx-checksum: on
//	  ...
//
// and with -set-feature rx-checksum=off:
//
//	features-set rx-checksum=off on v0: changed rx-checksum off
//	notification features-ntf for v0 (ifindex 5): rx-checksum on -> off
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

func main() {
	ifname := flag.String("i", "", "interface `name` (required)")
	setFeature := flag.String("set-feature", "", "change one feature, `NAME=on|off`, and print the notification")
	netns := flag.String("netns", "", "network namespace name (under /run/netns) or path")
	timeout := flag.Duration("timeout", 5*time.Second, "how long to wait for the kernel")
	flag.Parse()
	if *ifname == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: ethtool-link -i NAME [-set-feature NAME=on|off] [-netns NAME]")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *netns, *ifname, *setFeature); err != nil {
		fmt.Fprintln(os.Stderr, "ethtool-link:", err)
		if errors.Is(err, family.ErrNotFound) {
			fmt.Fprintln(os.Stderr, "ethtool-link: this kernel has no ethtool netlink family (CONFIG_ETHTOOL_NETLINK)")
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, netns, ifname, setFeature string) error {
	var opts []genl.Option
	if netns != "" {
		opts = append(opts, genl.WithNetNS(netns))
	}
	conn, err := genl.Dial(opts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	c, err := ethtool.New(ctx, conn)
	if err != nil {
		return err
	}
	if setFeature != "" {
		return set(ctx, c, ifname, setFeature)
	}
	return show(ctx, c, ifname)
}

// header addresses a request to the interface by name.
func header(ifname string) *ethtool.Header {
	return &ethtool.Header{DevName: ethtool.Some(ifname)}
}

func show(ctx context.Context, c *ethtool.Client, ifname string) error {
	// Features first: every device has them, so an unknown name fails here
	// with the kernel's own message.
	feat, err := c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: header(ifname)})
	if err != nil {
		return err
	}
	fmt.Printf("%s (ifindex %d)\n", ifname, feat.Header.DevIndex.Value)

	info, err := c.LinkinfoGet(ctx, &ethtool.LinkinfoGetRequest{Header: header(ifname)})
	switch {
	case notSupported(err):
		fmt.Println("link info: not reported by the driver")
	case err != nil:
		return err
	default:
		fmt.Printf("link info: port %s, phy address %d, transceiver %s, mdi-x %s\n",
			info.Port.Value, info.Phyaddr.Value, info.Transceiver.Value, info.TpMDIX.Value)
	}

	modes, err := c.LinkmodesGet(ctx, &ethtool.LinkmodesGetRequest{Header: header(ifname)})
	switch {
	case notSupported(err):
		fmt.Println("link modes: not reported by the driver")
	case err != nil:
		return err
	default:
		fmt.Printf("link modes: speed %s, duplex %s, autoneg %s", speed(modes.Speed),
			modes.Duplex.Value, onOff(modes.Autoneg.Value == ethtool.AutonegEnable))
		if l, ok := modes.Lanes.Get(); ok {
			fmt.Printf(", lanes %d", l)
		}
		fmt.Println()
		// "ours" lists the supported modes (its mask) with the advertised
		// ones set; "peer" the modes the link partner advertises.
		fmt.Printf("  supported: %s\n", list(bitNames(modes.Ours, false)))
		fmt.Printf("  advertised: %s\n", list(bitNames(modes.Ours, true)))
		if modes.Peer != nil {
			fmt.Printf("  partner advertises: %s\n", list(bitNames(modes.Peer, true)))
		}
	}

	state, err := c.LinkstateGet(ctx, &ethtool.LinkstateGetRequest{Header: header(ifname)})
	switch {
	case notSupported(err):
		fmt.Println("link state: not reported by the driver")
	case err != nil:
		return err
	default:
		fmt.Printf("link state: link detected %s", yesNo(state.Link))
		if sqi, ok := state.Sqi.Get(); ok {
			fmt.Printf(", signal quality %d/%d", sqi, state.SqiMax.Value)
		}
		if n, ok := state.ExtDownCnt.Get(); ok {
			fmt.Printf(", link down events %d", n)
		}
		fmt.Println()
	}

	printFeatures(feat)
	return nil
}

// printFeatures prints every named feature as `ethtool -k` does: on or
// off, and [fixed] when it cannot be changed.
func printFeatures(f *ethtool.Features) {
	// "hw" lists every feature the kernel knows (its mask) with the
	// changeable ones set; "active", "wanted" and "nochange" are "nomask"
	// bitsets that list only the features set.
	changeable := f.Hw.Values(nil)
	active := f.Active.Values(nil)
	fixed := f.Nochange.Values(nil)
	names := sortedKeys(changeable)
	on, canChange := 0, 0
	for _, name := range names {
		if active[name] {
			on++
		}
		if changeable[name] && !fixed[name] {
			canChange++
		}
	}
	fmt.Printf("features: %d of %d on, %d changeable\n", on, len(names), canChange)
	for _, name := range names {
		suffix := ""
		if !changeable[name] || fixed[name] {
			suffix = " [fixed]"
		}
		fmt.Printf("  %s: %s%s\n", name, onOff(active[name]), suffix)
	}
}

// set changes one feature, prints what the kernel says it changed, then the
// features-ntf notification the change produced.
func set(ctx context.Context, c *ethtool.Client, ifname, arg string) error {
	name, value, ok := strings.Cut(arg, "=")
	if !ok || (value != "on" && value != "off") {
		return fmt.Errorf("-set-feature %q: want NAME=on or NAME=off", arg)
	}
	want := value == "on"

	before, err := c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: header(ifname)})
	if err != nil {
		return err
	}
	ifindex := before.Header.DevIndex.Value
	all := sortedKeys(before.Hw.Values(nil)) // every feature's name
	old := before.Active.Values(nil)         // the ones on
	if !slices.Contains(all, name) {
		return fmt.Errorf("%s has no feature %q (see the list without -set-feature)", ifname, name)
	}
	// Notifications carry compact bitsets: bit i is the features string
	// set's name i.
	byIndex, err := c.StringSet(ctx, header(ifname), ethtool.StringsetFeatures)
	if err != nil {
		return err
	}

	// Subscribe before the change: its notification is queued for us
	// from the moment we join, however fast the kernel is.
	sub, err := c.Subscribe(ctx, ethtool.GroupMonitor)
	if err != nil {
		return err
	}
	defer sub.Close()

	// A bitset without "nomask" is a list of changes: only the bits named
	// are touched.
	reply, err := c.FeaturesSet(ctx, &ethtool.FeaturesSetRequest{
		Header: header(ifname),
		Wanted: ethtool.NewBitset(map[string]bool{name: want}),
	})
	if err != nil {
		return fmt.Errorf("set %s %s on %s: %w", name, value, ifname, err)
	}
	// The reply's "active" lists the features that changed (its mask) with
	// their new values; "wanted" the requests the kernel could not honour.
	changed := reply.Active.Values(nil)
	fmt.Printf("features-set %s=%s on %s: ", name, value, ifname)
	if len(changed) == 0 {
		fmt.Println("nothing changed")
	} else {
		fmt.Printf("changed %s\n", describe(changed))
	}
	if refused := reply.Wanted.Values(nil); len(refused) > 0 {
		fmt.Printf("  not as asked: %s (the driver or other features prevent it)\n", describe(refused))
	}
	if len(changed) == 0 {
		fmt.Println("no change, so no notification")
		return nil
	}

	for {
		n, err := sub.Next(ctx)
		if errors.Is(err, genl.ErrOverrun) {
			fmt.Fprintln(os.Stderr, "ethtool-link: notifications were lost (socket overrun)")
			continue
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return errors.New("no features-ntf notification arrived in time")
		}
		if err != nil {
			return err
		}
		ntf, ok := n.(*ethtool.FeaturesNtf)
		if !ok || ntf.Header == nil || ntf.Header.DevIndex.Value != ifindex {
			continue // another kind of notification, or another device
		}
		// The notification carries the device's whole feature state;
		// print what differs from before the change.
		now := ntf.Active.Values(byIndex)
		var diffs []string
		for _, f := range all {
			if old[f] != now[f] {
				diffs = append(diffs, fmt.Sprintf("%s %s -> %s", f, onOff(old[f]), onOff(now[f])))
			}
		}
		fmt.Printf("notification %s for %s (ifindex %d): %s\n", ntf.OpName(),
			ntf.Header.DevName.Or(ifname), ifindex, list(diffs))
		return nil
	}
}

// bitNames returns the sorted names of a bitset's bits: all those listed,
// or only those set when onlySet.
func bitNames(b *ethtool.Bitset, onlySet bool) []string {
	var names []string
	for name, v := range b.Values(nil) {
		if v || !onlySet {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func describe(m map[string]bool) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+" "+onOff(m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// notSupported reports a request the driver does not implement.
func notSupported(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, family.ErrNotSupported)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func yesNo(v ethtool.Optional[uint8]) string {
	switch {
	case !v.Valid:
		return "unknown"
	case v.Value != 0:
		return "yes"
	}
	return "no"
}

// Port, transceiver, MDI-X, duplex and autoneg are named types (String
// gives the uapi names) through the project overlay; speed has no enum.

func speed(v ethtool.Optional[uint32]) string {
	if !v.Valid || v.Value == 0 || v.Value == ^uint32(0) { // SPEED_UNKNOWN
		return "unknown"
	}
	return fmt.Sprintf("%dMb/s", v.Value)
}

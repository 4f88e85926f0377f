// Command ethtool-link shows an interface the way `ethtool` and `ethtool -k`
// do — link info, link modes, link state and offload features — through
// the ethtool generic netlink family and the generated package
// family/ethtool. With -set-feature it changes one feature and prints the
// notification the change produced.
//
// It shows do requests addressed by a request header (the interface name),
// reading ethtool's bitsets: features from compact bitsets named by the
// Client's cached features string set (FeatureList, as Client.Features
// does), link modes with Client.LinkModes, and a notification's compact
// bitsets with Bitset.Values, a set request built with NewBitset whose reply says
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
//	link info: port Twisted Pair, phy address 0, transceiver internal, mdi-x invalid
//	link modes: speed 10000Mb/s, duplex Full, autoneg off
//	  supported: none
//	  advertised: none
//	link state: link detected yes
//	features: 25 of 60 on, 29 changeable
//	  tx-scatter-gather: on
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
	// with the kernel's own message. Compact bitsets (the flag in the
	// header) are bit arrays, named by the features string set, which the
	// Client asks the kernel for once and keeps; Client.Features does all
	// of this in one call.
	hdr := header(ifname)
	hdr.Flags = ethtool.Some(ethtool.HeaderFlagsCompactBitsets)
	feat, err := c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: hdr})
	if err != nil {
		return err
	}
	fmt.Printf("%s (ifindex %d)\n", ifname, feat.Header.DevIndex.Value)
	names, err := c.StringSet(ctx, nil, ethtool.StringsetFeatures)
	if err != nil {
		return err
	}
	features, err := ethtool.FeatureList(feat, names)
	if err != nil {
		return err
	}

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

	modes, err := c.LinkModes(ctx, header(ifname))
	switch {
	case notSupported(err):
		fmt.Println("link modes: not reported by the driver")
	case err != nil:
		return err
	default:
		fmt.Printf("link modes: speed %s, duplex %s, autoneg %s", speed(modes.Speed),
			modes.Duplex.Value, modes.Autoneg.Value)
		if l, ok := modes.Lanes.Get(); ok {
			fmt.Printf(", lanes %d", l)
		}
		fmt.Println()
		fmt.Printf("  supported: %s\n", list(modes.Supported))
		fmt.Printf("  advertised: %s\n", list(modes.Advertised))
		if modes.Peer != nil {
			fmt.Printf("  partner advertises: %s\n", list(modes.PartnerAdvertised))
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

	printFeatures(features)
	return nil
}

// printFeatures prints every named feature as `ethtool -k` does: on or
// off, [fixed] when it cannot be changed, [requested on|off] when the
// device does not do what was asked.
func printFeatures(features []ethtool.Feature) {
	on, canChange := 0, 0
	for _, f := range features {
		if f.Active {
			on++
		}
		if !f.Fixed {
			canChange++
		}
	}
	fmt.Printf("features: %d of %d on, %d changeable\n", on, len(features), canChange)
	for _, f := range features {
		fmt.Printf("  %s\n", f)
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
			ntf.Header.DevName.Or(ifname), ifindex, strings.Join(diffs, ", "))
		return nil
	}
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

// list joins the values' names, or says "none".
func list[T fmt.Stringer](s []T) string {
	if len(s) == 0 {
		return "none"
	}
	names := make([]string, len(s))
	for i, v := range s {
		names[i] = v.String()
	}
	return strings.Join(names, ", ")
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

// Port, transceiver, MDI-X, duplex, autoneg and link modes are named types
// (String gives what ethtool prints) through the project overlay; speed
// has no enum.

func speed(v ethtool.Optional[uint32]) string {
	if !v.Valid || v.Value == 0 || v.Value == ^uint32(0) { // SPEED_UNKNOWN
		return "unknown"
	}
	return fmt.Sprintf("%dMb/s", v.Value)
}

package ethtool_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/internal/testutils"
)

// legacyFeature maps the names `ethtool -k` prints for single features
// under their old ioctl names (off_flag_def in ethtool's common.c) to the
// kernel's names. Lines for groups of features (tx-checksumming,
// scatter-gather, tcp-segmentation-offload) are followed by their
// features under the kernel's names, which are compared instead.
var legacyFeature = map[string]string{
	"rx-checksumming":              "rx-checksum",
	"generic-segmentation-offload": "tx-generic-segmentation",
	"generic-receive-offload":      "rx-gro",
	"large-receive-offload":        "rx-lro",
	"rx-vlan-offload":              "rx-vlan-hw-parse",
	"tx-vlan-offload":              "tx-vlan-hw-insert",
	"ntuple-filters":               "rx-ntuple-filter",
	"receive-hashing":              "rx-hashing",
}

// toolLines parses the "name: value" lines of an ethtool report into a
// map, trimming indentation.
func toolLines(out string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(out) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if ok {
			m[name] = strings.TrimSpace(value)
		}
	}
	return m
}

// TestFeaturesAsEthtool: Client.Features says what `ethtool -k` prints for
// every feature, on a veth, a bridge, a tap and a macvlan (which asks for
// features it cannot have: [requested on]), as created and, for the veth,
// after changing features with `ethtool -K`, including one it cannot have
// (which stays off). Verbose bitsets say the same as compact ones.
func TestFeaturesAsEthtool(t *testing.T) {
	testutils.RequireTool(t, "ethtool")
	ns, c, ctx := setup(t)
	v := ns.AddVeths(t, "k", 1)[0]
	ns.IPBatch(t, []string{
		"link add kbr0 type bridge",
		"tuntap add dev ktap0 mode tap",
		"link add kmv0 link " + v.Name + " type macvlan mode bridge",
		"link set kmv0 up",
	})
	check := func(dev, when string) map[string]string {
		t.Helper()
		feats, err := c.Features(ctx, ethtool.Device(dev))
		if err != nil {
			t.Fatal(err)
		}
		if verbose, err := featuresVerbose(ctx, c, dev); err != nil || fmt.Sprint(verbose) != fmt.Sprint(feats) {
			t.Errorf("%s %s: verbose bitsets: %v, %v\ncompact: %v", dev, when, verbose, err, feats)
		}
		out := ns.Exec(t, "ethtool", "-k", dev)
		tool := toolLines(out)
		compared := 0
		for _, f := range feats {
			want, ok := tool[f.Name]
			for legacy, name := range legacyFeature {
				if name == f.Name && !ok {
					want, ok = tool[legacy]
				}
			}
			if !ok {
				t.Errorf("%s %s: feature %s (%s) not in ethtool -k", dev, when, f.Name, f.State())
				continue
			}
			compared++
			if got := f.State(); got != want {
				t.Errorf("%s %s: %s: %q, ethtool -k says %q", dev, when, f.Name, got, want)
			}
		}
		if compared < 40 {
			t.Errorf("%s %s: only %d features compared:\n%s", dev, when, compared, out)
		}
		t.Logf("%s %s: %d features agree with ethtool -k", dev, when, compared)
		states := map[string]string{}
		for _, f := range feats {
			states[f.Name] = f.State()
		}
		return states
	}
	for _, dev := range []string{v.Name, "kbr0", "ktap0", "kmv0"} {
		check(dev, "as created")
	}
	// rx-gro off and rx-checksum off change; rx-lro on (fixed on a veth)
	// makes ethtool fail, leaving it off.
	ns.ExecErr("ethtool", "-K", v.Name, "rx-gro", "off", "rx-checksum", "off", "rx-lro", "on")
	after := check(v.Name, "after ethtool -K")
	if after["rx-gro"] != "off" || after["rx-checksum"] != "off" || after["rx-lro"] != "off [fixed]" {
		t.Errorf("after ethtool -K: rx-gro %q, rx-checksum %q, rx-lro %q; want off, off, off [fixed]",
			after["rx-gro"], after["rx-checksum"], after["rx-lro"])
	}
}

// TestLinkSettingsAsEthtool: LinkModes and linkinfo-get give the values
// `ethtool <dev>` prints for a veth.
func TestLinkSettingsAsEthtool(t *testing.T) {
	testutils.RequireTool(t, "ethtool")
	ns, c, ctx := setup(t)
	v := ns.AddVeths(t, "s", 1)[0]
	lm, err := c.LinkModes(ctx, ethtool.Device(v.Name))
	if err != nil {
		t.Fatal(err)
	}
	li, err := c.LinkinfoGet(ctx, &ethtool.LinkinfoGetRequest{Header: ethtool.Device(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	out := ns.Exec(t, "ethtool", v.Name)
	tool := toolLines(out)
	modes := func(ms []ethtool.LinkMode) string {
		var names []string
		for _, m := range ms {
			if s := m.String(); strings.Contains(s, "base") {
				names = append(names, s)
			}
		}
		if len(names) == 0 {
			return "Not reported"
		}
		return strings.Join(names, " ")
	}
	yesNo := func(b bool) string {
		if b {
			return "Yes"
		}
		return "No"
	}
	has := func(ms []ethtool.LinkMode, m ethtool.LinkMode) bool {
		for _, x := range ms {
			if x == m {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct{ key, got string }{
		{"Speed", fmtSpeed(lm.Speed.Value)},
		{"Duplex", lm.Duplex.Value.String()},
		{"Auto-negotiation", lm.Autoneg.Value.String()},
		{"Supported link modes", modes(lm.Supported)},
		{"Advertised link modes", modes(lm.Advertised)},
		{"Supports auto-negotiation", yesNo(has(lm.Supported, ethtool.LinkModeAutoneg))},
		{"Advertised auto-negotiation", yesNo(has(lm.Advertised, ethtool.LinkModeAutoneg))},
		{"Port", li.Port.Value.String()},
		{"PHYAD", fmtUint(uint64(li.Phyaddr.Value))},
		{"Transceiver", li.Transceiver.Value.String()},
	} {
		want, ok := tool[tc.key]
		if !ok {
			t.Errorf("ethtool %s prints no %q:\n%s", v.Name, tc.key, out)
			continue
		}
		if strings.Join(strings.Fields(want), " ") != tc.got {
			t.Errorf("%s: %q, ethtool says %q", tc.key, tc.got, want)
		}
	}
}

func fmtSpeed(mbps uint32) string {
	if mbps == 0 || mbps == ^uint32(0) {
		return "Unknown!"
	}
	return fmtUint(uint64(mbps)) + "Mb/s"
}

func fmtUint(u uint64) string { return strconv.FormatUint(u, 10) }

// TestLinkModeNames: the overlay's link mode names are the running
// kernel's (its link-modes string set), for every mode both know.
func TestLinkModeNames(t *testing.T) {
	_, c, ctx := setup(t)
	names, err := c.StringSet(ctx, nil, ethtool.StringsetLinkModes)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 90 { // Linux 6.1 has 93
		t.Fatalf("link-modes string set of %d names", len(names))
	}
	known := 0
	for i, name := range names {
		got := ethtool.LinkMode(i).String()
		if strings.HasPrefix(got, "LinkMode(") {
			continue // newer than the overlay
		}
		known++
		if got != name {
			t.Errorf("LinkMode(%d) = %q, the kernel calls it %q", i, got, name)
		}
	}
	t.Logf("%d of the kernel's %d link modes named alike", known, len(names))
}

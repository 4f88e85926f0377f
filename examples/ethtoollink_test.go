package examples_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/testutils"
)

func TestEthtoolLink(t *testing.T) {
	ns := testutils.NetNS(t)
	v := ns.AddVeths(t, "e", 1)[0]

	out := runIn(t, ns, "ethtool-link", "-i", v.Name)
	for _, re := range []string{
		fmt.Sprintf(`^%s \(ifindex %d\)\n`, v.Name, v.Index),
		`(?m)^link info: port Twisted Pair, phy address 0, transceiver internal, mdi-x \S+`,
		`(?m)^link modes: speed 10000Mb/s, duplex Full, autoneg off$`,
		`(?m)^link state: link detected yes$`,
		`(?m)^features: \d+ of \d+ on, \d+ changeable$`,
		`(?m)^  rx-checksum: on$`,
		`(?m)^  tx-checksum-ip-generic: on$`,
		`(?m)^  vlan-challenged: off \[fixed\]$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}

	out = runIn(t, ns, "ethtool-link", "-i", v.Name, "-set-feature", "rx-checksum=off")
	want := fmt.Sprintf("features-set rx-checksum=off on %s: changed rx-checksum off\n"+
		"notification features-ntf for %s (ifindex %d): rx-checksum on -> off\n", v.Name, v.Name, v.Index)
	if out != want {
		t.Errorf("set output:\n%s\nwant:\n%s", out, want)
	}
	// A second run sees the change; the peer is untouched.
	if out := runIn(t, ns, "ethtool-link", "-i", v.Name); !strings.Contains(out, "\n  rx-checksum: off\n") {
		t.Errorf("rx-checksum still on after the change:\n%s", out)
	}
	if out := runIn(t, ns, "ethtool-link", "-i", v.Peer); !strings.Contains(out, "\n  rx-checksum: on\n") {
		t.Errorf("peer's rx-checksum changed too:\n%s", out)
	}
	// Setting it again changes nothing, and the kernel sends nothing.
	out = runIn(t, ns, "ethtool-link", "-i", v.Name, "-set-feature", "rx-checksum=off")
	if !strings.Contains(out, "nothing changed") {
		t.Errorf("second set:\n%s", out)
	}

	// A fixed feature: the kernel refuses, and its message is shown.
	_, err := ns.ExecErr(build(t, "ethtool-link"), "-i", v.Name, "-set-feature", "vlan-challenged=on")
	if err == nil || !strings.Contains(err.Error(), "attempt to change non-ethtool features") {
		t.Errorf("setting a fixed feature: %v", err)
	}
	// An unknown interface: the kernel's message names the attribute.
	_, err = ns.ExecErr(build(t, "ethtool-link"), "-i", "nosuchdev")
	if err == nil || !strings.Contains(err.Error(), "no device matches name (attribute header.dev-name)") {
		t.Errorf("unknown interface: %v", err)
	}
}

package nl80211_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/nl80211"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated nl80211 package against mac80211_hwsim's radios
// (the VM harness loads it with radios=2), moved into a private network
// namespace for the test, checked against iw(8). The spec has get-wiphy,
// get-interface and get-protocol-features; the other commands go through
// the generic path with Nl80211Attrs encoding their attributes.

func TestMain(m *testing.M) { testutils.Main(m) }

// Interface types (enum nl80211_iftype).
const (
	iftypeAdhoc   = 1
	iftypeStation = 2
	iftypeMonitor = 6
)

// A radio is one hwsim wiphy with its interface.
type radio struct {
	wiphy uint32
	name  string
}

// setup moves every wiphy into a fresh namespace (they go back to the
// initial one when it is deleted) and returns a client there.
func setup(t *testing.T) (*testutils.NS, *nl80211.Client, context.Context, []radio) {
	t.Helper()
	root, ctx := testutils.DialInit(t)
	rc, err := nl80211.New(ctx, root)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), nl80211.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	// A previous test's namespace hands its wiphys back to the initial
	// one asynchronously, after it is deleted.
	wiphys, _ := wiphyDump(ctx, t, rc)
	for deadline := time.Now().Add(20 * time.Second); len(wiphys) < 2 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		wiphys, _ = wiphyDump(ctx, t, rc)
	}
	if len(wiphys) < 2 {
		t.Fatalf("%d wiphys, want mac80211_hwsim's two radios", len(wiphys))
	}
	testutils.RequireTool(t, "iw")
	ns := testutils.NetNS(t)
	var radios []radio
	for _, w := range wiphys {
		radios = append(radios, radio{w.Wiphy.Value, w.WiphyName.Value})
		if out, err := execIW("phy", w.WiphyName.Value, "set", "netns", "name", ns.Name); err != nil {
			t.Fatalf("moving %s into the namespace: %v: %s", w.WiphyName.Value, err, out)
		}
	}
	conn, _ := ns.Dial(t)
	c, err := nl80211.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return ns, c, ctx, radios
}

// wiphyDump runs a split get-wiphy dump and merges each wiphy's messages:
// it returns the wiphys in order and how many messages each took.
func wiphyDump(ctx context.Context, t *testing.T, c *nl80211.Client) ([]*nl80211.Attrs, map[uint32]int) {
	t.Helper()
	var out []*nl80211.Attrs
	parts := map[uint32]int{}
	for m, err := range c.GetWiphyDump(ctx, &nl80211.GetWiphyDumpRequest{SplitWiphyDump: true}) {
		if err != nil {
			t.Fatal(err)
		}
		parts[m.Wiphy.Value]++
		if parts[m.Wiphy.Value] == 1 {
			out = append(out, m)
			continue
		}
		nl80211.MergeWiphy(out[len(out)-1], m)
	}
	return out, parts
}

// do sends nl80211 command cmd with req's attributes through the generic
// path and returns its replies decoded.
func do(ctx context.Context, c *nl80211.Client, cmd nl80211.Commands, req *nl80211.Attrs) ([]*nl80211.Attrs, error) {
	var e attrs.Encoder
	if err := req.MarshalAttrs(&e); err != nil {
		return nil, err
	}
	var out []*nl80211.Attrs
	err := c.Conn().Do(ctx, genl.Request{Family: c.Family().ID, Command: uint8(cmd), Version: nl80211.FamilyVersion, Attrs: e.Bytes()}, func(m genl.Message) error {
		v := new(nl80211.Attrs)
		out = append(out, v)
		return v.UnmarshalAttrs(m.Data)
	})
	return out, err
}

func execIW(args ...string) ([]byte, error) {
	return exec.Command("iw", args...).CombinedOutput()
}

func iw(t *testing.T, ns *testutils.NS, args ...string) string {
	t.Helper()
	return ns.Exec(t, "iw", args...)
}

func TestKernelWiphysAndInterfaces(t *testing.T) {
	ns, c, ctx, radios := setup(t)
	wiphys, parts := wiphyDump(ctx, t, c)
	if len(wiphys) != len(radios) {
		t.Fatalf("namespace dump lists %d wiphys, want the %d moved in", len(wiphys), len(radios))
	}
	phyInfo := iw(t, ns, "list")
	for _, w := range wiphys {
		if parts[w.Wiphy.Value] < 2 {
			t.Errorf("wiphy %s came in %d message(s), a split dump takes several", w.WiphyName.Value, parts[w.Wiphy.Value])
		}
		if w.SupportedIftypes == nil || !w.SupportedIftypes.Station || !w.SupportedIftypes.Monitor || !w.SupportedIftypes.Adhoc {
			t.Errorf("wiphy %s supported iftypes %+v, want station, monitor and adhoc", w.WiphyName.Value, w.SupportedIftypes)
		}
		if w.WiphyBands == nil {
			t.Errorf("wiphy %s has no bands", w.WiphyName.Value)
		}
		// The list names optional commands; scanning is not one.
		if !slices.Contains(w.SupportedCommands, nl80211.CommandsNewInterface) || !slices.Contains(w.SupportedCommands, nl80211.CommandsJoinIbss) {
			t.Errorf("wiphy %s supported commands %v lack new-interface or join-ibss", w.WiphyName.Value, w.SupportedCommands)
		}
		if !strings.Contains(phyInfo, "Wiphy "+w.WiphyName.Value+"\n") {
			t.Errorf("iw list does not list %s", w.WiphyName.Value)
		}
		// The merged bands hold every channel iw lists (the split dump
		// sends them a few per message); iw lists S1G channels in another
		// form, left out here.
		var freqs []string
		for _, b := range []*nl80211.BandAttrs{w.WiphyBands.X2ghz, w.WiphyBands.X5ghz, w.WiphyBands.X6ghz, w.WiphyBands.X60ghz} {
			for i := 0; b != nil && i < len(b.Freqs); i++ {
				freqs = append(freqs, fmt.Sprint(b.Freqs[i].Freq.Value))
			}
		}
		var iwFreqs []string
		for _, m := range regexp.MustCompile(`(?m)^\s+\* (\d+)(?:\.\d+)? MHz \[\d+\]`).FindAllStringSubmatch(iwSection(phyInfo, "Wiphy "+w.WiphyName.Value+"\n"), -1) {
			iwFreqs = append(iwFreqs, m[1])
		}
		if len(freqs) == 0 || !slices.Equal(freqs, iwFreqs) {
			t.Errorf("wiphy %s channels %v, iw lists %v", w.WiphyName.Value, freqs, iwFreqs)
		}
		if all, err := c.Wiphys(ctx); err != nil || len(all) != len(wiphys) {
			t.Errorf("Wiphys: %d, %v", len(all), err)
		}
		one, err := c.GetWiphy(ctx, &nl80211.GetWiphyRequest{Wiphy: w.Wiphy})
		if err != nil || one.WiphyName.Value != w.WiphyName.Value {
			t.Errorf("get-wiphy %d: %+v %v", w.Wiphy.Value, one, err)
		}
	}

	// Interfaces, against iw dev.
	ifaces := interfaces(ctx, t, c)
	dev := iw(t, ns, "dev")
	for _, i := range ifaces {
		if !strings.Contains(dev, fmt.Sprintf("Interface %s\n\t\tifindex %d\n", i.Ifname.Value, i.Ifindex.Value)) {
			t.Errorf("iw dev does not show %s with ifindex %d:\n%s", i.Ifname.Value, i.Ifindex.Value, dev)
		}
		if !strings.Contains(dev, "addr "+i.MAC.String()) {
			t.Errorf("iw dev does not show %s's address %s", i.Ifname.Value, i.MAC)
		}
	}
	if len(ifaces) != len(radios) {
		t.Errorf("get-interface dump lists %d interfaces, want one per radio (%d)", len(ifaces), len(radios))
	}

	// A new monitor interface, then delete it.
	reps, err := do(ctx, c, nl80211.CommandsNewInterface, &nl80211.Attrs{
		Wiphy: nl80211.Some(radios[0].wiphy), Ifname: nl80211.Some("gkmon0"), Iftype: nl80211.Some(uint32(iftypeMonitor)),
	})
	if err != nil || len(reps) != 1 {
		t.Fatalf("new-interface: %d replies, %v", len(reps), err)
	}
	mon := reps[0]
	if mon.Ifname.Value != "gkmon0" || mon.Iftype.Value != iftypeMonitor || mon.Wiphy.Value != radios[0].wiphy {
		t.Errorf("new-interface reply %+v", mon)
	}
	got, err := c.GetInterface(ctx, &nl80211.GetInterfaceRequest{Ifindex: mon.Ifindex})
	if err != nil || got.Ifname.Value != "gkmon0" || got.Iftype.Value != iftypeMonitor {
		t.Errorf("get-interface gkmon0: %+v %v", got, err)
	}
	if info := iw(t, ns, "dev", "gkmon0", "info"); !strings.Contains(info, "type monitor") {
		t.Errorf("iw dev gkmon0 info:\n%s\nwant type monitor", info)
	}
	if _, err := do(ctx, c, nl80211.CommandsDelInterface, &nl80211.Attrs{Ifindex: mon.Ifindex}); err != nil {
		t.Fatalf("del-interface: %v", err)
	}
	if _, err := c.GetInterface(ctx, &nl80211.GetInterfaceRequest{Ifindex: mon.Ifindex}); !errors.Is(err, unix.ENODEV) {
		t.Errorf("get-interface of a deleted interface: %v, want ENODEV", err)
	}

	// Set a station interface to monitor and back.
	sta := ifaces[0]
	for _, typ := range []uint32{iftypeMonitor, iftypeStation} {
		if _, err := do(ctx, c, nl80211.CommandsSetInterface, &nl80211.Attrs{Ifindex: sta.Ifindex, Iftype: nl80211.Some(typ)}); err != nil {
			t.Fatalf("set-interface %s to type %d: %v", sta.Ifname.Value, typ, err)
		}
		got, err := c.GetInterface(ctx, &nl80211.GetInterfaceRequest{Ifindex: sta.Ifindex})
		if err != nil || got.Iftype.Value != typ {
			t.Errorf("get-interface after set-interface to %d: %+v %v", typ, got, err)
		}
		want := map[uint32]string{iftypeMonitor: "type monitor", iftypeStation: "type managed"}[typ]
		if info := iw(t, ns, "dev", sta.Ifname.Value, "info"); !strings.Contains(info, want) {
			t.Errorf("iw dev %s info:\n%s\nwant %s", sta.Ifname.Value, info, want)
		}
	}
	// An interface type beyond the policy's maximum.
	if _, err := do(ctx, c, nl80211.CommandsSetInterface, &nl80211.Attrs{Ifindex: sta.Ifindex, Iftype: nl80211.Some(uint32(99))}); !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ERANGE) {
		t.Errorf("set-interface to type 99: %v, want EINVAL or ERANGE", err)
	}
}

func interfaces(ctx context.Context, t *testing.T, c *nl80211.Client) []*nl80211.Attrs {
	t.Helper()
	var out []*nl80211.Attrs
	for m, err := range c.GetInterfaceDump(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *nl80211.Attrs) int { return int(a.Wiphy.Value) - int(b.Wiphy.Value) })
	return out
}

func TestKernelRegulatory(t *testing.T) {
	ns, c, ctx, _ := setup(t)
	reps, err := do(ctx, c, nl80211.CommandsGetReg, &nl80211.Attrs{})
	if err != nil || len(reps) != 1 {
		t.Fatalf("get-reg: %d replies, %v", len(reps), err)
	}
	alpha2 := string(bytes.TrimRight(reps[0].RegAlpha2, "\x00"))
	if len(alpha2) != 2 || reps[0].RegRules == nil {
		t.Errorf("get-reg: alpha2 %q, %d bytes of rules", alpha2, len(reps[0].RegRules))
	}
	m := regexp.MustCompile(`(?m)^country (..):`).FindStringSubmatch(iw(t, ns, "reg", "get"))
	if m == nil || m[1] != alpha2 {
		t.Errorf("iw reg get says country %v, get-reg %q", m, alpha2)
	}
}

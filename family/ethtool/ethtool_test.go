package ethtool_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated ethtool package against the running kernel, on
// veths in a private network namespace.

func TestMain(m *testing.M) { testutils.Main(m) }

func setup(t *testing.T) (*testutils.NS, *ethtool.Client, context.Context) {
	t.Helper()
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := ethtool.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return ns, c, ctx
}

func header(name string) *ethtool.Header {
	return &ethtool.Header{DevName: ethtool.Some(name)}
}

// bits returns the names of the bits a verbose bitset lists as set.
func bits(b *ethtool.Bitset) map[string]bool {
	out := b.Values(nil)
	maps.DeleteFunc(out, func(_ string, on bool) bool { return !on })
	return out
}

// bitIndex returns the index of the named bit in a verbose bitset.
func bitIndex(t *testing.T, b *ethtool.Bitset, name string) uint32 {
	t.Helper()
	if b != nil && b.Bits != nil {
		for _, bit := range b.Bits.Bit {
			if bit.Name.Value == name {
				return bit.Index.Value
			}
		}
	}
	t.Fatalf("no bit %q in %+v", name, b)
	return 0
}

// bitOn reports whether bit idx is set in a bitset in either form: verbose
// (named bits) or compact (value words, as notifications carry them).
func bitOn(b *ethtool.Bitset, idx uint32) bool {
	if b == nil {
		return false
	}
	if b.Bits != nil {
		for _, bit := range b.Bits.Bit {
			if bit.Index.Value == idx {
				return bit.Value || b.Nomask
			}
		}
		return false
	}
	return attrs.Bitmap(b.Value).Test(int(idx))
}

func checkHeader(t *testing.T, op string, h *ethtool.Header, v testutils.Veth) {
	t.Helper()
	if h == nil || h.DevIndex.Value != uint32(v.Index) || h.DevName.Value != v.Name {
		t.Errorf("%s: reply header %+v, want %s (%d)", op, h, v.Name, v.Index)
	}
}

func TestGetOps(t *testing.T) {
	ns, c, ctx := setup(t)
	v := ns.AddVeths(t, "e", 1)[0]

	li, err := c.LinkinfoGet(ctx, &ethtool.LinkinfoGetRequest{Header: header(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, "linkinfo-get", li.Header, v)
	t.Logf("linkinfo: port %v phyaddr %v transceiver %v", li.Port, li.Phyaddr, li.Transceiver)

	lm, err := c.LinkmodesGet(ctx, &ethtool.LinkmodesGetRequest{Header: header(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, "linkmodes-get", lm.Header, v)
	// veth reports 10Gb/s full duplex.
	if lm.Speed.Value != 10000 || lm.Duplex.Value != 1 {
		t.Errorf("linkmodes: speed %v duplex %v", lm.Speed, lm.Duplex)
	}
	t.Logf("linkmodes: autoneg %v speed %v duplex %v ours %d bits", lm.Autoneg, lm.Speed, lm.Duplex, len(bits(lm.Ours)))

	ls, err := c.LinkstateGet(ctx, &ethtool.LinkstateGetRequest{Header: header(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, "linkstate-get", ls.Header, v)
	if !ls.Link.Valid || ls.Link.Value != 1 {
		t.Errorf("linkstate: link %v, want up", ls.Link)
	}

	fe, err := c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: header(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, "features-get", fe.Header, v)
	active := bits(fe.Active)
	if len(active) == 0 || !bits(fe.Hw)["tx-checksum-ip-generic"] {
		t.Errorf("features: active %v", active)
	}

	ch, err := c.ChannelsGet(ctx, &ethtool.ChannelsGetRequest{Header: header(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, "channels-get", ch.Header, v)
	if !ch.RxMax.Valid || ch.RxCount.Value < 1 || ch.RxCount.Value > ch.RxMax.Value {
		t.Errorf("channels: %+v", ch)
	}
	t.Logf("channels: rx %v/%v tx %v/%v", ch.RxCount, ch.RxMax, ch.TxCount, ch.TxMax)

	// veth has no ring parameters: the kernel answers EOPNOTSUPP, named
	// by op. (lo has none either.)
	_, err = c.RingsGet(ctx, &ethtool.RingsGetRequest{Header: header(v.Name)})
	var ge *genl.Error
	if !errors.Is(err, unix.EOPNOTSUPP) || !errors.As(err, &ge) {
		t.Errorf("rings-get on a veth: %v", err)
	}
	t.Logf("rings-get: %v", err)

	// Dumps give one reply per device.
	n := 0
	for lsd, err := range c.LinkstateGetDump(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if lsd.Header == nil || !lsd.Header.DevName.Valid {
			t.Errorf("linkstate dump entry without header: %+v", lsd)
		}
		n++
	}
	if n != 3 { // lo and the veth pair
		t.Errorf("linkstate dump: %d devices, want 3", n)
	}

	// A compact bitset (ETHTOOL_FLAG_COMPACT_BITSETS) comes as value and
	// mask bytes instead of named bits.
	h := header(v.Name)
	h.Flags = ethtool.Some(ethtool.HeaderFlagsCompactBitsets)
	fc, err := c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: h})
	if err != nil {
		t.Fatal(err)
	}
	if fc.Active == nil || fc.Active.Value == nil || !fc.Active.Size.Valid || fc.Active.Bits != nil {
		t.Errorf("compact features: %+v", fc.Active)
	}
}

// TestFeaturesSetNotification turns a feature off and on with features-set
// and sees the change announced on the monitor group as a typed
// features-ntf notification.
func TestFeaturesSetNotification(t *testing.T) {
	ns, c, ctx := setup(t)
	v := ns.AddVeths(t, "f", 1)[0]
	sub, err := c.Subscribe(ctx, "monitor")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	const feature = "tx-checksum-ip-generic"
	cur, err := c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: header(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	idx := bitIndex(t, cur.Hw, feature)
	set := func(on bool) *ethtool.Features {
		t.Helper()
		rep, err := c.FeaturesSet(ctx, &ethtool.FeaturesSetRequest{
			Header: header(v.Name),
			Wanted: ethtool.NewBitset(map[string]bool{feature: on}),
		})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	wait := func(on bool) {
		t.Helper()
		for {
			n, err := sub.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := n.(*ethtool.FeaturesNtf)
			if !ok {
				t.Logf("notification %T %s", n, n.OpName())
				continue
			}
			if f.Header == nil || f.Header.DevName.Value != v.Name {
				continue
			}
			// Notifications carry compact bitsets.
			if bitOn(f.Active, idx) == on {
				return
			}
		}
	}
	if rep := set(false); bitOn(rep.Active, idx) {
		t.Errorf("features-set reply: %s still active", feature)
	}
	wait(false)
	set(true)
	wait(true)

	cur, err = c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: header(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if !bitOn(cur.Active, idx) {
		t.Errorf("%s is off after turning it on", feature)
	}
}

// TestChannelsSet changes a veth's channel count and sees channels-ntf.
func TestChannelsSet(t *testing.T) {
	ns, c, ctx := setup(t)
	v := ns.AddVeths(t, "c", 1)[0]
	ch, err := c.ChannelsGet(ctx, &ethtool.ChannelsGetRequest{Header: header(v.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if ch.RxMax.Value < 2 {
		t.Skipf("veth has %v rx channels at most", ch.RxMax)
	}
	sub, err := c.Subscribe(ctx, "monitor")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	err = c.ChannelsSet(ctx, &ethtool.ChannelsSetRequest{Header: header(v.Name), RxCount: ethtool.Some[uint32](2)})
	if err != nil {
		t.Fatal(err)
	}
	for {
		n, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cn, ok := n.(*ethtool.ChannelsNtf); ok && cn.Header.DevName.Value == v.Name {
			if cn.RxCount.Value != 2 {
				t.Errorf("channels-ntf: rx-count %v", cn.RxCount)
			}
			break
		}
	}
}

// TestNotSupported: ops newer than the running kernel are refused before
// anything is sent.
func TestNotSupported(t *testing.T) {
	_, c, ctx := setup(t)
	if _, ok := c.Family().Op(ethtool.CmdMseGet); ok {
		t.Skip("this kernel has mse-get")
	}
	_, err := c.MseGet(ctx, &ethtool.MseGetRequest{Header: header("lo")})
	if !errors.Is(err, family.ErrNotSupported) {
		t.Errorf("mse-get: %v", err)
	}
}

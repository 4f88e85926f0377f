package netdev_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated netdev package against the running kernel, in a
// private network namespace. They skip without root (fail under
// GENLKIT_REQUIRE_KERNEL=1).

func TestMain(m *testing.M) { testutils.Main(m) }

func setup(t *testing.T) (*testutils.NS, *netdev.Client, context.Context) {
	t.Helper()
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := netdev.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return ns, c, ctx
}

func TestDevGet(t *testing.T) {
	ns, c, ctx := setup(t)
	veths := ns.AddVeths(t, "v", 3)

	var got []int
	for dev, err := range c.DevGetDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if !dev.Ifindex.Valid || !dev.XdpFeatures.Valid {
			t.Errorf("dump entry without ifindex or xdp-features: %+v", dev)
		}
		got = append(got, int(dev.Ifindex.Value))
	}
	want := []int{1} // lo
	for _, v := range veths {
		want = append(want, v.Index, v.PeerIndex)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("dump: ifindexes %v, want %v", got, want)
	}

	for _, v := range veths {
		dev, err := c.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some(uint32(v.Index))})
		if err != nil {
			t.Fatal(err)
		}
		if dev.Ifindex.Value != uint32(v.Index) {
			t.Errorf("dev-get %d: ifindex %v", v.Index, dev.Ifindex)
		}
		// veth implements ndo_xdp_xmit, so it reports at least basic and
		// ndo-xmit XDP features.
		if f := dev.XdpFeatures.Value; f&netdev.XdpActBasic == 0 {
			t.Errorf("dev-get %s: xdp-features %v", v.Name, f)
		}
		t.Logf("%s: xdp-features %v, xdp-rx-metadata-features %v, xsk-features %v",
			v.Name, dev.XdpFeatures, dev.XdpRxMetadataFeatures, dev.XskFeatures)
	}

	// A missing device is the kernel's ENODEV, named by op.
	_, err := c.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](99999)})
	var ge *genl.Error
	if !errors.Is(err, unix.ENODEV) || !errors.As(err, &ge) {
		t.Errorf("dev-get of a missing device: %v", err)
	} else {
		t.Logf("missing device: %v", err)
	}
	// Without the required ifindex the kernel's extended ACK names the
	// missing attribute through the generated attribute names.
	_, err = c.DevGet(ctx, nil)
	if !errors.As(err, &ge) || ge.MissingPath != "ifindex" {
		t.Errorf("dev-get without ifindex: %v (missing %q)", err, ge.MissingPath)
	} else {
		t.Logf("missing attribute: %v", err)
	}
}

// TestQueueNapiQstats runs the other get ops where the kernel answers for a
// veth: queues always, NAPI instances only with GRO or XDP, queue stats
// only for drivers that keep them.
func TestQueueNapiQstats(t *testing.T) {
	ns, c, ctx := setup(t)
	veths := ns.AddVeths(t, "q", 1)
	idx := uint32(veths[0].Index)

	var queues []*netdev.Queue
	for q, err := range c.QueueGetDump(ctx, &netdev.QueueGetDumpRequest{Ifindex: netdev.Some(idx)}) {
		if err != nil {
			t.Fatal(err)
		}
		queues = append(queues, q)
	}
	if len(queues) < 2 {
		t.Fatalf("queue-get dump: %d queues, want rx and tx", len(queues))
	}
	types := map[netdev.QueueType]bool{}
	for _, q := range queues {
		if q.Ifindex.Value != idx {
			t.Errorf("queue of ifindex %v", q.Ifindex)
		}
		types[q.Type.Value] = true
	}
	if !types[netdev.QueueTypeRx] || !types[netdev.QueueTypeTx] {
		t.Errorf("queue types %v", types)
	}
	q, err := c.QueueGet(ctx, &netdev.QueueGetRequest{Ifindex: netdev.Some(idx), Type: netdev.Some(netdev.QueueTypeRx), ID: netdev.Some[uint32](0)})
	if err != nil {
		t.Fatal(err)
	}
	if q.Type.Value != netdev.QueueTypeRx || q.ID.Value != 0 {
		t.Errorf("queue-get: %+v", q)
	}
	t.Logf("queue rx 0: %+v", q)

	// NAPI: veth has NAPI instances once GRO is on; turn it on with the
	// generated ethtool package.
	et, err := ethtool.New(ctx, c.Conn())
	if err != nil {
		t.Fatal(err)
	}
	_, err = et.FeaturesSet(ctx, &ethtool.FeaturesSetRequest{
		Header: &ethtool.Header{DevIndex: ethtool.Some(idx)},
		Wanted: &ethtool.Bitset{Bits: &ethtool.BitsetBits{Bit: []ethtool.BitsetBit{{Name: ethtool.Some("rx-gro"), Value: true}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var napis []*netdev.Napi
	for n, err := range c.NapiGetDump(ctx, &netdev.NapiGetDumpRequest{Ifindex: netdev.Some(idx)}) {
		if err != nil {
			t.Fatal(err)
		}
		napis = append(napis, n)
	}
	t.Logf("napi-get dump: %d instances", len(napis))
	if len(napis) == 0 {
		t.Error("no NAPI instances on a veth with GRO")
	}
	for _, n := range napis {
		got, err := c.NapiGet(ctx, &netdev.NapiGetRequest{ID: n.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != n.ID || got.Ifindex.Value != idx {
			t.Errorf("napi-get %v: %+v", n.ID, got)
		}
	}

	// qstats: veth keeps no per-queue statistics; the dump is empty or
	// refused, never malformed.
	n := 0
	for s, err := range c.QstatsGetDump(ctx, &netdev.QstatsGetDumpRequest{Ifindex: netdev.Some(idx)}) {
		if err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) {
				t.Logf("qstats-get: %v", err)
				break
			}
			t.Fatal(err)
		}
		n++
		t.Logf("qstats: %+v", s)
	}
	t.Logf("qstats-get dump: %d entries", n)

	// page pools exist only for drivers that use them: an empty dump.
	for p, err := range c.PagePoolGetDump(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("page pool: %+v", p)
	}
}

// TestOpsMissingFromKernel: the spec is newer than the kernel; an op the
// running kernel lacks is refused before anything is sent.
func TestOpsMissingFromKernel(t *testing.T) {
	_, c, ctx := setup(t)
	if _, ok := c.Family().Op(netdev.CmdQueueCreate); ok {
		t.Skip("this kernel has queue-create")
	}
	_, err := c.QueueCreate(ctx, &netdev.QueueCreateRequest{Ifindex: netdev.Some[uint32](1)})
	if !errors.Is(err, family.ErrNotSupported) {
		t.Errorf("queue-create: %v, want family.ErrNotSupported", err)
	}
	t.Logf("queue-create: %v", err)
}

// TestMgmtNotifications: netdev's mgmt group announces devices added and
// removed, as typed notifications.
func TestMgmtNotifications(t *testing.T) {
	ns, c, ctx := setup(t)
	sub, err := c.Subscribe(ctx, netdev.GroupMgmt)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := c.Subscribe(ctx, "no-such-group"); !errors.Is(err, family.ErrNotFound) {
		t.Errorf("unknown group: %v", err)
	}

	veths := ns.AddVeths(t, "n", 1)
	want := map[uint32]bool{uint32(veths[0].Index): true, uint32(veths[0].PeerIndex): true}
	added := map[uint32]bool{}
	for len(added) < 2 {
		n, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch n := n.(type) {
		case *netdev.DevAddNtf:
			if !want[n.Ifindex.Value] {
				t.Errorf("dev-add-ntf for unexpected ifindex %v", n.Ifindex)
			}
			added[n.Ifindex.Value] = true
		case *netdev.DevChangeNtf:
		default:
			t.Logf("notification %T %s", n, n.OpName())
		}
	}

	ns.DelLinks(t, veths[0].Name)
	deleted := map[uint32]bool{}
	for len(deleted) < 2 {
		n, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := n.(*netdev.DevDelNtf); ok {
			if !want[d.Ifindex.Value] {
				t.Errorf("dev-del-ntf for unexpected ifindex %v", d.Ifindex)
			}
			deleted[d.Ifindex.Value] = true
		}
	}
}

// TestResolverOption: a Client may share a family.Resolver.
func TestResolverOption(t *testing.T) {
	ns := testutils.NetNS(t)
	conn, err := genl.Dial(genl.WithNetNS(ns.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, err := family.NewResolver(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := netdev.New(ctx, conn, netdev.WithResolver(r))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := netdev.New(ctx, conn, netdev.WithResolver(r)); err != nil {
		t.Fatal(err)
	}
	if n := r.Fetches(); n != 1 {
		t.Errorf("resolver asked the kernel %d times, want 1", n)
	}
}

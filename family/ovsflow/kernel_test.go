package ovsflow_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/ovsdatapath"
	"github.com/genlkit/genlkit/family/ovsflow"
	"github.com/genlkit/genlkit/family/ovspacket"
	"github.com/genlkit/genlkit/family/ovsvport"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated openvswitch packages (ovs_datapath, ovs_vport,
// ovs_flow, ovs_packet) against a kernel with the openvswitch module (the
// VM harness's guests), in a private network namespace. A datapath, its
// vports, flows and an executed packet, each read back.

func TestMain(m *testing.M) { testutils.Main(m) }

// An ovs is a datapath made for one test with the clients of its families.
type ovs struct {
	ns    *testutils.NS
	conn  *genl.Conn
	dp    *ovsdatapath.Client
	vport *ovsvport.Client
	flow  *ovsflow.Client
	pkt   *ovspacket.Client
	name  string
	index uint32 // the datapath's ifindex, its ovs_header
}

func newOVS(t *testing.T) (*ovs, context.Context) {
	t.Helper()
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	dp, err := ovsdatapath.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), ovsdatapath.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	o := &ovs{ns: ns, conn: conn, dp: dp, name: "gk-dp"}
	if o.vport, err = ovsvport.New(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if o.flow, err = ovsflow.New(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if o.pkt, err = ovspacket.New(ctx, conn); err != nil {
		t.Fatal(err)
	}
	err = dp.NewDatapath(ctx, ovsdatapath.OvsHeader{}, &ovsdatapath.NewDatapathRequest{
		Name:         ovsdatapath.Some(o.name),
		UpcallPID:    ovsdatapath.Some(conn.PortID()),
		UserFeatures: ovsdatapath.Some(ovsdatapath.UserFeaturesUnaligned),
	})
	if err != nil {
		t.Fatalf("datapath new: %v", err)
	}
	m, err := dp.Get(ctx, ovsdatapath.OvsHeader{}, &ovsdatapath.GetRequest{Name: ovsdatapath.Some(o.name)})
	if err != nil {
		t.Fatalf("datapath get: %v", err)
	}
	o.index = m.Header.DpIfindex
	return o, ctx
}

func (o *ovs) addVport(ctx context.Context, t *testing.T, name string, typ ovsvport.VportType) uint32 {
	t.Helper()
	err := o.vport.NewVport(ctx, ovsvport.OvsHeader{DpIfindex: o.index}, &ovsvport.NewVportRequest{
		Name: ovsvport.Some(name), Type: ovsvport.Some(typ), UpcallPID: []uint32{o.conn.PortID()},
	})
	if err != nil {
		t.Fatalf("vport new %s: %v", name, err)
	}
	m, err := o.vport.Get(ctx, ovsvport.OvsHeader{DpIfindex: o.index}, &ovsvport.GetRequest{Name: ovsvport.Some(name)})
	if err != nil {
		t.Fatalf("vport get %s: %v", name, err)
	}
	return m.PortNo.Value
}

func TestKernelDatapathAndVports(t *testing.T) {
	o, ctx := newOVS(t)
	idx := o.ns.Ifindexes(t)
	if o.index == 0 || o.index != uint32(idx[o.name]) {
		t.Errorf("datapath ifindex %d, ip says %s is %d", o.index, o.name, idx[o.name])
	}
	m, err := o.dp.Get(ctx, ovsdatapath.OvsHeader{DpIfindex: o.index}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name.Value != o.name || !m.Stats.Valid || m.Stats.Value.NFlows != 0 || m.UserFeatures.Value&ovsdatapath.UserFeaturesUnaligned == 0 {
		t.Errorf("datapath by ifindex: %+v", m)
	}
	// A second datapath; the dump lists both.
	if err := o.dp.NewDatapath(ctx, ovsdatapath.OvsHeader{}, &ovsdatapath.NewDatapathRequest{Name: ovsdatapath.Some("gk-dp2"), UpcallPID: ovsdatapath.Some(uint32(0))}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for m, err := range o.dp.GetDump(ctx, ovsdatapath.OvsHeader{}, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.Name.Value)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"gk-dp", "gk-dp2"}) {
		t.Errorf("datapath dump: %q", names)
	}
	if err := o.dp.Del(ctx, ovsdatapath.OvsHeader{}, &ovsdatapath.DelRequest{Name: ovsdatapath.Some("gk-dp2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.dp.Get(ctx, ovsdatapath.OvsHeader{}, &ovsdatapath.GetRequest{Name: ovsdatapath.Some("gk-dp2")}); !errors.Is(err, unix.ENODEV) {
		t.Errorf("get of a deleted datapath: %v, want ENODEV", err)
	}
	if _, ok := o.ns.Ifindexes(t)["gk-dp2"]; ok {
		t.Error("ip still lists gk-dp2")
	}

	// Vports: a netdev one on a dummy, an internal one.
	o.ns.IP(t, "link", "add", "ovs-d0", "type", "dummy")
	p1 := o.addVport(ctx, t, "ovs-d0", ovsvport.VportTypeNetdev)
	p2 := o.addVport(ctx, t, "gk-int", ovsvport.VportTypeInternal)
	idx = o.ns.Ifindexes(t)
	want := map[string]struct {
		no  uint32
		typ ovsvport.VportType
	}{o.name: {0, ovsvport.VportTypeInternal}, "ovs-d0": {p1, ovsvport.VportTypeNetdev}, "gk-int": {p2, ovsvport.VportTypeInternal}}
	got := 0
	for m, err := range o.vport.GetDump(ctx, ovsvport.OvsHeader{DpIfindex: o.index}, nil) {
		if err != nil {
			t.Fatal(err)
		}
		got++
		w, ok := want[m.Name.Value]
		if !ok || m.PortNo.Value != w.no || m.Type.Value != w.typ || m.Header.DpIfindex != o.index || !m.Stats.Valid {
			t.Errorf("vport dump: %+v (header %+v), want %+v", m.Vport, m.Header, w)
		}
		if m.Ifindex.Valid && m.Ifindex.Value != uint32(idx[m.Name.Value]) {
			t.Errorf("vport %s ifindex %d, ip says %d", m.Name.Value, m.Ifindex.Value, idx[m.Name.Value])
		}
	}
	if got != 3 {
		t.Errorf("vport dump gave %d vports, want 3", got)
	}
	// ip shows the dummy enslaved to the datapath's own device.
	var links []struct {
		Master string `json:"master"`
	}
	if err := json.Unmarshal([]byte(o.ns.IP(t, "-j", "link", "show", "ovs-d0")), &links); err != nil || len(links) != 1 || links[0].Master != o.name {
		t.Errorf("ip link show ovs-d0: %+v %v, want master %s", links, err, o.name)
	}
	if err := o.vport.Del(ctx, ovsvport.OvsHeader{DpIfindex: o.index}, &ovsvport.DelRequest{Name: ovsvport.Some("ovs-d0")}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.vport.Get(ctx, ovsvport.OvsHeader{DpIfindex: o.index}, &ovsvport.GetRequest{Name: ovsvport.Some("ovs-d0")}); !errors.Is(err, unix.ENODEV) {
		t.Errorf("get of a deleted vport: %v, want ENODEV", err)
	}
	// A vport of a type the kernel has no module for, or no name: errors.
	err = o.vport.NewVport(ctx, ovsvport.OvsHeader{DpIfindex: o.index}, &ovsvport.NewVportRequest{Type: ovsvport.Some(ovsvport.VportTypeNetdev), UpcallPID: []uint32{0}})
	if !errors.Is(err, unix.EINVAL) {
		t.Errorf("vport new without a name: %v, want EINVAL", err)
	}

	if err := o.dp.Del(ctx, ovsdatapath.OvsHeader{DpIfindex: o.index}, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := o.ns.Ifindexes(t)[o.name]; ok {
		t.Error("ip still lists the deleted datapath's device")
	}
}

// udpKey is the exact-match key of a UDP packet from 192.0.2.1:1234 to
// 198.51.100.2:5678 arriving on port in.
func udpKey(in uint32) *ovsflow.KeyAttrs {
	return &ovsflow.KeyAttrs{
		InPort:    ovsflow.Some(in),
		Ethernet:  ovsflow.Some(ovsflow.OvsKeyEthernet{EthSrc: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthDst: net.HardwareAddr{2, 0, 0, 0, 0, 2}}),
		Ethertype: ovsflow.Some(uint16(0x0800)),
		IPv4:      ovsflow.Some(ovsflow.OvsKeyIPv4{IPv4Src: netip.MustParseAddr("192.0.2.1"), IPv4Dst: netip.MustParseAddr("198.51.100.2"), IPv4Proto: unix.IPPROTO_UDP, IPv4TTL: 64}),
		UDP:       ovsflow.Some(ovsflow.OvsKeyUDP{UDPSrc: 1234, UDPDst: 5678}),
	}
}

var pushVLAN = ovsflow.ActionAttrs{PushVLAN: ovsflow.Some(ovsflow.OvsActionPushVLAN{VLANTpid: 0x8100, VLANTci: 0x1000 | 10})}

// vlanTwice is an ordered action list that repeats an action: push a
// VLAN, output to port, pop the VLAN, output to port again.
func vlanTwice(port uint32) []ovsflow.ActionAttrs {
	return []ovsflow.ActionAttrs{pushVLAN, {Output: ovsflow.Some(port)}, {PopVLAN: true}, {Output: ovsflow.Some(port)}}
}

// checkVLANTwice reports whether acts, read back, is vlanTwice(port).
func checkVLANTwice(t *testing.T, acts []ovsflow.ActionAttrs, port uint32) {
	t.Helper()
	if len(acts) != 4 || acts[0].PushVLAN.Value != pushVLAN.PushVLAN.Value || acts[1].Output.Value != port || !acts[2].PopVLAN || acts[3].Output.Value != port {
		t.Errorf("action list read back: %+v, want push-vlan, output:%d, pop-vlan, output:%d", acts, port, port)
	}
	for i, a := range acts {
		if len(a.Extra) != 0 {
			t.Errorf("action %d read back with attributes beyond one action: %+v", i, a.Extra)
		}
	}
}

// delFlow deletes the flow with key through the generic path: ovs_flow's
// spec has no del op (the kernel's OVS_FLOW_CMD_DEL).
func (o *ovs) delFlow(ctx context.Context, key *ovsflow.KeyAttrs) error {
	var e attrs.Encoder
	e.Reset(binary.NativeEndian.AppendUint32(nil, o.index))
	if err := (&ovsflow.FlowAttrs{Key: key}).MarshalAttrs(&e); err != nil {
		return err
	}
	b := e.Bytes()
	return o.conn.Do(ctx, genl.Request{Family: o.flow.Family().ID, Command: ovsFlowCmdDel, Version: ovsflow.FamilyVersion, Header: b[:4], Attrs: b[4:]}, nil)
}

const ovsFlowCmdDel = 2 // OVS_FLOW_CMD_DEL

func TestKernelFlowsAndPacket(t *testing.T) {
	o, ctx := newOVS(t)
	o.ns.IP(t, "link", "add", "ovs-d0", "type", "dummy")
	p1 := o.addVport(ctx, t, "ovs-d0", ovsvport.VportTypeNetdev)
	p2 := o.addVport(ctx, t, "gk-int", ovsvport.VportTypeInternal)
	o.ns.IP(t, "link", "set", "gk-int", "up")
	hdr := ovsflow.OvsHeader{DpIfindex: o.index}

	// A flow with one output action.
	key := udpKey(p1)
	if err := o.flow.NewFlow(ctx, hdr, &ovsflow.NewFlowRequest{Key: key, Actions: []ovsflow.ActionAttrs{{Output: ovsflow.Some(p2)}}}); err != nil {
		t.Fatalf("flow new: %v", err)
	}
	f, err := o.flow.Get(ctx, hdr, &ovsflow.GetRequest{Key: key})
	if err != nil {
		t.Fatalf("flow get: %v", err)
	}
	if f.Key == nil || f.Key.InPort.Value != p1 || f.Key.IPv4.Value.IPv4Dst != netip.MustParseAddr("198.51.100.2") || f.Key.UDP.Value.UDPDst != 5678 || f.Key.Ethertype.Value != 0x0800 ||
		f.Key.Ethernet.Value.EthSrc.String() != "02:00:00:00:00:01" {
		t.Errorf("flow key read back: %+v", f.Key)
	}
	if len(f.Actions) != 1 || f.Actions[0].Output.Value != p2 || f.Stats.Value.NPackets != 0 {
		t.Errorf("flow actions and stats read back: %+v %+v", f.Actions, f.Stats)
	}
	// A second flow, from another port, with an ordered action list that
	// repeats actions; it reads back in the same order.
	key2 := udpKey(p2)
	if err := o.flow.NewFlow(ctx, hdr, &ovsflow.NewFlowRequest{Key: key2, Actions: vlanTwice(p1)}); err != nil {
		t.Fatalf("flow new with an ordered action list: %v", err)
	}
	f2, err := o.flow.Get(ctx, hdr, &ovsflow.GetRequest{Key: key2})
	if err != nil {
		t.Fatalf("flow get: %v", err)
	}
	checkVLANTwice(t, f2.Actions, p1)
	var keys []uint32
	for f, err := range o.flow.GetDump(ctx, hdr, nil) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, f.Key.InPort.Value)
		if f.Key.InPort.Value == p2 {
			checkVLANTwice(t, f.Actions, p1)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []uint32{p1, p2}) {
		t.Errorf("flow dump: in ports %v, want %d and %d", keys, p1, p2)
	}
	dm, err := o.dp.Get(ctx, ovsdatapath.OvsHeader{DpIfindex: o.index}, nil)
	if err != nil || dm.Stats.Value.NFlows != 2 {
		t.Errorf("datapath after two flows: %+v %v, want 2 flows", dm, err)
	}

	// New for an existing flow (without NLM_F_CREATE) replaces its actions.
	if err := o.flow.NewFlow(ctx, hdr, &ovsflow.NewFlowRequest{Key: key, Actions: []ovsflow.ActionAttrs{{Output: ovsflow.Some(p1)}}}); err != nil {
		t.Fatalf("flow new on an existing flow: %v", err)
	}
	if f, err := o.flow.Get(ctx, hdr, &ovsflow.GetRequest{Key: key}); err != nil || len(f.Actions) != 1 || f.Actions[0].Output.Value != p1 {
		t.Errorf("flow after its actions were replaced: %+v %v, want output to %d", f, err, p1)
	}
	// Deleting it twice: ENOENT the second time.
	if err := o.delFlow(ctx, key); err != nil {
		t.Fatalf("flow del: %v", err)
	}
	if err := o.delFlow(ctx, key); !errors.Is(err, unix.ENOENT) {
		t.Errorf("deleting a deleted flow: %v, want ENOENT", err)
	}
	if _, err := o.flow.Get(ctx, hdr, &ovsflow.GetRequest{Key: key}); !errors.Is(err, unix.ENOENT) {
		t.Errorf("get of a deleted flow: %v, want ENOENT", err)
	}

	// Execute a packet with an ordered action list that outputs it twice
	// to the internal port, whose device counts both as received.
	before := rxPackets(t, o.ns, "gk-int")
	frame := udpFrame()
	var ke, ae attrs.Encoder
	if err := udpKey(p1).MarshalAttrs(&ke); err != nil {
		t.Fatal(err)
	}
	for _, a := range vlanTwice(p2) { // ovs_packet's actions: the attributes of ovs_flow's list, in order
		if err := a.MarshalAttrs(&ae); err != nil {
			t.Fatal(err)
		}
	}
	err = o.pkt.Execute(ctx, ovspacket.OvsHeader{DpIfindex: o.index}, &ovspacket.ExecuteRequest{Packet: frame, Key: ke.Bytes(), Actions: ae.Bytes()})
	if err != nil {
		t.Fatalf("packet execute: %v", err)
	}
	if after := rxPackets(t, o.ns, "gk-int"); after != before+2 {
		t.Errorf("gk-int received %d packets after execute, want 2", after-before)
	}
	// A frame shorter than an Ethernet header is refused by the policy.
	err = o.pkt.Execute(ctx, ovspacket.OvsHeader{DpIfindex: o.index}, &ovspacket.ExecuteRequest{Packet: frame[:10], Key: ke.Bytes(), Actions: ae.Bytes()})
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ERANGE) {
		t.Errorf("execute of a 10-byte frame: %v, want EINVAL or ERANGE", err)
	}
}

// udpFrame is an Ethernet frame matching udpKey: IPv4 UDP from
// 192.0.2.1:1234 to 198.51.100.2:5678, TTL 64, four bytes of payload.
func udpFrame() []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}
	ip := []byte{0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, unix.IPPROTO_UDP, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2}
	var sum uint32
	for i := 0; i < len(ip); i += 2 {
		sum += uint32(ip[i])<<8 | uint32(ip[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := []byte{0x04, 0xd2, 0x16, 0x2e, 0, 12, 0, 0, 'g', 'e', 'n', 'l'}
	return append(append(b, ip...), udp...)
}

// rxPackets reads a device's received-packet count with ip.
func rxPackets(t *testing.T, ns *testutils.NS, dev string) uint64 {
	t.Helper()
	var links []struct {
		Stats struct {
			RX struct {
				Packets uint64 `json:"packets"`
			} `json:"rx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(ns.IP(t, "-j", "-s", "link", "show", dev)), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s link show %s: %v", dev, err)
	}
	return links[0].Stats.RX.Packets
}

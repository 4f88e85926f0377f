package ovsflow_test

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/ovsflow"
)

// Action lists are ordered (project overlay): [output:1, pop_vlan,
// output:2, clone(output:3), output:4] decodes to five actions in that
// order, a nested list included, and encodes back to the same bytes.
func TestActionsKeepOrder(t *testing.T) {
	var e attrs.Encoder
	acts := e.Nest(ovsflow.AttrActions)
	e.U32(ovsflow.AttrActionOutput, 1)
	e.Flag(ovsflow.AttrActionPopVLAN)
	e.U32(ovsflow.AttrActionOutput, 2)
	clone := e.Nest(ovsflow.AttrActionClone)
	e.U32(ovsflow.AttrActionOutput, 3)
	e.End(clone)
	e.Binary(ovsflow.AttrActionPushVLAN, []byte{0x81, 0x00, 0x10, 0x05})
	e.U32(ovsflow.AttrActionOutput, 4)
	e.End(acts)
	e.U64(ovsflow.AttrUsed, 1234)
	msg := bytes.Clone(e.Bytes())

	var v ovsflow.FlowAttrs
	if err := v.UnmarshalAttrs(msg); err != nil {
		t.Fatal(err)
	}
	a := v.Actions
	if len(a) != 6 {
		t.Fatalf("%d actions, want 6: %+v", len(a), a)
	}
	if a[0].Output.Value != 1 || !a[1].PopVLAN || a[2].Output.Value != 2 || a[5].Output.Value != 4 {
		t.Errorf("actions out of order: %+v", a)
	}
	if len(a[3].Clone) != 1 || a[3].Clone[0].Output.Value != 3 {
		t.Errorf("clone: %+v, want [output:3]", a[3].Clone)
	}
	if pv := a[4].PushVLAN.Value; pv.VLANTpid != 0x8100 || pv.VLANTci != 0x1005 {
		t.Errorf("push-vlan: %+v", pv)
	}
	var out attrs.Encoder
	if err := v.MarshalAttrs(&out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), msg) {
		t.Errorf("re-encoded:\n% x\nwant\n% x", out.Bytes(), msg)
	}

	// An empty list (a drop flow) stays present and empty.
	e.Reset(nil)
	e.End(e.Nest(ovsflow.AttrActions))
	var drop ovsflow.FlowAttrs
	if err := drop.UnmarshalAttrs(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if drop.Actions == nil || len(drop.Actions) != 0 {
		t.Errorf("drop actions %#v, want empty and non-nil", drop.Actions)
	}
	out.Reset(nil)
	if err := drop.MarshalAttrs(&out); err != nil || !bytes.Equal(out.Bytes(), e.Bytes()) {
		t.Errorf("drop flow re-encoded as % x (%v), want % x", out.Bytes(), err, e.Bytes())
	}
}

// Struct members with ipv4/ipv6/mac display hints are netip.Addr and
// net.HardwareAddr, written in network order.
func TestStructMemberHints(t *testing.T) {
	k := ovsflow.OvsKeyIPv4{IPv4Src: netip.MustParseAddr("192.0.2.1"), IPv4Dst: netip.MustParseAddr("198.51.100.7"), IPv4Proto: 6}
	b, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[:8], []byte{192, 0, 2, 1, 198, 51, 100, 7}) {
		t.Errorf("layout % x", b)
	}
	var back ovsflow.OvsKeyIPv4
	if err := back.UnmarshalBinary(b); err != nil || back != k {
		t.Errorf("round trip %+v (%v), want %+v", back, err, k)
	}
	k.IPv4Src = netip.MustParseAddr("2001:db8::1")
	if _, err := k.MarshalBinary(); err == nil {
		t.Error("an IPv6 address in an IPv4 member encoded")
	}
	eth := ovsflow.OvsKeyEthernet{EthSrc: net.HardwareAddr{2, 0, 0, 0, 0, 1}}
	b, err = eth.MarshalBinary()
	if err != nil || !bytes.Equal(b, []byte{2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("ethernet key % x (%v)", b, err)
	}
}

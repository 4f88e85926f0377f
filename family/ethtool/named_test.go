package ethtool_test

import (
	"fmt"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/ethtool"
)

// TestNamedTypes: port, duplex, transceiver, MDI-X, autoneg and link modes
// are named types (project overlay, values from uapi ethtool.h) whose
// String gives what ethtool prints; values the overlay does not know print
// as their number.
func TestNamedTypes(t *testing.T) {
	for _, tc := range []struct {
		v    fmt.Stringer
		want string
	}{
		{ethtool.PortTp, "Twisted Pair"},
		{ethtool.PortAui, "AUI"},
		{ethtool.Port(2), "MII"}, // PORT_MII
		{ethtool.Port(3), "FIBRE"},
		{ethtool.Port(4), "BNC"},
		{ethtool.PortDa, "Direct Attach Copper"},
		{ethtool.Port(0xef), "None"},
		{ethtool.Port(0xff), "Other"},
		{ethtool.Port(0x42), "Port(66)"},
		{ethtool.DuplexHalf, "Half"},
		{ethtool.Duplex(1), "Full"},
		{ethtool.Duplex(0xff), "Unknown"},
		{ethtool.Duplex(7), "Duplex(7)"},
		{ethtool.TransceiverInternal, "internal"},
		{ethtool.Transceiver(1), "external"},
		{ethtool.Transceiver(9), "Transceiver(9)"},
		{ethtool.MDIModeInvalid, "invalid"},
		{ethtool.MDIMode(1), "mdi"},
		{ethtool.MDIMode(2), "mdi-x"},
		{ethtool.MDIMode(3), "auto"},
		{ethtool.MDIMode(4), "MDIMode(4)"},
		{ethtool.AutonegDisable, "off"},
		{ethtool.Autoneg(1), "on"},
		{ethtool.Autoneg(2), "Autoneg(2)"},
		{ethtool.LinkMode10basetHalf, "10baseT/Half"},
		{ethtool.LinkMode(5), "1000baseT/Full"},
		{ethtool.LinkModeAsymPause, "Asym_Pause"},
		{ethtool.LinkMode(49), "None"}, // FEC_NONE
		{ethtool.LinkModeFECRs, "RS"},
		{ethtool.LinkMode(120), "800000baseVR4/Full"},
		{ethtool.LinkMode(500), "LinkMode(500)"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%T(%d).String() = %q, want %q", tc.v, tc.v, got, tc.want)
		}
	}
}

// TestLinkinfoFieldTypes: the linkinfo and linkmodes replies decode into
// the named types.
func TestLinkinfoFieldTypes(t *testing.T) {
	var e attrs.Encoder
	e.U8(ethtool.AttrLinkinfoPort, 3)
	e.U8(ethtool.AttrLinkinfoTpMDIX, 2)
	e.U8(ethtool.AttrLinkinfoTpMDIXCtrl, 3)
	e.U8(ethtool.AttrLinkinfoTransceiver, 0x42)
	var info ethtool.Linkinfo
	if err := info.UnmarshalAttrs(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(info.Port.Value, "|", info.TpMDIX.Value, "|", info.TpMDIXCtrl.Value, "|", info.Transceiver.Value)
	if want := "FIBRE|mdi-x|auto|Transceiver(66)"; got != want {
		t.Errorf("linkinfo %s, want %s", got, want)
	}
	lm := decodeLinkmodes(linkmodesReply())
	if lm.Duplex.Value != ethtool.DuplexFull || lm.Autoneg.Value != ethtool.AutonegEnable {
		t.Errorf("linkmodes duplex %v autoneg %v", lm.Duplex.Value, lm.Autoneg.Value)
	}
}

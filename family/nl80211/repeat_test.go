package nl80211_test

import (
	"bytes"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/nl80211"
)

// nl80211_send_mgmt_stypes puts one frame-type per management subtype in
// the nest of each interface type (the project overlay marks it
// multi-attr): a wiphy reply keeps every one, in wire order, and encodes
// back to the same bytes.
func TestFrameTypesRepeat(t *testing.T) {
	var e attrs.Encoder
	e.U32(nl80211.AttrWiphy, 0)
	e.String(nl80211.AttrWiphyName, "phy0")
	tx := e.Nest(nl80211.AttrTxFrameTypes)
	station := e.Nest(nl80211.AttrIftypeStation)
	stypes := []uint16{0x00, 0x10, 0x20, 0x40, 0xd0}
	for _, s := range stypes {
		e.U16(nl80211.AttrFrameType, s)
	}
	e.End(station)
	ap := e.Nest(nl80211.AttrIftypeAp)
	e.U16(nl80211.AttrFrameType, 0xd0)
	e.End(ap)
	e.End(tx)
	msg := bytes.Clone(e.Bytes())

	var v nl80211.Attrs
	if err := v.UnmarshalAttrs(msg); err != nil {
		t.Fatal(err)
	}
	got := v.TxFrameTypes.Station.FrameType
	if len(got) != len(stypes) || got[0] != 0x00 || got[4] != 0xd0 {
		t.Errorf("station frame types %#x, want %#x", got, stypes)
	}
	if ap := v.TxFrameTypes.Ap.FrameType; len(ap) != 1 {
		t.Errorf("ap frame types %#x, want [0xd0]", ap)
	}
	var out attrs.Encoder
	if err := v.MarshalAttrs(&out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), msg) {
		t.Errorf("re-encoded:\n% x\nwant\n% x", out.Bytes(), msg)
	}
}

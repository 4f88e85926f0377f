package fou_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/fou"
)

// The kernel reads local-v4 and peer-v4 as in_addr and local-v6 and
// peer-v6 as in6_addr (the project overlay's correction of the spec's
// host-order u32): the addresses go on the wire in network order.
func TestAddressesInNetworkOrder(t *testing.T) {
	req := &fou.AddRequest{
		Af:      fou.Some(uint8(2)),
		LocalV4: netip.MustParseAddr("192.0.2.1"),
		PeerV4:  netip.MustParseAddr("198.51.100.2"),
		LocalV6: netip.MustParseAddr("2001:db8::1"),
	}
	var e attrs.Encoder
	if err := req.MarshalAttrs(&e); err != nil {
		t.Fatal(err)
	}
	want := map[uint16][]byte{
		fou.AttrAf:      {2},
		fou.AttrLocalV4: {192, 0, 2, 1},
		fou.AttrPeerV4:  {198, 51, 100, 2},
		fou.AttrLocalV6: netip.MustParseAddr("2001:db8::1").AsSlice(),
	}
	d := attrs.NewDecoder(e.Bytes())
	for d.Next() {
		if w, ok := want[d.Type()]; !ok || !bytes.Equal(d.Bytes(), w) {
			t.Errorf("attribute %d: % x, want % x", d.Type(), d.Bytes(), w)
		}
		delete(want, d.Type())
	}
	if err := d.Err(); err != nil || len(want) != 0 {
		t.Errorf("decoding the request: %v; attributes not sent: %v", err, want)
	}
	var back fou.Fou
	if err := back.UnmarshalAttrs(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if back.LocalV4 != req.LocalV4 || back.PeerV4 != req.PeerV4 || back.LocalV6 != req.LocalV6 || back.PeerV6.IsValid() {
		t.Errorf("read back as %+v", back)
	}
	// An address of the other family is refused, not truncated.
	e.Reset(nil)
	if err := (&fou.AddRequest{LocalV4: netip.MustParseAddr("2001:db8::1")}).MarshalAttrs(&e); err == nil {
		t.Error("an IPv6 address as local-v4 encoded without error")
	}
}

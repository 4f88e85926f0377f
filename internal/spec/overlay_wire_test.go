package spec

import (
	"strings"
	"testing"
)

// An overlay byte order or display hint that does not fit its attribute
// is an error naming the file, the set and the attribute.
func TestOverlayWireChecks(t *testing.T) {
	s := &AttributeSet{Name: "s"}
	for _, c := range []struct {
		typ  AttrType
		ov   overlayAttr
		fail string
	}{
		{TypeU32, overlayAttr{ByteOrder: ByteOrderBig, DisplayHint: HintIPv4}, ""},
		{TypeBinary, overlayAttr{DisplayHint: HintIPv4}, ""},
		{TypeBinary, overlayAttr{DisplayHint: HintIPv6}, ""},
		{TypeU16, overlayAttr{ByteOrder: ByteOrderLittle}, ""},
		{TypeU32, overlayAttr{DisplayHint: HintIPv4}, "does not fit a host-order u32"},
		{TypeU32, overlayAttr{DisplayHint: HintIPv6}, "display-hint \"ipv6\""},
		{TypeString, overlayAttr{ByteOrder: ByteOrderBig}, "byte-order applies to integers"},
		{TypeU32, overlayAttr{ByteOrder: "middle-endian"}, "unknown byte-order"},
		{TypeBinary, overlayAttr{DisplayHint: HintMAC}, "display-hint \"mac\""},
	} {
		a := &Attribute{Name: "a", Type: c.typ}
		err := checkWire("overlay/x.yaml", s, a, c.ov)
		switch {
		case c.fail == "" && err != nil:
			t.Errorf("%s %+v: %v", c.typ, c.ov, err)
		case c.fail != "" && (err == nil || !strings.Contains(err.Error(), c.fail) || !strings.Contains(err.Error(), `attribute "a" of set "s"`)):
			t.Errorf("%s %+v: %v, want an error with %q", c.typ, c.ov, err, c.fail)
		}
	}
}

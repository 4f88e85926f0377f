package jsonmsg

import (
	"bytes"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

// Attributes the project overlay marks multi-attr are arrays even when the
// kernel sent one (team's option), so that scripts can rely on the shape.
func TestOverlayMultiIsAlwaysAnArray(t *testing.T) {
	d := specDesc(t, "team")
	c := New(d)
	var e attrs.Encoder
	e.U32(1, 7) // team-ifindex
	list := e.Nest(2)
	item := e.Nest(1) // one option
	e.String(1, "mode")
	e.End(item)
	e.End(list)
	got, err := c.DecodeMessage(op(t, d, "options-get"), e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"team-ifindex": 7, "list-option": {"option": [{"name": "mode"}]}}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

// An ordered nest (ovs actions) is an array of one-attribute objects in
// wire order, and encodes back in that order.
func TestOrderedListJSON(t *testing.T) {
	d := specDesc(t, "ovs_flow")
	c := New(d)
	var e attrs.Encoder
	acts := e.Nest(2)
	e.U32(1, 1)      // output
	e.Flag(5)        // pop-vlan
	e.U32(1, 2)      // output
	cl := e.Nest(20) // clone
	e.U32(1, 3)
	e.End(cl)
	e.End(acts)
	got, err := c.DecodeAttrs("flow-attrs", e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"actions": [{"output": 1}, {"pop-vlan": true}, {"output": 2}, {"clone": [{"output": 3}]}]}`
	if s := mustJSON(t, got); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	b, err := c.EncodeAttrs("flow-attrs", got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, e.Bytes()) {
		t.Errorf("encoded % x\nwant    % x", b, e.Bytes())
	}
}

// Notifications are named only by ops marked notify or event: mptcp_pm's
// events (from the overlay, command numbers shared with its ops) decode as
// events, and replies still find their op.
func TestNotificationNames(t *testing.T) {
	c := New(specDesc(t, "mptcp_pm"))
	for cmd, want := range map[uint8]string{1: "created", 3: "closed", 10: "sub-established"} {
		if op := c.OpByNotify(cmd); op == nil || op.Name != want {
			t.Errorf("OpByNotify(%d) = %v, want %s", cmd, op, want)
		}
	}
	if op := c.OpByReply(3); op == nil || op.Name != "get-addr" {
		t.Errorf("OpByReply(3) = %v, want get-addr", op)
	}
	var e attrs.Encoder
	e.U32(1, 0x1234) // token
	e.U16(2, 2)      // family
	got, err := c.DecodeMessage(c.OpByNotify(1), e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if s := mustJSON(t, got); s != `{"token": 4660, "family": 2}` {
		t.Errorf("created event: %s", s)
	}
	// A family without notifications names nothing.
	if op := New(specDesc(t, "tcp_metrics")).OpByNotify(1); op != nil {
		t.Errorf("tcp_metrics OpByNotify(1) = %s, want none", op.Name)
	}
}

// The overlay's ethtool enums name values for Go and tables only: JSON
// keeps the numbers ynl prints, and the descriptor says which enum names
// them (TableEnum).
func TestOverlayEnumNumbersInJSON(t *testing.T) {
	d := specDesc(t, "ethtool")
	c := New(d)
	var e attrs.Encoder
	e.U8(2, 4) // port: fibre
	e.U8(4, 2) // tp-mdix: mdi-x
	e.U8(6, 1) // transceiver: external
	got, err := c.DecodeAttrs("linkinfo", e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if s := mustJSON(t, got); s != `{"port": 4, "tp-mdix": 2, "transceiver": 1}` {
		t.Errorf("got %s", s)
	}
	a := d.Set("linkinfo").Attr("port")
	if a.Enum != "" || a.TableEnum != "port" || d.Enum("port") == nil {
		t.Errorf("port: enum %q, table enum %q", a.Enum, a.TableEnum)
	}
}

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

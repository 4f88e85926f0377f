package jsonmsg

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

func encode(t *testing.T, family, opName, js string) ([]byte, []byte) {
	t.Helper()
	d := specDesc(t, family)
	msg, err := ParseObject([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	h, b, err := New(d).EncodeRequest(op(t, d, opName), msg)
	if err != nil {
		t.Fatalf("encode %s: %v", js, err)
	}
	return h, b
}

func TestEncodeNetdev(t *testing.T) {
	_, got := encode(t, "netdev", "dev-get", `{"ifindex": 7}`)
	var e attrs.Encoder
	e.U32(1, 7)
	if !bytes.Equal(got, e.Bytes()) {
		t.Errorf("got %x want %x", got, e.Bytes())
	}
}

func TestEncodeMptcpTextAddresses(t *testing.T) {
	_, got := encode(t, "mptcp_pm", "add-addr",
		`{"addr": {"family": 2, "id": 1, "addr4": "192.0.2.1", "flags": 1, "port": 0}}`)
	var e attrs.Encoder
	n := e.Nest(1)
	e.U16(1, 2)
	e.U8(2, 1)
	e.U32BE(3, 0xc0000201)
	e.U32(6, 1)
	e.U16(5, 0)
	e.End(n)
	if !bytes.Equal(got, e.Bytes()) {
		t.Errorf("got %x want %x", got, e.Bytes())
	}
	// The number ynl prints is accepted as well, and an IPv6 address as text
	// for the 16-byte addr6.
	_, got2 := encode(t, "mptcp_pm", "add-addr",
		`{"addr": {"family": 2, "id": 1, "addr4": 3221225985, "flags": 1, "port": 0}}`)
	if !bytes.Equal(got2, got) {
		t.Errorf("numeric addr4: %x", got2)
	}
	_, got3 := encode(t, "mptcp_pm", "add-addr", `{"addr": {"addr6": "2001:db8::1"}}`)
	e = attrs.Encoder{}
	n = e.Nest(1)
	e.Binary(4, []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
	e.End(n)
	if !bytes.Equal(got3, e.Bytes()) {
		t.Errorf("addr6: %x want %x", got3, e.Bytes())
	}
}

// TestRoundTrip decodes messages and encodes the JSON back, which must give
// the same bytes.
func TestRoundTrip(t *testing.T) {
	d := specDesc(t, "nlctrl")
	c := New(d)
	o := op(t, d, "getfamily")
	in := nlctrlFamilyReply()
	obj, err := c.DecodeMessage(o, in)
	if err != nil {
		t.Fatal(err)
	}
	js := mustJSON(t, obj)
	back, err := ParseObject([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := c.EncodeRequest(o, back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, out) {
		t.Errorf("round trip of %s:\n in %x\nout %x", js, in, out)
	}

	// nest-type-value
	var e attrs.Encoder
	p := e.Nest(8)
	pid := e.Nest(1)
	aid := e.Nest(2)
	e.U32(1, 4)
	e.U64(4, 0)
	e.End(aid)
	e.End(pid)
	e.End(p)
	obj, err = c.DecodeMessage(op(t, d, "getpolicy"), e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	back, _ = ParseObject([]byte(mustJSON(t, obj)))
	_, out, err = c.EncodeRequest(op(t, d, "getpolicy"), back)
	if err != nil || !bytes.Equal(out, e.Bytes()) {
		t.Errorf("nest-type-value: %v\n in %x\nout %x", err, e.Bytes(), out)
	}
}

func TestEncodeHintsAndEnums(t *testing.T) {
	d := specDesc(t, "ethtool")
	c := New(d)
	msg, _ := ParseObject([]byte(`{"header": {"dev-name": "v0", "flags": ["compact-bitsets", "omit-reply"]}}`))
	_, b, err := c.EncodeRequest(op(t, d, "linkinfo-get"), msg)
	if err != nil {
		t.Fatal(err)
	}
	var e attrs.Encoder
	n := e.Nest(1)
	e.String(2, "v0")
	e.U32(3, 1|2)
	e.End(n)
	if !bytes.Equal(b, e.Bytes()) {
		t.Errorf("got %x want %x", b, e.Bytes())
	}
}

func TestEncodeFixedHeader(t *testing.T) {
	h, b := encode(t, "ovs_vport", "get", `{"dp-ifindex": 5, "name": "vp0"}`)
	if !bytes.Equal(h, []byte{5, 0, 0, 0}) {
		t.Errorf("header %x", h)
	}
	var e attrs.Encoder
	e.String(3, "vp0")
	if !bytes.Equal(b, e.Bytes()) {
		t.Errorf("attrs %x want %x", b, e.Bytes())
	}
	h2, _ := encode(t, "ovs_vport", "get", `{"header": {"dp-ifindex": 5}, "name": "vp0"}`)
	if !bytes.Equal(h2, h) {
		t.Errorf("header key: %x", h2)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct{ fam, op, js, want string }{
		{"netdev", "dev-get", `{"ifindx": 1}`, `json .ifindx: no attribute "ifindx" in set dev; did you mean "ifindex"?`},
		{"netdev", "dev-get", `{"ifindex": "one"}`, `json .ifindex (u32 "ifindex"): "one" is not a number`},
		{"netdev", "dev-get", `{"ifindex": -1}`, `json .ifindex (u32 "ifindex"): -1 is negative, u32 is unsigned`},
		{"netdev", "dev-get", `{"ifindex": 4294967296}`, `json .ifindex (u32 "ifindex"): 4294967296 is out of range for u32`},
		{"netdev", "dev-get", `{"ifindex": 1.5}`, `json .ifindex (u32 "ifindex"): 1.5 is not an integer`},
		{"mptcp_pm", "add-addr", `{"addr": {"addr4": "2001:db8::1"}}`, `json .addr.addr4 (u32 "addr4"): "2001:db8::1" is not an IPv4 address or a number`},
		{"mptcp_pm", "add-addr", `{"addr": {"addr6": "zz"}}`, `json .addr.addr6 (binary "addr6"): "zz" is not hex`},
		{"mptcp_pm", "add-addr", `{"addr": 1}`, `json .addr (nest "addr"): want an object, got a number`},
		{"ethtool", "linkinfo-get", `{"header": {"flags": ["omit-replies"]}}`, `json .header.flags (u32 "flags"): "omit-replies" is not a flag of header-flags; did you mean "omit-reply"?`},
		{"nlctrl", "getfamily", `{"ops": [{"1": {"flags": ["cmd-cap-do"], "idd": 1}}]}`, `json .ops[0].1.idd: no attribute "idd" in set op-attrs; did you mean "id"?`},
	} {
		d := specDesc(t, tc.fam)
		msg, err := ParseObject([]byte(tc.js))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = New(d).EncodeRequest(op(t, d, tc.op), msg)
		var ee *EncodeError
		if !errors.As(err, &ee) || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.js, err, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	o, err := ParseObject([]byte(` {"b": 1, "a": [true, null, "x", {"z": 2, "y": 3}]} `))
	if err != nil {
		t.Fatal(err)
	}
	if s := mustJSON(t, o); s != `{"b": 1, "a": [true, null, "x", {"z": 2, "y": 3}]}` {
		t.Errorf("order lost: %s", s)
	}
	for _, bad := range []string{``, `{`, `{"a": }`, `[1]`, `{} x`, `"s"`} {
		if _, err := ParseObject([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "invalid JSON") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if s := mustJSON(t, "<&>"); s != `"<&>"` {
		t.Errorf("escaped: %s", s)
	}
}

func TestClosest(t *testing.T) {
	names := []string{"netdev", "nlctrl", "ethtool", "mptcp_pm", "tcp_metrics"}
	for in, want := range map[string]string{"netdv": "netdev", "ethtol": "ethtool", "mptcp": "mptcp_pm", "zzzzzz": "", "NETDEV": "netdev"} {
		if got := Closest(in, names); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}

package jsonmsg

import (
	"errors"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
)

func TestDecodeNetdevDev(t *testing.T) {
	d := specDesc(t, "netdev")
	c := New(d)
	var e attrs.Encoder
	e.U32(1, 7)           // ifindex
	e.Align64(2)          // pad is skipped
	e.U64(3, 1|2|4|1<<40) // xdp-features: basic, redirect, ndo-xmit and an unknown bit
	e.U32(4, 1)           // xdp-zc-max-segs
	e.U64(5, 0)           // xdp-rx-metadata-features
	got, err := c.DecodeMessage(op(t, d, "dev-get"), e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ifindex": 7, "xdp-features": ["basic", "ndo-xmit", "redirect", 1099511627776], "xdp-zc-max-segs": 1, "xdp-rx-metadata-features": []}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

func nlctrlFamilyReply() []byte {
	var e attrs.Encoder
	e.U16(1, 0x10)
	e.String(2, "nlctrl")
	e.U32(3, 2)
	e.U32(4, 0)
	e.U32(5, 10)
	ops := e.Nest(6)
	for i, op := range []struct{ id, flags uint32 }{{3, 0x0e}, {10, 0x0c}} {
		n := e.Nest(uint16(i + 1))
		e.U32(1, op.id)
		e.U32(2, op.flags)
		e.End(n)
	}
	e.End(ops)
	grps := e.Nest(7)
	n := e.Nest(1)
	e.String(1, "notify")
	e.U32(2, 16)
	e.End(n)
	e.End(grps)
	return e.Bytes()
}

func TestDecodeNlctrlIndexedArrays(t *testing.T) {
	d := specDesc(t, "nlctrl")
	got, err := New(d).DecodeMessage(op(t, d, "getfamily"), nlctrlFamilyReply())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"family-id": 16, "family-name": "nlctrl", "version": 2, "hdrsize": 0, "maxattr": 10, ` +
		`"ops": [{"1": {"id": 3, "flags": ["cmd-cap-do", "cmd-cap-dump", "cmd-cap-haspol"]}}, {"2": {"id": 10, "flags": ["cmd-cap-dump", "cmd-cap-haspol"]}}], ` +
		`"mcast-groups": [{"1": {"name": "notify", "id": 16}}]}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

func TestDecodeNestTypeValue(t *testing.T) {
	d := specDesc(t, "nlctrl")
	var e attrs.Encoder
	e.U16(1, 0x10)
	p := e.Nest(8) // policy
	pid := e.Nest(0)
	aid := e.Nest(2)
	e.U32(1, 11) // type: string
	e.U32(7, 15) // max-length
	e.End(aid)
	e.End(pid)
	e.End(p)
	got, err := New(d).DecodeMessage(op(t, d, "getpolicy"), e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"family-id": 16, "policy": {"policy-id": 0, "attr-id": 2, "type": "string", "max-length": 15}}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}

	// Several entries in one attribute: an array of such objects.
	e = attrs.Encoder{}
	p = e.Nest(9) // op-policy
	for _, id := range []uint16{1, 3} {
		n := e.Nest(id)
		e.U32(1, 0) // do
		e.End(n)
	}
	e.End(p)
	got, err = New(d).DecodeMessage(op(t, d, "getpolicy"), e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want = `{"op-policy": [{"op-id": 1, "do": 0}, {"op-id": 3, "do": 0}]}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

func TestDecodeMptcpAddr(t *testing.T) {
	d := specDesc(t, "mptcp_pm")
	var e attrs.Encoder
	n := e.Nest(1) // addr
	e.U16(1, 2)    // family
	e.U8(2, 1)     // id
	e.U32BE(3, 0xc0000201)
	e.Binary(4, []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
	e.U16(5, 8080)
	e.U32(6, 1|4) // flags: a plain u32 in the spec
	e.S32(7, 3)   // if-idx
	e.End(n)
	got, err := New(d).DecodeMessage(op(t, d, "get-addr"), e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"addr": {"family": 2, "id": 1, "addr4": 3221225985, "addr6": "20010db8000000000000000000000001", "port": 8080, "flags": 5, "if-idx": 3}}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

func TestDecodeDisplayHints(t *testing.T) {
	d := &family.Descriptor{
		Name: "hints",
		Ops:  []family.OpDesc{{Name: "get", Value: 1, ReplyValue: 1, Set: "s"}},
		Sets: []family.SetDesc{{Name: "s", Attrs: []family.AttrDesc{
			{Name: "mac", Value: 1, Type: "binary", Hint: "mac"},
			{Name: "v4", Value: 2, Type: "binary", Hint: "ipv4"},
			{Name: "v6", Value: 3, Type: "binary", Hint: "ipv6"},
			{Name: "any", Value: 4, Type: "binary", Hint: "ipv4-or-v6"},
			{Name: "id", Value: 5, Type: "binary", Hint: "uuid"},
			{Name: "raw", Value: 6, Type: "binary", Hint: "hex"},
			{Name: "mask", Value: 7, Type: "u32", Hint: "hex"},
			{Name: "addr", Value: 8, Type: "u32", BigEndian: true, Hint: "ipv4"},
			{Name: "bf", Value: 9, Type: "bitfield32"},
			{Name: "lanes", Value: 10, Type: "binary", SubType: "u64"},
			{Name: "s", Value: 11, Type: "sint"},
			{Name: "u", Value: 12, Type: "uint"},
			{Name: "neg", Value: 13, Type: "s8"},
			{Name: "mode", Value: 14, Type: "u8", Enum: "mode"},
			{Name: "on", Value: 15, Type: "flag"},
		}}},
		Enums: []family.EnumDesc{{Name: "mode", Entries: []family.EnumEntry{{Name: "off", Value: 0}, {Name: "on", Value: 1}}}},
	}
	var e attrs.Encoder
	e.Binary(1, []byte{2, 0, 0, 0, 0, 0xab})
	e.Binary(2, []byte{192, 0, 2, 1})
	e.Binary(3, []byte{0x20, 0x01, 0x0d, 0xb8, 15: 2})
	e.Binary(4, []byte{192, 0, 2, 9})
	e.Binary(5, []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0})
	e.Binary(6, []byte{0xde, 0xad})
	e.U32(7, 0xff00)
	e.U32BE(8, 0xc0000202)
	e.Bitfield32(9, attrs.Bitfield32{Value: 1, Selector: 3})
	e.Binary(10, []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0})
	e.Sint(11, -5)
	e.Uint(12, 1<<40)
	e.S8(13, -1)
	e.U8(14, 9)
	e.Flag(15)
	got, err := New(d).DecodeMessage(&d.Ops[0], e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"mac": "02:00:00:00:00:ab", "v4": "192.0.2.1", "v6": "2001:db8::2", "any": "192.0.2.9", ` +
		`"id": "12345678-9abc-def0-1234-56789abcdef0", "raw": "de ad", "mask": "0xff00", "addr": "192.0.2.2", ` +
		`"bf": {"value": 1, "selector": 3}, "lanes": [1, 2], "s": -5, "u": 1099511627776, "neg": -1, "mode": 9, "on": true}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

func TestDecodeUnknownAndRepeated(t *testing.T) {
	d := specDesc(t, "netdev")
	var e attrs.Encoder
	e.U32(1, 1)
	e.U32(1, 2) // ifindex twice: kept as an array
	e.Binary(200, []byte{1, 2, 3})
	n := e.Nest(201)
	e.U8(1, 5)
	e.End(n)
	got, err := New(d).DecodeMessage(op(t, d, "dev-get"), e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ifindex": [1, 2], "UnknownAttr(200)": "010203", "UnknownAttr(201)": {"UnknownAttr(1)": "05"}}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
	// Without an op every attribute is unknown.
	got, err = New(d).DecodeMessage(nil, e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if s := mustJSON(t, got); !strings.HasPrefix(s, `{"UnknownAttr(1)": ["01000000", "02000000"]`) {
		t.Errorf("nil op: %s", s)
	}
}

func TestDecodeErrors(t *testing.T) {
	d := specDesc(t, "netdev")
	c := New(d)
	var bad attrs.Encoder
	bad.U16(1, 3) // ifindex as u16
	_, err := c.DecodeMessage(op(t, d, "dev-get"), bad.Bytes())
	if !errors.Is(err, attrs.ErrBadLength) || !strings.Contains(err.Error(), "ifindex") {
		t.Errorf("short u32: %v", err)
	}
	_, err = c.DecodeMessage(op(t, d, "dev-get"), []byte{8, 0, 1})
	if !errors.Is(err, attrs.ErrTruncated) {
		t.Errorf("truncated: %v", err)
	}

	// An error inside a nest names the whole path.
	et := specDesc(t, "ethtool")
	var e attrs.Encoder
	n := e.Nest(1) // header
	e.U16(1, 2)    // dev-index as u16
	e.End(n)
	_, err = New(et).DecodeMessage(op(t, et, "linkinfo-get"), e.Bytes())
	var ae *attrs.Error
	if !errors.As(err, &ae) || ae.Path != "header.dev-index" {
		t.Errorf("nested: %v", err)
	}

	// A binary sub-type array of the wrong size.
	e = attrs.Encoder{}
	n = e.Nest(1)
	e.End(n)
	d2 := &family.Descriptor{Name: "x", Sets: []family.SetDesc{{Name: "s", Attrs: []family.AttrDesc{
		{Name: "arr", Value: 1, Type: "binary", SubType: "u32"}}}}}
	var b attrs.Encoder
	b.Binary(1, []byte{1, 2, 3})
	if _, err := New(d2).DecodeAttrs("s", b.Bytes()); !errors.Is(err, attrs.ErrBadLength) || !strings.Contains(err.Error(), "arr") {
		t.Errorf("array: %v", err)
	}
}

func TestDecodeFixedHeader(t *testing.T) {
	d := specDesc(t, "ovs_vport")
	c := New(d)
	o := op(t, d, "get")
	if c.HeaderSize(o) != 4 {
		t.Fatalf("ovs-header size %d", c.HeaderSize(o))
	}
	var e attrs.Encoder
	e.Reset([]byte{5, 0, 0, 0}) // dp-ifindex 5
	e.U32(1, 2)                 // port-no
	e.U32(2, 1)                 // type: netdev
	e.String(3, "vp0")
	got, err := c.DecodeMessage(o, e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"port-no": 2, "type": "netdev", "name": "vp0", "dp-ifindex": 5}`
	if s := mustJSON(t, got); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
	if _, err := c.DecodeMessage(o, []byte{1, 2}); err == nil {
		t.Error("short header: no error")
	}
}

// TestDecodeStructVersions: a struct shorter than the spec's (an older
// version) shows the members it holds completely and leaves the others
// out; a longer one (a newer version) shows the spec's members; an empty
// one is an error.
func TestDecodeStructVersions(t *testing.T) {
	d := specDesc(t, "TASKSTATS")
	c := New(d)
	stats := func(n int) []byte {
		st := make([]byte, n)
		if n > 0 {
			st[0] = 16
		}
		var e attrs.Encoder
		nest := e.Nest(4) // aggr-pid
		e.Binary(3, st)   // stats
		e.End(nest)
		return e.Bytes()
	}
	for _, tc := range []struct {
		n             int
		members, last string
	}{
		{5, "version,pad-1", "pad-1"},
		{560, "", "irq-delay-min"},
		{688, "", "irq-delay-max-ts"},
		{900, "", "irq-delay-max-ts"},
	} {
		got, err := c.DecodeMessage(op(t, d, "get"), stats(tc.n))
		if err != nil {
			t.Fatalf("%d bytes: %v", tc.n, err)
		}
		ap, _ := got.Get("aggr-pid")
		st, _ := ap.(*Object).Get("stats")
		keys := st.(*Object).Keys()
		if tc.members != "" && strings.Join(keys, ",") != tc.members {
			t.Errorf("%d bytes: members %v, want %s", tc.n, keys, tc.members)
		}
		if keys[len(keys)-1] != tc.last {
			t.Errorf("%d bytes: last member %s, want %s", tc.n, keys[len(keys)-1], tc.last)
		}
	}
	if _, err := c.DecodeMessage(op(t, d, "get"), stats(0)); err == nil || !strings.Contains(err.Error(), "struct taskstats is empty") {
		t.Errorf("empty struct: %v", err)
	}
}

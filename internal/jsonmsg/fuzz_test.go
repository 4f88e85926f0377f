package jsonmsg

import (
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	_ "github.com/genlkit/genlkit/family/devlink"
	_ "github.com/genlkit/genlkit/family/ethtool"
	_ "github.com/genlkit/genlkit/family/mptcppm"
	_ "github.com/genlkit/genlkit/family/netdev"
	_ "github.com/genlkit/genlkit/family/nlctrl"
	_ "github.com/genlkit/genlkit/family/ovsvport"
	_ "github.com/genlkit/genlkit/family/taskstats"
	_ "github.com/genlkit/genlkit/family/tcpmetrics"
)

// compiledDesc returns the descriptor a generated package registered, so
// that the fuzz target runs wherever the module builds, with no spec files.
func compiledDesc(tb testing.TB, name string) *family.Descriptor {
	tb.Helper()
	d, ok := family.Lookup(name)
	if !ok {
		tb.Fatalf("no compiled-in descriptor for %s", name)
	}
	return d
}

// FuzzDecode feeds arbitrary bytes to the decoder with the compiled-in
// descriptors of the generated packages:
// it must never panic, and what it decodes must marshal and encode back
// without panicking either.
func FuzzDecode(f *testing.F) {
	type target struct{ fam, op string }
	targets := []target{
		{"netdev", "dev-get"}, {"netdev", "qstats-get"}, {"nlctrl", "getfamily"}, {"nlctrl", "getpolicy"},
		{"ethtool", "linkinfo-get"}, {"ethtool", "strset-get"}, {"ethtool", "fec-get"},
		{"mptcp_pm", "get-addr"}, {"ovs_vport", "get"}, {"tcp_metrics", "get"}, {"devlink", "get"},
		{"TASKSTATS", "get"}, // a struct of another version than the spec's
	}
	var codecs []*Codec
	for _, tg := range targets {
		codecs = append(codecs, New(compiledDesc(f, tg.fam)))
	}
	f.Add(uint8(2), nlctrlFamilyReply())
	var e attrs.Encoder
	n := e.Nest(1)
	e.U16(1, 2)
	e.U32BE(3, 0xc0000201)
	e.End(n)
	f.Add(uint8(7), e.Bytes())
	f.Add(uint8(8), []byte{1, 0, 0, 0, 8, 0, 1, 0, 1, 0, 0, 0})
	f.Add(uint8(0), []byte{4, 0, 0x80, 0x80})
	// TASKSTATS: Linux 6.18's 560-byte struct taskstats (version 16) in
	// aggr-pid, shorter than the spec's.
	e = attrs.Encoder{}
	n = e.Nest(4)
	e.U32(1, 42)
	st := make([]byte, 560)
	st[0] = 16
	e.Binary(3, st)
	e.End(n)
	f.Add(uint8(11), e.Bytes())
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		i := int(which) % len(targets)
		c := codecs[i]
		o := c.Descriptor().Op(targets[i].op)
		obj, err := c.DecodeMessage(o, data)
		if err != nil {
			return
		}
		js, err := Marshal(obj)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := ParseObject(js)
		if err != nil {
			t.Fatalf("decoded JSON does not parse: %v\n%s", err, js)
		}
		_, _, _ = c.EncodeRequest(o, back)
	})
}

package mdlayherpeer

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/internal/testutils"
	methtool "github.com/mdlayher/ethtool"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// peers holds both libraries' clients in one namespace with one veth.
type peers struct {
	ctx  context.Context
	dev  string
	g    *ethtool.Client
	m    *methtool.Client
	mf   *mdFeatures
	gdev *ethtool.Header
}

func setup(tb testing.TB) *peers {
	ns := testutils.NetNS(tb)
	conn, _ := ns.Dial(tb)
	ctx := context.Background() // ns.Dial's ends after 30 s, shorter than a benchmark
	g, err := ethtool.New(ctx, conn)
	if err != nil {
		tb.Fatal(err)
	}
	p := &peers{ctx: ctx, g: g, dev: ns.AddVeths(tb, "p", 1)[0].Name}
	p.gdev = ethtool.Device(p.dev)
	// mdlayher/ethtool dials in the calling thread's namespace.
	err = ns.Run(func() error {
		if p.m, err = methtool.New(); err != nil {
			return err
		}
		p.mf, err = newMDFeatures()
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.m.Close(); p.mf.c.Close() })
	return p
}

// TestSameAnswers: both peers say the same of the veth.
func TestSameAnswers(t *testing.T) {
	p := setup(t)
	mi, err := p.m.LinkInfo(methtool.Interface{Name: p.dev})
	if err != nil {
		t.Fatal(err)
	}
	gi, err := p.g.LinkinfoGet(p.ctx, &ethtool.LinkinfoGetRequest{Header: p.gdev})
	if err != nil {
		t.Fatal(err)
	}
	if int(mi.Port) != int(gi.Port.Value) || mi.Interface.Index != int(gi.Header.DevIndex.Value) {
		t.Errorf("LinkInfo: mdlayher %+v, genlkit %+v", mi, gi)
	}
	mm, err := p.m.LinkMode(methtool.Interface{Name: p.dev})
	if err != nil {
		t.Fatal(err)
	}
	gm, err := p.g.LinkModes(p.ctx, p.gdev)
	if err != nil {
		t.Fatal(err)
	}
	if mm.SpeedMegabits != int(gm.Speed.Value) || int(mm.Duplex) != int(gm.Duplex.Value) ||
		int(mm.Autoneg) != int(gm.Autoneg.Value) || len(mm.Ours) != len(gm.Advertised) {
		t.Errorf("LinkMode: mdlayher %+v, genlkit %+v", mm, gm)
	}
	mf, err := p.mf.features(p.dev)
	if err != nil {
		t.Fatal(err)
	}
	gf, err := p.g.Features(p.ctx, p.gdev)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(mf) != fmt.Sprint(gf) || len(gf) < 40 {
		t.Errorf("features:\nmdlayher/genetlink %v\ngenlkit            %v", mf, gf)
	}
}

// BenchmarkPeers runs each job on mdlayher/ethtool (for features, which it
// has no call for, on mdlayher/genetlink as such a user writes it) and on
// genlkit, alternating in blocks, and reports each one's process CPU time
// per call and the ratio (speedup: mdlayher's time over genlkit's).
func BenchmarkPeers(b *testing.B) {
	p := setup(b)
	ifi := methtool.Interface{Name: p.dev}
	for _, job := range []struct {
		name    string
		md, gen func() error
	}{
		{"LinkInfo",
			func() error { _, err := p.m.LinkInfo(ifi); return err },
			func() error {
				_, err := p.g.LinkinfoGet(p.ctx, &ethtool.LinkinfoGetRequest{Header: p.gdev})
				return err
			}},
		{"LinkMode",
			func() error { _, err := p.m.LinkMode(ifi); return err },
			func() error { _, err := p.g.LinkModes(p.ctx, p.gdev); return err }},
		{"Features",
			func() error { _, err := p.mf.features(p.dev); return err },
			func() error { _, err := p.g.Features(p.ctx, p.gdev); return err }},
	} {
		b.Run(job.name, func(b *testing.B) {
			testutils.Alternate(b, testutils.Peer{Name: "mdlayher", Op: job.md}, testutils.Peer{Name: "genlkit", Op: job.gen})
		})
	}
}

// mdFeatures reads features the way a user of mdlayher/ethtool, which has
// no call for them, writes it on mdlayher/genetlink in its style: a
// features-get with compact bitsets, read with netlink.AttributeDecoder,
// the bits named by the features string set, fetched once.
type mdFeatures struct {
	c     *genetlink.Conn
	fam   genetlink.Family
	names []string
}

func newMDFeatures() (*mdFeatures, error) {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return nil, err
	}
	fam, err := c.GetFamily(unix.ETHTOOL_GENL_NAME)
	if err != nil {
		c.Close()
		return nil, err
	}
	p := &mdFeatures{c: c, fam: fam}
	if p.names, err = p.stringSet(4); err != nil { // ETH_SS_FEATURES
		c.Close()
		return nil, err
	}
	return p, nil
}

func (p *mdFeatures) execute(cmd uint8, ae *netlink.AttributeEncoder) ([]byte, error) {
	b, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	msgs, err := p.c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: cmd, Version: unix.ETHTOOL_GENL_VERSION}, Data: b,
	}, p.fam.ID, netlink.Request)
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("%d replies", len(msgs))
	}
	return msgs[0].Data, nil
}

func (p *mdFeatures) stringSet(id uint32) ([]string, error) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(unix.ETHTOOL_A_STRSET_HEADER, func(*netlink.AttributeEncoder) error { return nil })
	ae.Nested(unix.ETHTOOL_A_STRSET_STRINGSETS, func(nae *netlink.AttributeEncoder) error {
		nae.Nested(unix.ETHTOOL_A_STRINGSETS_STRINGSET, func(nae *netlink.AttributeEncoder) error {
			nae.Uint32(unix.ETHTOOL_A_STRINGSET_ID, id)
			return nil
		})
		return nil
	})
	data, err := p.execute(unix.ETHTOOL_MSG_STRSET_GET, ae)
	if err != nil {
		return nil, err
	}
	names := map[uint32]string{}
	count := uint32(0)
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return nil, err
	}
	for ad.Next() {
		if ad.Type() != unix.ETHTOOL_A_STRSET_STRINGSETS {
			continue
		}
		ad.Nested(func(ad *netlink.AttributeDecoder) error {
			for ad.Next() {
				ad.Nested(func(ad *netlink.AttributeDecoder) error { // stringset
					for ad.Next() {
						switch ad.Type() {
						case unix.ETHTOOL_A_STRINGSET_COUNT:
							count = ad.Uint32()
						case unix.ETHTOOL_A_STRINGSET_STRINGS:
							ad.Nested(func(ad *netlink.AttributeDecoder) error {
								for ad.Next() {
									ad.Nested(func(ad *netlink.AttributeDecoder) error { // string
										var idx uint32
										var s string
										for ad.Next() {
											switch ad.Type() {
											case unix.ETHTOOL_A_STRING_INDEX:
												idx = ad.Uint32()
											case unix.ETHTOOL_A_STRING_VALUE:
												s = ad.String()
											}
										}
										names[idx] = s
										return nil
									})
								}
								return nil
							})
						}
					}
					return nil
				})
			}
			return nil
		})
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	out := make([]string, count)
	for i, s := range names {
		if i < count {
			out[i] = s
		}
	}
	return out, nil
}

func (p *mdFeatures) features(dev string) ([]ethtool.Feature, error) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(unix.ETHTOOL_A_FEATURES_HEADER, func(nae *netlink.AttributeEncoder) error {
		nae.String(unix.ETHTOOL_A_HEADER_DEV_NAME, dev)
		nae.Uint32(unix.ETHTOOL_A_HEADER_FLAGS, unix.ETHTOOL_FLAG_COMPACT_BITSETS)
		return nil
	})
	data, err := p.execute(unix.ETHTOOL_MSG_FEATURES_GET, ae)
	if err != nil {
		return nil, err
	}
	var words [4][]byte // hw, wanted, active, nochange values
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return nil, err
	}
	for ad.Next() {
		i := int(ad.Type()) - unix.ETHTOOL_A_FEATURES_HW
		if i < 0 || i >= len(words) {
			continue
		}
		ad.Nested(func(ad *netlink.AttributeDecoder) error {
			for ad.Next() {
				if ad.Type() == unix.ETHTOOL_A_BITSET_VALUE {
					words[i] = ad.Bytes()
				}
			}
			return nil
		})
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	test := func(b []byte, i int) bool { // 32-bit words in host order: little-endian here
		off := i/32*4 + i%32/8
		return off < len(b) && b[off]&(1<<(i%8)) != 0
	}
	out := make([]ethtool.Feature, 0, len(p.names))
	for i, name := range p.names {
		if name == "" {
			continue
		}
		out = append(out, ethtool.Feature{Name: name, Index: i,
			Active: test(words[2], i), Requested: test(words[1], i),
			Fixed: !test(words[0], i) || test(words[3], i)})
	}
	return out, nil
}

package ethtool_test

import (
	"bytes"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/ethtool"
)

// stats-get replies repeat grp (one per group) and, in the rmon group,
// hist-rx and hist-tx (one per bucket); the project overlay marks them
// multi-attr. Every one is kept in wire order and encodes back to the
// same bytes.
func TestStatsGroupsRepeat(t *testing.T) {
	var e attrs.Encoder
	h := e.Nest(ethtool.AttrStatsHeader)
	e.U32(ethtool.AttrHeaderDevIndex, 2)
	e.String(ethtool.AttrHeaderDevName, "eth0")
	e.End(h)
	// As stats_put_stats builds them: id, ss-id, a stat nest per counter,
	// then the histograms.
	for _, g := range []struct {
		id, ssID uint32
		stats    []uint64
		hist     int
	}{{1, 21, []uint64{10, 20}, 0}, {4, 24, []uint64{7}, 2}} {
		grp := e.Nest(ethtool.AttrStatsGrp)
		e.U32(ethtool.AttrStatsGrpID, g.id)
		e.U32(ethtool.AttrStatsGrpSsID, g.ssID)
		for i, s := range g.stats {
			st := e.Nest(ethtool.AttrStatsGrpStat)
			e.U64(uint16(i), s)
			e.End(st)
		}
		for _, attr := range []uint16{ethtool.AttrStatsGrpHistRx, ethtool.AttrStatsGrpHistTx} {
			for b := range g.hist {
				n := e.Nest(attr)
				e.U32(ethtool.AttrStatsGrpHistBktLow, uint32(64*b))
				e.U32(ethtool.AttrStatsGrpHistBktHi, uint32(64*b+63))
				e.U64(ethtool.AttrStatsGrpHistVal, uint64(b+100))
				e.End(n)
			}
		}
		e.End(grp)
	}
	msg := bytes.Clone(e.Bytes())

	var v ethtool.Stats
	if err := v.UnmarshalAttrs(msg); err != nil {
		t.Fatal(err)
	}
	if len(v.Grp) != 2 || v.Grp[0].ID.Value != 1 || v.Grp[1].ID.Value != 4 {
		t.Fatalf("groups %+v, want ids 1 and 4", v.Grp)
	}
	if len(v.Grp[0].Stat) != 2 || v.Grp[0].Stat[1].Value != 20 {
		t.Errorf("group 1 stats %+v", v.Grp[0].Stat)
	}
	if len(v.Grp[1].HistRx) != 2 || len(v.Grp[1].HistTx) != 2 || v.Grp[1].HistRx[1].HistBktLow.Value != 64 {
		t.Errorf("rmon histograms rx %+v tx %+v", v.Grp[1].HistRx, v.Grp[1].HistTx)
	}
	var out attrs.Encoder
	if err := v.MarshalAttrs(&out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), msg) {
		t.Errorf("re-encoded:\n% x\nwant\n% x", out.Bytes(), msg)
	}
}

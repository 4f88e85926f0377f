package ovsflow_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// ovs_meter and ovs_ct_limit have no spec: these tests drive them through
// the generic path (family.Get, attrs, genl.Conn), with the values of
// include/uapi/linux/openvswitch.h.

const (
	meterCmdFeatures, meterCmdSet, meterCmdDel, meterCmdGet  = 1, 2, 3, 4
	meterAttrID, meterAttrKbps, meterAttrBands               = 1, 2, 4
	meterAttrMaxMeters, meterAttrMaxBands                    = 7, 8
	bandAttrType, bandAttrRate, bandAttrBurst, bandAttrStats = 1, 2, 3, 4
	bandTypeDrop                                             = 1

	ctLimitCmdSet, ctLimitCmdDel, ctLimitCmdGet = 1, 2, 3
	ctLimitAttrZoneLimit                        = 1
	defaultZone                                 = -1 // OVS_ZONE_LIMIT_DEFAULT_ZONE
)

// genericFamily resolves a family without a spec, for a test that needs it.
func genericFamily(ctx context.Context, t *testing.T, conn *genl.Conn, name string) *family.Family {
	t.Helper()
	fam, err := family.Get(ctx, conn, name)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), name)
	if err != nil {
		t.Fatal(err)
	}
	return fam
}

// request sends cmd of fam with the ovs_header for dp and the attributes
// build appends, and returns each reply's attributes.
func request(ctx context.Context, conn *genl.Conn, fam *family.Family, dp uint32, cmd uint8, build func(*attrs.Encoder)) ([][]byte, error) {
	var e attrs.Encoder
	e.Reset(binary.NativeEndian.AppendUint32(nil, dp))
	if build != nil {
		build(&e)
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	b := e.Bytes()
	var out [][]byte
	err := conn.Do(ctx, genl.Request{Family: fam.ID, Command: cmd, Version: uint8(fam.Version), Header: b[:4], Attrs: b[4:]}, func(m genl.Message) error {
		out = append(out, append([]byte(nil), m.Attrs(4)...))
		return nil
	})
	return out, err
}

// u32s returns the u32 attributes of a reply by type.
func u32s(t *testing.T, b []byte) map[uint16]uint32 {
	t.Helper()
	m := map[uint16]uint32{}
	d := attrs.NewDecoder(b)
	for d.Next() {
		if d.Len() == 4 {
			m[d.Type()] = d.U32()
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestKernelMeter(t *testing.T) {
	o, ctx := newOVS(t)
	fam := genericFamily(ctx, t, o.conn, "ovs_meter")
	reps, err := request(ctx, o.conn, fam, o.index, meterCmdFeatures, nil)
	if err != nil || len(reps) != 1 {
		t.Fatalf("meter features: %d replies, %v", len(reps), err)
	}
	f := u32s(t, reps[0])
	if f[meterAttrMaxMeters] == 0 || f[meterAttrMaxBands] == 0 {
		t.Errorf("meter features: max meters %d, max bands %d", f[meterAttrMaxMeters], f[meterAttrMaxBands])
	}
	id := func(e *attrs.Encoder) { e.U32(meterAttrID, 7) }
	if _, err := request(ctx, o.conn, fam, o.index, meterCmdGet, id); !errors.Is(err, unix.ENOENT) {
		t.Errorf("get of a missing meter: %v, want ENOENT", err)
	}
	_, err = request(ctx, o.conn, fam, o.index, meterCmdSet, func(e *attrs.Encoder) {
		id(e)
		e.Flag(meterAttrKbps)
		bands := e.Nest(meterAttrBands)
		band := e.Nest(0)
		e.U32(bandAttrType, bandTypeDrop)
		e.U32(bandAttrRate, 1000)
		e.U32(bandAttrBurst, 100)
		e.End(band)
		e.End(bands)
	})
	if err != nil {
		t.Fatalf("meter set: %v", err)
	}
	reps, err = request(ctx, o.conn, fam, o.index, meterCmdGet, id)
	if err != nil || len(reps) != 1 {
		t.Fatalf("meter get: %d replies, %v", len(reps), err)
	}
	if got := u32s(t, reps[0]); got[meterAttrID] != 7 {
		t.Errorf("meter read back with id %d, want 7", got[meterAttrID])
	}
	// The reply's bands hold each band's statistics (not its rate).
	bands := 0
	d := attrs.NewDecoder(reps[0])
	for d.Next() {
		if d.Type() == meterAttrBands {
			nd := d.Nested()
			for nd.Next() {
				bands++
				bd := attrs.NewDecoder(nd.Bytes())
				for bd.Next() {
					if bd.Type() == bandAttrStats && bd.Len() != 16 {
						t.Errorf("band stats of %d bytes, want struct ovs_flow_stats (16)", bd.Len())
					}
				}
			}
		}
	}
	if bands != 1 {
		t.Errorf("meter read back with %d bands, want 1", bands)
	}
	if _, err := request(ctx, o.conn, fam, o.index, meterCmdDel, id); err != nil {
		t.Fatalf("meter del: %v", err)
	}
	if _, err := request(ctx, o.conn, fam, o.index, meterCmdGet, id); !errors.Is(err, unix.ENOENT) {
		t.Errorf("get of a deleted meter: %v, want ENOENT", err)
	}
}

// A zoneLimit is struct ovs_zone_limit.
type zoneLimit struct {
	Zone         int32
	Limit, Count uint32
}

func zoneLimits(b []byte) []zoneLimit {
	var out []zoneLimit
	d := attrs.NewDecoder(b)
	for d.Next() {
		if d.Type() != ctLimitAttrZoneLimit {
			continue
		}
		p := d.Bytes()
		for ; len(p) >= 12; p = p[12:] {
			out = append(out, zoneLimit{int32(binary.NativeEndian.Uint32(p)), binary.NativeEndian.Uint32(p[4:]), binary.NativeEndian.Uint32(p[8:])})
		}
	}
	return out
}

func zoneAttr(e *attrs.Encoder, zs ...zoneLimit) {
	var b []byte
	for _, z := range zs {
		b = binary.NativeEndian.AppendUint32(b, uint32(z.Zone))
		b = binary.NativeEndian.AppendUint32(b, z.Limit)
		b = binary.NativeEndian.AppendUint32(b, z.Count)
	}
	e.Binary(ctLimitAttrZoneLimit, b)
}

func TestKernelCtLimit(t *testing.T) {
	o, ctx := newOVS(t)
	fam := genericFamily(ctx, t, o.conn, "ovs_ct_limit")
	_, err := request(ctx, o.conn, fam, o.index, ctLimitCmdSet, func(e *attrs.Encoder) {
		zoneAttr(e, zoneLimit{Zone: defaultZone, Limit: 10}, zoneLimit{Zone: 5, Limit: 100})
	})
	if err != nil {
		t.Fatalf("ct_limit set: %v", err)
	}
	reps, err := request(ctx, o.conn, fam, o.index, ctLimitCmdGet, func(e *attrs.Encoder) { zoneAttr(e, zoneLimit{Zone: 5}) })
	if err != nil || len(reps) != 1 {
		t.Fatalf("ct_limit get: %d replies, %v", len(reps), err)
	}
	if got := zoneLimits(reps[0]); len(got) != 1 || got[0] != (zoneLimit{Zone: 5, Limit: 100}) {
		t.Errorf("zone 5 read back as %+v", got)
	}
	reps, err = request(ctx, o.conn, fam, o.index, ctLimitCmdGet, nil)
	if err != nil || len(reps) != 1 {
		t.Fatalf("ct_limit get all: %d replies, %v", len(reps), err)
	}
	all := zoneLimits(reps[0])
	want := map[zoneLimit]bool{{Zone: defaultZone, Limit: 10}: true, {Zone: 5, Limit: 100}: true}
	for _, z := range all {
		delete(want, z)
	}
	if len(want) != 0 {
		t.Errorf("all zone limits read back as %+v; missing %+v", all, want)
	}
	if _, err := request(ctx, o.conn, fam, o.index, ctLimitCmdDel, func(e *attrs.Encoder) { zoneAttr(e, zoneLimit{Zone: 5}) }); err != nil {
		t.Fatalf("ct_limit del: %v", err)
	}
	reps, err = request(ctx, o.conn, fam, o.index, ctLimitCmdGet, func(e *attrs.Encoder) { zoneAttr(e, zoneLimit{Zone: 5}) })
	if err != nil {
		t.Fatal(err)
	}
	// A zone without its own limit reports the default one.
	if got := zoneLimits(reps[0]); len(got) != 1 || got[0] != (zoneLimit{Zone: 5, Limit: 10}) {
		t.Errorf("zone 5 after del read back as %+v, want the default limit 10", got)
	}
}

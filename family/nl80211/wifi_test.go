package nl80211_test

import (
	"context"
	"errors"
	"net"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/nl80211"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const (
	fakeFamilyID = 0x30
	fakeScanGrp  = 5
)

var fakeNL80211 = genltest.Family{
	ID: fakeFamilyID, Name: nl80211.FamilyName, Version: 1,
	Ops: []genltest.Op{
		{ID: uint32(nl80211.CmdGetWiphy), Flags: unix.GENL_CMD_CAP_DO | unix.GENL_CMD_CAP_DUMP},
		{ID: uint32(nl80211.CmdGetInterface), Flags: unix.GENL_CMD_CAP_DO | unix.GENL_CMD_CAP_DUMP},
		{ID: uint32(nl80211.CmdGetStation), Flags: unix.GENL_CMD_CAP_DO | unix.GENL_CMD_CAP_DUMP},
		{ID: uint32(nl80211.CmdGetScan), Flags: unix.GENL_CMD_CAP_DUMP},
		{ID: uint32(nl80211.CmdTriggerScan), Flags: unix.GENL_CMD_CAP_DO},
	},
	Groups: []genltest.Group{{ID: fakeScanGrp, Name: nl80211.GroupScan}},
}

// fake returns a fake kernel with nl80211 answering through h, and a
// Client for it.
func fake(t *testing.T, h genltest.Handler) (*genltest.Kernel, *nl80211.Client) {
	t.Helper()
	k := genltest.New()
	k.Controller(fakeNL80211)
	k.Handle(h)
	conn, err := genl.NewConn(k.Transport())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := nl80211.New(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	return k, c
}

func marshal(t *testing.T, v interface{ MarshalAttrs(*attrs.Encoder) error }) []byte {
	t.Helper()
	var e attrs.Encoder
	if err := v.MarshalAttrs(&e); err != nil {
		t.Fatal(err)
	}
	return e.Bytes()
}

// dump answers r with one message per payload, then NLMSG_DONE.
func dump(k *genltest.Kernel, r genltest.Request, cmd uint8, payloads ...[]byte) {
	for _, p := range payloads {
		k.Push(genltest.ReplyMulti(r, cmd, p, 0))
	}
	k.Push(genltest.Done(r, 0, 0, nil))
}

// A split wiphy dump (the kernel's shape: every message repeats the
// index, name and generation; the band's capabilities, then its channels
// one message each) merges into one wiphy per index.
func TestWiphysMergeSplitDump(t *testing.T) {
	base := func(idx uint32, name string) nl80211.Attrs {
		return nl80211.Attrs{Wiphy: nl80211.Some(idx), WiphyName: nl80211.Some(name), Generation: nl80211.Some(uint32(7))}
	}
	m1 := base(0, "phy0")
	m1.MaxNumScanSSIDs = nl80211.Some(uint8(4))
	m2 := base(0, "phy0")
	m2.WiphyBands = &nl80211.WiphyBands{X2ghz: &nl80211.BandAttrs{HTCapa: nl80211.Some(uint16(0x1234)), Rates: []nl80211.BitrateAttrs{{Rate: nl80211.Some(uint32(10))}, {Rate: nl80211.Some(uint32(20))}}}}
	m3 := base(0, "phy0")
	m3.WiphyBands = &nl80211.WiphyBands{X2ghz: &nl80211.BandAttrs{Freqs: []nl80211.FrequencyAttrs{{Freq: nl80211.Some(uint32(2412))}}}}
	m4 := base(0, "phy0")
	m4.WiphyBands = &nl80211.WiphyBands{X2ghz: &nl80211.BandAttrs{Freqs: []nl80211.FrequencyAttrs{{Freq: nl80211.Some(uint32(2417)), Disabled: true}}}, X5ghz: &nl80211.BandAttrs{Freqs: []nl80211.FrequencyAttrs{{Freq: nl80211.Some(uint32(5180))}}}}
	m5 := base(0, "phy0")
	m5.SupportedCommands = []nl80211.Commands{nl80211.CommandsNewInterface, nl80211.CommandsJoinIbss}
	m6 := base(1, "phy1")
	var req nl80211.GetWiphyDumpRequest
	_, c := fake(t, func(k *genltest.Kernel, r genltest.Request) {
		if err := req.UnmarshalAttrs(r.Data); err != nil {
			t.Error(err)
		}
		dump(k, r, nl80211.CmdGetWiphyReply, marshal(t, &m1), marshal(t, &m2), marshal(t, &m3), marshal(t, &m4), marshal(t, &m5), marshal(t, &m6))
	})
	ws, err := c.Wiphys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !req.SplitWiphyDump {
		t.Error("the dump request lacks split-wiphy-dump")
	}
	if len(ws) != 2 || ws[0].WiphyName.Value != "phy0" || ws[1].WiphyName.Value != "phy1" {
		t.Fatalf("wiphys %+v, want phy0 and phy1", ws)
	}
	w := ws[0]
	b := w.WiphyBands.X2ghz
	var freqs []uint32
	for _, f := range b.Freqs {
		freqs = append(freqs, f.Freq.Value)
	}
	switch {
	case !slices.Equal(freqs, []uint32{2412, 2417}) || !b.Freqs[1].Disabled:
		t.Errorf("2.4 GHz channels %v (%+v), want 2412 and a disabled 2417", freqs, b.Freqs)
	case b.HTCapa.Value != 0x1234 || len(b.Rates) != 2:
		t.Errorf("2.4 GHz band lost its capabilities: %+v", b)
	case w.WiphyBands.X5ghz == nil || len(w.WiphyBands.X5ghz.Freqs) != 1:
		t.Errorf("5 GHz band %+v", w.WiphyBands.X5ghz)
	case w.MaxNumScanSSIDs.Value != 4 || len(w.SupportedCommands) != 2 || w.Generation.Value != 7:
		t.Errorf("wiphy %+v", w)
	}
}

// ie builds one information element.
func ie(id byte, data ...byte) []byte { return append([]byte{id, byte(len(data))}, data...) }

var (
	ssidIE    = ie(nl80211.ElementSSID, []byte("genlkit")...)
	bssLoadIE = ie(nl80211.ElementBSSLoad, 3, 0, 40, 0x10, 0x20)
	// RSN: version 1, group CCMP-128, pairwise CCMP-128, AKM PSK,
	// capabilities 0x000c.
	rsnIE = ie(nl80211.ElementRSN, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 2, 0x0c, 0x00)
)

// Scan triggers, waits for its interface's new-scan-results (not another
// interface's), then dumps the results; BSSs come with their elements
// decoded, a malformed element reported on its BSS.
func TestScan(t *testing.T) {
	const ifindex = 3
	good := &nl80211.Attrs{Ifindex: nl80211.Some(uint32(ifindex)), BSS: &nl80211.BSSAttrs{
		BSSID: net.HardwareAddr{2, 0, 0, 0, 1, 0}, Frequency: nl80211.Some(uint32(2412)), BeaconInterval: nl80211.Some(uint16(100)),
		SignalMbm: nl80211.Some(int32(-3000)), SeenMsAgo: nl80211.Some(uint32(250)), Status: nl80211.Some(uint32(nl80211.BSSStatusAssociated)),
		InformationElements: slices.Concat(ssidIE, bssLoadIE, rsnIE),
	}}
	bad := &nl80211.Attrs{Ifindex: nl80211.Some(uint32(ifindex)), BSS: &nl80211.BSSAttrs{
		BSSID: net.HardwareAddr{2, 0, 0, 0, 2, 0}, InformationElements: slices.Concat(ssidIE, []byte{nl80211.ElementRSN, 30, 1, 0}),
	}}
	var trigger nl80211.TriggerScanRequest
	k, c := fake(t, func(k *genltest.Kernel, r genltest.Request) {
		switch nl80211.Commands(r.Genl.Command) {
		case nl80211.CommandsTriggerScan:
			if err := trigger.UnmarshalAttrs(r.Data); err != nil {
				t.Error(err)
			}
			k.Push(genltest.Ack(r))
			other := marshal(t, &nl80211.Attrs{Ifindex: nl80211.Some(uint32(ifindex + 1))})
			ours := marshal(t, &nl80211.Attrs{Ifindex: nl80211.Some(uint32(ifindex))})
			k.PushGroup(fakeScanGrp, genltest.Notification(fakeFamilyID, uint8(nl80211.CmdTriggerScan), ours))
			k.PushGroup(fakeScanGrp, genltest.Notification(fakeFamilyID, uint8(nl80211.CmdScanAborted), other))
			k.PushGroup(fakeScanGrp, genltest.Notification(fakeFamilyID, uint8(nl80211.CmdNewScanResults), ours))
		case nl80211.CommandsGetScan:
			dump(k, r, nl80211.CmdGetScanReply, marshal(t, good), marshal(t, bad))
		default:
			t.Errorf("unexpected command %d", r.Genl.Command)
		}
	})
	bss, err := c.Scan(context.Background(), ifindex, &nl80211.TriggerScanRequest{ScanFrequencies: []uint32{2412}, ScanSSIDs: [][]byte{{}}})
	if err != nil {
		t.Fatal(err)
	}
	if trigger.Ifindex.Value != ifindex || !slices.Equal(trigger.ScanFrequencies, []uint32{2412}) || len(trigger.ScanSSIDs) != 1 {
		t.Errorf("trigger-scan request %+v", trigger)
	}
	if len(bss) != 2 {
		t.Fatalf("%d results, want 2", len(bss))
	}
	b := bss[0]
	switch {
	case b.SSID != "genlkit" || b.Frequency != 2412 || b.BSSID.String() != "02:00:00:00:01:00":
		t.Errorf("BSS %+v", b)
	case b.BeaconInterval != 102400*time.Microsecond || b.LastSeen != 250*time.Millisecond || b.Signal != -3000 || !b.SignalValid || b.Status != nl80211.BSSStatusAssociated:
		t.Errorf("BSS %+v", b)
	case b.Load == nil || *b.Load != (nl80211.BSSLoad{StationCount: 3, ChannelUtilization: 40, AvailableAdmissionCapacity: 0x2010}):
		t.Errorf("BSS load %+v", b.Load)
	case b.RSN == nil || b.RSN.GroupCipher != nl80211.CipherCCMP128 || !slices.Equal(b.RSN.AKMs, []nl80211.Suite{nl80211.AKMPSK}) || b.RSN.Capabilities != 0x0c:
		t.Errorf("RSN %+v", b.RSN)
	}
	if !errors.Is(bss[1].ElementsErr, nl80211.ErrMalformedElement) || bss[1].SSID != "genlkit" || bss[1].RSN != nil {
		t.Errorf("BSS with a cut RSN element: SSID %q, error %v", bss[1].SSID, bss[1].ElementsErr)
	}
	if got, err := c.BSS(context.Background(), ifindex); err != nil || got.BSSID.String() != b.BSSID.String() {
		t.Errorf("BSS: %+v, %v", got, err)
	}
	if g := k.Groups(); len(g) != 0 {
		t.Errorf("still in groups %v after the scan", g)
	}
}

// A scan aborted for the interface is an error matching ErrScanAborted; a
// cancelled context ends the wait; a context done before the call sends
// nothing.
func TestScanAbortedAndCancelled(t *testing.T) {
	const ifindex = 4
	notify := uint8(nl80211.CmdScanAborted)
	k, c := fake(t, func(k *genltest.Kernel, r genltest.Request) {
		k.Push(genltest.Ack(r))
		if notify != 0 {
			k.PushGroup(fakeScanGrp, genltest.Notification(fakeFamilyID, notify, marshal(t, &nl80211.Attrs{Ifindex: nl80211.Some(uint32(ifindex))})))
		}
	})
	if _, err := c.Scan(context.Background(), ifindex, nil); !errors.Is(err, nl80211.ErrScanAborted) {
		t.Errorf("aborted scan: %v, want ErrScanAborted", err)
	}
	notify = 0
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Scan(ctx, ifindex, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("scan without results: %v, want the context's deadline", err)
	}
	sent := len(k.Requests())
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := c.Scan(done, ifindex, nil); !errors.Is(err, context.Canceled) || len(k.Requests()) != sent {
		t.Errorf("scan with a cancelled context: %v, %d requests sent", err, len(k.Requests())-sent)
	}
}

// StationInfo reads the sta-info nest: 64-bit byte counters over the
// 32-bit ones, bitrates in bit/s.
func TestStationInfo(t *testing.T) {
	sta := &nl80211.Attrs{Ifindex: nl80211.Some(uint32(2)), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 9}, StaInfo: &nl80211.StaInfoAttrs{
		InactiveTime: nl80211.Some(uint32(30)), ConnectedTime: nl80211.Some(uint32(12)),
		RxBytes: nl80211.Some(uint32(1)), RxBytes64: nl80211.Some(uint64(1 << 33)), TxBytes: nl80211.Some(uint32(77)),
		RxPackets: nl80211.Some(uint32(5)), TxPackets: nl80211.Some(uint32(6)), Signal: nl80211.Some(int8(-30)), SignalAvg: nl80211.Some(int8(-31)),
		TxBitrate: &nl80211.RateInfoAttrs{Bitrate: nl80211.Some(uint16(540)), Bitrate32: nl80211.Some(uint32(540))},
		RxBitrate: &nl80211.RateInfoAttrs{Bitrate: nl80211.Some(uint16(10))},
		TxRetries: nl80211.Some(uint32(2)), TxFailed: nl80211.Some(uint32(1)), BeaconLoss: nl80211.Some(uint32(0)),
		BSSParam: &nl80211.StaBSSParamAttrs{DtimPeriod: nl80211.Some(uint8(2)), BeaconInterval: nl80211.Some(uint16(100)), ShortSlotTime: true},
	}}
	_, c := fake(t, func(k *genltest.Kernel, r genltest.Request) {
		dump(k, r, nl80211.CmdGetStationReply, marshal(t, sta))
	})
	got, err := c.StationInfo(context.Background(), 2)
	if err != nil || len(got) != 1 {
		t.Fatalf("%d stations, %v", len(got), err)
	}
	want := nl80211.StationInfo{
		InterfaceIndex: 2, HardwareAddr: sta.MAC, Connected: 12 * time.Second, Inactive: 30 * time.Millisecond,
		ReceivedBytes: 1 << 33, TransmittedBytes: 77, ReceivedPackets: 5, TransmittedPackets: 6,
		ReceiveBitrate: 1_000_000, TransmitBitrate: 54_000_000, Signal: -30, SignalAverage: -31, TransmitRetries: 2, TransmitFailed: 1,
	}
	g := *got[0]
	g.Attrs = nil
	if g.HardwareAddr.String() != want.HardwareAddr.String() {
		t.Errorf("address %s", g.HardwareAddr)
	}
	g.HardwareAddr, want.HardwareAddr = nil, nil
	if !reflect.DeepEqual(g, want) {
		t.Errorf("station\n%+v\nwant\n%+v", g, want)
	}
	if p := got[0].Attrs.BSSParam; p == nil || !p.ShortSlotTime || p.DtimPeriod.Value != 2 {
		t.Errorf("bss-param %+v", p)
	}
}

// BSS without an associated BSS matches os.ErrNotExist.
func TestBSSNone(t *testing.T) {
	_, c := fake(t, func(k *genltest.Kernel, r genltest.Request) { dump(k, r, nl80211.CmdGetScanReply) })
	if _, err := c.BSS(context.Background(), 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("BSS: %v, want os.ErrNotExist", err)
	}
}

// A scan dump the kernel marks interrupted (its BSS list changed, as it
// does when beacons arrive) is run again; when every attempt is
// interrupted the last results come with an error matching
// genl.ErrDumpInterrupted.
func TestScanResultsInterrupted(t *testing.T) {
	bss := &nl80211.Attrs{BSS: &nl80211.BSSAttrs{BSSID: net.HardwareAddr{2, 0, 0, 0, 1, 0}, InformationElements: ssidIE}}
	interrupted, dumps := 2, 0
	_, c := fake(t, func(k *genltest.Kernel, r genltest.Request) {
		dumps++
		var flags netlink.HeaderFlags
		if dumps <= interrupted {
			flags = netlink.DumpInterrupted
		}
		k.Push(genltest.ReplyMulti(r, nl80211.CmdGetScanReply, marshal(t, bss), flags), genltest.Done(r, 0, flags, nil))
	})
	got, err := c.ScanResults(context.Background(), 1)
	if err != nil || len(got) != 1 || got[0].SSID != "genlkit" || dumps != 3 {
		t.Errorf("after 2 interrupted dumps: %d results, %v, %d dumps", len(got), err, dumps)
	}
	interrupted, dumps = 100, 0
	got, err = c.ScanResults(context.Background(), 1)
	if !errors.Is(err, genl.ErrDumpInterrupted) || len(got) != 1 || dumps != 6 {
		t.Errorf("always interrupted: %d results, %v, %d dumps; want 1 result, ErrDumpInterrupted, 6 dumps", len(got), err, dumps)
	}
}

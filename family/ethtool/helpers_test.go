package ethtool_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A fakeEthtool is a fake kernel holding the ethtool family: it answers
// strset-get with its string sets and other commands with replies[cmd],
// and records the requests.
type fakeEthtool struct {
	mu      sync.Mutex
	sets    map[uint32][]string // string sets by id
	strset  func(id uint32) *ethtool.Stringset
	replies map[uint8]interface{ MarshalAttrs(*attrs.Encoder) error }
	reqs    []genltest.Request
}

func (f *fakeEthtool) count(cmd uint8) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.Genl.Command == cmd {
			n++
		}
	}
	return n
}

// lastHeader returns the request header of the last request of cmd.
func (f *fakeEthtool) lastHeader(t *testing.T, cmd uint8) *ethtool.Header {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.reqs) - 1; i >= 0; i-- {
		if r := f.reqs[i]; r.Genl.Command == cmd {
			var req ethtool.FeaturesGetRequest // every get request starts with its header, attribute 1
			if err := req.UnmarshalAttrs(r.Data); err != nil {
				t.Fatal(err)
			}
			return req.Header
		}
	}
	t.Fatalf("no request of command %d", cmd)
	return nil
}

func (f *fakeEthtool) serve(k *genltest.Kernel, r genltest.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.mu.Unlock()
	var e attrs.Encoder
	cmd := r.Genl.Command
	switch cmd {
	case ethtool.CmdStrsetGet:
		var req ethtool.StrsetGetRequest
		if err := req.UnmarshalAttrs(r.Data); err != nil || req.Stringsets == nil || len(req.Stringsets.Stringset) != 1 {
			k.Push(genltest.Error(r, unix.EINVAL, nil))
			return
		}
		id := req.Stringsets.Stringset[0].ID.Value
		f.mu.Lock()
		set := f.strset(id)
		f.mu.Unlock()
		rep := &ethtool.Strset{Header: &ethtool.Header{}, Stringsets: &ethtool.Stringsets{Stringset: []ethtool.Stringset{*set}}}
		_ = rep.MarshalAttrs(&e)
	default:
		f.mu.Lock()
		rep := f.replies[cmd]
		f.mu.Unlock()
		if rep == nil {
			k.Push(genltest.Error(r, unix.EOPNOTSUPP, nil))
			return
		}
		_ = rep.MarshalAttrs(&e)
	}
	k.Push(genltest.Reply(r, cmd, e.Bytes()))
	if r.Header.Flags&netlink.Acknowledge != 0 {
		k.Push(genltest.Ack(r))
	}
}

// stringset lays out names as the kernel sends a string set.
func stringset(id uint32, names []string) *ethtool.Stringset {
	s := &ethtool.Stringset{ID: ethtool.Some(id), Count: ethtool.Some(uint32(len(names)))}
	var strs ethtool.Strings
	for i, n := range names {
		strs.StringAttr = append(strs.StringAttr, ethtool.String{Index: ethtool.Some(uint32(i)), Value: ethtool.Some(n)})
	}
	s.Strings = []ethtool.Strings{strs}
	return s
}

// newFake returns a fake ethtool kernel and a Client on it.
func newFake(t *testing.T) (*fakeEthtool, *ethtool.Client) {
	t.Helper()
	f := &fakeEthtool{sets: map[uint32][]string{}, replies: map[uint8]interface{ MarshalAttrs(*attrs.Encoder) error }{}}
	f.strset = func(id uint32) *ethtool.Stringset { return stringset(id, f.sets[id]) }
	k := genltest.New()
	fam := genltest.Family{ID: 0x20, Name: ethtool.FamilyName, Version: ethtool.FamilyVersion, MaxAttr: 10}
	for _, cmd := range []uint8{ethtool.CmdStrsetGet, ethtool.CmdLinkmodesGet, ethtool.CmdFeaturesGet} {
		fam.Ops = append(fam.Ops, genltest.Op{ID: uint32(cmd), Flags: unix.GENL_CMD_CAP_DO})
	}
	k.Controller(fam)
	k.Handle(f.serve)
	conn, err := genl.NewConn(k.Transport())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := ethtool.New(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// features builds a features-get reply as the kernel does with compact
// bitsets: four nomask bitsets of size bits (hw, wanted, active, nochange).
func features(size int, hw, wanted, active, nochange uint32) *ethtool.Features {
	b := func(w uint32) *ethtool.Bitset {
		return &ethtool.Bitset{Nomask: true, Size: ethtool.Some(uint32(size)), Value: compact(w)}
	}
	return &ethtool.Features{Header: &ethtool.Header{DevIndex: ethtool.Some[uint32](2), DevName: ethtool.Some("eth0")},
		Hw: b(hw), Wanted: b(wanted), Active: b(active), Nochange: b(nochange)}
}

var featureNames = []string{"tx-scatter-gather", "rx-checksum", "", "rx-gro", "rx-lro", "tx-nocache-copy"}

func TestFeaturesCompactAndCached(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	f.sets[uint32(ethtool.StringsetFeatures)] = featureNames[:5]
	//                      hw      wanted  active  nochange
	f.replies[ethtool.CmdFeaturesGet] = features(5, 0b11011, 0b01011, 0b00011, 0b10000)
	want := []string{
		"tx-scatter-gather: on",
		"rx-checksum: on",
		"rx-gro: off [requested on]",
		"rx-lro: off [fixed]", // in hw, but in nochange
	}
	for range 3 {
		got, err := c.Features(ctx, ethtool.Device("eth0"))
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(got); s != fmt.Sprint(want) {
			t.Errorf("Features = %s\nwant       %s", s, want)
		}
	}
	if h := f.lastHeader(t, ethtool.CmdFeaturesGet); h.Flags != ethtool.Some(ethtool.HeaderFlagsCompactBitsets) || h.DevName.Value != "eth0" {
		t.Errorf("request header %+v, want compact bitsets for eth0", h)
	}
	if n := f.count(ethtool.CmdStrsetGet); n != 1 {
		t.Errorf("%d strset-get requests for 3 Features calls, want 1 (cached)", n)
	}

	// The kernel's bitsets outgrow the kept set: asked again.
	f.sets[uint32(ethtool.StringsetFeatures)] = featureNames
	f.replies[ethtool.CmdFeaturesGet] = features(6, 0b111011, 0b101011, 0b100011, 0)
	got, err := c.Features(ctx, ethtool.DeviceIndex(2))
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(ethtool.CmdStrsetGet); n != 2 || len(got) != 5 || got[4].String() != "tx-nocache-copy: on" {
		t.Errorf("after the set grew: %d strset-get requests, features %v", n, got)
	}
	if h := f.lastHeader(t, ethtool.CmdFeaturesGet); h.DevIndex.Value != 2 || h.DevName.Valid {
		t.Errorf("DeviceIndex header %+v", h)
	}

	// ForgetStringSets empties the cache.
	c.ForgetStringSets()
	if _, err := c.StringSet(ctx, nil, ethtool.StringsetFeatures); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StringSet(ctx, nil, ethtool.StringsetFeatures); err != nil {
		t.Fatal(err)
	}
	if n := f.count(ethtool.CmdStrsetGet); n != 3 {
		t.Errorf("%d strset-get requests after ForgetStringSets and 2 StringSet calls, want 3", n)
	}
}

// TestFeaturesVerbose: a header with Flags set is sent as given, and a
// verbose reply names its own bits; the string set adds the features the
// reply does not list (off, and fixed, everywhere).
func TestFeaturesVerbose(t *testing.T) {
	f, c := newFake(t)
	f.sets[uint32(ethtool.StringsetFeatures)] = []string{"tx-scatter-gather", "rx-checksum", "", "rx-gro", "rx-lro"}
	b := func(bits ...ethtool.BitsetBit) *ethtool.Bitset {
		return &ethtool.Bitset{Nomask: true, Size: ethtool.Some[uint32](5), Bits: verbose(bits...)}
	}
	f.replies[ethtool.CmdFeaturesGet] = &ethtool.Features{
		Hw:       b(named(0, "tx-scatter-gather", true), named(3, "rx-gro", true)),
		Wanted:   b(named(0, "tx-scatter-gather", true)),
		Active:   b(named(0, "tx-scatter-gather", true), named(3, "rx-gro", true)),
		Nochange: b(named(4, "rx-lro", true)),
	}
	dev := ethtool.Device("eth0")
	dev.Flags = ethtool.Some[ethtool.HeaderFlags](0)
	got, err := c.Features(context.Background(), dev)
	if err != nil {
		t.Fatal(err)
	}
	want := "[tx-scatter-gather: on rx-checksum: off [fixed] rx-gro: on [requested off] rx-lro: off [fixed]]"
	if fmt.Sprint(got) != want {
		t.Errorf("Features = %v, want %s", got, want)
	}
	if h := f.lastHeader(t, ethtool.CmdFeaturesGet); h.Flags != ethtool.Some[ethtool.HeaderFlags](0) {
		t.Errorf("request flags %v, want 0 as given", h.Flags)
	}
	if n := f.count(ethtool.CmdStrsetGet); n != 1 {
		t.Errorf("%d strset-get requests for a verbose reply, want 1 (for the features it does not list)", n)
	}
}

func TestLinkModes(t *testing.T) {
	f, c := newFake(t)
	size := ethtool.Some[uint32](121)
	words := func(bits ...int) []byte {
		m := attrs.NewBitmap(121)
		for _, b := range bits {
			_ = m.Set(b, true)
		}
		return m
	}
	f.replies[ethtool.CmdLinkmodesGet] = &ethtool.Linkmodes{
		Autoneg: ethtool.Some(ethtool.AutonegEnable), Speed: ethtool.Some[uint32](1000), Duplex: ethtool.Some(ethtool.DuplexFull),
		Ours: &ethtool.Bitset{Size: size, Value: words(1, 5, 6, 13),
			Mask: words(0, 1, 2, 3, 5, 6, 7, 13, 14)},
		Peer: &ethtool.Bitset{Nomask: true, Size: size, Value: words(5, 120)},
	}
	info, err := c.LinkModes(context.Background(), ethtool.Device("eth0"))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%v|%v|%v|%v %v %v", info.Supported, info.Advertised, info.PartnerAdvertised,
		info.Speed.Value, info.Duplex.Value, info.Autoneg.Value)
	want := "[10baseT/Half 10baseT/Full 100baseT/Half 100baseT/Full 1000baseT/Full Autoneg TP Pause Asym_Pause]|" +
		"[10baseT/Full 1000baseT/Full Autoneg Pause]|[1000baseT/Full 800000baseVR4/Full]|1000 Full on"
	if got != want {
		t.Errorf("LinkModes:\n got %s\nwant %s", got, want)
	}
	if h := f.lastHeader(t, ethtool.CmdLinkmodesGet); h.Flags != ethtool.Some(ethtool.HeaderFlagsCompactBitsets) {
		t.Errorf("request flags %v, want compact", h.Flags)
	}
	if n := f.count(ethtool.CmdStrsetGet); n != 0 {
		t.Errorf("%d strset-get requests: link modes need none", n)
	}
}

// TestMalformed: string sets and bitsets whose parts disagree give errors
// matching ErrMalformed that say what was wrong, and nothing panics.
func TestMalformed(t *testing.T) {
	ok := features(5, 1, 1, 1, 0)
	for _, tc := range []struct {
		name   string
		strset func(id uint32) *ethtool.Stringset
		reply  *ethtool.Features
		want   string
	}{
		{name: "string index past count", want: "string \"b\" has index 7, outside the set's 2 strings",
			strset: func(id uint32) *ethtool.Stringset {
				s := stringset(id, []string{"a", "b"})
				s.Strings[0].StringAttr[1].Index = ethtool.Some[uint32](7)
				return s
			}},
		{name: "string without index", want: "string set 4: string \"a\" has no index",
			strset: func(id uint32) *ethtool.Stringset {
				s := stringset(id, []string{"a"})
				s.Strings[0].StringAttr[0].Index = ethtool.Optional[uint32]{}
				return s
			}},
		{name: "count past strings", want: "count 9, but 2 strings sent",
			strset: func(id uint32) *ethtool.Stringset {
				s := stringset(id, []string{"a", "b"})
				s.Count = ethtool.Some[uint32](9)
				return s
			}},
		{name: "huge count", want: "count 4294967295, but 0 strings sent",
			strset: func(id uint32) *ethtool.Stringset {
				return &ethtool.Stringset{ID: ethtool.Some(id), Count: ethtool.Some[uint32](1<<32 - 1)}
			}},
		{name: "set missing", want: "not in the kernel's strset-get reply",
			strset: func(id uint32) *ethtool.Stringset { return stringset(id+1, nil) }},
		{name: "value not whole words", want: "features: hw: ethtool: malformed reply: compact bitset: value of 3 bytes",
			reply: func() *ethtool.Features {
				f := features(5, 1, 1, 1, 0)
				f.Hw.Value = []byte{1, 2, 3}
				return f
			}()},
		{name: "size past value", want: "features: active: ethtool: malformed reply: compact bitset: size 5 bits, but the value holds 0",
			reply: func() *ethtool.Features {
				f := features(5, 1, 1, 1, 0)
				f.Active.Value = nil
				return f
			}()},
		{name: "mask of another length", want: "features: wanted: ethtool: malformed reply: compact bitset: value of 4 bytes, mask of 8",
			reply: func() *ethtool.Features {
				f := features(5, 1, 1, 1, 0)
				f.Wanted.Nomask, f.Wanted.Mask = false, compact(1, 1)
				return f
			}()},
		{name: "verbose bit without index", want: "features: nochange: ethtool: malformed reply: verbose bitset: bit 0 (\"x\") has no index",
			reply: func() *ethtool.Features {
				f := features(5, 1, 1, 1, 0)
				f.Nochange = &ethtool.Bitset{Bits: verbose(ethtool.BitsetBit{Name: ethtool.Some("x")})}
				return f
			}()},
		{name: "verbose bit index huge", want: "has index 4294967295, want one below 65536",
			reply: func() *ethtool.Features {
				f := features(5, 1, 1, 1, 0)
				f.Hw = &ethtool.Bitset{Bits: verbose(named(1<<32-1, "x", true))}
				return f
			}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t)
			f.sets[uint32(ethtool.StringsetFeatures)] = featureNames[:5]
			if tc.strset != nil {
				f.strset = tc.strset
			}
			f.replies[ethtool.CmdFeaturesGet] = ok
			if tc.reply != nil {
				f.replies[ethtool.CmdFeaturesGet] = tc.reply
			}
			_, err := c.Features(context.Background(), ethtool.Device("eth0"))
			if !errors.Is(err, ethtool.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want ErrMalformed saying %q", err, tc.want)
			}
		})
	}
}

// TestBitsetList: List reads both forms in index order.
func TestBitsetList(t *testing.T) {
	names := []string{"a", "b", "c", "", "e"}
	for _, tc := range []struct {
		name string
		b    *ethtool.Bitset
		want string
	}{
		{"nil", nil, "[]"},
		{"compact", &ethtool.Bitset{Size: ethtool.Some[uint32](5), Value: compact(0b00101), Mask: compact(0b11111)},
			"[{0 a true} {1 b false} {2 c true} {3  false} {4 e false}]"},
		{"compact past size", &ethtool.Bitset{Size: ethtool.Some[uint32](2), Value: compact(0b111), Mask: compact(0b111)},
			"[{0 a true} {1 b true}]"},
		{"compact nomask", &ethtool.Bitset{Nomask: true, Size: ethtool.Some[uint32](5), Value: compact(0b10010)},
			"[{1 b true} {4 e true}]"},
		{"verbose", &ethtool.Bitset{Bits: verbose(named(4, "x", true), ethtool.BitsetBit{Index: ethtool.Some[uint32](1)})},
			"[{1 b false} {4 x true}]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.b.List(names)
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Errorf("List = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestFeaturesConcurrent: goroutines sharing a Client share its string set
// cache safely, and the kernel is asked for the set a few times at most.
func TestFeaturesConcurrent(t *testing.T) {
	f, c := newFake(t)
	f.sets[uint32(ethtool.StringsetFeatures)] = featureNames[:5]
	f.replies[ethtool.CmdFeaturesGet] = features(5, 0b11011, 0b01011, 0b00011, 0b10000)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := c.Features(context.Background(), ethtool.Device("eth0"))
				if err != nil || len(got) != 4 {
					t.Errorf("Features = %v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := f.count(ethtool.CmdStrsetGet); n < 1 || n > 8 {
		t.Errorf("%d strset-get requests for 160 concurrent Features calls", n)
	}
}

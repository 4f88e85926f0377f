package wireguard

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

// FuzzDeviceMerge decodes two get-device dump messages from arbitrary bytes
// and merges them as Device does: no panic, and a merged device has no
// more peers and allowed IPs than the messages carried.
func FuzzDeviceMerge(f *testing.F) {
	first := Wgdevice{Ifindex: Some(uint32(3)), Ifname: Some("wg0"), PrivateKey: make([]byte, 32), Peers: []Wgpeer{{
		PublicKey: bytes.Repeat([]byte{1}, 32), Endpoint: []byte{2, 0, 0, 80, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0},
		Allowedips: []Wgallowedip{{Family: Some(uint16(2)), Ipaddr: netip.MustParseAddr("192.0.2.0"), CidrMask: Some(uint8(24))}},
	}}}
	next := Wgdevice{Peers: []Wgpeer{{PublicKey: bytes.Repeat([]byte{1}, 32), Allowedips: first.Peers[0].Allowedips}}}
	var a, b attrs.Encoder
	if first.MarshalAttrs(&a) != nil || next.MarshalAttrs(&b) != nil {
		f.Fatal("seed does not encode")
	}
	f.Add(a.Bytes(), b.Bytes())
	f.Add(a.Bytes(), []byte{})
	f.Add([]byte{}, b.Bytes())
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var m deviceMerger
		peers, ips := 0, 0
		for _, msg := range [][]byte{a, b} {
			var w Wgdevice
			if w.decodeMessage(msg, nil) != nil {
				return
			}
			peers += len(w.Peers)
			for _, p := range w.Peers {
				ips += len(p.Allowedips)
			}
			if m.add(&w) != nil {
				return
			}
		}
		dev, err := m.device(deviceRef{name: "wg0"})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, p := range dev.Peers {
			got += len(p.AllowedIPs)
		}
		if len(dev.Peers) > peers || got != ips {
			t.Fatalf("merged %d peers and %d allowed IPs from %d and %d", len(dev.Peers), got, peers, ips)
		}
	})
}

// FuzzConfigRequests splits configs of arbitrary shape into set-device
// requests and checks what the kernel would make of them: every request
// encodes within the budget, the device settings and replace-peers are in
// the first only, and each peer's parts carry all its allowed IPs, in
// order, with replace-allowedips on the first part only.
func FuzzConfigRequests(f *testing.F) {
	f.Add(uint16(3), []byte{0, 1, 2, 200})
	f.Add(uint16(0), []byte{255, 255, 255})
	f.Add(uint16(1), bytes.Repeat([]byte{7}, 300))
	f.Fuzz(func(t *testing.T, shape uint16, sizes []byte) {
		total := 0
		for _, s := range sizes {
			total += int(s) * int(shape>>8+1)
		}
		if len(sizes) > 1000 || total > 20000 {
			return
		}
		cfg := Config{ReplacePeers: shape&1 != 0}
		port := int(shape)
		cfg.ListenPort = &port
		for i, s := range sizes {
			p := PeerConfig{ReplaceAllowedIPs: shape&2 != 0, UpdateOnly: s&1 != 0, Remove: s == 255}
			binary.BigEndian.PutUint32(p.PublicKey[:], uint32(i))
			if s&2 != 0 {
				p.Endpoint = netip.MustParseAddrPort("[2001:db8::1]:51820")
			}
			for j := range int(s) * int(shape>>8+1) {
				p.AllowedIPs = append(p.AllowedIPs, netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i), byte(j >> 8), byte(j)}), 64))
			}
			cfg.Peers = append(cfg.Peers, p)
		}
		reqs, err := cfg.requests(deviceRef{name: "wg0"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[Key][]netip.Prefix{}
		var order []Key
		for i := range reqs {
			r := &reqs[i]
			var e attrs.Encoder
			if err := r.MarshalAttrs(&e); err != nil {
				t.Fatalf("request %d does not encode: %v", i, err)
			}
			if e.Len() > messageBudget {
				t.Fatalf("request %d of %d bytes exceeds the %d-byte budget", i, e.Len(), messageBudget)
			}
			if i > 0 && (r.Flags.Valid || r.ListenPort.Valid) {
				t.Fatalf("request %d repeats device settings", i)
			}
			for _, p := range r.Peers {
				k := Key(p.PublicKey)
				_, seen := got[k]
				if !seen {
					order = append(order, k)
				}
				if replace := p.Flags.Value&WgpeerFlagsReplaceAllowedips != 0; replace && seen {
					t.Fatalf("request %d: peer %d part after the first replaces allowed IPs", i, len(order)-1)
				}
				pfx, err := appendPrefixes(got[k], p.Allowedips)
				if err != nil {
					t.Fatal(err)
				}
				got[k] = pfx
			}
		}
		if len(order) != len(cfg.Peers) {
			t.Fatalf("%d peers in the requests, want %d", len(order), len(cfg.Peers))
		}
		for i, p := range cfg.Peers {
			want := p.AllowedIPs
			if p.Remove {
				want = nil
			}
			if order[i] != p.PublicKey || !slices.Equal(got[order[i]], want) {
				t.Fatalf("peer %d: %d allowed IPs in the requests, want %d", i, len(got[order[i]]), len(want))
			}
		}
	})
}

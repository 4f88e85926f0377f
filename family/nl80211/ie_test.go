package nl80211_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/family/nl80211"
)

func TestElements(t *testing.T) {
	b := slices.Concat(ssidIE, ie(221, 0x00, 0x50, 0xf2, 2), ie(nl80211.ElementExtension, 35, 1))
	var ids []uint8
	var offs []int
	for e, err := range nl80211.Elements(b) {
		if err != nil {
			t.Fatal(err)
		}
		ids, offs = append(ids, e.ID), append(offs, e.Offset)
	}
	if !slices.Equal(ids, []uint8{0, 221, 255}) || !slices.Equal(offs, []int{0, 9, 15}) {
		t.Errorf("elements %v at %v", ids, offs)
	}
}

// Malformed input is an error naming the element and its offset, matching
// ErrMalformedElement; never a panic.
func TestElementsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"lone byte", slices.Concat(ssidIE, []byte{48}), "information element 48 at offset 9: header cut short"},
		{"length past the end", slices.Concat(ssidIE, []byte{11, 5, 1, 2}), "information element 11 at offset 9: length 5, only 2 bytes left"},
		{"long SSID", ie(0, make([]byte, 33)...), "SSID of 33 bytes"},
		{"BSS load length", ie(nl80211.ElementBSSLoad, 1, 2, 3), "information element 11 at offset 0: length 3, want 5"},
		{"RSN without version", ie(nl80211.ElementRSN, 1), "version cut short"},
		{"RSN version 2", ie(nl80211.ElementRSN, 2, 0), "version 2, want 1"},
		{"RSN group cut", ie(nl80211.ElementRSN, 1, 0, 0, 0x0f), "group cipher cut short"},
		{"RSN pairwise count past the end", ie(nl80211.ElementRSN, 1, 0, 0, 0x0f, 0xac, 4, 9, 0, 0, 0x0f, 0xac, 4), "9 pairwise cipher suites cut short"},
		{"RSN PMKIDs past the end", ie(nl80211.ElementRSN, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 2, 0, 0, 1, 0, 1, 2), "PMKID count cut short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := nl80211.ParseElements(tc.in)
			if info == nil {
				t.Fatal("no partial result")
			}
			var ee *nl80211.ElementError
			if !errors.Is(err, nl80211.ErrMalformedElement) || !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseElements: %v, want an ElementError containing %q", err, tc.want)
			}
		})
	}
}

func TestParseRSN(t *testing.T) {
	// Only the version: the standard's defaults.
	r, err := nl80211.ParseRSN([]byte{1, 0})
	if err != nil || r.GroupCipher != nl80211.CipherCCMP128 || !slices.Equal(r.AKMs, []nl80211.Suite{nl80211.AKM8021X}) {
		t.Errorf("version-only RSN: %+v, %v", r, err)
	}
	// WPA2/WPA3 transition: two AKMs, MFP capable, a PMKID and BIP.
	b := []byte{1, 0, 0x00, 0x0f, 0xac, 4, 2, 0, 0x00, 0x0f, 0xac, 4, 0x00, 0x0f, 0xac, 2, 2, 0, 0x00, 0x0f, 0xac, 2, 0x00, 0x0f, 0xac, 8, 0x80, 0, 1, 0}
	b = append(b, slices.Repeat([]byte{0xaa}, 16)...)
	b = append(b, 0x00, 0x0f, 0xac, 6)
	if r, err = nl80211.ParseRSN(b); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.PairwiseCiphers, []nl80211.Suite{nl80211.CipherCCMP128, nl80211.CipherTKIP}) ||
		!slices.Equal(r.AKMs, []nl80211.Suite{nl80211.AKMPSK, nl80211.AKMSAE}) || r.Capabilities&nl80211.RSNCapMFPC == 0 ||
		len(r.PMKIDs) != 1 || r.PMKIDs[0][15] != 0xaa || r.GroupMgmtCipher != nl80211.CipherBIPCMAC128 {
		t.Errorf("RSN %+v", r)
	}
	if got := r.AKMs[1].AKMName() + " " + r.PairwiseCiphers[1].CipherName() + " " + nl80211.NewSuite([3]byte{0, 0x10, 0x18}, 7).String(); got != "SAE TKIP 00-10-18:7" {
		t.Errorf("names %q", got)
	}
}

// FuzzParseElements: any input is walked without panicking; what parses
// is consistent with the walk.
func FuzzParseElements(f *testing.F) {
	f.Add(slices.Concat(ssidIE, bssLoadIE, rsnIE))
	f.Add([]byte{48, 2, 1, 0})
	f.Add([]byte{0})
	f.Add(ie(nl80211.ElementRSN, 1, 0, 0, 0x0f, 0xac, 4, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := nl80211.ParseElements(b)
		if err != nil && !errors.Is(err, nl80211.ErrMalformedElement) {
			t.Fatalf("error %v does not match ErrMalformedElement", err)
		}
		var walkErr error
		for _, err := range nl80211.Elements(b) {
			walkErr = err
		}
		if walkErr != nil {
			if err == nil {
				t.Fatalf("the walk fails (%v), ParseElements does not", walkErr)
			}
			return
		}
		n := 0
		for _, e := range info.Elements {
			n += 2 + len(e.Data)
		}
		if n != len(b) {
			t.Fatalf("elements cover %d of %d bytes", n, len(b))
		}
	})
}

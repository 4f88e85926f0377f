package nl80211

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
)

// Information elements (IEEE 802.11-2020 9.4.2) are the type-length-value
// records of beacons and probe responses that nl80211 passes on raw in a
// BSS's information-elements and beacon-ies. This file walks them and
// decodes the ones scanners need: SSID, RSN and BSS load.

// Element IDs of the elements this package decodes.
const (
	ElementSSID      = 0
	ElementBSSLoad   = 11
	ElementRSN       = 48
	ElementExtension = 255
)

// ErrMalformedElement is matched (errors.Is) by every error about an
// information element that is truncated or does not have its element's
// layout.
var ErrMalformedElement = errors.New("malformed information element")

// An ElementError says which information element was malformed and where.
type ElementError struct {
	ID     uint8  // the element ID, or 0 when the header itself is cut
	Offset int    // the element's offset in the buffer that was walked
	Msg    string // what is wrong
}

func (e *ElementError) Error() string {
	return fmt.Sprintf("nl80211: information element %d at offset %d: %s", e.ID, e.Offset, e.Msg)
}

// Unwrap returns ErrMalformedElement.
func (e *ElementError) Unwrap() error { return ErrMalformedElement }

// An Element is one information element: its ID and its payload (after
// the two header bytes), which aliases the buffer it was read from. For
// ID ElementExtension, Data starts with the extension ID.
type Element struct {
	ID     uint8
	Data   []byte
	Offset int // offset of the element's header in the walked buffer
}

// Elements yields the information elements of b in order. An element
// whose length runs past the end of b, or a lone trailing byte, is yielded
// as an error (an *ElementError) and ends the walk.
func Elements(b []byte) iter.Seq2[Element, error] {
	return func(yield func(Element, error) bool) {
		for off := 0; off < len(b); {
			if len(b)-off < 2 {
				yield(Element{}, &ElementError{ID: b[off], Offset: off, Msg: "header cut short (1 of 2 bytes)"})
				return
			}
			id, n := b[off], int(b[off+1])
			if len(b)-off-2 < n {
				yield(Element{}, &ElementError{ID: id, Offset: off, Msg: fmt.Sprintf("length %d, only %d bytes left", n, len(b)-off-2)})
				return
			}
			if !yield(Element{ID: id, Data: b[off+2 : off+2+n : off+2+n], Offset: off}, nil) {
				return
			}
			off += 2 + n
		}
	}
}

// A Suite is a cipher or AKM suite selector: an OUI and a suite type,
// as the RSN element carries them (00-0F-AC:4 is CCMP-128).
type Suite uint32

// NewSuite returns the suite of type typ under oui.
func NewSuite(oui [3]byte, typ uint8) Suite {
	return Suite(uint32(oui[0])<<24 | uint32(oui[1])<<16 | uint32(oui[2])<<8 | uint32(typ))
}

// OUI returns the suite's organisation identifier.
func (s Suite) OUI() [3]byte { return [3]byte{byte(s >> 24), byte(s >> 16), byte(s >> 8)} }

// Type returns the suite type within its OUI.
func (s Suite) Type() uint8 { return uint8(s) }

// The IEEE 802.11 cipher suites (OUI 00-0F-AC), IEEE 802.11-2020 table 9-149.
const (
	CipherUseGroup   Suite = 0x000fac00
	CipherWEP40      Suite = 0x000fac01
	CipherTKIP       Suite = 0x000fac02
	CipherCCMP128    Suite = 0x000fac04
	CipherWEP104     Suite = 0x000fac05
	CipherBIPCMAC128 Suite = 0x000fac06
	CipherNoGroup    Suite = 0x000fac07
	CipherGCMP128    Suite = 0x000fac08
	CipherGCMP256    Suite = 0x000fac09
	CipherCCMP256    Suite = 0x000fac0a
	CipherBIPGMAC128 Suite = 0x000fac0b
	CipherBIPGMAC256 Suite = 0x000fac0c
	CipherBIPCMAC256 Suite = 0x000fac0d
)

// The IEEE 802.11 AKM suites (OUI 00-0F-AC), IEEE 802.11-2020 table 9-151.
const (
	AKM8021X       Suite = 0x000fac01
	AKMPSK         Suite = 0x000fac02
	AKMFT8021X     Suite = 0x000fac03
	AKMFTPSK       Suite = 0x000fac04
	AKM8021XSHA256 Suite = 0x000fac05
	AKMPSKSHA256   Suite = 0x000fac06
	AKMSAE         Suite = 0x000fac08
	AKMFTSAE       Suite = 0x000fac09
	AKMOWE         Suite = 0x000fac12
	AKMSAEExtKey   Suite = 0x000fac18
)

var cipherNames = map[Suite]string{
	CipherUseGroup: "use-group", CipherWEP40: "WEP-40", CipherTKIP: "TKIP", CipherCCMP128: "CCMP-128",
	CipherWEP104: "WEP-104", CipherBIPCMAC128: "BIP-CMAC-128", CipherNoGroup: "no-group",
	CipherGCMP128: "GCMP-128", CipherGCMP256: "GCMP-256", CipherCCMP256: "CCMP-256",
	CipherBIPGMAC128: "BIP-GMAC-128", CipherBIPGMAC256: "BIP-GMAC-256", CipherBIPCMAC256: "BIP-CMAC-256",
}

var akmNames = map[Suite]string{
	AKM8021X: "802.1X", AKMPSK: "PSK", AKMFT8021X: "FT/802.1X", AKMFTPSK: "FT/PSK",
	AKM8021XSHA256: "802.1X/SHA-256", AKMPSKSHA256: "PSK/SHA-256", AKMSAE: "SAE", AKMFTSAE: "FT/SAE",
	AKMOWE: "OWE", AKMSAEExtKey: "SAE-EXT-KEY",
}

// String returns the suite as OUI:type in hex ("00-0f-ac:4").
func (s Suite) String() string {
	o := s.OUI()
	return fmt.Sprintf("%02x-%02x-%02x:%d", o[0], o[1], o[2], s.Type())
}

// CipherName returns the name of a cipher suite ("CCMP-128"), or String()
// for one this package does not know.
func (s Suite) CipherName() string {
	if n, ok := cipherNames[s]; ok {
		return n
	}
	return s.String()
}

// AKMName returns the name of an AKM suite ("PSK"), or String() for one
// this package does not know.
func (s Suite) AKMName() string {
	if n, ok := akmNames[s]; ok {
		return n
	}
	return s.String()
}

// An RSN is the content of an RSN element (IEEE 802.11-2020 9.4.2.24):
// the security a BSS offers. Fields after the version are optional on the
// wire; when the element ends early the rest keep the defaults the
// standard gives them (CCMP-128 group and pairwise, 802.1X AKM).
type RSN struct {
	Version         uint16
	GroupCipher     Suite
	PairwiseCiphers []Suite
	AKMs            []Suite
	Capabilities    uint16
	PMKIDs          [][16]byte
	// GroupMgmtCipher is the group management cipher, 0 when absent.
	GroupMgmtCipher Suite
}

// RSN capability bits.
const (
	RSNCapPreauth = 1 << 0
	RSNCapMFPR    = 1 << 6 // management frame protection required
	RSNCapMFPC    = 1 << 7 // management frame protection capable
)

// ParseRSN decodes the payload of an RSN element (without its two header
// bytes).
func ParseRSN(b []byte) (*RSN, error) {
	r := &elemReader{id: ElementRSN, b: b}
	rsn := &RSN{GroupCipher: CipherCCMP128, PairwiseCiphers: []Suite{CipherCCMP128}, AKMs: []Suite{AKM8021X}}
	rsn.Version = r.u16("version")
	if r.err == nil && rsn.Version != 1 {
		return nil, &ElementError{ID: ElementRSN, Msg: fmt.Sprintf("version %d, want 1", rsn.Version)}
	}
	if r.more() {
		rsn.GroupCipher = r.suite("group cipher")
	}
	if r.more() {
		rsn.PairwiseCiphers = r.suites("pairwise cipher")
	}
	if r.more() {
		rsn.AKMs = r.suites("AKM")
	}
	if r.more() {
		rsn.Capabilities = r.u16("capabilities")
	}
	if r.more() {
		n := int(r.u16("PMKID count"))
		if r.err == nil && len(r.b) < 16*n {
			r.fail("PMKID count", n*16)
		}
		for i := 0; i < n && r.err == nil; i++ {
			rsn.PMKIDs = append(rsn.PMKIDs, [16]byte(r.b[:16]))
			r.b = r.b[16:]
		}
	}
	if r.more() {
		rsn.GroupMgmtCipher = r.suite("group management cipher")
	}
	if r.err != nil {
		return nil, r.err
	}
	return rsn, nil
}

// A BSSLoad is the content of a BSS Load element (IEEE 802.11-2020
// 9.4.2.27): how busy the AP and its channel are.
type BSSLoad struct {
	StationCount uint16
	// ChannelUtilization is the share of time the AP sensed the medium
	// busy, scaled to 0..255.
	ChannelUtilization uint8
	// AvailableAdmissionCapacity is the remaining medium time for
	// admission control, in units of 32 µs per second.
	AvailableAdmissionCapacity uint16
}

// ParseBSSLoad decodes the payload of a BSS Load element.
func ParseBSSLoad(b []byte) (*BSSLoad, error) {
	if len(b) != 5 {
		return nil, &ElementError{ID: ElementBSSLoad, Msg: fmt.Sprintf("length %d, want 5", len(b))}
	}
	return &BSSLoad{
		StationCount:               binary.LittleEndian.Uint16(b),
		ChannelUtilization:         b[2],
		AvailableAdmissionCapacity: binary.LittleEndian.Uint16(b[3:]),
	}, nil
}

// ElementInfo is what ParseElements reads of a set of information
// elements. Fields of elements that are absent stay zero (nil).
type ElementInfo struct {
	SSID    []byte // nil without an SSID element; empty for a hidden SSID
	RSN     *RSN
	BSSLoad *BSSLoad
	// Elements lists every element, in order, decoded or not.
	Elements []Element
}

// ParseElements walks b and decodes the SSID, RSN and BSS load elements.
// It returns what it could decode with the first error: an element that
// does not have its layout (an RSN cut short) leaves its field nil and the
// walk goes on; an element running past the end of b ends it. The error
// is an *ElementError naming the element and its offset.
func ParseElements(b []byte) (*ElementInfo, error) {
	info := &ElementInfo{}
	var first error
	fail := func(err error, off int) {
		if first == nil {
			first = atOffset(err, off)
		}
	}
	for e, err := range Elements(b) {
		if err != nil {
			fail(err, -1)
			break
		}
		info.Elements = append(info.Elements, e)
		switch e.ID {
		case ElementSSID:
			if len(e.Data) > 32 {
				fail(&ElementError{ID: e.ID, Msg: fmt.Sprintf("SSID of %d bytes, at most 32", len(e.Data))}, e.Offset)
			} else if info.SSID == nil {
				info.SSID = e.Data
			}
		case ElementRSN:
			if info.RSN == nil {
				if info.RSN, err = ParseRSN(e.Data); err != nil {
					fail(err, e.Offset)
				}
			}
		case ElementBSSLoad:
			if info.BSSLoad == nil {
				if info.BSSLoad, err = ParseBSSLoad(e.Data); err != nil {
					fail(err, e.Offset)
				}
			}
		}
	}
	return info, first
}

// atOffset sets the offset of an *ElementError of one element's payload
// (off < 0 keeps the offset the walk gave).
func atOffset(err error, off int) error {
	var ee *ElementError
	if off >= 0 && errors.As(err, &ee) {
		ee.Offset = off
	}
	return err
}

// elemReader reads the fields of one element's payload, with a sticky
// error naming the first field that did not fit.
type elemReader struct {
	id  uint8
	b   []byte
	err error
}

func (r *elemReader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *elemReader) fail(field string, need int) {
	if r.err == nil {
		r.err = &ElementError{ID: r.id, Msg: fmt.Sprintf("%s cut short: %d bytes, want %d", field, len(r.b), need)}
	}
}

func (r *elemReader) u16(field string) uint16 {
	if r.err != nil || len(r.b) < 2 {
		r.fail(field, 2)
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *elemReader) suite(field string) Suite {
	if r.err != nil || len(r.b) < 4 {
		r.fail(field, 4)
		return 0
	}
	s := Suite(binary.BigEndian.Uint32(r.b))
	r.b = r.b[4:]
	return s
}

func (r *elemReader) suites(field string) []Suite {
	n := int(r.u16(field + " count"))
	if r.err == nil && len(r.b) < 4*n {
		r.fail(fmt.Sprintf("%d %s suites", n, field), 4*n)
	}
	if r.err != nil {
		return nil
	}
	out := make([]Suite, n)
	for i := range out {
		out[i] = r.suite(field)
	}
	return out
}

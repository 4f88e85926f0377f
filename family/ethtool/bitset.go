package ethtool

// Hand-written: bitset helpers on top of the generated types. genlgen leaves
// this file alone, since it does not carry the generated-code header.

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/genlkit/genlkit/attrs"
)

// String sets that name the bits of ethtool's bitsets: values of
// StringsetEnum (enum ethtool_stringset in linux/ethtool.h, which the spec
// leaves empty), for [Client.StringSet].
const (
	StringsetPrivFlags       StringsetEnum = 2  // ETH_SS_PRIV_FLAGS: Privflags.Flags (per device)
	StringsetFeatures        StringsetEnum = 4  // ETH_SS_FEATURES: Features.Hw, Wanted, Active, Nochange
	StringsetLinkModes       StringsetEnum = 9  // ETH_SS_LINK_MODES: Linkmodes.Ours and Peer, EEE and FEC modes
	StringsetMsgClasses      StringsetEnum = 10 // ETH_SS_MSG_CLASSES: Debug.Msgmask
	StringsetWolModes        StringsetEnum = 11 // ETH_SS_WOL_MODES: Wol.Modes
	StringsetSofTimestamping StringsetEnum = 12 // ETH_SS_SOF_TIMESTAMPING: Tsinfo.Timestamping
	StringsetTsTxTypes       StringsetEnum = 13 // ETH_SS_TS_TX_TYPES: Tsinfo.TxTypes
	StringsetTsRxFilters     StringsetEnum = 14 // ETH_SS_TS_RX_FILTERS: Tsinfo.RxFilters
	StringsetTsFlags         StringsetEnum = 22 // ETH_SS_TS_FLAGS: Tsconfig.HwtstampFlags
)

// Values returns the bits a bitset covers, by name, each with its value.
//
// Without Nomask a bitset is a value and a mask: the map holds every bit
// in the mask, true or false as its value says. With Nomask it is a list:
// the map holds the bits that are set, each true, and every other bit is
// off.
//
// A verbose bitset (Bits, as replies carry by default) names its bits
// itself; names is used only for a bit without a name, by its index. A
// compact bitset (Value and Mask, as notifications always carry and replies
// do when the request header's flags hold [HeaderFlagsCompactBitsets]) has
// bit i named names[i], typically from [Client.StringSet]; bits without a
// name (past the end of names or past the bitset's Size, or named "") are
// left out. A compact bitset without Nomask and without a Mask covers no
// bits. A nil bitset gives an empty map.
func (b *Bitset) Values(names []string) map[string]bool {
	m := make(map[string]bool)
	switch {
	case b == nil:
	case b.Bits != nil:
		for _, bit := range b.Bits.Bit {
			name := bit.Name.Value
			if !bit.Name.Valid && bit.Index.Valid && uint64(bit.Index.Value) < uint64(len(names)) {
				name = names[bit.Index.Value]
			}
			if name != "" {
				m[name] = b.Nomask || bit.Value
			}
		}
	default:
		n := len(names)
		if size, ok := b.Size.Get(); ok && uint64(size) < uint64(n) {
			n = int(size)
		}
		value, covered := attrs.Bitmap(b.Value), attrs.Bitmap(b.Mask)
		if b.Nomask {
			covered = value
		}
		for i := range covered.Ones() {
			if i >= n {
				break
			}
			if names[i] != "" {
				m[names[i]] = value.Test(i)
			}
		}
	}
	return m
}

// NewBitset returns a verbose bitset for a set request that changes the
// named bits to the values given and leaves every other bit as it is. The
// bits are in name order.
func NewBitset(changes map[string]bool) *Bitset {
	bits := make([]BitsetBit, 0, len(changes))
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		bits = append(bits, BitsetBit{Name: Some(name), Value: changes[name]})
	}
	return &Bitset{Bits: &BitsetBits{Bit: bits}}
}

// NewBitsetNomask returns a verbose Nomask bitset for a set request that
// turns the named bits on and every other bit off.
func NewBitsetNomask(on ...string) *Bitset {
	bits := make([]BitsetBit, len(on))
	for i, name := range on {
		bits[i] = BitsetBit{Name: Some(name)}
	}
	return &Bitset{Nomask: true, Bits: &BitsetBits{Bit: bits}}
}

// StringSet returns the names in string set id, such as [StringsetFeatures],
// as the kernel numbers them: names[i] is the name of bit i in the compact
// bitsets the set names, for [Bitset.Values]. dev picks the device, by
// DevName or DevIndex, for per-device sets such as [StringsetPrivFlags]; nil
// (or a Header without a device) asks for a global set.
func (c *Client) StringSet(ctx context.Context, dev *Header, id StringsetEnum) ([]string, error) {
	if dev == nil {
		dev = &Header{} // the kernel wants a header, if an empty one
	}
	rep, err := c.StrsetGet(ctx, &StrsetGetRequest{
		Header:     dev,
		Stringsets: &Stringsets{Stringset: []Stringset{{ID: Some(uint32(id))}}},
	})
	if err != nil {
		return nil, fmt.Errorf("string set %d: %w", id, err)
	}
	if rep.Stringsets != nil {
		for _, set := range rep.Stringsets.Stringset {
			if set.ID == Some(uint32(id)) {
				return set.names()
			}
		}
	}
	return nil, fmt.Errorf("string set %d: not in the kernel's strset-get reply", id)
}

// names lays out a string set's strings by index. The kernel sends every
// string, so an index at or past the count, or a count larger than the
// strings sent, is an error.
func (s *Stringset) names() ([]string, error) {
	sent := 0
	for _, ss := range s.Strings {
		sent += len(ss.StringAttr)
	}
	count := s.Count.Or(uint32(sent))
	if uint64(count) > uint64(sent) {
		return nil, fmt.Errorf("string set %d: count %d, but %d strings sent", s.ID.Value, count, sent)
	}
	names := make([]string, count)
	for _, ss := range s.Strings {
		for _, str := range ss.StringAttr {
			if !str.Index.Valid || str.Index.Value >= count {
				return nil, fmt.Errorf("string set %d: string %q has index %v, outside the set's %d strings", s.ID.Value, str.Value.Value, str.Index, count)
			}
			names[str.Index.Value] = str.Value.Value
		}
	}
	return names, nil
}

package ethtool

// Hand-written: bitset helpers on top of the generated types. genlgen leaves
// this file alone, since it does not carry the generated-code header.

import (
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

// maxBits bounds the bits of a bitset the helpers read: the kernel's
// largest (netdev features, link modes) hold some hundreds of bits; an
// index past this is a malformed reply, not a reason to allocate.
const maxBits = 1 << 16

// A bitsetView is a bitset of either form read into bitmaps.
type bitsetView struct {
	value attrs.Bitmap
	mask  attrs.Bitmap // the bits covered; nil with nomask: every bit
	names []string     // by index: a verbose bitset's own names, else names given
	size  int          // the bits the bitset speaks of
}

// view reads b into bitmaps. A compact bitset's bits are named by names; a
// verbose one's by the names its bits carry, names filling in for bits
// without one. Parts that disagree (a value or mask that is not whole
// 32-bit words, a mask of another length than the value, a size the value
// cannot hold, a verbose bit without an index or past maxBits) are errors
// matching [ErrMalformed]; a nil bitset is an empty one.
func (b *Bitset) view(names []string) (bitsetView, error) {
	v := bitsetView{names: names}
	switch {
	case b == nil:
		v.mask = attrs.Bitmap{}
	case b.Bits != nil:
		return b.verboseView(names)
	default:
		if len(b.Value)%4 != 0 || len(b.Mask)%4 != 0 {
			return v, fmt.Errorf("%w: compact bitset: value of %d bytes, mask of %d: not whole 32-bit words", ErrMalformed, len(b.Value), len(b.Mask))
		}
		if !b.Nomask && b.Mask != nil && len(b.Mask) != len(b.Value) {
			return v, fmt.Errorf("%w: compact bitset: value of %d bytes, mask of %d", ErrMalformed, len(b.Value), len(b.Mask))
		}
		v.value = attrs.Bitmap(b.Value)
		v.size = v.value.Len()
		if size, ok := b.Size.Get(); ok {
			if uint64(size) > uint64(v.size) {
				return v, fmt.Errorf("%w: compact bitset: size %d bits, but the value holds %d", ErrMalformed, size, v.size)
			}
			v.size = int(size)
		}
		v.mask = attrs.Bitmap(b.Mask)
		if b.Nomask {
			v.mask = nil
		} else if v.mask == nil {
			v.mask = attrs.Bitmap{}
		}
	}
	return v, nil
}

// verboseView is view for a verbose bitset.
func (b *Bitset) verboseView(names []string) (bitsetView, error) {
	v := bitsetView{}
	n := 0
	if size, ok := b.Size.Get(); ok && size <= maxBits {
		n = int(size)
	}
	for i, bit := range b.Bits.Bit {
		idx, ok := bit.Index.Get()
		if !ok {
			return v, fmt.Errorf("%w: verbose bitset: bit %d (%q) has no index", ErrMalformed, i, bit.Name.Value)
		}
		if idx >= maxBits {
			return v, fmt.Errorf("%w: verbose bitset: bit %d (%q) has index %d, want one below %d", ErrMalformed, i, bit.Name.Value, idx, maxBits)
		}
		n = max(n, int(idx)+1)
	}
	v.size = n
	v.value, v.mask = attrs.NewBitmap(n), attrs.NewBitmap(n)
	v.names = make([]string, max(n, len(names)))
	copy(v.names, names)
	for _, bit := range b.Bits.Bit {
		i := int(bit.Index.Value)
		_ = v.mask.Set(i, true)
		_ = v.value.Set(i, b.Nomask || bit.Value)
		if bit.Name.Value != "" {
			v.names[i] = bit.Name.Value
		}
	}
	if b.Nomask {
		v.mask = nil
	}
	return v, nil
}

// A NamedBit is one bit of a bitset, as [Bitset.List] reads it.
type NamedBit struct {
	Index int
	Name  string // "" for a bit neither the bitset nor the string set names
	Value bool
}

// List returns the bits b covers, in index order, each with its name and
// value: as [Bitset.Values], but ordered, keeping unnamed bits, and
// checking the bitset. Without Nomask these are the bits of the mask (of
// the bits listed, for a verbose bitset); with Nomask the bits that are
// set. Bitsets whose parts disagree give an error matching
// [ErrMalformed]; a nil bitset an empty list.
func (b *Bitset) List(names []string) ([]NamedBit, error) {
	v, err := b.view(names)
	if err != nil {
		return nil, err
	}
	covered := v.mask
	if covered == nil {
		covered = v.value
	}
	var out []NamedBit
	for i := range covered.Ones() {
		if i >= v.size {
			break
		}
		nb := NamedBit{Index: i, Value: v.value.Test(i)}
		if i < len(v.names) {
			nb.Name = v.names[i]
		}
		out = append(out, nb)
	}
	return out, nil
}

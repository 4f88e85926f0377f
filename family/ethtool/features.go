package ethtool

// Hand-written: a device's features as `ethtool -k` shows them.

import (
	"context"
	"fmt"
)

// Device returns a request header naming a device by its name, for the
// helpers that take one ([Client.Features], [Client.LinkModes],
// [Client.StringSet]) and for the generated requests' Header field.
func Device(name string) *Header { return &Header{DevName: Some(name)} }

// DeviceIndex returns a request header naming a device by its interface
// index.
func DeviceIndex(ifindex int) *Header { return &Header{DevIndex: Some(uint32(ifindex))} }

// requestHeader returns the header a helper sends for dev: dev's device,
// with [HeaderFlagsCompactBitsets] unless dev sets Flags itself (a Header
// whose Flags is Some(0) asks for verbose bitsets).
func requestHeader(dev *Header) *Header {
	h := &Header{}
	if dev != nil {
		*h = *dev
	}
	if !h.Flags.Valid {
		h.Flags = Some(HeaderFlagsCompactBitsets)
	}
	return h
}

// A Feature is one netdev feature of a device ("rx-checksum", "tx-tcp-
// segmentation"), with what `ethtool -k` shows of it.
type Feature struct {
	// Name is the kernel's name for the feature, from the features string
	// set (ETH_SS_FEATURES).
	Name string
	// Index is the feature's bit in the features bitsets.
	Index int
	// Active says whether the feature is on.
	Active bool
	// Requested says whether the feature was asked to be on (the wanted
	// bitset). It differs from Active when the device cannot honour it now.
	Requested bool
	// Fixed says that the feature cannot be changed: the device does not
	// offer to change it (not in hw), or no device may (nochange).
	Fixed bool
}

// State returns what `ethtool -k` prints after the feature's name: "on"
// or "off", then " [fixed]" for a fixed feature, else " [requested on]" or
// " [requested off]" when what was requested is not what is active.
func (f Feature) State() string {
	s := "off"
	if f.Active {
		s = "on"
	}
	switch {
	case f.Fixed:
		s += " [fixed]"
	case f.Requested != f.Active && f.Requested:
		s += " [requested on]"
	case f.Requested != f.Active:
		s += " [requested off]"
	}
	return s
}

// String returns the feature as an `ethtool -k` line: "rx-gro: on".
func (f Feature) String() string { return f.Name + ": " + f.State() }

// FeatureList reads a features-get reply (or a features notification) into
// its features, in bit order. names is the features string set
// ([StringsetFeatures]), which names the bits of compact bitsets; a reply
// with verbose bitsets names the bits it lists itself, and names (which
// may then be nil) adds those it does not list. Bits without a name are
// left out, as ethtool leaves them out. Bitsets whose parts disagree give
// an error matching [ErrMalformed].
func FeatureList(f *Features, names []string) ([]Feature, error) {
	if f == nil {
		return nil, nil
	}
	var views [4]bitsetView
	for i, b := range [4]*Bitset{f.Hw, f.Wanted, f.Active, f.Nochange} {
		v, err := b.view(names)
		if err != nil {
			return nil, fmt.Errorf("features: %s: %w", [4]string{"hw", "wanted", "active", "nochange"}[i], err)
		}
		views[i] = v
		if len(v.names) > len(names) {
			names = v.names // a verbose bitset's names, for the bitsets after it
		}
	}
	hw, wanted, active, nochange := &views[0], &views[1], &views[2], &views[3]
	n := len(names)
	for i := range views {
		n = max(n, len(views[i].names))
	}
	out := make([]Feature, 0, n)
	for i := range n {
		name := nameOf(i, names, views[:])
		if name == "" {
			continue
		}
		out = append(out, Feature{
			Name:      name,
			Index:     i,
			Active:    active.value.Test(i),
			Requested: wanted.value.Test(i),
			Fixed:     !hw.value.Test(i) || nochange.value.Test(i),
		})
	}
	return out, nil
}

// nameOf returns bit i's name: from names, or from a verbose bitset.
func nameOf(i int, names []string, views []bitsetView) string {
	if i < len(names) && names[i] != "" {
		return names[i]
	}
	for _, v := range views {
		if i < len(v.names) && v.names[i] != "" {
			return v.names[i]
		}
	}
	return ""
}

// Features returns the features of device dev (see [Device]) as `ethtool
// -k` shows them, in bit order. It asks for compact bitsets, named through
// the Client's cached features string set ([Client.StringSet], fetched the
// first time and again only if the kernel's bitsets outgrow it), unless
// dev sets Flags itself: Flags without [HeaderFlagsCompactBitsets] asks for
// verbose bitsets, which name their bits at some cost in size and time.
func (c *Client) Features(ctx context.Context, dev *Header) ([]Feature, error) {
	f, err := c.FeaturesGet(ctx, &FeaturesGetRequest{Header: requestHeader(dev)})
	if err != nil {
		return nil, err
	}
	// Compact bitsets need the names; verbose ones list only the bits
	// set (the kernel sends them without a mask), so the names add the
	// features that are off everywhere, as ethtool shows them.
	size := -1
	if f.Active != nil && f.Active.Bits == nil {
		if s, ok := f.Active.Size.Get(); ok && s <= maxBits {
			size = int(s)
		}
	}
	names, err := c.stringSet(ctx, nil, StringsetFeatures, size)
	if err != nil {
		return nil, err
	}
	return FeatureList(f, names)
}

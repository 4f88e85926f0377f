package ethtool

// Hand-written: string sets, fetched once per Client and kept.

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrMalformed matches the errors of the helpers in this file and in
// bitset.go, features.go and linkmodes.go about replies they cannot make
// sense of: a string set whose strings do not fit its count, a bitset whose
// parts disagree. Decoding errors of the generated code are separate.
var ErrMalformed = errors.New("ethtool: malformed reply")

// stringSetsKey keys a Client's string set cache (family.Client.Local).
type stringSetsKey struct{}

// A stringSetCache holds the string sets a Client fetched, for the family
// id they were fetched under: a family registered again (a module
// reloaded) starts afresh.
type stringSetCache struct {
	mu     sync.Mutex
	family uint16
	sets   map[stringSetKey][]string
}

// A stringSetKey names a cached set: its id and, for a per-device set, the
// device as the request header named it.
type stringSetKey struct {
	id    StringsetEnum
	index uint32
	name  string
}

// perDevice reports whether the kernel keeps set id per device (strset.c:
// ETH_SS_TEST, ETH_SS_STATS, ETH_SS_PRIV_FLAGS, ETH_SS_PHY_STATS; 3,
// ETH_SS_NTUPLE_FILTERS, is kept with them for safety).
func perDevice(id StringsetEnum) bool { return id <= 3 || id == 8 }

func (c *Client) stringSets() *stringSetCache {
	return c.core.Local(stringSetsKey{}, func() any { return new(stringSetCache) }).(*stringSetCache)
}

// StringSet returns the names in string set id, such as [StringsetFeatures],
// as the kernel numbers them: names[i] is the name of bit i in the compact
// bitsets the set names, for [Bitset.Values]. dev picks the device, by
// DevName or DevIndex, for per-device sets such as [StringsetPrivFlags]; nil
// (or a Header without a device) asks for a global set.
//
// The Client asks the kernel once per set (and device, for per-device sets)
// and keeps the answer: the names of global sets are fixed while a kernel
// runs, and a Client's Conn stays in one network namespace. The helpers
// that read compact bitsets ([Client.Features], [Client.LinkModes]) ask
// again when a bitset's size disagrees with the kept set's length, and a
// family registered again empties the cache; [Client.ForgetStringSets]
// empties it by hand (a device renamed, or replaced by another driver's
// under the same name, keeps a per-device set otherwise). The returned
// slice is shared: do not modify it.
func (c *Client) StringSet(ctx context.Context, dev *Header, id StringsetEnum) ([]string, error) {
	return c.stringSet(ctx, dev, id, -1)
}

// ForgetStringSets empties the Client's cache of string sets: the next
// [Client.StringSet] of each set asks the kernel.
func (c *Client) ForgetStringSets() {
	cache := c.stringSets()
	cache.mu.Lock()
	cache.sets = nil
	cache.mu.Unlock()
}

// stringSet returns set id from the cache, unless size >= 0 and the kept
// set does not have size names, or nothing is kept: then from the kernel.
func (c *Client) stringSet(ctx context.Context, dev *Header, id StringsetEnum, size int) ([]string, error) {
	fam, err := c.core.Current(ctx)
	if err != nil {
		return nil, err
	}
	key := stringSetKey{id: id}
	if perDevice(id) && dev != nil {
		key.index, key.name = dev.DevIndex.Value, dev.DevName.Value
	}
	cache := c.stringSets()
	cache.mu.Lock()
	if cache.family != fam.ID {
		cache.family, cache.sets = fam.ID, nil
	}
	names, ok := cache.sets[key]
	cache.mu.Unlock()
	if ok && (size < 0 || size == len(names)) {
		return names, nil
	}
	if names, err = c.fetchStringSet(ctx, dev, id); err != nil {
		return nil, err
	}
	cache.mu.Lock()
	if cache.family == fam.ID {
		if cache.sets == nil {
			cache.sets = make(map[stringSetKey][]string)
		}
		cache.sets[key] = names
	}
	cache.mu.Unlock()
	return names, nil
}

// fetchStringSet asks the kernel for string set id.
func (c *Client) fetchStringSet(ctx context.Context, dev *Header, id StringsetEnum) ([]string, error) {
	hdr := &Header{} // the kernel wants a header, if an empty one
	if dev != nil {
		hdr = &Header{DevIndex: dev.DevIndex, DevName: dev.DevName, PHYIndex: dev.PHYIndex}
	}
	rep, err := c.StrsetGet(ctx, &StrsetGetRequest{
		Header:     hdr,
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
	return nil, fmt.Errorf("%w: string set %d: not in the kernel's strset-get reply", ErrMalformed, id)
}

// maxStrings bounds the count of a string set: the kernel's largest sets
// (per-device statistics) hold some thousands of names; a count past this
// is a malformed reply, not a reason to allocate.
const maxStrings = 1 << 20

// names lays out a string set's strings by index. The kernel sends every
// string, so an index at or past the count, or a count larger than the
// strings sent, is an error.
func (s *Stringset) names() ([]string, error) {
	sent := 0
	for _, ss := range s.Strings {
		sent += len(ss.StringAttr)
	}
	count := s.Count.Or(uint32(sent))
	if uint64(count) > uint64(sent) || count > maxStrings {
		return nil, fmt.Errorf("%w: string set %d: count %d, but %d strings sent", ErrMalformed, s.ID.Value, count, sent)
	}
	names := make([]string, count)
	for _, ss := range s.Strings {
		for _, str := range ss.StringAttr {
			if !str.Index.Valid {
				return nil, fmt.Errorf("%w: string set %d: string %q has no index", ErrMalformed, s.ID.Value, str.Value.Value)
			}
			if str.Index.Value >= count {
				return nil, fmt.Errorf("%w: string set %d: string %q has index %d, outside the set's %d strings", ErrMalformed, s.ID.Value, str.Value.Value, str.Index.Value, count)
			}
			names[str.Index.Value] = str.Value.Value
		}
	}
	return names, nil
}

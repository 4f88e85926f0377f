package ethtool

// Hand-written: a device's link modes as `ethtool <dev>` shows them.

import (
	"context"
	"fmt"
)

// LinkModeInfo is a device's link settings, the linkmodes-get reply, with
// its bitsets read as link modes.
type LinkModeInfo struct {
	// Linkmodes is the reply: speed, duplex, autoneg, lanes and the rest,
	// and the bitsets as they came.
	*Linkmodes
	// Supported are the modes the device supports (the mask of the ours
	// bitset): `ethtool <dev>` splits them into "Supported ports",
	// "Supported link modes", "Supported pause frame use", "Supports
	// auto-negotiation" and "Supported FEC modes".
	Supported []LinkMode
	// Advertised are the modes the device advertises (the value of ours).
	Advertised []LinkMode
	// PartnerAdvertised are the modes the link partner advertises (the
	// value of peer), when the driver knows them.
	PartnerAdvertised []LinkMode
}

// LinkModes returns the link settings of device dev (see [Device]), its
// link modes as [LinkMode] values, which name themselves. It asks for
// compact bitsets, which need no string set since a mode's bit is its
// value, unless dev sets Flags itself (see [Client.Features]).
func (c *Client) LinkModes(ctx context.Context, dev *Header) (*LinkModeInfo, error) {
	lm, err := c.LinkmodesGet(ctx, &LinkmodesGetRequest{Header: requestHeader(dev)})
	if err != nil {
		return nil, err
	}
	return LinkModesOf(lm)
}

// LinkModesOf reads a linkmodes-get reply's bitsets (compact or verbose)
// as link modes. Bitsets whose parts disagree give an error matching
// [ErrMalformed].
func LinkModesOf(lm *Linkmodes) (*LinkModeInfo, error) {
	info := &LinkModeInfo{Linkmodes: lm}
	if lm == nil {
		return info, nil
	}
	ours, err := lm.Ours.view(nil)
	if err != nil {
		return nil, fmt.Errorf("linkmodes: ours: %w", err)
	}
	peer, err := lm.Peer.view(nil)
	if err != nil {
		return nil, fmt.Errorf("linkmodes: peer: %w", err)
	}
	info.Supported = ours.modes(true)
	info.Advertised = ours.modes(false)
	info.PartnerAdvertised = peer.modes(false)
	return info, nil
}

// modes returns the bits covered (covered true) or set, as link modes.
func (v *bitsetView) modes(covered bool) []LinkMode {
	var out []LinkMode
	set := v.value
	if covered && v.mask != nil {
		set = v.mask
	}
	for i := range set.Ones() {
		if i >= v.size {
			break
		}
		out = append(out, LinkMode(i))
	}
	return out
}

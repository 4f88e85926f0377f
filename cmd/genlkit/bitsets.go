package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/internal/jsonmsg"
)

// ethtool bitsets and features are read by package family/ethtool
// (Bitset.List, FeatureList): the view encodes the decoded JSON back into
// attributes with the codec and decodes them with the typed package, so
// that what a bitset means is said in one place.

// typedBitset returns the ethtool bitset that JSON object o decodes from.
func (v *view) typedBitset(o *jsonmsg.Object) (*ethtool.Bitset, bool) {
	b, err := v.desc.codec.EncodeAttrs("bitset", o)
	if err != nil {
		return nil, false
	}
	bs := new(ethtool.Bitset)
	return bs, bs.UnmarshalAttrs(b) == nil
}

// stringSetOf names the ethtool string set that names the bits of a
// compact bitset attribute, by the attribute's name; 0 when unknown.
func stringSetOf(attr string) ethtool.StringsetEnum {
	switch attr {
	case "hw", "wanted", "active", "nochange":
		return ethtool.StringsetFeatures
	case "ours", "peer", "modes-ours", "modes-peer":
		return ethtool.StringsetLinkModes
	case "msgmask":
		return ethtool.StringsetMsgClasses
	case "timestamping":
		return ethtool.StringsetSofTimestamping
	case "tx-types":
		return ethtool.StringsetTsTxTypes
	case "rx-filters":
		return ethtool.StringsetTsRxFilters
	}
	return 0
}

// stringSet returns the names of an ethtool string set, asked once; nil
// when the kernel cannot say.
func (v *view) stringSet(id ethtool.StringsetEnum) []string {
	if id == 0 || v.a.conn == nil {
		return nil
	}
	if names, ok := v.strsets[uint32(id)]; ok {
		return names
	}
	if v.strsets == nil {
		v.strsets = map[uint32][]string{}
	}
	ctx, cancel := v.a.requestContext()
	defer cancel()
	var names []string
	if c, err := ethtool.New(ctx, v.a.conn); err == nil {
		names, _ = c.StringSet(ctx, nil, id)
	}
	v.strsets[uint32(id)] = names
	return names
}

// namesFor returns the string set naming the compact bitset b of
// attribute attr; nil for a verbose one, which names its bits.
func (v *view) namesFor(attr string, b *ethtool.Bitset) []string {
	if b == nil || b.Bits != nil {
		return nil
	}
	return v.stringSet(stringSetOf(attr))
}

// bitName returns a bit's name, or "bit N" for a bit without one.
func bitName(b ethtool.NamedBit) string {
	if b.Name != "" {
		return b.Name
	}
	return "bit " + strconv.Itoa(b.Index)
}

// bitset shows a bitset as the names of its set bits, or "none".
func (v *view) bitset(a *family.AttrDesc, o *jsonmsg.Object) any {
	b, ok := v.typedBitset(o)
	if !ok {
		return o
	}
	list, err := b.List(v.namesFor(a.Name, b))
	if err != nil {
		return o
	}
	var on []string
	for _, bit := range list {
		if bit.Value {
			on = append(on, bitName(bit))
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, " ")
}

// ethtoolFeatures replaces the four bitsets of a features reply or
// notification (hw, wanted, active, nochange) in out by one "features"
// object read as `ethtool -k` prints it (ethtool.Feature.State): each
// named feature "on" or "off", "[fixed]" when it cannot be changed, else
// "[requested on|off]" when what was asked differs from what is active.
func (v *view) ethtoolFeatures(op *family.OpDesc, obj, out *jsonmsg.Object) {
	if op.Name != "features-get" && op.Name != "features-ntf" {
		return
	}
	raw, err := v.desc.codec.EncodeAttrs(op.Set, obj)
	if err != nil {
		return
	}
	var f ethtool.Features
	if f.UnmarshalAttrs(raw) != nil || f.Hw == nil || f.Wanted == nil || f.Active == nil || f.Nochange == nil {
		return
	}
	// The string set names compact bitsets, and adds to verbose ones
	// (which list only the bits set) the features off everywhere.
	list, err := ethtool.FeatureList(&f, v.stringSet(ethtool.StringsetFeatures))
	if err != nil {
		return
	}
	feats := jsonmsg.NewObject()
	for _, ft := range list {
		feats.Set(ft.Name, ft.State())
	}
	for _, k := range []string{"hw", "wanted", "active", "nochange"} {
		out.Delete(k)
	}
	out.Set("features", feats)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// errNotApplied is the error of a features-set whose wanted features the
// kernel did not apply.
var errNotApplied = errors.New("could not change some requested features")

// featuresNotApplied checks the reply to an ethtool features-set: its
// "wanted" bitset lists the features that were asked for but are not as
// asked (fixed ones, or ones the device refused), each with the value
// asked for. It returns an error naming them, or nil.
func (v *view) featuresNotApplied(reply *jsonmsg.Object) error {
	x, ok := reply.Get("wanted")
	o, isObj := x.(*jsonmsg.Object)
	if !ok || !isObj {
		return nil
	}
	b, ok := v.typedBitset(o)
	if !ok {
		return nil
	}
	list, err := b.List(v.namesFor("wanted", b))
	if err != nil {
		return nil
	}
	var not []string
	for _, bit := range list {
		not = append(not, fmt.Sprintf("%s (requested %s, still %s)", bitName(bit), onOff(bit.Value), onOff(!bit.Value)))
	}
	if len(not) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", errNotApplied, strings.Join(not, ", "))
}

package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/internal/jsonmsg"
)

// A bitsetBits is an ethtool bitset as decoded into JSON, read back: the
// bits it covers, which of them are set, and their names.
type bitsetBits struct {
	covered []int // bit indexes the bitset speaks of, in order
	set     map[int]bool
	names   map[int]string
}

// parseBitset reads an ethtool bitset (the "bitset" attribute set) from
// its decoded JSON: verbose ({"bits": {"bit": [{index, name, value}]}},
// every listed bit set when "nomask" is there) or compact ("value" and
// "mask" as hex words, bit i named names[i]).
func parseBitset(o *jsonmsg.Object, names []string) bitsetBits {
	b := bitsetBits{set: map[int]bool{}, names: map[int]string{}}
	_, nomask := o.Get("nomask")
	if bits, ok := o.Get("bits"); ok {
		bo, _ := bits.(*jsonmsg.Object)
		list, _ := bo.Get("bit")
		arr, _ := list.([]any)
		for _, e := range arr {
			eo, ok := e.(*jsonmsg.Object)
			if !ok {
				continue
			}
			ix, _ := eo.Get("index")
			i, ok := number(ix)
			if !ok {
				continue
			}
			name, _ := eo.Get("name")
			if s, ok := name.(string); ok && s != "" {
				b.names[int(i)] = s
			} else if int(i) < len(names) {
				b.names[int(i)] = names[i]
			}
			val, _ := eo.Get("value")
			b.covered = append(b.covered, int(i))
			b.set[int(i)] = nomask || val == true
		}
		return b
	}
	value := hexWords(o, "value")
	mask := hexWords(o, "mask")
	if nomask {
		mask = value
	}
	for i := range mask.Ones() {
		b.covered = append(b.covered, i)
		b.set[i] = value.Test(i)
		if i < len(names) {
			b.names[i] = names[i]
		}
	}
	return b
}

func hexWords(o *jsonmsg.Object, key string) attrs.Bitmap {
	x, _ := o.Get(key)
	s, _ := x.(string)
	b, _ := hex.DecodeString(s)
	return attrs.Bitmap(b)
}

// name returns bit i's name, or "bit N" for a bit without one.
func (b bitsetBits) name(i int) string {
	if n := b.names[i]; n != "" {
		return n
	}
	return "bit " + strconv.Itoa(i)
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

// bitsetOf parses attribute attr of obj as a bitset, naming compact bits
// from the string set the attribute uses.
func (v *view) bitsetOf(attr string, x any) (bitsetBits, bool) {
	o, ok := x.(*jsonmsg.Object)
	if !ok {
		return bitsetBits{}, false
	}
	var names []string
	if _, verbose := o.Get("bits"); !verbose {
		names = v.stringSet(stringSetOf(attr))
	}
	return parseBitset(o, names), true
}

// bitset shows a bitset as the names of its set bits, or "none".
func (v *view) bitset(a *family.AttrDesc, o *jsonmsg.Object) any {
	b, _ := v.bitsetOf(a.Name, o)
	var on []string
	for _, i := range b.covered {
		if b.set[i] {
			on = append(on, b.name(i))
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, " ")
}

// ethtoolFeatures replaces the four bitsets of a features reply or
// notification (hw, wanted, active, nochange) in out by one "features"
// object read as `ethtool -k` prints it: each named feature "on" or "off",
// "[fixed]" when it cannot be changed (not in hw, or in nochange), else
// "[requested on|off]" when what was asked differs from what is active
// (as ethtool, which does not say what was asked of a fixed feature).
func (v *view) ethtoolFeatures(op *family.OpDesc, obj, out *jsonmsg.Object) {
	if op.Name != "features-get" && op.Name != "features-ntf" {
		return
	}
	parts := map[string]bitsetBits{}
	for _, k := range []string{"hw", "wanted", "active", "nochange"} {
		x, ok := obj.Get(k)
		if !ok {
			return
		}
		if parts[k], ok = v.bitsetOf(k, x); !ok {
			return
		}
	}
	hw, wanted, active, nochange := parts["hw"], parts["wanted"], parts["active"], parts["nochange"]
	var idx []int
	for _, p := range parts {
		for i := range p.names {
			if !slices.Contains(idx, i) {
				idx = append(idx, i)
			}
		}
	}
	slices.Sort(idx)
	feats := jsonmsg.NewObject()
	for _, i := range idx {
		name := active.names[i]
		if name == "" {
			name = hw.names[i]
		}
		if name == "" {
			continue
		}
		state := onOff(active.set[i])
		if !hw.set[i] || nochange.set[i] {
			state += " [fixed]"
		} else if wanted.set[i] != active.set[i] {
			state += " [requested " + onOff(wanted.set[i]) + "]"
		}
		feats.Set(name, state)
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
func featuresNotApplied(reply *jsonmsg.Object) error {
	x, ok := reply.Get("wanted")
	o, isObj := x.(*jsonmsg.Object)
	if !ok || !isObj {
		return nil
	}
	b := parseBitset(o, nil)
	var not []string
	for _, i := range b.covered {
		not = append(not, fmt.Sprintf("%s (requested %s, still %s)", b.name(i), onOff(b.set[i]), onOff(!b.set[i])))
	}
	if len(not) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", errNotApplied, strings.Join(not, ", "))
}

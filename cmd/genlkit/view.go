package main

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/internal/jsonmsg"
)

// A view renders decoded messages for people, for the table output: the
// same tree as the JSON, with values shown as the family's own tools show
// them. Addresses are text, interface indexes carry the device's name,
// ethtool bitsets are named bits, flags and enums the spec leaves as
// numbers are named where the family's headers name them, and values in
// scaled units are converted. The JSON output is not touched by any of it.
type view struct {
	a    *app
	desc *described

	links    map[uint32]string // interface names by index (see linkName)
	linksAt  time.Time
	linksErr error
	strsets  map[uint32][]string // ethtool string sets by id, loaded once each
}

func (a *app) newView(desc *described) *view { return &view{a: a, desc: desc} }

// message renders the decoded message of op (a reply or a notification).
func (v *view) message(op *family.OpDesc, obj *jsonmsg.Object) any {
	if v == nil || v.desc == nil || op == nil || obj == nil {
		return obj
	}
	d := v.desc.desc
	out := v.object(d.Set(op.Set), obj)
	if d.Name == "ethtool" {
		v.ethtoolFeatures(op, obj, out)
	}
	return out
}

// A renderer shows one attribute's value; it returns the value unchanged
// when it cannot do better.
type renderer func(v *view, x any) any

// renderers are the attributes shown otherwise than generically, by
// "family/set/attribute". Where the project overlay gives an attribute an
// enum (AttrDesc.TableEnum), tables show its entries' text (the words the
// family's own tool prints: ethtool's "Twisted Pair" for port "tp") or
// names; a renderer here wins over it, where the words depend on more than
// the value (ethtool's MDI-X "on" and "off").
var renderers = map[string]renderer{
	"mptcp_pm/address/family":       addressFamily,
	"mptcp_pm/address/flags":        mptcpFlags,
	"mptcp_pm/event-attr/family":    addressFamily,
	"tcp_metrics/metrics/rtt":       scaledDuration(time.Millisecond, 8),
	"tcp_metrics/metrics/rttvar":    scaledDuration(time.Millisecond, 4),
	"tcp_metrics/metrics/rtt-us":    scaledDuration(time.Microsecond, 8),
	"tcp_metrics/metrics/rttvar-us": scaledDuration(time.Microsecond, 4),
	"tcp_metrics/tcp-metrics/age":   scaledDuration(time.Millisecond, 1),
	"ethtool/linkmodes/speed":       linkSpeed,
	"ethtool/linkstate/link":        choice("no", "yes"),
	// ethtool prints DUPLEX_UNKNOWN, "Unknown" in Go, as any value it
	// does not know: "Unknown! (255)".
	"ethtool/linkmodes/duplex":      named(map[int64]string{0: "Half", 1: "Full"}),
	"ethtool/linkinfo/tp-mdix":      named(map[int64]string{0: "Unknown", 1: "off", 2: "on"}),
	"ethtool/linkinfo/tp-mdix-ctrl": named(map[int64]string{0: "Unknown", 1: "off", 2: "on", 3: "auto"}),
}

// named shows the values of an enum of linux/ethtool.h by the words
// ethtool prints for them (DUPLEX_*, and ETH_TP_MDI* as MDI-X status and
// control), and any other value as ethtool does: "Unknown! (N)".
func named(words map[int64]string) renderer {
	return func(_ *view, x any) any {
		n, ok := number(x)
		if !ok {
			return x
		}
		if w, ok := words[n]; ok {
			return w
		}
		return "Unknown! (" + strconv.FormatInt(n, 10) + ")"
	}
}

// choice shows 0 and 1 as the words ethtool prints for them (AUTONEG_*
// of linux/ethtool.h, link detected or not); other values stay numbers.
func choice(words ...string) renderer {
	return func(_ *view, x any) any {
		if n, ok := number(x); ok && n >= 0 && n < int64(len(words)) {
			return words[n]
		}
		return x
	}
}

// linkSpeed shows a link speed in Mb/s as ethtool does; SPEED_UNKNOWN
// (all ones) is "Unknown!", as ethtool prints it.
func linkSpeed(_ *view, x any) any {
	n, ok := number(x)
	switch {
	case !ok:
		return x
	case n == 0xffffffff || n < 0:
		return "Unknown!"
	}
	return strconv.FormatInt(n, 10) + "Mb/s"
}

// object renders the attributes of set held by obj.
func (v *view) object(set *family.SetDesc, obj *jsonmsg.Object) *jsonmsg.Object {
	out := jsonmsg.NewObject()
	for _, k := range obj.Keys() {
		x, _ := obj.Get(k)
		var a *family.AttrDesc
		if set != nil {
			a = set.Attr(k)
		}
		if a == nil {
			out.Set(k, x)
			continue
		}
		out.Set(k, v.attr(set, a, x, obj))
	}
	return out
}

// attr renders the value x of attribute a of set; scope holds its
// siblings.
func (v *view) attr(set *family.SetDesc, a *family.AttrDesc, x any, scope *jsonmsg.Object) any {
	d := v.desc.desc
	if r := renderers[d.Name+"/"+set.Name+"/"+a.Name]; r != nil {
		return r(v, x)
	}
	if arr, ok := x.([]any); ok && a.Multi {
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = v.one(a, e, scope)
		}
		return out
	}
	return v.one(a, x, scope)
}

func (v *view) one(a *family.AttrDesc, x any, scope *jsonmsg.Object) any {
	d := v.desc.desc
	switch x := x.(type) {
	case *jsonmsg.Object:
		if d.Name == "ethtool" && a.Nested == "bitset" {
			return v.bitset(a, x)
		}
		if a.Type == "nest" {
			return v.object(d.Set(a.Nested), x)
		}
	case []any:
		if a.Type == "indexed-array" && a.SubType == "nest" {
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = e
				if o, ok := e.(*jsonmsg.Object); ok && o.Len() == 1 {
					k := o.Keys()[0]
					inner, _ := o.Get(k)
					if io, ok := inner.(*jsonmsg.Object); ok {
						w := jsonmsg.NewObject()
						w.Set(k, v.object(d.Set(a.Nested), io))
						out[i] = w
					}
				}
			}
			return out
		}
	case string:
		if ipv := addrVersion(a); ipv != 0 {
			if b, err := hex.DecodeString(x); err == nil && (len(b) == 4 || len(b) == 16) {
				if ip, ok := netip.AddrFromSlice(b); ok {
					return ip.Unmap().String()
				}
			}
		}
	default:
		n, ok := number(x)
		if !ok {
			break
		}
		if a.TableEnum != "" {
			if name, ok := enumName(d.Enum(a.TableEnum), n); ok {
				return name
			}
		}
		if addrVersion(a) == 4 && (a.Type == "u32" || a.Type == "uint") {
			var b [4]byte
			b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
			return netip.AddrFrom4(b).String()
		}
		if isIfindex(a.Name) {
			if _, named := scope.Get("dev-name"); !named {
				return v.ifindex(n)
			}
		}
	}
	return x
}

// enumName returns the text (else the name) e gives to value n: an enum the
// project overlay adds to an attribute that the kernel's spec leaves a
// number (AttrDesc.TableEnum), which tables show and the JSON does not.
func enumName(e *family.EnumDesc, n int64) (string, bool) {
	if e == nil || e.Flags {
		return "", false
	}
	for _, en := range e.Entries {
		if int64(en.Value) == n {
			return cmp.Or(en.Text, en.Name), true
		}
	}
	return "", false
}

// number returns x as an integer, if it is one.
func number(x any) (int64, bool) {
	switch x := x.(type) {
	case uint64:
		return int64(x), true
	case int64:
		return x, true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// addrVersion returns 4 or 6 when attribute a holds an IP address of that
// version (from its display hint, or its name and type), 0 otherwise.
func addrVersion(a *family.AttrDesc) int {
	switch a.Hint {
	case "ipv4":
		return 4
	case "ipv6", "ipv4-or-v6":
		return 6
	}
	n := a.Name
	if !strings.Contains(n, "addr") && !strings.Contains(n, "ipv") {
		return 0
	}
	switch {
	case a.Type == "u32" && a.BigEndian:
		return 4
	case a.Type == "binary" && a.Struct == "" && a.SubType == "":
		if strings.HasSuffix(n, "4") {
			return 4
		}
		return 6 // a 4-byte value is shown as IPv4 all the same
	}
	return 0
}

// isIfindex reports whether an attribute's name says it holds an
// interface index.
func isIfindex(name string) bool {
	switch name {
	case "ifindex", "if-idx", "ifidx", "if-index", "dev-index":
		return true
	}
	return false
}

// ifindex shows an interface index with the device's name beside it.
func (v *view) ifindex(n int64) any {
	if name, ok := v.linkName(uint32(n)); ok && n > 0 {
		return strconv.FormatInt(n, 10) + " (" + name + ")"
	}
	return n
}

// addressFamily names an address family as iproute2 does.
func addressFamily(_ *view, x any) any {
	n, ok := number(x)
	if !ok {
		return x
	}
	switch n {
	case unix.AF_INET:
		return "inet"
	case unix.AF_INET6:
		return "inet6"
	case unix.AF_UNSPEC:
		return "unspec"
	}
	return x
}

// mptcpFlagNames are the MPTCP_PM_ADDR_FLAG_* bits of linux/mptcp.h, by
// bit, named as `ip mptcp endpoint` names them.
var mptcpFlagNames = []string{"signal", "subflow", "backup", "fullmesh", "implicit", "laminar"}

// mptcpFlags names an MPTCP endpoint's flags ("signal backup").
func mptcpFlags(_ *view, x any) any {
	n, ok := number(x)
	if !ok {
		return x
	}
	if n == 0 {
		return "none"
	}
	var names []string
	for bit := 0; bit < 32; bit++ {
		if n&(1<<bit) == 0 {
			continue
		}
		if bit < len(mptcpFlagNames) {
			names = append(names, mptcpFlagNames[bit])
		} else {
			names = append(names, "0x"+strconv.FormatUint(1<<bit, 16))
		}
	}
	return strings.Join(names, " ")
}

// scaledDuration shows a value the kernel keeps in unit, multiplied by
// scale (tcp_metrics keeps the smoothed RTT times 8 and its variance
// times 4, as the TCP stack does), as a duration.
func scaledDuration(unit time.Duration, scale int64) renderer {
	return func(_ *view, x any) any {
		n, ok := number(x)
		if !ok || n < 0 {
			return x
		}
		return (time.Duration(n) * unit / time.Duration(scale)).Truncate(time.Microsecond).String()
	}
}

package gen

import (
	"go/token"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/genlkit/genlkit/internal/spec"
)

// initialisms are the name parts written in capitals in Go identifiers,
// after golint's list plus a few that networking names use a lot.
var initialisms = map[string]string{
	"acl": "ACL", "api": "API", "ascii": "ASCII", "cpu": "CPU", "dns": "DNS",
	"eof": "EOF", "guid": "GUID", "html": "HTML", "http": "HTTP", "https": "HTTPS",
	"id": "ID", "ip": "IP", "ipv4": "IPv4", "ipv6": "IPv6", "json": "JSON",
	"mac": "MAC", "mtu": "MTU", "pid": "PID", "rpc": "RPC", "sql": "SQL",
	"ssh": "SSH", "tcp": "TCP", "tls": "TLS", "ttl": "TTL", "udp": "UDP",
	"ui": "UI", "uid": "UID", "uuid": "UUID", "uri": "URI", "url": "URL",
	"vm": "VM", "xml": "XML",
	// networking and wireless
	"arp": "ARP", "bss": "BSS", "bssid": "BSSID", "dscp": "DSCP", "eht": "EHT",
	"fec": "FEC", "he": "HE", "ht": "HT", "icmp": "ICMP", "icmpv6": "ICMPv6",
	"ie": "IE", "ies": "IEs", "mdi": "MDI", "mdix": "MDIX", "mpls": "MPLS",
	"nsh": "NSH", "phy": "PHY", "rss": "RSS", "sctp": "SCTP", "spi": "SPI",
	"ssid": "SSID", "ssids": "SSIDs", "ids": "IDs", "vht": "VHT", "vlan": "VLAN",
}

// goName turns a spec name ("xdp-zc-max-segs", "svc_export",
// "--kernel-timespec") into an exported Go identifier ("XdpZcMaxSegs",
// "SvcExport", "KernelTimespec"). Separators are '-', '_', '.', ' ' and
// any other character that cannot appear in an identifier. A name that
// would not start with an upper case letter (a digit, or a letter without
// case) gets an "X" prefix; an empty one becomes "X".
func goName(name string) string {
	var b strings.Builder
	for part := range strings.FieldsFuncSeq(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if s, ok := initialisms[strings.ToLower(part)]; ok {
			b.WriteString(s)
			continue
		}
		r, n := utf8.DecodeRuneInString(part)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(part[n:])
	}
	s := b.String()
	if s == "" {
		return "X"
	}
	// Not exported unless it starts with an upper case letter: a digit, or
	// a letter without case ("中文", which genetlink-c names may use).
	if r, _ := utf8.DecodeRuneInString(s); !unicode.IsUpper(r) {
		s = "X" + s
	}
	return s
}

// goNameAfter is goName for a name that follows an exported identifier
// (an enum value after its type's name): one starting with a digit gets no
// "X" prefix ("link-mode" entry "10baset-half" is LinkMode10basetHalf).
func goNameAfter(name string) string {
	s := goName(name)
	if r, _ := utf8.DecodeRuneInString(name); unicode.IsDigit(r) && strings.HasPrefix(s, "X") {
		s = s[1:]
	}
	return s
}

// pkgName derives a Go package name from a family name: lower case letters
// and digits only ("mptcp_pm" -> "mptcppm", "net-shaper" -> "netshaper").
func pkgName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || !unicode.IsLetter(rune(s[0])) {
		s = "genl" + s
	}
	if token.IsKeyword(s) || predeclared[s] {
		s += "genl"
	}
	return s
}

var predeclared = map[string]bool{
	"any": true, "bool": true, "byte": true, "comparable": true, "complex64": true,
	"complex128": true, "error": true, "float32": true, "float64": true, "int": true,
	"int8": true, "int16": true, "int32": true, "int64": true, "rune": true,
	"string": true, "uint": true, "uint8": true, "uint16": true, "uint32": true,
	"uint64": true, "uintptr": true, "true": true, "false": true, "iota": true,
	"nil": true, "append": true, "cap": true, "clear": true, "close": true,
	"complex": true, "copy": true, "delete": true, "imag": true, "len": true,
	"make": true, "max": true, "min": true, "new": true, "panic": true,
	"print": true, "println": true, "real": true, "recover": true,
	// imports of generated code
	"attrs": true, "genl": true, "family": true, "context": true, "fmt": true,
	"iter": true, "net": true, "netip": true, "sync": true, "bytes": true,
	"binary": true, "strconv": true, "errors": true, "testing": true,
	"reflect": true, "slices": true,
}

// A namespace hands out unique identifiers: the first claim of a name gets
// it; later claims get the name with a suffix. Claims are made in a fixed
// order, so the result is deterministic.
type namespace struct {
	used map[string]bool
}

func newNamespace(reserved ...string) *namespace {
	ns := &namespace{used: make(map[string]bool)}
	for _, r := range reserved {
		ns.used[r] = true
	}
	return ns
}

// claim returns name, or name+suffix, or name+suffix+N (N = 2, 3, ...),
// whichever is free first, and marks it used.
func (ns *namespace) claim(name, suffix string) string {
	if !ns.used[name] {
		ns.used[name] = true
		return name
	}
	if suffix != "" && !ns.used[name+suffix] {
		ns.used[name+suffix] = true
		return name + suffix
	}
	for i := 2; ; i++ {
		n := name + suffix + strconv.Itoa(i)
		if !ns.used[n] {
			ns.used[n] = true
			return n
		}
	}
}

// words splits a spec name into its lower-case words.
func words(name string) []string {
	return strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == '-' || r == '_' })
}

// typeName returns the Go name of a set, struct or enum before collisions
// are resolved: the spec name without the family's name in front
// ("ovpn-peer-new-input" in ovpn is PeerNewInput), or the whole name when
// nothing would be left ("ovpn"). The caller claims it with a suffix for
// the kind (PeerNewInputAttrs when a set peer-new-input came first).
func (p *plan) typeName(name string) string {
	fw, nw := words(p.spec.Name), words(name)
	if len(nw) > len(fw) && slices.Equal(nw[:len(fw)], fw) {
		return goName(strings.Join(nw[len(fw):], "-"))
	}
	return goName(name)
}

// attrPrefix returns what goes between "Attr" and an attribute's name in
// its type constant: the set's C enum prefix (name-prefix, by default
// "<family>-a-<set>-" or "<family>-a-" for the set named like the family)
// without the family's name (or its first word) in front and without the
// words "a", "attr" and "attrs", which "Attr" says already, and "genl",
// which every generic netlink family could say (thermal's
// "thermal-genl-attr-" gives AttrTzID). nl80211's
// "nl80211-attr-" gives AttrWiphy, ovs_flow's "ovs-action-attr-" gives
// AttrActionOutput, team's "team-attr-item-" gives AttrItemOption.
func (p *plan) attrPrefix(s *spec.AttributeSet) string {
	pfx := s.NamePrefix
	if pfx == "" {
		pfx = p.spec.Name + "-a-"
		if s.Name != p.spec.Name {
			pfx += s.Name + "-"
		}
	}
	w, fw := words(pfx), words(p.spec.Name)
	switch {
	case len(w) >= len(fw) && slices.Equal(w[:len(fw)], fw):
		w = w[len(fw):]
	case len(w) > 0 && len(fw) > 0 && w[0] == fw[0]:
		w = w[1:]
	}
	var out []string
	for _, x := range w {
		if x != "a" && x != "attr" && x != "attrs" && x != "genl" {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "-") + "-"
}

// entryName returns an enum or flags entry's name without the
// definition's name in front ("ovs-hash-alg-l4" of enum ovs-hash-alg is
// "l4"), so that the value's Go name does not repeat its type's.
func entryName(d *spec.Definition, e *spec.Entry) string {
	dw, ew := words(d.Name), words(e.Name)
	if len(ew) > len(dw) && slices.Equal(ew[:len(dw)], dw) {
		return strings.Join(ew[len(dw):], "-")
	}
	return e.Name
}

// methodName returns the Client method name of an op: its Go name, except
// that an op named like the package's constructor ("new" in ovs_flow)
// gets the last word of the family name after it (NewFlow), so that
// c.NewFlow and ovsflow.New cannot be confused.
func (p *plan) methodName(name string) string {
	if name != "New" {
		return name
	}
	fw := words(p.spec.Name)
	if len(fw) == 0 {
		return "NewObject"
	}
	return "New" + goName(fw[len(fw)-1])
}

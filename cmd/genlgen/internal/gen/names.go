package gen

import (
	"go/token"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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

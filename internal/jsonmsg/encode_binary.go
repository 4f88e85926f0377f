package jsonmsg

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
)

// binaryValue converts a JSON value to the payload of a binary attribute.
func (c *Codec) binaryValue(a *family.AttrDesc, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		b, err := parseBytes(v, a.Hint, looksLikeAddr(a.Name))
		if err != nil {
			return nil, err
		}
		if want := ipVersion(a); want != 0 {
			if ip, perr := netip.ParseAddr(v); perr == nil && ip.Is4() != (want == 4) {
				return nil, fmt.Errorf("%q is an IPv%d address; %s holds an IPv%d address", v, 10-want, a.Name, want)
			}
		}
		return b, nil
	case *Object:
		if a.Struct == "" || c.d.Struct(a.Struct) == nil {
			return nil, fmt.Errorf("want a hex string, got an object")
		}
		b := make([]byte, c.structSize(a.Struct, 0))
		if err := c.encodeStruct(b, a.Struct, v, "", 0); err != nil {
			return nil, err
		}
		return b, nil
	case []any:
		sz := intSize(a.SubType)
		if sz == 0 {
			return nil, fmt.Errorf("want a hex string, got an array")
		}
		out := make([]byte, len(v)*sz)
		w := attrs.NewStructWriter(out)
		for i, x := range v {
			u, err := c.intArg(a.Enum, a.EnumAsFlags, "", a.SubType, false, x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			w.UintN(u, sz, byteOrder(a.BigEndian))
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a hex string, got %s", kindOf(v))
}

// ipVersion returns the IP version (4 or 6) of the addresses a binary
// attribute holds, from its display hint, its exact length or its name
// ("addr6", "saddr4", "local-v6", "addr-ipv4"); 0 when it does not say.
func ipVersion(a *family.AttrDesc) int {
	switch a.Hint {
	case "ipv4":
		return 4
	case "ipv6":
		return 6
	case "ipv4-or-v6":
		return 0
	}
	if !looksLikeAddr(a.Name) {
		return 0
	}
	if c := a.Checks; c != nil && c.ExactLen.Set {
		switch c.ExactLen.Abs {
		case 4:
			return 4
		case 16:
			return 6
		}
	}
	switch n := a.Name; {
	case strings.HasSuffix(n, "6"):
		return 6
	case strings.HasSuffix(n, "4"):
		return 4
	}
	return 0
}

// looksLikeAddr reports whether an attribute's name says it holds an IP
// address ("addr4", "saddr6", "local-v4", "addr-ipv6").
func looksLikeAddr(name string) bool {
	return strings.Contains(name, "addr") || strings.HasSuffix(name, "-v4") ||
		strings.HasSuffix(name, "-v6") || strings.Contains(name, "ipv4") || strings.Contains(name, "ipv6")
}

// parseBytes parses binary data written as text: an address for the ip and
// mac hints (and for attributes named like addresses), a UUID for the uuid
// hint, otherwise hex, with or without ' ', ':' or '-' between bytes and an
// optional "0x".
func parseBytes(s, hint string, addrName bool) ([]byte, error) {
	switch hint {
	case "ipv4", "ipv6", "ipv4-or-v6":
		if ip, err := netip.ParseAddr(s); err == nil {
			if hint == "ipv4" && !ip.Is4() {
				return nil, fmt.Errorf("%q is not an IPv4 address", s)
			}
			return ip.AsSlice(), nil
		}
	case "mac":
		if mac, err := net.ParseMAC(s); err == nil {
			return mac, nil
		}
	}
	if addrName && (strings.Contains(s, ".") || strings.Contains(s, "::")) {
		if ip, err := netip.ParseAddr(s); err == nil {
			return ip.AsSlice(), nil
		}
	}
	if addrName && strings.Count(s, ":") >= 2 {
		if ip, err := netip.ParseAddr(s); err == nil {
			return ip.AsSlice(), nil
		}
	}
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	h = strings.NewReplacer(" ", "", ":", "", "-", "").Replace(h)
	b, err := hex.DecodeString(h)
	if err != nil {
		switch hint {
		case "ipv4", "ipv6", "ipv4-or-v6":
			return nil, fmt.Errorf("%q is not an IP address or hex", s)
		case "mac":
			return nil, fmt.Errorf("%q is not a MAC address or hex", s)
		}
		return nil, fmt.Errorf("%q is not hex", s)
	}
	return b, nil
}

package jsonmsg

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/family"
)

// intArg converts a JSON value to the bits of an integer of type t:
// a number, a numeric string ("0x1f" too), an enum name, a list of flag
// names, or, when addr is true or the hint is ipv4, a dotted IPv4 address.
func (c *Codec) intArg(enum string, asFlags bool, hint, t string, addr bool, v any) (uint64, error) {
	e := c.d.Enum(enum)
	if e != nil && (e.Flags || asFlags) {
		switch v := v.(type) {
		case []any:
			var mask uint64
			for _, x := range v {
				m, err := c.flagBit(e, !e.Flags, x)
				if err != nil {
					return 0, err
				}
				mask |= m
			}
			return checkRange(t, mask, 0, false)
		case string:
			if _, err := strconv.ParseUint(v, 0, 64); err != nil {
				m, err := c.flagBit(e, !e.Flags, v)
				if err != nil {
					return 0, err
				}
				return checkRange(t, m, 0, false)
			}
		}
	}
	switch v := v.(type) {
	case json.Number:
		return parseIntText(t, string(v))
	case uint64:
		return checkRange(t, v, 0, false)
	case int64:
		return checkRange(t, uint64(v), v, v < 0)
	case string:
		if e != nil {
			for _, ent := range e.Entries {
				if ent.Name == v {
					return checkRange(t, ent.Value, int64(ent.Value), false)
				}
			}
		}
		if u, err := parseIntText(t, v); err == nil {
			return u, nil
		}
		if (addr || hint == "ipv4") && intSize(t) == 4 {
			if ip, err := netip.ParseAddr(v); err == nil && ip.Is4() {
				b := ip.As4()
				return uint64(binary.BigEndian.Uint32(b[:])), nil
			}
			return 0, fmt.Errorf("%q is not an IPv4 address or a number", v)
		}
		if e != nil {
			return 0, fmt.Errorf("%q is not a value of enum %s%s", v, e.Name, suggestEnum(e, v))
		}
		return 0, fmt.Errorf("%q is not a number", v)
	}
	if e != nil && e.Flags {
		return 0, fmt.Errorf("want a number or a list of %s names, got %s", e.Name, kindOf(v))
	}
	return 0, fmt.Errorf("want a number, got %s", kindOf(v))
}

func suggestEnum(e *family.EnumDesc, v string) string {
	names := make([]string, len(e.Entries))
	for i, ent := range e.Entries {
		names[i] = ent.Name
	}
	if best := Closest(v, names); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

func (c *Codec) flagBit(e *family.EnumDesc, bitNumbers bool, x any) (uint64, error) {
	switch x := x.(type) {
	case string:
		for _, ent := range e.Entries {
			if ent.Name == x {
				if bitNumbers {
					if ent.Value > 63 {
						return 0, fmt.Errorf("flag %q has bit number %d", x, ent.Value)
					}
					return 1 << ent.Value, nil
				}
				return ent.Value, nil
			}
		}
		if u, err := strconv.ParseUint(x, 0, 64); err == nil {
			return u, nil
		}
		return 0, fmt.Errorf("%q is not a flag of %s%s", x, e.Name, suggestEnum(e, x))
	case json.Number:
		return strconv.ParseUint(string(x), 0, 64)
	case uint64:
		return x, nil
	}
	return 0, fmt.Errorf("want a flag name, got %s", kindOf(x))
}

func parseIntText(t, s string) (uint64, error) {
	if strings.HasPrefix(s, "-") {
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not an integer", s)
		}
		return checkRange(t, uint64(n), n, true)
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			return 0, fmt.Errorf("%s is not an integer", s)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return checkRange(t, u, int64(u), false)
}

// checkRange checks that a value fits type t and returns its bits.
func checkRange(t string, u uint64, s int64, neg bool) (uint64, error) {
	signed := isSigned(t)
	if neg && !signed {
		return 0, fmt.Errorf("%d is negative, %s is unsigned", s, t)
	}
	bits := 64
	if sz := intSize(t); sz > 0 {
		bits = sz * 8
	}
	if signed {
		if !neg && u > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range for %s", u, t)
		}
		if !neg {
			s = int64(u)
		}
		lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
		if bits == 64 {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		if s < lo || s > hi {
			return 0, fmt.Errorf("%d is out of range for %s", s, t)
		}
		return uint64(s), nil
	}
	if bits < 64 && u >= 1<<bits {
		return 0, fmt.Errorf("%d is out of range for %s", u, t)
	}
	return u, nil
}

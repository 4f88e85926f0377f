package attrs

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// Socket addresses: binary attributes that hold a struct sockaddr_in or
// sockaddr_in6 (wireguard's endpoint, nfsd's listener addresses), with the
// family in host order and the port in network order.

// AppendSockaddr appends ap to b as a struct sockaddr_in (an IPv4 or
// IPv4-mapped address, 16 bytes) or sockaddr_in6 (28 bytes, with the
// address's zone as scope id when it is numeric). An invalid ap is an
// error of kind [ErrInvalid].
func AppendSockaddr(b []byte, ap netip.AddrPort) ([]byte, error) {
	a := ap.Addr()
	if !a.IsValid() {
		return b, &Error{Offset: -1, Kind: ErrInvalid, Msg: "socket address without an IP address"}
	}
	if a.Is4() || a.Is4In6() {
		s := make([]byte, unix.SizeofSockaddrInet4)
		binary.NativeEndian.PutUint16(s, unix.AF_INET)
		binary.BigEndian.PutUint16(s[2:], ap.Port())
		a4 := a.Unmap().As4()
		copy(s[4:], a4[:])
		return append(b, s...), nil
	}
	s := make([]byte, unix.SizeofSockaddrInet6)
	binary.NativeEndian.PutUint16(s, unix.AF_INET6)
	binary.BigEndian.PutUint16(s[2:], ap.Port())
	a16 := a.As16()
	copy(s[8:], a16[:])
	if z := a.Zone(); z != "" {
		id, err := strconv.ParseUint(z, 10, 32)
		if err != nil {
			return b, &Error{Offset: -1, Kind: ErrInvalid, Msg: "socket address zone " + z + " is no numeric scope id"}
		}
		binary.NativeEndian.PutUint32(s[24:], uint32(id))
	}
	return append(b, s...), nil
}

// ParseSockaddr reads a struct sockaddr_in or sockaddr_in6 from the front
// of b (more bytes are ignored). A non-zero IPv6 scope id becomes the
// address's zone, in decimal. A family other than AF_INET and AF_INET6,
// or too few bytes for the family, is an error of kind [ErrInvalid] or
// [ErrBadLength].
func ParseSockaddr(b []byte) (netip.AddrPort, error) {
	if len(b) < 2 {
		return netip.AddrPort{}, &Error{Offset: -1, Kind: ErrBadLength, Msg: fmt.Sprintf("socket address of %d bytes has no family", len(b))}
	}
	switch fam := binary.NativeEndian.Uint16(b); fam {
	case unix.AF_INET:
		if len(b) < unix.SizeofSockaddrInet4 {
			return netip.AddrPort{}, &Error{Offset: -1, Kind: ErrBadLength, Msg: fmt.Sprintf("sockaddr_in needs %d bytes, got %d", unix.SizeofSockaddrInet4, len(b))}
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:])), nil
	case unix.AF_INET6:
		if len(b) < unix.SizeofSockaddrInet6 {
			return netip.AddrPort{}, &Error{Offset: -1, Kind: ErrBadLength, Msg: fmt.Sprintf("sockaddr_in6 needs %d bytes, got %d", unix.SizeofSockaddrInet6, len(b))}
		}
		a := netip.AddrFrom16([16]byte(b[8:24]))
		if id := binary.NativeEndian.Uint32(b[24:]); id != 0 {
			a = a.WithZone(fmt.Sprint(id))
		}
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[2:])), nil
	default:
		return netip.AddrPort{}, &Error{Offset: -1, Kind: ErrInvalid, Msg: fmt.Sprintf("socket address family %d is neither AF_INET nor AF_INET6", fam)}
	}
}

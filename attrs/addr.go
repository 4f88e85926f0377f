package attrs

import "net/netip"

// Addr4 appends an IPv4 address attribute: 4 bytes in network order. An
// IPv4-mapped IPv6 address is unmapped first; any other address is not
// written and gives an error of kind [ErrInvalid], which the caller may
// name with [WithPath].
func (e *Encoder) Addr4(typ uint16, a netip.Addr) error {
	a = a.Unmap()
	if !a.Is4() {
		return &Error{Offset: -1, Kind: ErrInvalid, Msg: "address " + a.String() + " is not IPv4"}
	}
	b := a.As4()
	e.Binary(typ, b[:])
	return nil
}

// Addr16 appends an IPv6 address attribute: 16 bytes, with an IPv4 address
// written in its IPv4-mapped form. The zero Addr is written as ::.
func (e *Encoder) Addr16(typ uint16, a netip.Addr) {
	b := a.As16()
	e.Binary(typ, b[:])
}

// Addr appends an address attribute of either family: 4 bytes for an IPv4
// address, 16 for any other.
func (e *Encoder) Addr(typ uint16, a netip.Addr) {
	if a.Is4() {
		b := a.As4()
		e.Binary(typ, b[:])
		return
	}
	e.Addr16(typ, a)
}

// Addr4 returns the current payload as an IPv4 address. A payload other
// than 4 bytes is recorded as [ErrBadLength] and gives the zero Addr.
func (d *Decoder) Addr4() netip.Addr {
	if d.curLen == 4 {
		return netip.AddrFrom4([4]byte(d.payload()))
	}
	d.badLen("IPv4 address", 4)
	return netip.Addr{}
}

// Addr16 returns the current payload as an IPv6 address. A payload other
// than 16 bytes is recorded as [ErrBadLength] and gives the zero Addr.
func (d *Decoder) Addr16() netip.Addr {
	if d.curLen == 16 {
		return netip.AddrFrom16([16]byte(d.payload()))
	}
	d.badLen("IPv6 address", 16)
	return netip.Addr{}
}

// Addr returns the current payload as an address of either family: IPv4 for
// 4 bytes, IPv6 for 16. Any other length is recorded as [ErrBadLength] and
// gives the zero Addr.
func (d *Decoder) Addr() netip.Addr {
	switch d.curLen {
	case 4:
		return netip.AddrFrom4([4]byte(d.payload()))
	case 16:
		return netip.AddrFrom16([16]byte(d.payload()))
	}
	d.failLen("IP address needs 4 or 16 bytes, got ")
	return netip.Addr{}
}

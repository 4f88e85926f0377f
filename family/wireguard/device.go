package wireguard

// Hand-written: devices and peers as Go values, read with the generated
// get-device dump. genlgen leaves this file alone, since it does not carry
// the generated-code header.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"golang.org/x/sys/unix"
)

// A Device is a WireGuard device as the kernel reports it.
type Device struct {
	// Name is the interface name and Index its ifindex.
	Name  string
	Index int
	// PrivateKey is the zero Key when the device has none; PublicKey is
	// derived from it by the kernel.
	PrivateKey Key
	PublicKey  Key
	// ListenPort is the UDP port the device listens on (0: none yet).
	ListenPort int
	// FirewallMark marks the device's outgoing packets (0: none).
	FirewallMark int
	// Peers are in the kernel's order, each with all its allowed IPs.
	Peers []Peer
}

// A Peer is one peer of a Device.
type Peer struct {
	PublicKey Key
	// PresharedKey is the zero Key when the peer has none.
	PresharedKey Key
	// Endpoint is the peer's address, invalid when unknown.
	Endpoint netip.AddrPort
	// PersistentKeepaliveInterval is 0 when persistent keepalives are off.
	PersistentKeepaliveInterval time.Duration
	// LastHandshakeTime is the zero Time when no handshake happened.
	LastHandshakeTime time.Time
	// ReceiveBytes and TransmitBytes count the peer's traffic.
	ReceiveBytes  int64
	TransmitBytes int64
	// AllowedIPs are in the kernel's order.
	AllowedIPs []netip.Prefix
	// ProtocolVersion is the WireGuard protocol version (1).
	ProtocolVersion int
}

// Device reads WireGuard device name with all its peers. The kernel may
// spread the device over many get-device dump messages, splitting a peer's
// allowed IPs between them; Device merges them. A device that does not
// exist or is no WireGuard device gives an error matching os.ErrNotExist
// (and the kernel's errno, ENODEV or EOPNOTSUPP).
func (c *Client) Device(ctx context.Context, name string) (*Device, error) {
	return c.readDevice(ctx, deviceRef{name: name})
}

// DeviceByIndex is Device for the device with ifindex index.
func (c *Client) DeviceByIndex(ctx context.Context, index int) (*Device, error) {
	return c.readDevice(ctx, deviceRef{index: index, byIndex: true})
}

// A deviceRef names a device by name or by ifindex.
type deviceRef struct {
	name    string
	index   int
	byIndex bool
}

func (r deviceRef) String() string {
	if r.byIndex {
		return "ifindex " + strconv.Itoa(r.index)
	}
	return strconv.Quote(r.name)
}

// request returns the get-device request for r. An empty name or an
// ifindex out of range names no device: an error matching os.ErrNotExist,
// as wgctrl gives.
func (r deviceRef) request() (*GetDeviceDumpRequest, error) {
	switch {
	case r.byIndex && (r.index <= 0 || uint64(r.index) > math.MaxUint32):
		return nil, &notExistError{ref: r, err: errors.New("no device has that ifindex")}
	case r.byIndex:
		return &GetDeviceDumpRequest{Ifindex: Some(uint32(r.index))}, nil
	case r.name == "":
		return nil, &notExistError{ref: r, err: errors.New("no device has an empty name")}
	}
	return &GetDeviceDumpRequest{Ifname: Some(r.name)}, nil
}

func (c *Client) readDevice(ctx context.Context, ref deviceRef) (*Device, error) {
	req, err := ref.request()
	if err != nil {
		return nil, err
	}
	var m deviceMerger
	for msg, err := range c.GetDeviceDump(ctx, req) {
		if err != nil {
			return nil, deviceError(ref, err)
		}
		if err := m.add(msg); err != nil {
			return nil, fmt.Errorf("wireguard get-device %v: dump message %d: %w", ref, m.msgs, err)
		}
	}
	return m.device(ref)
}

// deviceError wraps an error of a request about device ref; a missing
// device (ENODEV) or one of another kind (EOPNOTSUPP) also matches
// os.ErrNotExist, as wgctrl's errors do.
func deviceError(ref deviceRef, err error) error {
	if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EOPNOTSUPP) {
		return &notExistError{ref: ref, err: err}
	}
	return fmt.Errorf("wireguard device %v: %w", ref, err)
}

// A notExistError reports a device that does not exist or is no WireGuard
// device. It matches os.ErrNotExist and unwraps to the kernel's error.
type notExistError struct {
	ref deviceRef
	err error
}

func (e *notExistError) Error() string {
	return fmt.Sprintf("wireguard device %v does not exist: %v", e.ref, e.err)
}

func (e *notExistError) Unwrap() []error { return []error{e.err, os.ErrNotExist} }

// A deviceMerger builds a Device from the messages of a get-device dump:
// the first names the device; each carries whole peers, except that a
// peer whose allowed IPs did not fit one message continues as the first
// peer of the next, under the same public key.
type deviceMerger struct {
	dev  Device
	msgs int
}

// add merges one dump message.
func (m *deviceMerger) add(w *Wgdevice) error {
	m.msgs++
	if m.msgs == 1 {
		if err := m.first(w); err != nil {
			return err
		}
	} else if w.Ifindex.Valid && int(w.Ifindex.Value) != m.dev.Index {
		return fmt.Errorf("names ifindex %d, the first named %d", w.Ifindex.Value, m.dev.Index)
	}
	if m.dev.Peers == nil {
		m.dev.Peers = make([]Peer, 0, len(w.Peers))
	}
	for i := range w.Peers {
		p := &w.Peers[i]
		key, err := NewKey(p.PublicKey)
		if err != nil {
			return fmt.Errorf("peers.%d.public-key: %w", i, err)
		}
		if i == 0 && m.msgs > 1 && len(m.dev.Peers) > 0 && m.dev.Peers[len(m.dev.Peers)-1].PublicKey == key {
			last := &m.dev.Peers[len(m.dev.Peers)-1]
			if last.AllowedIPs, err = appendPrefixes(last.AllowedIPs, p.Allowedips); err != nil {
				return fmt.Errorf("peers.%d (%v): %w", i, key, err)
			}
			continue
		}
		m.dev.Peers = append(m.dev.Peers, Peer{PublicKey: key})
		if err := m.dev.Peers[len(m.dev.Peers)-1].set(p); err != nil {
			return fmt.Errorf("peers.%d (%v): %w", i, key, err)
		}
	}
	return nil
}

// first takes the device's own attributes from the dump's first message.
func (m *deviceMerger) first(w *Wgdevice) error {
	if !w.Ifindex.Valid || !w.Ifname.Valid {
		return errors.New("the first message lacks the device's ifindex or ifname")
	}
	d := &m.dev
	d.Index, d.Name = int(w.Ifindex.Value), w.Ifname.Value
	d.ListenPort, d.FirewallMark = int(w.ListenPort.Value), int(w.Fwmark.Value)
	var err error
	if w.PrivateKey != nil {
		if d.PrivateKey, err = NewKey(w.PrivateKey); err != nil {
			return fmt.Errorf("private-key: %w", err)
		}
	}
	if w.PublicKey != nil {
		if d.PublicKey, err = NewKey(w.PublicKey); err != nil {
			return fmt.Errorf("public-key: %w", err)
		}
	}
	return nil
}

// device returns the merged device.
func (m *deviceMerger) device(ref deviceRef) (*Device, error) {
	if m.msgs == 0 {
		return nil, fmt.Errorf("wireguard get-device %v: the dump ended without a message", ref)
	}
	return &m.dev, nil
}

// set fills p, which holds its public key, from the attributes of w.
func (p *Peer) set(w *Wgpeer) error {
	var err error
	if w.PresharedKey != nil {
		if p.PresharedKey, err = NewKey(w.PresharedKey); err != nil {
			return fmt.Errorf("preshared-key: %w", err)
		}
	}
	if w.Endpoint != nil {
		if p.Endpoint, err = attrs.ParseSockaddr(w.Endpoint); err != nil {
			return fmt.Errorf("endpoint: %w", err)
		}
	}
	p.PersistentKeepaliveInterval = time.Duration(w.PersistentKeepaliveInterval.Value) * time.Second
	if t := w.LastHandshakeTime.Value; t.Sec != 0 || t.Nsec != 0 {
		if t.Sec > math.MaxInt64 || t.Nsec >= uint64(time.Second) {
			return fmt.Errorf("last-handshake-time: %d s %d ns is no time", t.Sec, t.Nsec)
		}
		p.LastHandshakeTime = time.Unix(int64(t.Sec), int64(t.Nsec))
	}
	p.ReceiveBytes, p.TransmitBytes = int64(w.RxBytes.Value), int64(w.TxBytes.Value)
	p.ProtocolVersion = int(w.ProtocolVersion.Value)
	if len(w.Allowedips) > 0 {
		p.AllowedIPs, err = appendPrefixes(make([]netip.Prefix, 0, len(w.Allowedips)), w.Allowedips)
	}
	return err
}

// appendPrefixes appends the allowed IPs of ips to dst as prefixes.
func appendPrefixes(dst []netip.Prefix, ips []Wgallowedip) ([]netip.Prefix, error) {
	for i := range ips {
		p, err := ips[i].prefix()
		if err != nil {
			return dst, fmt.Errorf("allowedips.%d: %w", i, err)
		}
		dst = append(dst, p)
	}
	return dst, nil
}

// prefix returns the allowed IP as a prefix, checking that its family,
// address and mask agree.
func (a *Wgallowedip) prefix() (netip.Prefix, error) {
	if !a.Ipaddr.IsValid() || !a.CidrMask.Valid {
		return netip.Prefix{}, errors.New("lacks its ipaddr or cidr-mask")
	}
	want := uint16(unix.AF_INET6)
	if a.Ipaddr.Is4() {
		want = unix.AF_INET
	}
	if a.Family.Valid && a.Family.Value != want {
		return netip.Prefix{}, fmt.Errorf("family %d does not match address %v", a.Family.Value, a.Ipaddr)
	}
	if int(a.CidrMask.Value) > a.Ipaddr.BitLen() {
		return netip.Prefix{}, fmt.Errorf("cidr-mask %d is too long for address %v", a.CidrMask.Value, a.Ipaddr)
	}
	return netip.PrefixFrom(a.Ipaddr, int(a.CidrMask.Value)), nil
}

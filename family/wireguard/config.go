package wireguard

// Hand-written: configuring a device from Go values, split over as many
// set-device requests as it takes. genlgen leaves this file alone, since it
// does not carry the generated-code header.

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"golang.org/x/sys/unix"
)

// A Config is a change to a Device: nil pointers and false flags leave
// what they stand for as it is.
type Config struct {
	PrivateKey *Key
	// ListenPort 0 picks a random port.
	ListenPort *int
	// FirewallMark 0 clears the mark.
	FirewallMark *int
	// ReplacePeers removes every peer the device has before adding Peers.
	ReplacePeers bool
	Peers        []PeerConfig
}

// A PeerConfig is a change to the peer with PublicKey, which it creates
// unless UpdateOnly or Remove.
type PeerConfig struct {
	PublicKey Key
	// Remove removes the peer; the other fields are ignored.
	Remove bool
	// UpdateOnly changes the peer only if it exists.
	UpdateOnly bool
	// PresharedKey, when not nil, sets the preshared key; the zero Key
	// clears it.
	PresharedKey *Key
	// Endpoint, when valid, sets the peer's address.
	Endpoint netip.AddrPort
	// PersistentKeepaliveInterval, when not nil, sets the interval in whole
	// seconds up to 65535; 0 turns keepalives off.
	PersistentKeepaliveInterval *time.Duration
	// ReplaceAllowedIPs removes the peer's allowed IPs before adding
	// AllowedIPs.
	ReplaceAllowedIPs bool
	AllowedIPs        []netip.Prefix
	// RemoveAllowedIPs removes these allowed IPs from the peer (after
	// AllowedIPs are added). Older kernels (6.12, 6.1) refuse it with EINVAL.
	RemoveAllowedIPs []netip.Prefix
}

// ConfigureDevice applies cfg to WireGuard device name. A large cfg goes in
// several set-device requests, each within messageBudget bytes, as the
// kernel requires: the device's settings and ReplacePeers travel in the
// first only, and a peer whose allowed IPs do not fit one request
// continues in the next under its public key, with ReplaceAllowedIPs only
// on its first part. The requests are sent in order; if one fails, those
// before it stay applied. A device that does not exist or is no WireGuard
// device gives an error matching os.ErrNotExist.
func (c *Client) ConfigureDevice(ctx context.Context, name string, cfg Config) error {
	return c.configure(ctx, deviceRef{name: name}, &cfg)
}

// ConfigureDeviceByIndex is ConfigureDevice for the device with ifindex
// index.
func (c *Client) ConfigureDeviceByIndex(ctx context.Context, index int, cfg Config) error {
	return c.configure(ctx, deviceRef{index: index, byIndex: true}, &cfg)
}

func (c *Client) configure(ctx context.Context, ref deviceRef, cfg *Config) error {
	if _, err := ref.request(); err != nil {
		return err
	}
	reqs, err := cfg.requests(ref)
	if err != nil {
		return fmt.Errorf("wireguard set-device %v: %w", ref, err)
	}
	for i := range reqs {
		if err := c.SetDevice(ctx, &reqs[i]); err != nil {
			if len(reqs) > 1 {
				err = fmt.Errorf("request %d of %d: %w", i+1, len(reqs), err)
			}
			return deviceError(ref, err)
		}
	}
	return nil
}

// Config returns the Config that gives a device what d has: its private
// key, listen port and firewall mark, and exactly its peers.
func (d *Device) Config() Config {
	port, mark := d.ListenPort, d.FirewallMark
	cfg := Config{ListenPort: &port, FirewallMark: &mark, ReplacePeers: true, Peers: make([]PeerConfig, len(d.Peers))}
	if !d.PrivateKey.IsZero() {
		cfg.PrivateKey = &d.PrivateKey
	}
	for i := range d.Peers {
		p := &d.Peers[i]
		cfg.Peers[i] = PeerConfig{
			PublicKey:                   p.PublicKey,
			PresharedKey:                &p.PresharedKey,
			Endpoint:                    p.Endpoint,
			PersistentKeepaliveInterval: &p.PersistentKeepaliveInterval,
			ReplaceAllowedIPs:           true,
			AllowedIPs:                  p.AllowedIPs,
		}
	}
	return cfg
}

// messageBudget bounds the attributes of one set-device request. It keeps
// every nest within the 64 KiB an attribute's length can say and each
// request well within the socket's send buffer.
const messageBudget = 32 << 10

// Upper bounds of encoded sizes, for splitting: attribute headers included.
const (
	sizeDevice    = 4 + 16 + 8 + 4 + KeyLen + 8 + 8 + 8 + 4 // ifname or ifindex, private key, flags, port, fwmark, peers nest
	sizePeer      = 4 + 4 + KeyLen + 4 + KeyLen + 8 + 4 + unix.SizeofSockaddrInet6 + 8 + 4
	sizeAllowedIP = 4 + 8 + 4 + 16 + 8 + 8 // nest, family, ipaddr, cidr-mask, flags
)

// A splitter fills set-device requests for one device up to messageBudget.
type splitter struct {
	ref  deviceRef
	reqs []SetDeviceRequest
	size int // of the last request
}

// next starts a new request.
func (s *splitter) next() *SetDeviceRequest {
	r := SetDeviceRequest{}
	if s.ref.byIndex {
		r.Ifindex = Some(uint32(s.ref.index))
	} else {
		r.Ifname = Some(s.ref.name)
	}
	s.reqs = append(s.reqs, r)
	s.size = sizeDevice
	return &s.reqs[len(s.reqs)-1]
}

// room returns the request to add n more bytes to, starting a new one if
// the last one has peers and n does not fit.
func (s *splitter) room(n int) *SetDeviceRequest {
	r := &s.reqs[len(s.reqs)-1]
	if s.size+n > messageBudget && len(r.Peers) > 0 {
		r = s.next()
	}
	s.size += n
	return r
}

// requests splits cfg into set-device requests for ref.
func (cfg *Config) requests(ref deviceRef) ([]SetDeviceRequest, error) {
	s := splitter{ref: ref}
	first := s.next()
	if cfg.PrivateKey != nil {
		first.PrivateKey = cfg.PrivateKey[:]
	}
	if cfg.ListenPort != nil {
		if *cfg.ListenPort < 0 || *cfg.ListenPort > math.MaxUint16 {
			return nil, fmt.Errorf("listen port %d is out of range", *cfg.ListenPort)
		}
		first.ListenPort = Some(uint16(*cfg.ListenPort))
	}
	if cfg.FirewallMark != nil {
		if *cfg.FirewallMark < 0 || uint64(*cfg.FirewallMark) > math.MaxUint32 {
			return nil, fmt.Errorf("firewall mark %d is out of range", *cfg.FirewallMark)
		}
		first.Fwmark = Some(uint32(*cfg.FirewallMark))
	}
	if cfg.ReplacePeers {
		first.Flags = Some(WgdeviceFlagsReplacePeers)
	}
	for i := range cfg.Peers {
		if err := s.addPeer(&cfg.Peers[i]); err != nil {
			return nil, fmt.Errorf("peer %d (%v): %w", i, cfg.Peers[i].PublicKey, err)
		}
	}
	return s.reqs, nil
}

// addPeer adds p, split over requests if its allowed IPs need it.
func (s *splitter) addPeer(p *PeerConfig) error {
	w, err := p.wgpeer()
	if err != nil {
		return err
	}
	ips, err := p.allowedIPs()
	if err != nil {
		return err
	}
	// The peer starts where at least its first allowed IP fits too.
	r := s.room(sizePeer + min(len(ips), 1)*sizeAllowedIP)
	if len(ips) > 0 {
		s.size -= sizeAllowedIP
	}
	for len(ips) > 0 {
		n := min(len(ips), max(1, (messageBudget-s.size)/sizeAllowedIP))
		w.Allowedips = ips[:n:n]
		r.Peers = append(r.Peers, w)
		s.size += n * sizeAllowedIP
		if ips = ips[n:]; len(ips) == 0 {
			return nil
		}
		// The rest continues in a new request under the same key, adding
		// to what the first part set.
		r = s.next()
		w = Wgpeer{PublicKey: w.PublicKey}
		if p.UpdateOnly {
			w.Flags = Some(WgpeerFlagsUpdateOnly)
		}
		s.size += sizePeer
	}
	r.Peers = append(r.Peers, w)
	return nil
}

// wgpeer returns p's attributes other than its allowed IPs.
func (p *PeerConfig) wgpeer() (Wgpeer, error) {
	w := Wgpeer{PublicKey: p.PublicKey[:]}
	var flags WgpeerFlags
	if p.Remove {
		w.Flags = Some(WgpeerFlagsRemoveMe)
		return w, nil
	}
	if p.UpdateOnly {
		flags |= WgpeerFlagsUpdateOnly
	}
	if p.ReplaceAllowedIPs {
		flags |= WgpeerFlagsReplaceAllowedips
	}
	if flags != 0 {
		w.Flags = Some(flags)
	}
	if p.PresharedKey != nil {
		w.PresharedKey = p.PresharedKey[:]
	}
	if p.Endpoint.IsValid() {
		sa, err := attrs.AppendSockaddr(nil, p.Endpoint)
		if err != nil {
			return w, fmt.Errorf("endpoint: %w", err)
		}
		w.Endpoint = sa
	}
	if p.PersistentKeepaliveInterval != nil {
		d := *p.PersistentKeepaliveInterval
		if d < 0 || d > math.MaxUint16*time.Second {
			return w, fmt.Errorf("persistent keepalive interval %v is out of range (0 to 65535s)", d)
		}
		w.PersistentKeepaliveInterval = Some(uint16(d / time.Second))
	}
	return w, nil
}

// allowedIPs returns p's allowed IPs to add, then those to remove.
func (p *PeerConfig) allowedIPs() ([]Wgallowedip, error) {
	if p.Remove {
		return nil, nil
	}
	ips := make([]Wgallowedip, 0, len(p.AllowedIPs)+len(p.RemoveAllowedIPs))
	for k, list := range [2][]netip.Prefix{p.AllowedIPs, p.RemoveAllowedIPs} {
		remove := k == 1
		for _, pfx := range list {
			if !pfx.IsValid() {
				return nil, fmt.Errorf("allowed IP %v is no prefix", pfx)
			}
			a := Wgallowedip{Family: Some(uint16(unix.AF_INET6)), Ipaddr: pfx.Addr(), CidrMask: Some(uint8(pfx.Bits()))}
			if pfx.Addr().Is4() {
				a.Family.Value = unix.AF_INET
			}
			if remove {
				a.Flags = Some(WgallowedipFlagsRemoveMe)
			}
			ips = append(ips, a)
		}
	}
	return ips, nil
}

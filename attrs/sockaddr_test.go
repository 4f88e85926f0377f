package attrs_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

func TestSockaddr(t *testing.T) {
	for _, s := range []string{"192.0.2.1:51820", "[2001:db8::1]:1", "[fe80::1%3]:65535", "0.0.0.0:0"} {
		ap := netip.MustParseAddrPort(s)
		b, err := attrs.AppendSockaddr([]byte{9}, ap)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if b[0] != 9 {
			t.Fatalf("%s: AppendSockaddr overwrote the front", s)
		}
		want := 16
		if ap.Addr().Is6() {
			want = 28
		}
		if len(b)-1 != want {
			t.Fatalf("%s: %d bytes, want %d", s, len(b)-1, want)
		}
		back, err := attrs.ParseSockaddr(b[1:])
		if err != nil || back != ap {
			t.Fatalf("%s: ParseSockaddr = %v, %v", s, back, err)
		}
	}
	// An IPv4-mapped address goes as sockaddr_in.
	b, _ := attrs.AppendSockaddr(nil, netip.MustParseAddrPort("[::ffff:192.0.2.1]:80"))
	if ap, err := attrs.ParseSockaddr(b); err != nil || ap != netip.MustParseAddrPort("192.0.2.1:80") {
		t.Fatalf("mapped: %v, %v", ap, err)
	}
	for _, bad := range []netip.AddrPort{{}, netip.MustParseAddrPort("[fe80::1%eth0]:1")} {
		if _, err := attrs.AppendSockaddr(nil, bad); !errors.Is(err, attrs.ErrInvalid) {
			t.Errorf("AppendSockaddr(%v): %v, want ErrInvalid", bad, err)
		}
	}
	for _, bad := range [][]byte{nil, {2}, {2, 0, 0, 0}, {10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {99, 0, 0, 0}} {
		if _, err := attrs.ParseSockaddr(bad); err == nil {
			t.Errorf("ParseSockaddr(%x) succeeded", bad)
		}
	}
}

package wireguard_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"os"
	"time"

	"github.com/genlkit/genlkit/family/wireguard"
	"github.com/genlkit/genlkit/genl"
)

// Configuring a device and reading it back, as with wgctrl's
// ConfigureDevice and Device: keys in their base64 form, endpoints and
// allowed IPs as netip values. However many peers the config has,
// ConfigureDevice sends it in as many requests as the kernel needs, and
// Device merges the dump messages the device comes back in.
func Example() {
	ctx := context.Background()
	conn, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c, err := wireguard.New(ctx, conn)
	if err != nil {
		log.Fatal(err) // matches family.ErrNotFound without the wireguard module
	}

	priv, err := wireguard.GeneratePrivateKey()
	if err != nil {
		log.Fatal(err)
	}
	peer, err := wireguard.ParseKey("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=")
	if err != nil {
		log.Fatal(err)
	}
	port, keepalive := 51820, 25*time.Second
	err = c.ConfigureDevice(ctx, "wg0", wireguard.Config{
		PrivateKey:   &priv,
		ListenPort:   &port,
		ReplacePeers: true,
		Peers: []wireguard.PeerConfig{{
			PublicKey:                   peer,
			Endpoint:                    netip.MustParseAddrPort("198.51.100.7:51820"),
			PersistentKeepaliveInterval: &keepalive,
			ReplaceAllowedIPs:           true,
			AllowedIPs:                  []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/64")},
		}},
	})
	if errors.Is(err, os.ErrNotExist) {
		log.Fatal("no wireguard device wg0: ", err)
	} else if err != nil {
		log.Fatal(err)
	}

	dev, err := c.Device(ctx, "wg0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (ifindex %d) public key %v, port %d\n", dev.Name, dev.Index, dev.PublicKey, dev.ListenPort)
	for _, p := range dev.Peers {
		fmt.Printf("peer %v endpoint %v allowed IPs %v last handshake %v rx %d tx %d\n",
			p.PublicKey, p.Endpoint, p.AllowedIPs, p.LastHandshakeTime, p.ReceiveBytes, p.TransmitBytes)
	}
}

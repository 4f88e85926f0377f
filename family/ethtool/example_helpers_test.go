package ethtool_test

import (
	"context"
	"fmt"
	"log"

	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/genl"
)

// Read a device's features as `ethtool -k eth0` prints them, and its link
// settings as `ethtool eth0` does.
func ExampleClient_Features() {
	ctx := context.Background()
	conn, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c, err := ethtool.New(ctx, conn)
	if err != nil {
		log.Fatal(err)
	}
	// Compact bitsets, named by the features string set the Client
	// fetches once and keeps.
	features, err := c.Features(ctx, ethtool.Device("eth0"))
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range features {
		fmt.Println(f) // rx-gro: on
	}
	lm, err := c.LinkModes(ctx, ethtool.Device("eth0"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Speed: %dMb/s, Duplex: %s, Auto-negotiation: %s\n", lm.Speed.Value, lm.Duplex.Value, lm.Autoneg.Value)
	fmt.Println("Advertised link modes:", lm.Advertised) // [1000baseT/Full ...]
}

package netdev_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
)

// Dump every device's XDP features, then get one device.
func Example() {
	ctx := context.Background()
	conn, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c, err := netdev.New(ctx, conn)
	if errors.Is(err, family.ErrNotFound) {
		log.Fatal("this kernel has no netdev family")
	} else if err != nil {
		log.Fatal(err)
	}

	for dev, err := range c.DevGetDump(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(dev.Ifindex.Value, dev.XdpFeatures.Value)
	}

	lo, err := c.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)})
	if err != nil {
		log.Fatal(err) // e.g. "netdev dev-get: genl: do ...: no such device"
	}
	if f, ok := lo.XdpZcMaxSegs.Get(); ok {
		fmt.Println("zero-copy segments:", f)
	}
}

// Watch devices come and go.
func ExampleClient_Subscribe() {
	ctx := context.Background()
	conn, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	c, err := netdev.New(ctx, conn)
	if err != nil {
		log.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, netdev.GroupMgmt)
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for n, err := range sub.All(ctx) {
		if errors.Is(err, genl.ErrOverrun) {
			continue // notifications were lost: dump again to resynchronise
		} else if err != nil {
			log.Fatal(err)
		}
		switch n := n.(type) {
		case *netdev.DevAddNtf:
			fmt.Println("added", n.Ifindex.Value)
		case *netdev.DevDelNtf:
			fmt.Println("removed", n.Ifindex.Value)
		}
	}
}

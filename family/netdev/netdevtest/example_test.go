package netdevtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/family/netdev/netdevtest"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// Serve the netdev family to the generated client in a test: one device,
// an error naming the request attribute, and a notification.
func ExampleServer() {
	ctx := context.Background()
	srv := netdevtest.NewServer(nil)
	lo := &netdev.Dev{Ifindex: netdev.Some[uint32](1), XdpFeatures: netdev.Some(netdev.XdpActBasic)}
	srv.HandleDevGet(func(req *netdev.DevGetRequest) (*netdev.Dev, error) {
		if req.Ifindex.Value != 1 {
			return nil, netdevtest.Errorf(unix.ENODEV, "ifindex", "no device %d", req.Ifindex.Value)
		}
		return lo, nil
	})
	srv.HandleDevGetDump(func(yield func(*netdev.Dev) bool) error {
		yield(lo)
		return nil
	})

	c, err := srv.Client(ctx) // a netdev.Client, resolved from the fake nlctrl
	if err != nil {
		log.Fatal(err)
	}
	defer c.Conn().Close()
	for dev, err := range c.DevGetDump(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("device", dev.Ifindex.Value, dev.XdpFeatures.Value)
	}
	_, err = c.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](7)})
	var ge *genl.Error
	if errors.As(err, &ge) {
		fmt.Printf("%v: %s (attribute %s)\n", ge.Err, ge.Message, ge.Path)
	}

	sub, err := c.Subscribe(ctx, netdev.GroupMgmt)
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	srv.Notify(netdev.GroupMgmt, &netdev.DevAddNtf{Dev: netdev.Dev{Ifindex: netdev.Some[uint32](2)}})
	n, err := sub.Next(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.OpName(), n.(*netdev.DevAddNtf).Ifindex.Value)
	// Output:
	// device 1 basic
	// no such device: no device 7 (attribute ifindex)
	// dev-add-ntf 2
}

package genl_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// Dial a generic netlink connection; WithNetNS works inside a named network
// namespace instead of the caller's.
func ExampleDial() {
	c, err := genl.Dial(genl.WithReadBuffer(1 << 20))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("port", c.PortID())
}

// Resolve a family with a do-request to the controller, decoding the reply
// in place: nothing is copied or allocated.
func ExampleConn_Do() {
	c, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var enc attrs.Encoder
	enc.String(unix.CTRL_ATTR_FAMILY_NAME, "nlctrl")
	var id uint16
	err = c.Do(context.Background(), genl.Request{
		Family:      unix.GENL_ID_CTRL,
		Command:     unix.CTRL_CMD_GETFAMILY,
		Version:     1,
		Attrs:       enc.Bytes(),
		ExpectReply: true, // GETFAMILY always replies: no ACK needed
	}, func(m genl.Message) error {
		d := attrs.NewDecoder(m.Data)
		for d.Next() {
			if d.Type() == unix.CTRL_ATTR_FAMILY_ID {
				id = d.U16()
			}
		}
		return d.Err()
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("nlctrl is family %#x\n", id)
}

// Dump every generic netlink family. Breaking out of the loop early is fine.
func ExampleConn_Dump() {
	c, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	req := genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1}
	for m, err := range c.Dump(context.Background(), req) {
		if err != nil {
			log.Fatal(err)
		}
		d := attrs.NewDecoder(m.Data)
		for d.Next() {
			if d.Type() == unix.CTRL_ATTR_FAMILY_NAME {
				fmt.Println(d.String())
			}
		}
	}
}

// Watch a multicast group (here nlctrl's "notify", id 0x10) while the same
// Conn carries requests.
func ExampleConn_Subscribe() {
	c, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sub, err := c.Subscribe(unix.GENL_ID_CTRL)
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for m, err := range sub.All(context.Background()) {
		var overrun *genl.OverrunError
		if errors.As(err, &overrun) {
			log.Printf("lost notifications (%v): resynchronise", err)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("notification: command", m.Header.Command)
	}
}

// NewConn runs a Conn over the in-memory fake kernel of package genltest,
// here to show how a kernel error reads: errno, message and the path of the
// attribute the kernel rejected.
func ExampleNewConn() {
	k := genltest.New()
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		// 16-byte netlink header + 4-byte genl header, then the nest at
		// offset 20 and its first attribute at 24.
		k.Push(genltest.Error(r, unix.ENODEV, &genltest.Extack{Msg: "no device matches ifindex", Offset: 24}))
	})
	c, err := genl.NewConn(k.Transport())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	var enc attrs.Encoder
	n := enc.Nest(1)
	enc.U32(1, 99)
	enc.End(n)
	names := func(parents []uint16, typ uint16) string {
		if len(parents) == 0 {
			return "header"
		}
		return "dev-index"
	}
	err = c.Ack(context.Background(), genl.Request{Family: 0x15, Command: 2, Attrs: enc.Bytes(), Names: names})
	var e *genl.Error
	if errors.As(err, &e) {
		fmt.Println(errors.Is(err, unix.ENODEV), e.Message, e.Path)
	}
	fmt.Println(err)
	// Output:
	// true no device matches ifindex header.dev-index
	// genl: do (family 0x15 cmd 2): no such device: no device matches ifindex (attribute header.dev-index)
}

package genetlink_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	// Was "github.com/mdlayher/genetlink": the one line that changes.
	"github.com/genlkit/genlkit/genl/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A program written for mdlayher/genetlink, moved to genlkit by changing
// its import path.
func Example() {
	c, err := genetlink.Dial(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	f, err := c.GetFamily("nlctrl")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Name, f.ID == unix.GENL_ID_CTRL)

	// Dump every family.
	msgs, err := c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: f.Version},
	}, f.ID, netlink.Request|netlink.Dump)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(msgs) > 0)

	// Kernel errors are *netlink.OpError, as with mdlayher/genetlink.
	_, err = c.GetFamily("no-such-family")
	var oe *netlink.OpError
	fmt.Println(errors.As(err, &oe), errors.Is(err, os.ErrNotExist))
	// Output:
	// nlctrl true
	// true
	// true true
}

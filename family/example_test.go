package family_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// Look a family up by name: its id (the netlink message type to send to),
// version, operations and multicast groups. A kernel without the family
// gives an error matching family.ErrNotFound.
func ExampleGet() {
	c, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	f, err := family.Get(ctx, c, "netdev")
	if errors.Is(err, family.ErrNotFound) {
		log.Fatal("this kernel has no netdev family")
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: id %#x, version %d\n", f.Name, f.ID, f.Version)
	for _, o := range f.Ops {
		fmt.Printf("  op %d: %v\n", o.ID, o.Flags)
	}
	g, err := f.Group("mgmt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("  join group", g.ID, "for device notifications")
}

// List every family the running kernel has registered, with one dump.
func ExampleList() {
	c, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fams, err := family.List(context.Background(), c)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range fams {
		fmt.Printf("%-16s %#04x %d ops %d groups\n", f.Name, f.ID, len(f.Ops), len(f.Groups))
	}
}

// A Resolver caches families for a long-lived program and keeps the cache
// fresh from nlctrl's notifications: a family that is unloaded and loaded
// again (a new id) is looked up again. Share one per Conn.
func ExampleNewResolver() {
	c, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	r, err := family.NewResolver(c)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	ctx := context.Background()
	for range 3 {
		f, err := r.Family(ctx, "ethtool") // the kernel is asked once
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s is %#x\n", f.Name, f.ID)
	}
	fmt.Println("requests to the kernel:", r.Fetches())
}

// Read the attribute policy the kernel validates an operation's requests
// with: here nlctrl's own GETFAMILY.
func ExampleGetPolicy() {
	c, err := genl.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	op := uint32(unix.CTRL_CMD_GETFAMILY)
	p, err := family.GetPolicy(context.Background(), c, "nlctrl", &op)
	if err != nil {
		log.Fatal(err)
	}
	// Prints, on Linux 6.18:
	//   op getfamily (3)
	//     do: policy 0
	//       attr 1: u16 range [0, 65535]
	//       attr 2: nul-string max-len 15
	//     dump: policy 0
	//       ...
	err = p.Print(os.Stdout, func(cmd uint32) string {
		if cmd == unix.CTRL_CMD_GETFAMILY {
			return "getfamily"
		}
		return ""
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Get over genltest's in-memory fake kernel: how to unit-test code that
// resolves families, without root or a real kernel. The fake answers the
// GETFAMILY request with a reply built like nlctrl's.
func ExampleGet_fakeKernel() {
	k := genltest.New()
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		if r.Genl.Command != unix.CTRL_CMD_GETFAMILY {
			k.Push(genltest.Error(r, unix.EOPNOTSUPP, nil))
			return
		}
		// Which family? Anything but "demo" is unknown.
		d := attrs.NewDecoder(r.Data)
		for d.Next() {
			if d.Type() == unix.CTRL_ATTR_FAMILY_NAME && d.String() != "demo" {
				k.Push(genltest.Error(r, unix.ENOENT, nil))
				return
			}
		}
		var e attrs.Encoder
		e.U16(unix.CTRL_ATTR_FAMILY_ID, 0x1f)
		e.String(unix.CTRL_ATTR_FAMILY_NAME, "demo")
		e.U32(unix.CTRL_ATTR_VERSION, 1)
		ops := e.Nest(unix.CTRL_ATTR_OPS)
		op := e.Nest(1) // array entries are numbered from 1
		e.U32(unix.CTRL_ATTR_OP_ID, 1)
		e.U32(unix.CTRL_ATTR_OP_FLAGS, unix.GENL_CMD_CAP_DO|unix.GENL_CMD_CAP_DUMP)
		e.End(op)
		e.End(ops)
		groups := e.Nest(unix.CTRL_ATTR_MCAST_GROUPS)
		g := e.Nest(1)
		e.String(unix.CTRL_ATTR_MCAST_GRP_NAME, "events")
		e.U32(unix.CTRL_ATTR_MCAST_GRP_ID, 12)
		e.End(g)
		e.End(groups)
		k.Push(genltest.Reply(r, unix.CTRL_CMD_NEWFAMILY, e.Bytes()), genltest.Ack(r))
	})
	c, err := genl.NewConn(k.Transport())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	f, err := family.Get(ctx, c, "demo")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: id %#x, version %d, op 1 %v, group %s=%d\n",
		f.Name, f.ID, f.Version, f.Ops[0].Flags, f.Groups[0].Name, f.Groups[0].ID)

	_, err = family.Get(ctx, c, "nosuch")
	fmt.Println(errors.Is(err, family.ErrNotFound), errors.Is(err, os.ErrNotExist))
	// Output:
	// demo: id 0x1f, version 1, op 1 do|dump, group events=12
	// true true
}

// CheckOp tells before sending whether the running kernel's family accepts
// an operation as a do request or a dump; generated clients call it first.
func ExampleFamily_CheckOp() {
	f := &family.Family{Name: "netdev", ID: 0x14, Ops: []family.Op{
		{ID: 1, Flags: family.OpDo | family.OpDump | family.OpHasPolicy},
		{ID: 12, Flags: family.OpDump | family.OpHasPolicy},
	}}
	fmt.Println(f.CheckOp(1, "dev-get", true))
	err := f.CheckOp(12, "qstats-get", false)
	fmt.Println(errors.Is(err, family.ErrNotSupported), err)
	err = f.CheckOp(16, "queue-create", false)
	fmt.Println(errors.Is(err, family.ErrNotSupported), err)
	// Output:
	// <nil>
	// true family netdev: op qstats-get: do: operation not supported by the running kernel
	// true family netdev: op queue-create: operation not supported by the running kernel
}

// Group finds a multicast group's id by name; a missing group's error lists
// the ones the family has.
func ExampleFamily_Group() {
	f := &family.Family{Name: "netdev", Groups: []family.Group{{ID: 4, Name: "mgmt"}, {ID: 5, Name: "page-pool"}}}
	g, err := f.Group("mgmt")
	fmt.Println(g.ID, err)
	_, err = f.Group("mgnt")
	fmt.Println(errors.Is(err, family.ErrNotFound), err)
	// Output:
	// 4 <nil>
	// true family netdev: multicast group "mgnt": not found (groups: mgmt, page-pool)
}

// OpFlags print as nlctrl's capability names.
func ExampleOpFlags_String() {
	fmt.Println(family.OpDo | family.OpDump | family.OpHasPolicy | family.OpAdminPerm)
	// Output: admin-perm|do|dump|has-policy
}

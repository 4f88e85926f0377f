// Command families lists the generic netlink families the running kernel
// has registered, with their operations and multicast groups, using only
// the family package (no generated code).
//
// It shows how to dial a genl.Conn (optionally inside a network namespace),
// list every family with one dump, and look one up by name.
//
// Run it:
//
//	go run ./examples/families                 # every family, one line each
//	go run ./examples/families -v netdev       # one family with its ops and groups
//	go run ./examples/families -netns NAME     # inside /run/netns/NAME
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
)

func main() {
	netns := flag.String("netns", "", "network namespace name (under /run/netns) or path")
	verbose := flag.Bool("v", false, "show the operations and groups of the named families")
	flag.Parse()
	if err := run(*netns, *verbose, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "families:", err)
		os.Exit(1)
	}
}

func run(netns string, verbose bool, names []string) error {
	var opts []genl.Option
	if netns != "" {
		opts = append(opts, genl.WithNetNS(netns))
	}
	c, err := genl.Dial(opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if len(names) == 0 {
		fams, err := family.List(ctx, c)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tID\tVERSION\tHDRSIZE\tMAXATTR\tOPS\tGROUPS")
		for _, f := range fams {
			fmt.Fprintf(w, "%s\t%#x\t%d\t%d\t%d\t%d\t%s\n", f.Name, f.ID, f.Version,
				f.HeaderSize, f.MaxAttr, len(f.Ops), groupNames(f))
		}
		return w.Flush()
	}
	for _, name := range names {
		f, err := family.Get(ctx, c, name)
		if errors.Is(err, family.ErrNotFound) {
			fmt.Fprintf(os.Stderr, "families: %s: not registered in this kernel\n", name)
			continue
		}
		if err != nil {
			return err
		}
		fmt.Printf("%s: id %#x, version %d, header %d bytes, max attribute %d\n",
			f.Name, f.ID, f.Version, f.HeaderSize, f.MaxAttr)
		if verbose {
			for _, o := range f.Ops {
				fmt.Printf("  op %d: %s\n", o.ID, o.Flags)
			}
			for _, g := range f.Groups {
				fmt.Printf("  group %s: %d\n", g.Name, g.ID)
			}
		}
	}
	return nil
}

func groupNames(f *family.Family) string {
	if len(f.Groups) == 0 {
		return "-"
	}
	names := make([]string, len(f.Groups))
	for i, g := range f.Groups {
		names[i] = g.Name
	}
	return strings.Join(names, ",")
}

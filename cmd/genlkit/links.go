package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/attrs"
)

// linkName returns the name of interface index in the run's network
// namespace, from an rtnetlink link dump made on first use and again, at
// most once a second, when an index is missing (a device that appeared
// while subscribe runs). Without names (no permission, no such namespace)
// indexes are shown alone.
func (v *view) linkName(index uint32) (string, bool) {
	name, ok := v.links[index]
	if ok || v.linksErr != nil || time.Since(v.linksAt) < time.Second {
		return name, ok
	}
	v.links, v.linksErr = dumpLinkNames(v.a.netns)
	v.linksAt = time.Now()
	name, ok = v.links[index]
	return name, ok
}

// dumpLinkNames dumps the links of the network namespace netns (a name
// under /run/netns or a path; "" for the current one) and returns their
// names by index.
func dumpLinkNames(netns string) (map[uint32]string, error) {
	cfg := &netlink.Config{}
	if netns != "" {
		p := netns
		if !filepath.IsAbs(p) {
			p = filepath.Join("/run/netns", p)
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cfg.NetNS = int(f.Fd())
	}
	c, err := netlink.Dial(unix.NETLINK_ROUTE, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request | netlink.Dump},
		Data:   make([]byte, unix.SizeofIfInfomsg),
	})
	if err != nil {
		return nil, err
	}
	names := make(map[uint32]string, len(msgs))
	for _, m := range msgs {
		if len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		index := binary.NativeEndian.Uint32(m.Data[4:8]) // struct ifinfomsg's ifi_index
		d := attrs.NewDecoder(m.Data[unix.SizeofIfInfomsg:])
		for d.Next() {
			if d.Type() == unix.IFLA_IFNAME {
				names[index] = d.String()
			}
		}
	}
	return names, nil
}

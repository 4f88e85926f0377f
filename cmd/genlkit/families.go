package main

import (
	_ "github.com/genlkit/genlkit/family/binder"
	_ "github.com/genlkit/genlkit/family/devenergymodel"
	_ "github.com/genlkit/genlkit/family/devlink"
	_ "github.com/genlkit/genlkit/family/dpll"
	_ "github.com/genlkit/genlkit/family/drmras"
	_ "github.com/genlkit/genlkit/family/ethtool"
	_ "github.com/genlkit/genlkit/family/fou"
	_ "github.com/genlkit/genlkit/family/handshake"
	_ "github.com/genlkit/genlkit/family/ioam6"
	_ "github.com/genlkit/genlkit/family/lockd"
	_ "github.com/genlkit/genlkit/family/mptcppm"
	_ "github.com/genlkit/genlkit/family/netdev"
	_ "github.com/genlkit/genlkit/family/netshaper"
	_ "github.com/genlkit/genlkit/family/nfsd"
	_ "github.com/genlkit/genlkit/family/nl80211"
	_ "github.com/genlkit/genlkit/family/nlblmgmt"
	_ "github.com/genlkit/genlkit/family/nlctrl"
	_ "github.com/genlkit/genlkit/family/ovpn"
	_ "github.com/genlkit/genlkit/family/ovsdatapath"
	_ "github.com/genlkit/genlkit/family/ovsflow"
	_ "github.com/genlkit/genlkit/family/ovspacket"
	_ "github.com/genlkit/genlkit/family/ovsvport"
	_ "github.com/genlkit/genlkit/family/psp"
	_ "github.com/genlkit/genlkit/family/seg6"
	_ "github.com/genlkit/genlkit/family/sunrpc"
	_ "github.com/genlkit/genlkit/family/taskstats"
	_ "github.com/genlkit/genlkit/family/tcpmetrics"
	_ "github.com/genlkit/genlkit/family/team"
	_ "github.com/genlkit/genlkit/family/thermal"
	_ "github.com/genlkit/genlkit/family/wireguard"
)

// The generated family packages register their descriptors with package
// family when they are linked in; genlkit blank-imports each of them here,
// so that it encodes and decodes their messages with no spec file:
//
//	import _ "github.com/genlkit/genlkit/family/netdev"
//
// Families not compiled in are described by --spec FILE, or by their spec
// in $GENLKIT_SPECS or /usr/share/ynl/specs (where the kernel's YNL tools
// install the specs).

// specDirs lists the directories searched for the spec of a family that is
// not compiled in.
func specDirs(env string) []string {
	dirs := []string{}
	if env != "" {
		dirs = append(dirs, env)
	}
	return append(dirs, "/usr/share/ynl/specs")
}

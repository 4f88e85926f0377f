package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/mptcppm"
	"github.com/genlkit/genlkit/family/mptcppm/mptcppmtest"
	"golang.org/x/sys/unix"
)

// The commands against the typed test server of mptcp_pm, serving a path
// manager kept in memory, as the kernel's answers it: no kernel, no root.
// (examples/mptcpendpoints_test.go runs the built program on the kernel.)

// pathManager is an in-memory MPTCP path manager: endpoints by id and the
// limits, refused as the kernel refuses them.
type pathManager struct {
	eps                map[uint8]mptcppm.Address
	subflows, addAddrs uint32
}

const maxLimit = 8 // MPTCP_PM_ADDR_MAX

func servePathManager(srv *mptcppmtest.Server) *pathManager {
	pm := &pathManager{eps: map[uint8]mptcppm.Address{}, subflows: 2}
	srv.HandleAddAddr(func(req *mptcppm.AddAddrRequest) error {
		if req.Addr == nil {
			return mptcppmtest.Errorf(unix.EINVAL, "addr", "missing address info")
		}
		a := *req.Addr
		id := a.ID.Value
		if id == 0 {
			for id = 1; pm.eps[id].ID.Valid; id++ {
			}
			a.ID.Set(id)
		} else if pm.eps[id].ID.Valid {
			return mptcppmtest.Errorf(unix.EINVAL, "addr.id", "address id already in use")
		}
		pm.eps[id] = a
		return nil
	})
	srv.HandleDelAddr(func(req *mptcppm.DelAddrRequest) error {
		if req.Addr == nil || !pm.eps[req.Addr.ID.Value].ID.Valid {
			return mptcppmtest.Errorf(unix.EINVAL, "addr", "address not found")
		}
		delete(pm.eps, req.Addr.ID.Value)
		return nil
	})
	srv.HandleFlushAddrs(func(*mptcppm.FlushAddrsRequest) error {
		clear(pm.eps)
		return nil
	})
	srv.HandleGetAddrDump(func(yield func(*mptcppm.Attr) bool) error {
		for id := range 256 {
			if a, ok := pm.eps[uint8(id)]; ok && !yield(&mptcppm.Attr{Addr: &a}) {
				break
			}
		}
		return nil
	})
	srv.HandleSetLimits(func(req *mptcppm.SetLimitsRequest) error {
		if v, ok := req.RcvAddAddrs.Get(); ok && v > maxLimit {
			return mptcppmtest.Errorf(unix.EINVAL, "rcv-add-addrs", "limit greater than maximum (%d)", maxLimit)
		}
		if v, ok := req.Subflows.Get(); ok && v > maxLimit {
			return mptcppmtest.Errorf(unix.EINVAL, "subflows", "limit greater than maximum (%d)", maxLimit)
		}
		if v, ok := req.RcvAddAddrs.Get(); ok {
			pm.addAddrs = v
		}
		if v, ok := req.Subflows.Get(); ok {
			pm.subflows = v
		}
		return nil
	})
	srv.HandleGetLimits(func(*mptcppm.GetLimitsRequest) (*mptcppm.Attr, error) {
		return &mptcppm.Attr{Subflows: mptcppm.Some(pm.subflows), RcvAddAddrs: mptcppm.Some(pm.addAddrs)}, nil
	})
	return pm
}

func TestCommands(t *testing.T) {
	srv := mptcppmtest.NewServer(nil)
	servePathManager(srv)
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out bytes.Buffer
	stdout = &out
	defer func() { stdout = os.Stdout }()

	steps := []struct {
		args []string
		want string // output, or the error as main prints it
	}{
		{[]string{"list"}, "no endpoints\nlimits: subflows 2, add-addr accepted 0\n"},
		{[]string{"add", "192.0.2.1", "-flags", "signal"}, "added id 1 192.0.2.1 flags signal\n"},
		{[]string{"add", "-id", "7", "2001:db8::1", "-flags", "subflow,backup", "-port", "8080"}, "added id 7 2001:db8::1 port 8080 flags subflow,backup\n"},
		{[]string{"add", "198.51.100.1", "-id", "7"}, "add: the kernel refused it (invalid argument): address id already in use (attribute addr.id)"},
		{[]string{"list"}, "id 1 192.0.2.1 flags signal\nid 7 2001:db8::1 port 8080 flags subflow,backup\nlimits: subflows 2, add-addr accepted 0\n"},
		{[]string{"del", "-id", "7"}, "deleted id 7\n"},
		{[]string{"del", "-id", "9"}, "del: the kernel refused it (invalid argument): address not found (attribute addr)"},
		{[]string{"limits", "-subflows", "9"}, "limits: the kernel refused it (invalid argument): limit greater than maximum (8) (attribute subflows)"},
		{[]string{"limits", "-subflows", "4", "-addrs", "2"}, "limits: subflows 4, add-addr accepted 2\n"},
		{[]string{"flush"}, "flushed all endpoints\n"},
		{[]string{"list"}, "no endpoints\nlimits: subflows 4, add-addr accepted 2\n"},
	}
	for _, s := range steps {
		out.Reset()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := runOn(ctx, conn, s.args[0], s.args[1:])
		cancel()
		got := out.String()
		if err != nil {
			got = explain(s.args[0], err)
		}
		if got != s.want {
			t.Errorf("%s:\n got %q\nwant %q", strings.Join(s.args, " "), got, s.want)
		}
	}
}

package ethtool_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/family/ethtool/ethtooltest"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// Tests against the typed test server: ethtool numbers replies and
// notifications apart from requests, and names devices in a nested
// header.

func TestFakeLinkinfo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := ethtooltest.NewServer(nil)
	srv.HandleLinkinfoGet(func(req *ethtool.LinkinfoGetRequest) (*ethtool.Linkinfo, error) {
		if req.Header == nil {
			return nil, ethtooltest.Errorf(unix.EINVAL, "header", "request header missing")
		}
		if req.Header.DevIndex.Value != 2 {
			return nil, ethtooltest.Errorf(unix.ENODEV, "header.dev-index", "no device found")
		}
		return &ethtool.Linkinfo{Header: &ethtool.Header{DevIndex: req.Header.DevIndex, DevName: ethtool.Some("eth0")}, Port: ethtool.Some(ethtool.PortTp)}, nil
	})
	c, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn := c.Conn()
	defer conn.Close()
	rep, err := c.LinkinfoGet(ctx, &ethtool.LinkinfoGetRequest{Header: &ethtool.Header{DevIndex: ethtool.Some[uint32](2)}})
	if err != nil || rep.Header.DevName.Value != "eth0" || rep.Port.Value != ethtool.PortTp {
		t.Fatalf("linkinfo-get: %+v, %v", rep, err)
	}
	var ge *genl.Error
	_, err = c.LinkinfoGet(ctx, &ethtool.LinkinfoGetRequest{Header: &ethtool.Header{DevIndex: ethtool.Some[uint32](9)}})
	if !errors.Is(err, unix.ENODEV) || !errors.As(err, &ge) || ge.Path != "header.dev-index" {
		t.Errorf("unknown device: %v", err)
	}
	_, err = c.LinkinfoGet(ctx, nil)
	if !errors.As(err, &ge) || ge.MissingPath != "header" {
		t.Errorf("no header: %v", err)
	}

	// The reply carries the reply command (ETHTOOL_MSG_RINGS_GET_REPLY),
	// not the request's.
	srv.HandleRingsGet(func(req *ethtool.RingsGetRequest) (*ethtool.Rings, error) {
		return &ethtool.Rings{Header: req.Header, RxMax: ethtool.Some[uint32](4096)}, nil
	})
	rings, err := c.RingsGet(ctx, &ethtool.RingsGetRequest{Header: &ethtool.Header{DevIndex: ethtool.Some[uint32](2)}})
	if err != nil || rings.RxMax.Value != 4096 {
		t.Fatalf("rings-get: %+v, %v", rings, err)
	}
	req := genl.Request{Family: srv.Family().ID, Command: ethtool.CmdRingsGet, Version: ethtool.FamilyVersion}
	var cmd uint8
	if err := conn.Do(ctx, req, func(m genl.Message) error { cmd = m.Header.Command; return nil }); err != nil || cmd != ethtool.CmdRingsGetReply {
		t.Errorf("reply command %d, %v; want %d", cmd, err, ethtool.CmdRingsGetReply)
	}

	// Notifications carry the notification command, and arrive typed.
	sub, err := c.Subscribe(ctx, ethtool.GroupMonitor)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := srv.Notify(ethtool.GroupMonitor, &ethtool.LinkinfoNtf{Linkinfo: *rep}); err != nil {
		t.Fatal(err)
	}
	n, err := sub.Next(ctx)
	if ln, ok := n.(*ethtool.LinkinfoNtf); err != nil || !ok || ln.Header.DevName.Value != "eth0" {
		t.Errorf("notification %#v, %v", n, err)
	}
}

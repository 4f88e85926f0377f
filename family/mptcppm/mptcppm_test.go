package mptcppm_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/mptcppm"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated mptcp_pm package against the running kernel,
// in a private network namespace.

func TestMain(m *testing.M) { testutils.Main(m) }

func setup(t *testing.T) (*testutils.NS, *mptcppm.Client, context.Context) {
	t.Helper()
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := mptcppm.New(ctx, conn)
	testutils.RequireFamily(t, !errors.Is(err, family.ErrNotFound), "the kernel has no mptcp_pm family (CONFIG_MPTCP)")
	if err != nil {
		t.Fatal(err)
	}
	return ns, c, ctx
}

func ip4(s string) uint32 { return binary.BigEndian.Uint32(net.ParseIP(s).To4()) }

const flagSignal = 1 // MPTCP_PM_ADDR_FLAG_SIGNAL

func TestEndpoints(t *testing.T) {
	ns, c, ctx := setup(t)
	ns.IP(t, "addr", "add", "192.0.2.1/24", "dev", "lo")
	ns.IP(t, "addr", "add", "192.0.2.2/24", "dev", "lo")

	for i, a := range []string{"192.0.2.1", "192.0.2.2"} {
		err := c.AddAddr(ctx, &mptcppm.AddAddrRequest{Addr: &mptcppm.Address{
			Family: mptcppm.Some[uint16](unix.AF_INET),
			ID:     mptcppm.Some(uint8(i + 1)),
			Addr4:  mptcppm.Some(ip4(a)),
			Flags:  mptcppm.Some[uint32](flagSignal),
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Adding the same id again is refused by the kernel.
	err := c.AddAddr(ctx, &mptcppm.AddAddrRequest{Addr: &mptcppm.Address{
		Family: mptcppm.Some[uint16](unix.AF_INET), ID: mptcppm.Some[uint8](1), Addr4: mptcppm.Some(ip4("192.0.2.3")),
	}})
	if err == nil {
		t.Error("duplicate endpoint id accepted")
	}
	t.Logf("duplicate id: %v", err)

	got, err := c.GetAddr(ctx, &mptcppm.GetAddrRequest{Addr: &mptcppm.Address{ID: mptcppm.Some[uint8](2)}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Addr == nil || got.Addr.Addr4.Value != ip4("192.0.2.2") || got.Addr.ID.Value != 2 || got.Addr.Flags.Value&flagSignal == 0 {
		t.Errorf("get-addr 2: %+v", got.Addr)
	}

	var ids []uint8
	for a, err := range c.GetAddrDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.Addr.ID.Value)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []uint8{1, 2}) {
		t.Errorf("dump: ids %v", ids)
	}

	if err := c.DelAddr(ctx, &mptcppm.DelAddrRequest{Addr: &mptcppm.Address{ID: mptcppm.Some[uint8](1)}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAddr(ctx, &mptcppm.GetAddrRequest{Addr: &mptcppm.Address{ID: mptcppm.Some[uint8](1)}})
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		t.Errorf("get-addr of a deleted endpoint: %v", err)
	}
	if err := c.FlushAddrs(ctx, &mptcppm.FlushAddrsRequest{}); err != nil {
		t.Fatal(err)
	}
	for a, err := range c.GetAddrDump(ctx) {
		t.Errorf("after flush: %+v, %v", a, err)
	}
}

func TestLimits(t *testing.T) {
	_, c, ctx := setup(t)
	if err := c.SetLimits(ctx, &mptcppm.SetLimitsRequest{RcvAddAddrs: mptcppm.Some[uint32](4), Subflows: mptcppm.Some[uint32](3)}); err != nil {
		t.Fatal(err)
	}
	l, err := c.GetLimits(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.RcvAddAddrs.Value != 4 || l.Subflows.Value != 3 {
		t.Errorf("limits: %+v", l)
	}
	// Out of range: the kernel refuses, with its message.
	err = c.SetLimits(ctx, &mptcppm.SetLimitsRequest{Subflows: mptcppm.Some[uint32](1000)})
	var ge *genl.Error
	if !errors.As(err, &ge) {
		t.Errorf("subflows 1000: %v", err)
	}
	t.Logf("subflows 1000: %v", err)
}

// TestEvents joins mptcp_pm_events, a group the spec leaves out (the
// project overlay adds it and an event per entry of the spec's event-type
// enum, with its event-attr set): events arrive typed.
func TestEvents(t *testing.T) {
	ns, c, ctx := setup(t)
	sub, err := c.Subscribe(ctx, mptcppm.GroupMptcpPmEvents)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	var ln net.Listener
	err = ns.Run(func() error {
		var lc net.ListenConfig
		lc.SetMultipathTCP(true)
		var err error
		ln, err = lc.Listen(ctx, "tcp4", "127.0.0.1:0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	var conn net.Conn
	err = ns.Run(func() error {
		var d net.Dialer
		d.SetMultipathTCP(true)
		var err error
		conn, err = d.DialContext(ctx, "tcp4", ln.Addr().String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if mp, err := conn.(*net.TCPConn).MultipathTCP(); err != nil || !mp {
		t.Fatalf("connection is not MPTCP: %v, %v", mp, err)
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	conn.Close()

	seen := map[mptcppm.EventType]bool{}
	for !seen[mptcppm.EventTypeListenerCreated] || !seen[mptcppm.EventTypeCreated] || !seen[mptcppm.EventTypeEstablished] || !seen[mptcppm.EventTypeClosed] {
		n, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("events so far %v: %v", seen, err)
		}
		var typ mptcppm.EventType
		var ev mptcppm.EventAttr
		switch n := n.(type) {
		case *mptcppm.ListenerCreated:
			typ, ev = mptcppm.EventTypeListenerCreated, n.EventAttr
		case *mptcppm.Created:
			typ, ev = mptcppm.EventTypeCreated, n.EventAttr
		case *mptcppm.Established:
			typ, ev = mptcppm.EventTypeEstablished, n.EventAttr
		case *mptcppm.Closed:
			typ, ev = mptcppm.EventTypeClosed, n.EventAttr
		case *mptcppm.UnknownNotification:
			t.Fatalf("event %d arrived as UnknownNotification", n.Command)
		default:
			t.Logf("event %s", n.OpName())
			continue
		}
		seen[typ] = true
		t.Logf("event %v: token %v family %v sport %v dport %v", typ, ev.Token, ev.Family, ev.Sport, ev.Dport)
		switch typ {
		case mptcppm.EventTypeListenerCreated:
			if ev.Family.Value != unix.AF_INET || ev.Sport.Value != port {
				t.Errorf("listener-created: %+v", ev)
			}
		case mptcppm.EventTypeCreated, mptcppm.EventTypeEstablished:
			// Both ends of the connection are in the namespace.
			if !ev.Token.Valid || (ev.Dport.Value != port && ev.Sport.Value != port) || ev.Saddr4.Value != ip4("127.0.0.1") {
				t.Errorf("%v: %+v", typ, ev)
			}
		}
	}
}

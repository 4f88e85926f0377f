package tcpmetrics_test

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family/tcpmetrics"
	"github.com/genlkit/genlkit/internal/testutils"
)

func TestMain(m *testing.M) { testutils.Main(m) }

// TestDump makes a TCP connection inside a private namespace, so that the
// kernel saves metrics for its destination, and reads them back with the
// generated tcp_metrics package: dump, get, del.
func TestDump(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.IP(t, "addr", "add", "192.0.2.1/24", "dev", "lo")
	conn, ctx := ns.Dial(t)
	c, err := tcpmetrics.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}

	// One connection with some data: its metrics are saved on close.
	var ln net.Listener
	if err := ns.Run(func() error {
		var err error
		ln, err = net.Listen("tcp4", "192.0.2.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		_, err = s.Write(make([]byte, 64<<10))
		s.Close()
		done <- err
	}()
	if err := ns.Run(func() error {
		cl, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, cl)
		cl.Close()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	dst := netip.MustParseAddr("192.0.2.1")
	var found *tcpmetrics.TCPMetrics
	for deadline := time.Now().Add(5 * time.Second); found == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for m, err := range c.GetDump(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("metrics: dst %v src %v age %v vals %+v", m.AddrIPv4, m.SaddrIPv4, m.Age, m.Vals)
			if m.AddrIPv4 == dst {
				found = m
			}
		}
	}
	if found == nil {
		t.Fatal("no metrics saved for 192.0.2.1")
	}
	if found.SaddrIPv4 != dst || found.Vals == nil || !found.Vals.Rtt.Valid || !found.Age.Valid {
		t.Errorf("entry: %+v, vals %+v", found, found.Vals)
	}

	got, err := c.Get(ctx, &tcpmetrics.GetRequest{AddrIPv4: dst, SaddrIPv4: dst})
	if err != nil {
		t.Fatal(err)
	}
	if got.AddrIPv4 != dst || got.Vals == nil {
		t.Errorf("get: %+v", got)
	}
	if err := c.Del(ctx, &tcpmetrics.DelRequest{AddrIPv4: dst, SaddrIPv4: dst}); err != nil {
		t.Fatal(err)
	}
	for m, err := range c.GetDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if m.AddrIPv4 == dst {
			t.Errorf("still there after del: %+v", m)
		}
	}
}

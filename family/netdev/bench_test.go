package netdev_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
)

// BenchmarkNetdevDevGetDump dumps every device of a namespace holding 1,000
// veth pairs (2,001 devices with lo) and decodes each reply into a typed
// value: genlkit through the generated package, handwritten through
// genl.Conn.Dump and attrs.Decoder into the same values. (mdlayher/genetlink
// cannot run this dump: netdev's dump replies lack NLM_F_MULTI, and its
// Execute stops after the first datagram.)
// allocs/device and ns/device divide by the devices of one dump.
func BenchmarkNetdevDevGetDump(b *testing.B) {
	ns := testutils.NetNS(b)
	veths := ns.AddVeths(b, "b", 1000)
	devices := 2*len(veths) + 1
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	b.Run("genlkit", func(b *testing.B) {
		conn, err := genl.Dial(genl.WithNetNS(ns.Name))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		c, err := netdev.New(ctx, conn)
		if err != nil {
			b.Fatal(err)
		}
		dump := func() int {
			n := 0
			for dev, err := range c.DevGetDump(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				if dev.Ifindex.Value != 0 {
					n++
				}
			}
			return n
		}
		dump() // warm the Conn's buffers
		perDevice(b, devices, dump)
	})

	// The same dump on the same transport, decoded by hand-written code:
	// what the generated code costs over writing it by hand.
	b.Run("handwritten", func(b *testing.B) {
		conn, err := genl.Dial(genl.WithNetNS(ns.Name))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		fam, err := family.Get(ctx, conn, netdev.FamilyName)
		if err != nil {
			b.Fatal(err)
		}
		req := genl.Request{Family: fam.ID, Command: netdev.CmdDevGet, Version: netdev.FamilyVersion}
		dump := func() int {
			n := 0
			var d attrs.Decoder
			for m, err := range conn.Dump(ctx, req) {
				if err != nil {
					b.Fatal(err)
				}
				dev := new(netdev.Dev)
				d.Reset(m.Data)
				for d.Next() {
					switch d.Type() {
					case netdev.AttrDevIfindex:
						dev.Ifindex.Set(d.U32())
					case netdev.AttrDevXdpFeatures:
						dev.XdpFeatures.Set(netdev.XdpAct(d.U64()))
					case netdev.AttrDevXdpZcMaxSegs:
						dev.XdpZcMaxSegs.Set(d.U32())
					case netdev.AttrDevXdpRxMetadataFeatures:
						dev.XdpRxMetadataFeatures.Set(netdev.XdpRxMetadata(d.U64()))
					case netdev.AttrDevXskFeatures:
						dev.XskFeatures.Set(netdev.XskFlags(d.U64()))
					}
				}
				if err := d.Err(); err != nil {
					b.Fatal(err)
				}
				sink = dev // a value the caller keeps, as the iterator's are
				if dev.Ifindex.Value != 0 {
					n++
				}
			}
			return n
		}
		dump()
		perDevice(b, devices, dump)
	})
}

var sink *netdev.Dev

// perDevice runs dump b.N times, checks it saw every device, and reports
// allocations and time per device.
func perDevice(b *testing.B, devices int, dump func() int) {
	b.Helper()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	runs := 0
	for b.Loop() {
		if n := dump(); n != devices {
			b.Fatalf("dump saw %d devices, want %d", n, devices)
		}
		runs++
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	total := float64(runs * devices)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/device")
	b.ReportMetric(float64(elapsed.Nanoseconds())/total, "ns/device")
}

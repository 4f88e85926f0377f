package ethtool_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/ethtool"
	"github.com/genlkit/genlkit/internal/testutils"
)

// linkmodesReply builds an ethtool linkmodes-get reply as a 1 Gb/s copper
// NIC sends it (verbose bitsets): a header, the link modes we advertise
// and those the peer does, speed, duplex and the rest.
func linkmodesReply() []byte {
	ours := []string{"10baseT/Half", "10baseT/Full", "100baseT/Half", "100baseT/Full",
		"1000baseT/Full", "Autoneg", "TP", "MII", "Pause", "Asym_Pause"}
	peer := []string{"10baseT/Full", "100baseT/Full", "1000baseT/Full", "Autoneg", "Pause"}
	var e attrs.Encoder
	bitset := func(typ uint16, names []string) {
		n := e.Nest(typ)
		e.U32(ethtool.AttrBitsetSize, 103)
		bits := e.Nest(ethtool.AttrBitsetBits)
		for i, name := range names {
			bit := e.Nest(ethtool.AttrBitsetBitsBit)
			e.U32(ethtool.AttrBitsetBitIndex, uint32(i))
			e.String(ethtool.AttrBitsetBitName, name)
			e.Flag(ethtool.AttrBitsetBitValue)
			e.End(bit)
		}
		e.End(bits)
		e.End(n)
	}
	h := e.Nest(ethtool.AttrLinkmodesHeader)
	e.U32(ethtool.AttrHeaderDevIndex, 2)
	e.String(ethtool.AttrHeaderDevName, "eth0")
	e.End(h)
	e.U8(ethtool.AttrLinkmodesAutoneg, 1)
	bitset(ethtool.AttrLinkmodesOurs, ours)
	bitset(ethtool.AttrLinkmodesPeer, peer)
	e.U32(ethtool.AttrLinkmodesSpeed, 1000)
	e.U8(ethtool.AttrLinkmodesDuplex, 1)
	e.U8(ethtool.AttrLinkmodesMasterSlaveCfg, 1)
	e.U8(ethtool.AttrLinkmodesMasterSlaveState, 1)
	e.U32(ethtool.AttrLinkmodesLanes, 1)
	e.U8(ethtool.AttrLinkmodesRateMatching, 0)
	if err := e.Err(); err != nil {
		panic(err)
	}
	return e.Bytes()
}

// heapObjects counts the heap objects a decoded value is made of: each
// non-nil pointer, each slice's backing array and each string's bytes.
// Decoding allocates these and should allocate nothing else.
func heapObjects(v reflect.Value) int {
	n := 0
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			n = 1 + heapObjects(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			n += heapObjects(v.Field(i))
		}
	case reflect.Slice:
		if v.Cap() > 0 {
			n = 1
		}
		for i := range v.Len() {
			n += heapObjects(v.Index(i))
		}
	case reflect.String:
		if v.Len() > 0 {
			n = 1
		}
	}
	return n
}

func decodeLinkmodes(b []byte) *ethtool.Linkmodes {
	v := new(ethtool.Linkmodes)
	if err := v.UnmarshalAttrs(b); err != nil {
		panic(err)
	}
	return v
}

var lmSink *ethtool.Linkmodes

// TestLinkmodesDecodeAllocs: decoding a linkmodes-get reply allocates the
// returned value and nothing more.
func TestLinkmodesDecodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	b := linkmodesReply()
	v := decodeLinkmodes(b)
	if v.Header.DevName.Value != "eth0" || len(v.Ours.Bits.Bit) != 10 || v.Ours.Bits.Bit[9].Name.Value != "Asym_Pause" ||
		!v.Peer.Bits.Bit[4].Value || v.Speed.Value != 1000 {
		t.Fatalf("decoded %+v", v)
	}
	want := heapObjects(reflect.ValueOf(v))
	got := testing.AllocsPerRun(100, func() { lmSink = decodeLinkmodes(b) })
	if int(got) != want {
		t.Errorf("decode: %v allocs, the value is %d heap objects", got, want)
	}
}

// BenchmarkLinkmodesDecode decodes one linkmodes-get reply into a new value.
// extra-allocs/op counts allocations beyond the objects of the returned
// value (0 is the target).
func BenchmarkLinkmodesDecode(b *testing.B) {
	msg := linkmodesReply()
	objects := heapObjects(reflect.ValueOf(decodeLinkmodes(msg)))
	extra := testing.AllocsPerRun(100, func() { lmSink = decodeLinkmodes(msg) }) - float64(objects)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		lmSink = decodeLinkmodes(msg)
	}
	b.ReportMetric(extra, "extra-allocs/op")
	b.ReportMetric(float64(objects), "value-objects")
}

var raceEnabled bool

// benchSetup returns a Client in a new namespace and the name of a veth in
// it, for the benchmarks that ask the kernel.
func benchSetup(b *testing.B) (*ethtool.Client, context.Context, string) {
	ns := testutils.NetNS(b)
	conn, _ := ns.Dial(b)
	ctx := context.Background() // ns.Dial's ends after 30 s, shorter than a benchmark
	c, err := ethtool.New(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	return c, ctx, ns.AddVeths(b, "b", 1)[0].Name
}

// featuresVerbose reads a device's features as `ethtool -k` shows them from
// verbose bitsets, which name their own bits.
func featuresVerbose(ctx context.Context, c *ethtool.Client, dev string) ([]ethtool.Feature, error) {
	h := ethtool.Device(dev)
	h.Flags = ethtool.Some[ethtool.HeaderFlags](0) // verbose
	return c.Features(ctx, h)
}

// BenchmarkFeatures reads a veth's features (about 60) as `ethtool -k`
// shows them: Verbose asks for verbose bitsets, which name every bit they
// list; Compact, Client.Features's default, asks for compact bitsets and
// names them from the Client's cached features string set. Each reports
// process CPU time per call (cpu-ns/op), the kernel's share included.
// Alternating runs both in blocks, in one run, and reports their ratio as
// speedup.
func BenchmarkFeatures(b *testing.B) {
	c, ctx, dev := benchSetup(b)
	verbose := func() error { _, err := featuresVerbose(ctx, c, dev); return err }
	compact := func() error { _, err := c.Features(ctx, ethtool.Device(dev)); return err }
	for _, bc := range []struct {
		name string
		op   func() error
	}{{"Verbose", verbose}, {"Compact", compact}} {
		b.Run(bc.name, func(b *testing.B) {
			if err := bc.op(); err != nil { // fills the string set cache
				b.Fatal(err)
			}
			b.ReportAllocs()
			testutils.ResetTimersCPU(b)
			for b.Loop() {
				if err := bc.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Alternating", func(b *testing.B) {
		testutils.Alternate(b, testutils.Peer{Name: "verbose", Op: verbose}, testutils.Peer{Name: "compact", Op: compact})
	})
}

// peerBinary builds the mdlayher/ethtool peer module's test binary once.
var peerBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "genlkit-mdlayherpeer")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "peer.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Dir = filepath.Join("testdata", "mdlayherpeer")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return bin, nil
})

// BenchmarkMdlayherPeer compares genlkit with github.com/mdlayher/ethtool on
// LinkInfo, LinkMode and features by running BenchmarkPeers of the module
// testdata/mdlayherpeer (a module of its own, so that genlkit does not
// depend on mdlayher/ethtool) for b.N calls, and reports its metrics per
// job: <job>-mdlayher-cpu-ns/op, <job>-genlkit-cpu-ns/op and
// <job>-speedup. It skips, saying why, when that module cannot be built
// (mdlayher/ethtool neither in the module cache nor reachable).
func BenchmarkMdlayherPeer(b *testing.B) {
	testutils.RequireKernel(b)
	bin, err := peerBinary()
	if err != nil {
		b.Skipf("the mdlayher/ethtool peer module (testdata/mdlayherpeer) does not build: %v", err)
	}
	run := exec.Command(bin, "-test.run=^$", "-test.bench=^BenchmarkPeers$", "-test.benchtime="+strconv.Itoa(b.N)+"x")
	run.Dir = filepath.Join("testdata", "mdlayherpeer")
	out, err := run.CombinedOutput()
	if err != nil {
		b.Fatalf("peer benchmark: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkPeers/") {
			continue
		}
		job, _, _ := strings.Cut(strings.TrimPrefix(f[0], "BenchmarkPeers/"), "-")
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil && (strings.HasSuffix(f[i+1], "cpu-ns/op") || f[i+1] == "speedup") {
				b.ReportMetric(v, job+"-"+f[i+1])
			}
		}
	}
}

package testutils

import (
	"testing"
	"time"
)

// A Peer is one of the implementations an alternating benchmark compares:
// Name labels its metrics, Op does one operation.
type Peer struct {
	Name string
	Op   func() error
}

// Alternate runs b comparing peers on the same job: blocks of calls
// alternate between them (a different one first in turn), each block timed
// in process CPU, so that all see the same load. It reports each peer's
// <name>-cpu-ns/op and, for two peers, speedup (the first's CPU time over
// the second's). The first error fails b.
func Alternate(b *testing.B, peers ...Peer) {
	const block = 32
	cpu := make([]time.Duration, len(peers))
	calls := 0
	for i := 0; b.Loop(); i++ {
		for k := range peers {
			p := (i + k) % len(peers)
			start := ProcessCPU()
			for range block {
				if err := peers[p].Op(); err != nil {
					b.Fatalf("%s: %v", peers[p].Name, err)
				}
			}
			cpu[p] += ProcessCPU() - start
		}
		calls += block
	}
	for p := range peers {
		b.ReportMetric(float64(cpu[p])/float64(calls), peers[p].Name+"-cpu-ns/op")
	}
	if len(peers) == 2 && cpu[1] > 0 {
		b.ReportMetric(float64(cpu[0])/float64(cpu[1]), "speedup")
	}
}

package ethtool_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/genlkit/genlkit/family/ethtool"
)

// snapshot is what a features reply said, copied out.
type snapshot struct {
	name   string
	values [4][]byte
}

func snap(v *ethtool.Features) snapshot {
	s := snapshot{name: v.Header.DevName.Value}
	for i, b := range []*ethtool.Bitset{v.Hw, v.Wanted, v.Active, v.Nochange} {
		if b != nil {
			s.values[i] = bytes.Clone(b.Value)
		}
	}
	return s
}

// TestReplyLifetime: the strings and bitset words of typed replies never
// refer to the Conn's receive slots (which Conns share and reuse), so
// values kept from a dump stay as they were while the same Conn goes on
// with more dumps from several goroutines (run under -race in CI), and
// appending to a bitset's words leaves the rest of the reply as it was.
func TestReplyLifetime(t *testing.T) {
	ns, c, ctx := setup(t)
	ns.AddVeths(t, "lt", 8)
	dump := func(ctx context.Context) ([]*ethtool.Features, error) {
		h := &ethtool.Header{}
		h.Flags.Set(ethtool.HeaderFlagsCompactBitsets)
		var out []*ethtool.Features
		for v, err := range c.FeaturesGetDump(ctx, &ethtool.FeaturesGetDumpRequest{Header: h}) {
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	kept, err := dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) < 2 {
		t.Fatalf("dump: %d replies, want the veths", len(kept))
	}
	keepWhile(t, kept, func(int) error {
		for range 5 {
			if _, err := dump(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// keepWhile checks that the features replies kept stay as they were while
// four goroutines run more (each passing its number), and while this one
// appends to the words of their active bitsets.
func keepWhile(t *testing.T, kept []*ethtool.Features, more func(g int) error) {
	t.Helper()
	want := make([]snapshot, len(kept))
	for i, v := range kept {
		want[i] = snap(v)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			if err := more(g); err != nil {
				t.Error(err)
			}
		})
	}
	for _, v := range kept {
		if v.Active != nil && len(v.Active.Value) > 0 {
			v.Active.Value = append(v.Active.Value, 0xff, 0xff, 0xff, 0xff)
		}
	}
	wg.Wait()
	for i, v := range kept {
		got := snap(v)
		if v.Active != nil && len(got.values[2]) >= 4 {
			got.values[2] = got.values[2][:len(got.values[2])-4]
		}
		if got.name != want[i].name {
			t.Fatalf("reply %d: device name %q became %q", i, want[i].name, got.name)
		}
		for j := range got.values {
			if !bytes.Equal(got.values[j], want[i].values[j]) {
				t.Fatalf("reply %d (%s): bitset %d words %x became %x", i, got.name, j, want[i].values[j], got.values[j])
			}
		}
	}
}

// TestDoReplyLifetime: replies of do-requests come from chunks a pooled
// allocator shares between calls, so a value kept from one call must stay
// as it was while later calls, from several goroutines and of other
// operations, take the rest of the chunk (run under -race in CI).
func TestDoReplyLifetime(t *testing.T) {
	ns, c, ctx := setup(t)
	veths := ns.AddVeths(t, "dl", 4)
	var names []string
	for _, v := range veths {
		names = append(names, v.Name, v.Peer)
	}
	get := func(name string) (*ethtool.Features, *ethtool.Linkinfo, error) {
		h := &ethtool.Header{DevName: ethtool.Some(name)}
		h.Flags.Set(ethtool.HeaderFlagsCompactBitsets)
		f, err := c.FeaturesGet(ctx, &ethtool.FeaturesGetRequest{Header: h})
		if err != nil {
			return nil, nil, err
		}
		l, err := c.LinkinfoGet(ctx, &ethtool.LinkinfoGetRequest{Header: header(name)})
		return f, l, err
	}
	var keptF []*ethtool.Features
	var keptL []*ethtool.Linkinfo
	for _, name := range names {
		f, l, err := get(name)
		if err != nil {
			t.Fatal(err)
		}
		keptF, keptL = append(keptF, f), append(keptL, l)
	}
	for i, f := range keptF {
		if f.Header == nil || f.Header.DevName.Value != names[i] || keptL[i].Header == nil || keptL[i].Header.DevName.Value != names[i] {
			t.Fatalf("reply %d: device %v / %v, want %q", i, f.Header, keptL[i].Header, names[i])
		}
	}
	keepWhile(t, keptF, func(g int) error {
		for j := range 200 {
			if _, _, err := get(names[(g+j)%len(names)]); err != nil {
				return err
			}
		}
		return nil
	})
	for i, l := range keptL {
		if l.Header.DevName.Value != names[i] {
			t.Fatalf("linkinfo reply %d: device name %q became %q", i, names[i], l.Header.DevName.Value)
		}
	}
}

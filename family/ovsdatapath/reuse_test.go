package ovsdatapath_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/genlkit/genlkit/family/ovsdatapath"
	"github.com/genlkit/genlkit/family/ovsdatapath/ovsdatapathtest"
)

// TestGetDumpAppendReuse: a dump whose replies carry a fixed header
// decodes into a reused slice as the iterator decodes, header included,
// and strings equal to the reused element's are kept.
func TestGetDumpAppendReuse(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := ovsdatapathtest.NewServer(nil)
	count := 50
	srv.HandleGetDump(func(_ ovsdatapath.OvsHeader, _ *ovsdatapath.GetDumpRequest, yield func(*ovsdatapath.DatapathMessage) bool) error {
		for i := range count {
			m := &ovsdatapath.DatapathMessage{Header: ovsdatapath.OvsHeader{DpIfindex: uint32(i + 1)}}
			m.Name = ovsdatapath.Some(fmt.Sprintf("dp%d", i))
			if i%2 == 0 {
				m.UpcallPID = ovsdatapath.Some(uint32(100 + i))
			}
			if !yield(m) {
				break
			}
		}
		return nil
	})
	c, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Conn().Close()
	var dst []ovsdatapath.DatapathMessage
	for _, n := range []int{50, 30, 50} {
		count = n
		var want []*ovsdatapath.DatapathMessage
		for m, err := range c.GetDump(ctx, ovsdatapath.OvsHeader{}, nil) {
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, m)
		}
		var names []*byte // the reused elements' names, equal to the next ones
		for i := range min(len(dst), n) {
			names = append(names, unsafe.StringData(dst[i].Name.Value))
		}
		dst, err = c.GetDumpAppend(ctx, ovsdatapath.OvsHeader{}, nil, dst[:0])
		if err != nil {
			t.Fatal(err)
		}
		if len(dst) != n {
			t.Fatalf("%d values, want %d", len(dst), n)
		}
		for i := range dst {
			if !reflect.DeepEqual(&dst[i], want[i]) {
				t.Fatalf("value %d = %+v, want %+v", i, dst[i], *want[i])
			}
		}
		for i, p := range names {
			if unsafe.StringData(dst[i].Name.Value) != p {
				t.Fatalf("value %d: name %q was copied again, not kept", i, dst[i].Name.Value)
			}
		}
	}
}

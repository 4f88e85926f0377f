package taskstats_test

import (
	"encoding/binary"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/taskstats"
)

// reply builds a TASKSTATS_CMD_NEW payload whose struct taskstats is n
// bytes long: version v, ac_pid 42 (offset 128) when it fits, irq_count
// 9 (offset 416) when it fits, and 0xff bytes past the 688-byte version
// 17.
func reply(n int, v uint16) []byte {
	st := make([]byte, n)
	binary.NativeEndian.PutUint16(st, v)
	if n >= 132 {
		binary.NativeEndian.PutUint32(st[128:], 42)
	}
	if n >= 424 {
		binary.NativeEndian.PutUint64(st[416:], 9)
	}
	for i := 688; i < n; i++ {
		st[i] = 0xff
	}
	var e attrs.Encoder
	nest := e.Nest(taskstats.AttrTypeAggrPID)
	e.U32(taskstats.AttrTypePID, 42)
	e.Binary(taskstats.AttrTypeStats, st)
	e.End(nest)
	return e.Bytes()
}

// TestStructVersions: struct taskstats of older kernels (shorter), of this
// package's version and of newer kernels (longer) decode; the members a
// short struct lacks are zero and WireLen says its length; encoding sends
// the length back.
func TestStructVersions(t *testing.T) {
	for _, c := range []struct {
		name    string
		n       int
		version uint16
		pid     uint32
		irq     uint64
		wireLen int
	}{
		{"version 8 (Linux 2.6.x), 328 bytes", 328, 8, 42, 0, 328},
		{"version 16 (Linux 6.18), 560 bytes", 560, 16, 42, 9, 560},
		{"version 17, 688 bytes", 688, 17, 42, 9, 0},
		{"a newer version, 800 bytes", 800, 18, 42, 9, 800},
		{"version field only", 2, 1, 0, 0, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := reply(c.n, c.version)
			var v taskstats.Taskstats
			if err := v.UnmarshalAttrs(b); err != nil {
				t.Fatal(err)
			}
			st := v.AggrPID.Stats.Value
			if st.Version != c.version || st.AcPID != c.pid || st.IrqCount != c.irq || st.WireLen != c.wireLen {
				t.Errorf("version %d pid %d irq-count %d WireLen %d; want %d %d %d %d",
					st.Version, st.AcPID, st.IrqCount, st.WireLen, c.version, c.pid, c.irq, c.wireLen)
			}
			var e attrs.Encoder
			if err := v.MarshalAttrs(&e); err != nil {
				t.Fatal(err)
			}
			var back taskstats.Taskstats
			if err := back.UnmarshalAttrs(e.Bytes()); err != nil || back.AggrPID.Stats != v.AggrPID.Stats {
				t.Errorf("round trip: %+v, %v", back.AggrPID.Stats.Value.WireLen, err)
			}
			if len(e.Bytes()) != len(b) {
				t.Errorf("re-encoded %d bytes, received %d", len(e.Bytes()), len(b))
			}
		})
	}
	// An empty struct attribute is no version of the struct.
	var e attrs.Encoder
	e.Binary(taskstats.AttrTypeStats, nil)
	var v taskstats.Taskstats
	if err := v.UnmarshalAttrs(e.Bytes()); err == nil || err.Error() != "stats: struct taskstats is empty" {
		t.Errorf("empty stats: %v", err)
	}
}

package taskstats_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/taskstats"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
)

func TestMain(m *testing.M) { testutils.Main(m) }

// children starts n processes of the test's own, half sleeping and half
// having done some work first, and kills them in tb's cleanup.
func children(tb testing.TB, n int) []int {
	tb.Helper()
	var pids []int
	for i := range n {
		cmd := exec.Command("sleep", "120")
		if i%2 == 1 {
			cmd = exec.Command("sh", "-c", "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; exec sleep 120")
		}
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		pids = append(pids, cmd.Process.Pid)
	}
	return pids
}

// statsOf is the test's own decoder of a TASKSTATS_CMD_NEW message: it
// walks the attributes by hand to TASKSTATS_TYPE_AGGR_PID and
// TASKSTATS_TYPE_STATS, and copies the struct into x/sys's
// unix.Taskstats (the fields the kernel did not send stay zero). It
// returns the struct and the length the kernel sent.
func statsOf(data []byte) (unix.Taskstats, int, error) {
	var ts unix.Taskstats
	find := func(b []byte, typ uint16) ([]byte, error) {
		for len(b) >= 4 {
			l := int(binary.NativeEndian.Uint16(b))
			t := binary.NativeEndian.Uint16(b[2:]) & 0x3fff
			if l < 4 || l > len(b) {
				return nil, fmt.Errorf("bad attribute length %d", l)
			}
			if t == typ {
				return b[4:l], nil
			}
			b = b[min((l+3)&^3, len(b)):]
		}
		return nil, fmt.Errorf("no attribute %d", typ)
	}
	aggr, err := find(data, unix.TASKSTATS_TYPE_AGGR_PID)
	if err != nil {
		return ts, 0, err
	}
	raw, err := find(aggr, unix.TASKSTATS_TYPE_STATS)
	if err != nil {
		return ts, 0, err
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)), raw)
	return ts, len(raw), nil
}

// TestStatsOfChildren: for 200 processes of the test's own, the typed
// package's reply holds the same values as the test's hand-written decoder
// of the same message, field by field (x/sys's unix.Taskstats, whose
// struct version may differ from the kernel's), and Client.Get returns
// the process's identity.
func TestStatsOfChildren(t *testing.T) {
	conn, ctx := testutils.DialInit(t)
	c, err := taskstats.New(ctx, conn)
	if err != nil {
		testutils.RequireBuiltinFamily(t, !errors.Is(err, family.ErrNotFound), taskstats.FamilyName)
		t.Fatal(err)
	}
	pids := children(t, 200)
	id := c.Family().ID
	for _, pid := range pids {
		// The typed client.
		rep, err := c.Get(ctx, &taskstats.GetRequest{PID: taskstats.Some(uint32(pid))})
		if err != nil {
			t.Fatalf("pid %d: %v", pid, err)
		}
		if rep.AggrPID == nil || !rep.AggrPID.Stats.Valid || rep.AggrPID.PID.Value != uint32(pid) {
			t.Fatalf("pid %d: reply %+v", pid, rep)
		}
		st := rep.AggrPID.Stats.Value
		if st.AcPID != uint32(pid) || st.AcPpid != uint32(os.Getpid()) || (st.AcComm != "sleep" && st.AcComm != "sh") ||
			st.AcUID != uint32(os.Getuid()) || st.Version == 0 {
			t.Errorf("pid %d: version %d pid %d ppid %d comm %q uid %d", pid, st.Version, st.AcPID, st.AcPpid, st.AcComm, st.AcUID)
		}

		// One message, decoded by the typed package and by hand.
		var attr [8]byte
		binary.NativeEndian.PutUint16(attr[:], 8)
		binary.NativeEndian.PutUint16(attr[2:], unix.TASKSTATS_CMD_ATTR_PID)
		binary.NativeEndian.PutUint32(attr[4:], uint32(pid))
		var data []byte
		err = conn.Do(ctx, genl.Request{Family: id, Command: unix.TASKSTATS_CMD_GET, Version: unix.TASKSTATS_GENL_VERSION, Attrs: attr[:]},
			func(m genl.Message) error { data = append([]byte(nil), m.Data...); return nil })
		if err != nil {
			t.Fatalf("pid %d: raw request: %v", pid, err)
		}
		want, n, err := statsOf(data)
		if err != nil {
			t.Fatalf("pid %d: hand decoder: %v", pid, err)
		}
		var got taskstats.Taskstats
		if err := got.UnmarshalAttrs(data); err != nil {
			t.Fatalf("pid %d: %v", pid, err)
		}
		if got.AggrPID == nil || !got.AggrPID.Stats.Valid {
			t.Fatalf("pid %d: no stats decoded", pid)
		}
		gs := got.AggrPID.Stats.Value
		if wl := gs.WireLen; (n == int(unsafe.Sizeof(want)) && wl != 0) || (n != int(unsafe.Sizeof(want)) && wl != n) {
			t.Errorf("pid %d: WireLen %d, the kernel sent %d bytes", pid, wl, n)
		}
		if diff := compareStats(want, gs); diff != "" {
			t.Errorf("pid %d: %s", pid, diff)
		}
		if pid == pids[0] {
			t.Logf("kernel sends struct taskstats version %d, %d bytes (x/sys: %d, typed package: %d); WireLen %d",
				gs.Version, n, unsafe.Sizeof(want), len(must(new(taskstats.TaskstatsStruct).MarshalBinary())), gs.WireLen)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// compareStats compares every field of x/sys's struct with the typed
// package's field of the same name (compared without case and
// underscores); it returns what differs, or "".
func compareStats(want unix.Taskstats, got taskstats.TaskstatsStruct) string {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	gv := reflect.ValueOf(got)
	byName := map[string]reflect.Value{}
	for i := range gv.NumField() {
		byName[norm(gv.Type().Field(i).Name)] = gv.Field(i)
	}
	wv := reflect.ValueOf(want)
	var diffs []string
	compared := 0
	for i := range wv.NumField() {
		f := wv.Type().Field(i)
		if f.Name == "_" {
			continue
		}
		g, ok := byName[norm(f.Name)]
		if !ok {
			diffs = append(diffs, "no typed field for "+f.Name)
			continue
		}
		w := wv.Field(i)
		var same bool
		switch f.Name {
		case "Ac_comm":
			b := make([]byte, 0, len(want.Ac_comm))
			for _, c := range want.Ac_comm {
				if c == 0 {
					break
				}
				b = append(b, byte(c))
			}
			same = g.String() == string(b)
		default:
			if w.Kind() == reflect.Struct { // unix.KernelTimespec
				same = w.FieldByName("Sec").Int() == g.FieldByName("Sec").Int() && w.FieldByName("Nsec").Int() == g.FieldByName("Nsec").Int()
			} else {
				same = fmt.Sprint(w.Interface()) == fmt.Sprint(g.Interface())
			}
		}
		compared++
		if !same {
			diffs = append(diffs, fmt.Sprintf("%s: typed %v, by hand %v", f.Name, g.Interface(), w.Interface()))
		}
	}
	if compared < 80 {
		diffs = append(diffs, fmt.Sprintf("only %d fields compared", compared))
	}
	return strings.Join(diffs, "; ")
}

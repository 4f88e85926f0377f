// Command raw-genl talks to a generic netlink family that has no YAML spec,
// TASKSTATS, with the genl and attrs packages only: the hand-written path
// for families genlkit has no generated package for.
//
// It resolves the family by name, asks for the statistics of one process
// (TASKSTATS_CMD_GET with TASKSTATS_CMD_ATTR_PID; its own by default),
// walks the nested reply with an attrs.Decoder and reads a few fields of
// struct taskstats with an attrs.StructReader.
//
// TASKSTATS requests need CAP_NET_ADMIN. Run it as root:
//
//	go run ./examples/raw-genl            # this process
//	go run ./examples/raw-genl -pid 1     # another process
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"time"
	"unsafe"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// stats holds the fields of struct taskstats the example prints.
type stats struct {
	pid      uint32
	version  uint16
	comm     string
	cpuCount uint64
	utime    uint64 // microseconds
	stime    uint64 // microseconds
	nvcsw    uint64
	nivcsw   uint64
}

// Offsets of the fields read below within struct taskstats, taken from the
// kernel's uapi layout as golang.org/x/sys/unix mirrors it.
var (
	offCPUCount = int(unsafe.Offsetof(unix.Taskstats{}.Cpu_count))
	offComm     = int(unsafe.Offsetof(unix.Taskstats{}.Ac_comm))
	offUtime    = int(unsafe.Offsetof(unix.Taskstats{}.Ac_utime))
	offNvcsw    = int(unsafe.Offsetof(unix.Taskstats{}.Nvcsw))
	commLen     = len(unix.Taskstats{}.Ac_comm)
)

func main() {
	pid := flag.Int("pid", os.Getpid(), "process id to report on")
	flag.Parse()
	if err := run(uint32(*pid)); err != nil {
		fmt.Fprintln(os.Stderr, "raw-genl:", err)
		if errors.Is(err, fs.ErrPermission) {
			fmt.Fprintln(os.Stderr, "raw-genl: TASKSTATS needs CAP_NET_ADMIN; run as root")
		}
		os.Exit(1)
	}
}

func run(pid uint32) error {
	c, err := genl.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	f, err := family.Get(ctx, c, unix.TASKSTATS_GENL_NAME)
	if err != nil {
		return err
	}
	if err := f.CheckOp(unix.TASKSTATS_CMD_GET, "get", false); err != nil {
		return err
	}

	var e attrs.Encoder
	e.U32(unix.TASKSTATS_CMD_ATTR_PID, pid)
	if err := e.Err(); err != nil {
		return err
	}
	var s stats
	err = c.Do(ctx, genl.Request{
		Family:  f.ID,
		Command: unix.TASKSTATS_CMD_GET,
		Version: unix.TASKSTATS_GENL_VERSION,
		Attrs:   e.Bytes(),
	}, func(m genl.Message) error {
		return decode(m.Data, &s)
	})
	if err != nil {
		return fmt.Errorf("taskstats get pid %d: %w", pid, err)
	}
	fmt.Printf("pid %d (%s): taskstats v%d\n", s.pid, s.comm, s.version)
	fmt.Printf("  cpu: %d runs, user %v, system %v\n", s.cpuCount,
		time.Duration(s.utime)*time.Microsecond, time.Duration(s.stime)*time.Microsecond)
	fmt.Printf("  context switches: %d voluntary, %d involuntary\n", s.nvcsw, s.nivcsw)
	return nil
}

// decode reads TASKSTATS_TYPE_AGGR_PID { TASKSTATS_TYPE_PID, TASKSTATS_TYPE_STATS }.
func decode(b []byte, s *stats) error {
	d := attrs.NewDecoder(b)
	d.SetNames([]string{unix.TASKSTATS_TYPE_AGGR_PID: "aggr-pid"})
	for d.Next() {
		if d.Type() != unix.TASKSTATS_TYPE_AGGR_PID {
			continue // other attributes are not for us
		}
		nd := d.Nested()
		nd.SetNames([]string{unix.TASKSTATS_TYPE_PID: "pid", unix.TASKSTATS_TYPE_STATS: "stats"})
		for nd.Next() {
			switch nd.Type() {
			case unix.TASKSTATS_TYPE_PID:
				s.pid = nd.U32()
			case unix.TASKSTATS_TYPE_STATS:
				if err := readStats(nd.Bytes(), s); err != nil {
					nd.Fail(err)
				}
			}
		}
	}
	return d.Err()
}

// readStats reads fields of struct taskstats in layout order.
func readStats(b []byte, s *stats) error {
	r := attrs.NewStructReader(b)
	s.version = r.U16(false)
	r.Skip(offCPUCount - r.Off())
	s.cpuCount = r.U64(false)
	r.Skip(offComm - r.Off())
	comm := r.Binary(commLen)
	r.Skip(offUtime - r.Off())
	s.utime = r.U64(false)
	s.stime = r.U64(false)
	r.Skip(offNvcsw - r.Off())
	s.nvcsw = r.U64(false)
	s.nivcsw = r.U64(false)
	if err := r.Err(); err != nil {
		return err
	}
	for i, ch := range comm {
		if ch == 0 {
			comm = comm[:i]
			break
		}
	}
	s.comm = string(comm)
	return nil
}

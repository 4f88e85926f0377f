// Command concurrent shows the pattern to copy for throughput: many
// goroutines sharing one genl.Conn. Each goroutine sends nlctrl GETFAMILY
// requests for "nlctrl" in a loop; the Conn routes every reply to its
// caller by sequence number and sends requests queued at the same moment
// together in one sendmsg. At the end it prints the requests per second
// achieved and the Conn's counters.
//
// Each goroutine reuses its own request buffer, and decodes from the
// reply in its callback, so the loop allocates nothing per request.
//
// Run it:
//
//	go run ./examples/concurrent -goroutines 8 -duration 2s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

func main() {
	goroutines := flag.Int("goroutines", 8, "goroutines sharing the Conn")
	duration := flag.Duration("duration", 2*time.Second, "how long to run")
	netns := flag.String("netns", "", "network namespace name (under /run/netns) or path")
	flag.Parse()
	if err := run(*goroutines, *duration, *netns); err != nil {
		fmt.Fprintln(os.Stderr, "concurrent:", err)
		os.Exit(1)
	}
}

func run(goroutines int, duration time.Duration, netns string) error {
	var opts []genl.Option
	if netns != "" {
		opts = append(opts, genl.WithNetNS(netns))
	}
	c, err := genl.Dial(opts...)
	if err != nil {
		return err
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var total atomic.Uint64
	errc := make(chan error, goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Per goroutine: one encoded request, reused for every call.
			var e attrs.Encoder
			e.String(unix.CTRL_ATTR_FAMILY_NAME, "nlctrl")
			req := genl.Request{
				Family:  unix.GENL_ID_CTRL,
				Command: unix.CTRL_CMD_GETFAMILY,
				Version: 2,
				Attrs:   e.Bytes(),
			}
			var id uint16
			decode := func(m genl.Message) error {
				d := attrs.NewDecoder(m.Data)
				for d.Next() {
					if d.Type() == unix.CTRL_ATTR_FAMILY_ID {
						id = d.U16()
					}
				}
				return d.Err()
			}
			for ctx.Err() == nil {
				if err := c.Do(ctx, req, decode); err != nil {
					if ctx.Err() == nil {
						errc <- err
					}
					return
				}
				if id != unix.GENL_ID_CTRL {
					errc <- fmt.Errorf("reply carried family id %#x, want %#x", id, unix.GENL_ID_CTRL)
					return
				}
				total.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	elapsed := time.Since(start)
	n := total.Load()
	fmt.Printf("%d goroutines, one Conn: %d requests in %v: %.0f requests/s\n",
		goroutines, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	st := c.Stats()
	fmt.Printf("conn stats: %+v\n", st)
	return nil
}

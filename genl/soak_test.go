package genl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// EnvSoak enables TestSoak and sets its duration, such as 60s.
const EnvSoak = "GENLKIT_SOAK"

// soakReport is the machine-readable result of TestSoak, logged as one line
// starting "SOAK ".
type soakReport struct {
	Duration          string `json:"duration"`
	Goroutines        int    `json:"goroutines"`
	Requests          int64  `json:"requests"`
	RepliesMatched    int64  `json:"replies_matched"`
	DoRequests        int64  `json:"do_requests"`
	Dumps             int64  `json:"dumps"`
	DumpMessages      int64  `json:"dump_messages"`
	DumpsInterrupted  int64  `json:"dumps_interrupted"`
	Mismatches        int64  `json:"mismatches"`
	Errors            int64  `json:"errors"`
	ChurnCycles       int64  `json:"churn_cycles"`
	NotificationsWant int64  `json:"notifications_expected"`
	NotificationsGot  int64  `json:"notifications_received"`
	Overruns          int64  `json:"overruns"`
	PeakHeapBytes     uint64 `json:"peak_heap_bytes"`
	PeakGoroutines    int    `json:"peak_goroutines"`
	RequestsPerSec    int64  `json:"requests_per_sec"`
	Stats             genl.Stats
}

// TestSoak runs, on one Conn for $GENLKIT_SOAK: 32 goroutines of
// do-requests (nlctrl getfamily, netdev dev-get) and dumps (netdev dev-get),
// a subscription to netdev's mgmt group, and veth churn in the namespace.
// Every reply is checked against its request; every dev-add and dev-del
// the churn causes must arrive.
func TestSoak(t *testing.T) {
	d := os.Getenv(EnvSoak)
	if d == "" {
		t.Skip("set " + EnvSoak + "=60s to run the soak test")
	}
	dur, err := time.ParseDuration(d)
	if err != nil {
		t.Fatalf("%s=%q: %v", EnvSoak, d, err)
	}
	ns := testutils.NetNS(t)
	stable := ns.AddVeths(t, "sk", 8)
	c, err := genl.Dial(genl.WithNetNS(ns.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	nd := netdevClient(t, c)
	famNames := []string{"nlctrl", netdevFamilyName}
	for _, n := range []string{ethtoolFamilyName, mptcpFamilyName} {
		if _, err := getFamily(ctxT(t), c, n); err == nil {
			famNames = append(famNames, n)
		}
	}
	stableIdx := map[uint32]bool{1: true}
	for _, v := range stable {
		stableIdx[uint32(v.Index)], stableIdx[uint32(v.PeerIndex)] = true, true
	}
	idxList := make([]uint32, 0, len(stableIdx))
	for i := range stableIdx {
		idxList = append(idxList, i)
	}

	sub, err := nd.Subscribe(ctxT(t), netdev.GroupMgmt)
	if err != nil {
		t.Fatal(err)
	}
	var r soakReport
	var ntfGot, ntfWant, overruns atomic.Int64
	subCtx, subCancel := context.WithCancel(context.Background())
	subDone := make(chan struct{})
	go func() {
		defer close(subDone)
		for n, err := range sub.All(subCtx) {
			if err != nil {
				if errors.Is(err, genl.ErrOverrun) {
					overruns.Add(1)
					continue
				}
				return
			}
			switch n.(type) {
			case *netdev.DevAddNtf, *netdev.DevDelNtf:
				ntfGot.Add(1)
			}
		}
	}()

	var reqs, matched, doReqs, dumps, dumpMsgs, intr, mism, errs atomic.Int64
	mismatch := func(format string, args ...any) {
		if mism.Add(1) <= 5 {
			t.Errorf("mismatch: "+format, args...)
		}
	}
	failed := func(err error) {
		if errs.Add(1) <= 5 {
			t.Errorf("error: %v", err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const G = 32
	for g := range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				reqs.Add(1)
				switch g % 4 {
				case 0: // nlctrl getfamily: the reply names the family asked for
					name := famNames[rng.IntN(len(famNames))]
					doReqs.Add(1)
					var got string
					err := c.Do(ctx, genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1,
						Attrs: familyNameAttr(name), ExpectReply: rng.IntN(2) == 0}, func(m genl.Message) error {
						d := attrs.NewDecoder(m.Data)
						for d.Next() {
							if d.Type() == unix.CTRL_ATTR_FAMILY_NAME {
								got = d.String()
							}
						}
						return d.Err()
					})
					switch {
					case err != nil:
						failed(err)
					case got != name:
						mismatch("getfamily %q answered %q", name, got)
					default:
						matched.Add(1)
					}
				case 1, 2: // netdev dev-get: the reply carries the ifindex asked for
					idx := idxList[rng.IntN(len(idxList))]
					doReqs.Add(1)
					dev, err := nd.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some(idx)})
					switch {
					case err != nil:
						failed(err)
					case !dev.Ifindex.Valid || dev.Ifindex.Value != idx:
						mismatch("dev-get %d answered %v", idx, dev.Ifindex)
					default:
						matched.Add(1)
					}
				case 3: // netdev dev-get dump: every stable device once
					dumps.Add(1)
					seen := map[uint32]int{}
					var derr error
					for dev, err := range nd.DevGetDump(ctx) {
						if err != nil {
							derr = err
							break
						}
						dumpMsgs.Add(1)
						seen[dev.Ifindex.Value]++
					}
					switch {
					case errors.Is(derr, genl.ErrDumpInterrupted):
						intr.Add(1)
						matched.Add(1)
					case derr != nil:
						failed(derr)
					default:
						ok := true
						for i := range stableIdx {
							if seen[i] != 1 {
								mismatch("dump saw ifindex %d %d times", i, seen[i])
								ok = false
							}
						}
						for i, n := range seen {
							if n > 1 {
								mismatch("dump saw ifindex %d %d times", i, n)
								ok = false
							}
						}
						if ok {
							matched.Add(1)
						}
					}
				}
				cancel()
			}
		}()
	}

	// Veth churn: add and delete batches of pairs; each pair makes two
	// dev-add and two dev-del notifications.
	var cycles atomic.Int64
	churnErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				churnErr <- nil
				return
			default:
			}
			const batch = 8
			add := make([]string, batch)
			del := make([]string, batch)
			for j := range batch {
				name := fmt.Sprintf("ch%d", j)
				add[j] = fmt.Sprintf("link add %s type veth peer name %sp", name, name)
				del[j] = "link del " + name
			}
			if err := ns.IPBatchErr(add); err != nil {
				churnErr <- err
				return
			}
			ntfWant.Add(2 * batch)
			if err := ns.IPBatchErr(del); err != nil {
				churnErr <- err
				return
			}
			ntfWant.Add(2 * batch)
			cycles.Add(1)
		}
	}()

	// Sample the heap and goroutines.
	var peakHeap atomic.Uint64
	var peakG atomic.Int64
	sampleDone := make(chan struct{})
	go func() {
		defer close(sampleDone)
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peakHeap.Load() {
				peakHeap.Store(ms.HeapAlloc)
			}
			if g := int64(runtime.NumGoroutine()); g > peakG.Load() {
				peakG.Store(g)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()

	start := time.Now()
	time.Sleep(dur)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	<-sampleDone
	if err := <-churnErr; err != nil {
		t.Error(err)
	}
	// Let the last notifications arrive.
	for deadline := time.Now().Add(10 * time.Second); ntfGot.Load() < ntfWant.Load() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	subCancel()
	<-subDone
	sub.Close()

	r = soakReport{
		Duration: elapsed.Round(time.Millisecond).String(), Goroutines: G,
		Requests: reqs.Load(), RepliesMatched: matched.Load(), DoRequests: doReqs.Load(),
		Dumps: dumps.Load(), DumpMessages: dumpMsgs.Load(), DumpsInterrupted: intr.Load(),
		Mismatches: mism.Load(), Errors: errs.Load(), ChurnCycles: cycles.Load(),
		NotificationsWant: ntfWant.Load(), NotificationsGot: ntfGot.Load(), Overruns: overruns.Load(),
		PeakHeapBytes: peakHeap.Load(), PeakGoroutines: int(peakG.Load()),
		RequestsPerSec: int64(float64(reqs.Load()) / elapsed.Seconds()), Stats: c.Stats(),
	}
	b, _ := json.Marshal(r)
	t.Logf("soak %v: %d requests (%d do, %d dumps of %d messages, %d interrupted), %d replies matched, %d mismatches, %d errors; "+
		"%d churn cycles: %d/%d notifications, %d overruns; peak heap %.1f MiB, peak goroutines %d",
		r.Duration, r.Requests, r.DoRequests, r.Dumps, r.DumpMessages, r.DumpsInterrupted, r.RepliesMatched, r.Mismatches, r.Errors,
		r.ChurnCycles, r.NotificationsGot, r.NotificationsWant, r.Overruns, float64(r.PeakHeapBytes)/(1<<20), r.PeakGoroutines)
	t.Logf("SOAK %s", b)
	if r.Mismatches != 0 || r.Errors != 0 {
		t.Errorf("%d mismatches, %d errors", r.Mismatches, r.Errors)
	}
	if r.RepliesMatched != r.Requests {
		t.Errorf("%d requests, %d replies matched", r.Requests, r.RepliesMatched)
	}
	if r.NotificationsGot != r.NotificationsWant && r.Overruns == 0 {
		t.Errorf("notifications: received %d, expected %d, no overrun reported", r.NotificationsGot, r.NotificationsWant)
	}
	if st := r.Stats; st.Stale != 0 || st.Spoofed != 0 || st.Malformed != 0 || st.LostReplies != 0 {
		t.Errorf("stats %+v", st)
	}
}

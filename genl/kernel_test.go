package genl_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Tests against the real kernel. Each runs in a network namespace of its
// own (testutils.NetNS) and never touches the host's interfaces.

// Constants x/sys/unix lacks, from include/uapi/linux/netdev.h and
// mptcp_pm.h.
const (
	netdevCmdDevGet    = 1 // NETDEV_CMD_DEV_GET
	netdevCmdDevAddNtf = 2 // NETDEV_CMD_DEV_ADD_NTF
	netdevCmdDevDelNtf = 3 // NETDEV_CMD_DEV_DEL_NTF
	netdevADevIfindex  = 1 // NETDEV_A_DEV_IFINDEX

	mptcpCmdAddAddr   = 1 // MPTCP_PM_CMD_ADD_ADDR
	mptcpCmdDelAddr   = 2 // MPTCP_PM_CMD_DEL_ADDR
	mptcpCmdGetAddr   = 3 // MPTCP_PM_CMD_GET_ADDR
	mptcpAttrAddr     = 1 // MPTCP_PM_ATTR_ADDR
	mptcpAddrFamily   = 1 // MPTCP_PM_ADDR_ATTR_FAMILY
	mptcpAddrID       = 2 // MPTCP_PM_ADDR_ATTR_ID
	mptcpAddrAddr4    = 3 // MPTCP_PM_ADDR_ATTR_ADDR4
	mptcpAddrFlags    = 6 // MPTCP_PM_ADDR_ATTR_FLAGS
	mptcpFlagSignal   = 1 // MPTCP_PM_ADDR_FLAG_SIGNAL
	mptcpAddrIfidx    = 7 // MPTCP_PM_ADDR_ATTR_IF_IDX
	mptcpFamilyName   = "mptcp_pm"
	netdevFamilyName  = "netdev"
	netdevGroupMgmt   = "mgmt"
	ethtoolFamilyName = unix.ETHTOOL_GENL_NAME
)

// familyInfo is the test suite's tiny family resolver: CTRL_CMD_GETFAMILY
// through genl itself (package family does this properly).
type familyInfo struct {
	ID      uint16
	Name    string
	Version uint32
	Groups  map[string]uint32
}

func getFamily(ctx context.Context, c *genl.Conn, name string) (familyInfo, error) {
	var fi familyInfo
	err := c.Do(ctx, genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1, Attrs: familyNameAttr(name)},
		func(m genl.Message) error {
			fi = parseFamily(m.Data)
			return nil
		})
	return fi, err
}

func parseFamily(b []byte) familyInfo {
	fi := familyInfo{Groups: map[string]uint32{}}
	d := attrs.NewDecoder(b)
	for d.Next() {
		switch d.Type() {
		case unix.CTRL_ATTR_FAMILY_ID:
			fi.ID = d.U16()
		case unix.CTRL_ATTR_FAMILY_NAME:
			fi.Name = d.String()
		case unix.CTRL_ATTR_VERSION:
			fi.Version = d.U32()
		case unix.CTRL_ATTR_MCAST_GROUPS:
			grps := d.Nested()
			for grps.Next() {
				g := grps.Nested()
				var name string
				var id uint32
				for g.Next() {
					switch g.Type() {
					case unix.CTRL_ATTR_MCAST_GRP_NAME:
						name = g.String()
					case unix.CTRL_ATTR_MCAST_GRP_ID:
						id = g.U32()
					}
				}
				fi.Groups[name] = id
			}
		}
	}
	return fi
}

// kernelConn makes a namespace and a Conn inside it.
func kernelConn(t *testing.T, opts ...genl.Option) (*testutils.NS, *genl.Conn) {
	t.Helper()
	ns := testutils.NetNS(t)
	c, err := genl.Dial(append([]genl.Option{genl.WithNetNS(ns.Name)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ns, c
}

func needFamily(t *testing.T, c *genl.Conn, name string) familyInfo {
	t.Helper()
	fi, err := getFamily(ctxT(t), c, name)
	if errors.Is(err, unix.ENOENT) {
		testutils.RequireBuiltinFamily(t, false, name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestKernelGetFamily(t *testing.T) {
	_, c := kernelConn(t)
	fi := needFamily(t, c, "nlctrl")
	if fi.ID != unix.GENL_ID_CTRL || fi.Name != "nlctrl" || fi.Groups["notify"] == 0 {
		t.Fatalf("nlctrl: %+v", fi)
	}
	_, err := getFamily(ctxT(t), c, "no-such-family")
	if !errors.Is(err, unix.ENOENT) {
		t.Fatalf("missing family: %v", err)
	}
	var names []string
	for m, err := range c.Dump(ctxT(t), genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, parseFamily(m.Data).Name)
	}
	if !slices.Contains(names, "nlctrl") || len(names) < 3 {
		t.Fatalf("dump: %v", names)
	}
	// Breaking out of a dump leaves the Conn usable, dumps included.
	for _, err := range c.Dump(ctxT(t), genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	msgs, err := c.DumpAll(ctxT(t), genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1}, 1)
	if err != nil || len(msgs) != len(names) {
		t.Fatalf("dump after break: %d messages, %v (want %d)", len(msgs), err, len(names))
	}
	if st := c.Stats(); st.Stale != 0 || st.Spoofed != 0 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func devGet(ctx context.Context, c *genl.Conn, fam uint16, ifindex uint32) (uint32, error) {
	var enc attrs.Encoder
	enc.U32(netdevADevIfindex, ifindex)
	var got uint32
	err := c.Do(ctx, genl.Request{Family: fam, Command: netdevCmdDevGet, Version: 1, Attrs: enc.Bytes(), ExpectReply: true},
		func(m genl.Message) error {
			d := attrs.NewDecoder(m.Data)
			for d.Next() {
				if d.Type() == netdevADevIfindex {
					got = d.U32()
				}
			}
			return d.Err()
		})
	return got, err
}

func TestKernelNetdev(t *testing.T) {
	ns, c := kernelConn(t)
	fi := needFamily(t, c, netdevFamilyName)
	veths := ns.AddVeths(t, "nd", 3)
	var want []uint32
	for _, v := range veths {
		for _, idx := range []int{v.Index, v.PeerIndex} {
			got, err := devGet(ctxT(t), c, fi.ID, uint32(idx))
			if err != nil || got != uint32(idx) {
				t.Fatalf("dev-get %d: %d, %v", idx, got, err)
			}
			want = append(want, uint32(idx))
		}
	}
	var dumped []uint32
	for m, err := range c.Dump(ctxT(t), genl.Request{Family: fi.ID, Command: netdevCmdDevGet, Version: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		d := attrs.NewDecoder(m.Data)
		for d.Next() {
			if d.Type() == netdevADevIfindex {
				dumped = append(dumped, d.U32())
			}
		}
	}
	for _, idx := range want {
		if !slices.Contains(dumped, idx) {
			t.Errorf("dump %v lacks ifindex %d", dumped, idx)
		}
	}
	if n := len(want) + len(ns.Initial); len(dumped) != n { // and lo...
		t.Errorf("dump has %d devices, want %d (%d veths and %v)", len(dumped), n, len(want), ns.Initial)
	}
}

func netdevNames(parents []uint16, typ uint16) string {
	if len(parents) == 0 && typ == netdevADevIfindex {
		return "ifindex"
	}
	return ""
}

func ethtoolNames(parents []uint16, typ uint16) string {
	switch {
	case len(parents) == 0 && typ == unix.ETHTOOL_A_LINKINFO_HEADER:
		return "header"
	case len(parents) == 1 && typ == unix.ETHTOOL_A_HEADER_DEV_INDEX:
		return "dev-index"
	case len(parents) == 1 && typ == unix.ETHTOOL_A_HEADER_DEV_NAME:
		return "dev-name"
	}
	return ""
}

func TestKernelExtack(t *testing.T) {
	_, c := kernelConn(t)
	t.Run("netdev missing ifindex", func(t *testing.T) {
		fi := needFamily(t, c, netdevFamilyName)
		err := c.Do(ctxT(t), genl.Request{Family: fi.ID, Command: netdevCmdDevGet, Version: 1, Names: netdevNames}, nil)
		var e *genl.Error
		if !errors.As(err, &e) || !errors.Is(err, unix.EINVAL) {
			t.Fatalf("got %v", err)
		}
		if e.MissingType != netdevADevIfindex || e.MissingPath != "ifindex" {
			t.Fatalf("missing attribute: %+v", e)
		}
		t.Log(err)
	})
	t.Run("netdev no such device", func(t *testing.T) {
		fi := needFamily(t, c, netdevFamilyName)
		_, err := devGet(ctxT(t), c, fi.ID, 999999)
		if !errors.Is(err, unix.ENODEV) {
			t.Fatalf("got %v", err)
		}
		t.Log(err)
	})
	t.Run("ethtool bad dev-index", func(t *testing.T) {
		fi := needFamily(t, c, ethtoolFamilyName)
		var enc attrs.Encoder
		n := enc.Nest(unix.ETHTOOL_A_LINKINFO_HEADER)
		enc.U32(unix.ETHTOOL_A_HEADER_DEV_INDEX, 999999)
		enc.End(n)
		err := c.Do(ctxT(t), genl.Request{Family: fi.ID, Command: unix.ETHTOOL_MSG_LINKINFO_GET, Version: unix.ETHTOOL_GENL_VERSION,
			Attrs: enc.Bytes(), Names: ethtoolNames}, nil)
		var e *genl.Error
		if !errors.As(err, &e) || !errors.Is(err, unix.ENODEV) {
			t.Fatalf("got %v", err)
		}
		if e.Message == "" || e.Path != "header.dev-index" || !slices.Equal(e.AttrTypes, []uint16{1, 1}) {
			t.Fatalf("extack: %+v", e)
		}
		t.Log(err)
	})
	t.Run("ethtool missing header", func(t *testing.T) {
		fi := needFamily(t, c, ethtoolFamilyName)
		err := c.Do(ctxT(t), genl.Request{Family: fi.ID, Command: unix.ETHTOOL_MSG_LINKINFO_GET, Version: unix.ETHTOOL_GENL_VERSION, Names: ethtoolNames}, nil)
		var e *genl.Error
		if !errors.As(err, &e) || !errors.Is(err, unix.EINVAL) {
			t.Fatalf("got %v", err)
		}
		if e.Message == "" && e.MissingType == 0 {
			t.Fatalf("no extended ACK: %+v", e)
		}
		t.Log(err)
	})
}

// mptcpAddr encodes an mptcp_pm endpoint with id, and with the address
// 192.0.2.1 when withAddr (see mptcpAddrAt).
func mptcpAddr(enc *attrs.Encoder, id uint8, withAddr bool) {
	if withAddr {
		mptcpAddrAt(enc, id, 1)
		return
	}
	n := enc.Nest(mptcpAttrAddr)
	enc.U8(mptcpAddrID, id)
	enc.End(n)
}

func TestKernelMPTCPEndpoints(t *testing.T) {
	_, c := kernelConn(t)
	fi := needFamily(t, c, mptcpFamilyName)
	const id = 7
	var enc attrs.Encoder
	mptcpAddr(&enc, id, true)
	if err := c.Ack(ctxT(t), genl.Request{Family: fi.ID, Command: mptcpCmdAddAddr, Version: 1, Attrs: enc.Bytes()}); err != nil {
		t.Fatalf("add: %v", err)
	}
	// Adding it twice is an error with a message.
	err := c.Ack(ctxT(t), genl.Request{Family: fi.ID, Command: mptcpCmdAddAddr, Version: 1, Attrs: enc.Bytes()})
	if err == nil {
		t.Fatal("second add succeeded")
	}
	t.Log(err)

	readAddr := func(m genl.Message) (uint8, []byte) {
		d := attrs.NewDecoder(m.Data)
		var gotID uint8
		var addr []byte
		for d.Next() {
			if d.Type() != mptcpAttrAddr {
				continue
			}
			a := d.Nested()
			for a.Next() {
				switch a.Type() {
				case mptcpAddrID:
					gotID = a.U8()
				case mptcpAddrAddr4:
					addr = slices.Clone(a.Bytes())
				}
			}
		}
		return gotID, addr
	}
	enc = attrs.Encoder{}
	mptcpAddr(&enc, id, false)
	get := genl.Request{Family: fi.ID, Command: mptcpCmdGetAddr, Version: 1, Attrs: enc.Bytes()}
	var gotID uint8
	var addr []byte
	if err := c.Do(ctxT(t), get, func(m genl.Message) error { gotID, addr = readAddr(m); return nil }); err != nil {
		t.Fatalf("get: %v", err)
	}
	if gotID != id || !slices.Equal(addr, []byte{192, 0, 2, 1}) {
		t.Fatalf("get: id %d addr %v", gotID, addr)
	}
	found := false
	for m, err := range c.Dump(ctxT(t), genl.Request{Family: fi.ID, Command: mptcpCmdGetAddr, Version: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		if i, _ := readAddr(m); i == id {
			found = true
		}
	}
	if !found {
		t.Fatal("dump lacks the endpoint")
	}
	if err := c.Ack(ctxT(t), genl.Request{Family: fi.ID, Command: mptcpCmdDelAddr, Version: 1, Attrs: enc.Bytes()}); err != nil {
		t.Fatalf("del: %v", err)
	}
	if err := c.Do(ctxT(t), get, nil); err == nil {
		t.Fatal("get after del succeeded")
	}
}

func TestKernelSubscribeMgmt(t *testing.T) {
	ns, c := kernelConn(t)
	fi := needFamily(t, c, netdevFamilyName)
	grp := fi.Groups[netdevGroupMgmt]
	if grp == 0 {
		t.Fatalf("netdev has no %q group: %+v", netdevGroupMgmt, fi)
	}
	sub, err := c.Subscribe(grp)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	// Requests keep running on the same Conn the whole time.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reqs int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if got, err := devGet(ctxT(t), c, fi.ID, 1); err != nil || got != 1 {
				t.Errorf("dev-get lo during notifications: %d %v", got, err)
				return
			}
			reqs++
		}
	}()

	veths := ns.AddVeths(t, "mg", 3)
	want := map[uint32]bool{}
	for _, v := range veths {
		want[uint32(v.Index)], want[uint32(v.PeerIndex)] = true, true
	}
	expect := func(cmd uint8) {
		t.Helper()
		seen := map[uint32]bool{}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for m, err := range sub.All(ctx) {
			if err != nil {
				t.Fatalf("waiting for cmd %d, saw %v: %v", cmd, seen, err)
			}
			if m.Group != grp || m.Header.Command != cmd {
				continue
			}
			d := attrs.NewDecoder(m.Data)
			for d.Next() {
				if d.Type() == netdevADevIfindex && want[d.U32()] {
					seen[d.U32()] = true
				}
			}
			if len(seen) == len(want) {
				return
			}
		}
	}
	expect(netdevCmdDevAddNtf)
	var names []string
	for _, v := range veths {
		names = append(names, v.Name)
	}
	ns.DelLinks(t, names...)
	expect(netdevCmdDevDelNtf)
	close(stop)
	wg.Wait()
	if reqs == 0 {
		t.Error("no request completed during the notifications")
	}
	if st := c.Stats(); st.Stale != 0 || st.Overruns != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestKernelOverrun(t *testing.T) {
	ns, c := kernelConn(t, genl.WithReadBuffer(1)) // the kernel's minimum
	fi := needFamily(t, c, netdevFamilyName)
	sub := subscribeMgmt(t, c, fi)
	// Nobody reads while a burst of notifications arrives.
	ns.AddVeths(t, "ov", 60)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	overrun := false
	added := false
	for m, err := range sub.All(ctx) {
		var oe *genl.OverrunError
		switch {
		case errors.As(err, &oe):
			if !errors.Is(err, genl.ErrOverrun) || oe.Overruns == 0 {
				t.Fatalf("overrun error %v", err)
			}
			overrun = true
			// Resynchronise: the stream goes on.
			ns.IP(t, "link", "add", "ovlast", "type", "veth", "peer", "name", "ovlastp")
			added = true
			continue
		case err != nil:
			t.Fatalf("overrun=%v: %v", overrun, err)
		}
		if added && m.Header.Command == netdevCmdDevAddNtf {
			break
		}
	}
	if !overrun {
		t.Fatal("no overrun reported")
	}
	if st := c.Stats(); st.Overruns == 0 {
		t.Errorf("stats %+v", st)
	}
	// Requests still work on the Conn.
	if _, err := devGet(ctxT(t), c, fi.ID, 1); err != nil {
		t.Fatal(err)
	}
}

func TestKernelConcurrent(t *testing.T) {
	_, c := kernelConn(t)
	names := []string{"nlctrl"}
	for _, n := range []string{netdevFamilyName, ethtoolFamilyName, mptcpFamilyName} {
		if _, err := getFamily(ctxT(t), c, n); err == nil {
			names = append(names, n)
		}
	}
	G, N := 100, 1000
	if testing.Short() {
		N = 100
	}
	var wg sync.WaitGroup
	errc := make(chan error, G)
	for g := range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := names[g%len(names)]
			req := genl.Request{Family: unix.GENL_ID_CTRL, Command: unix.CTRL_CMD_GETFAMILY, Version: 1, Attrs: familyNameAttr(name), ExpectReply: g%2 == 0}
			for i := range N {
				var got string
				err := c.Do(context.Background(), req, func(m genl.Message) error {
					d := attrs.NewDecoder(m.Data)
					for d.Next() {
						if d.Type() == unix.CTRL_ATTR_FAMILY_NAME {
							got = d.String()
						}
					}
					return d.Err()
				})
				if err != nil || got != name {
					errc <- fmt.Errorf("goroutine %d request %d: asked for %q, got %q, %v", g, i, name, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	st := c.Stats()
	if st.Requests < uint64(G*N) || st.Stale != 0 || st.Spoofed != 0 || st.LostReplies != 0 {
		t.Errorf("stats %+v", st)
	}
	t.Logf("%d requests in %d sendmsg (%.2f per send)", st.Requests, st.Sends, float64(st.Requests)/float64(st.Sends))
}

func TestKernelCancelAndClose(t *testing.T) {
	_, c := kernelConn(t)
	fi := needFamily(t, c, netdevFamilyName)
	sub := subscribeMgmt(t, c, fi)
	// A blocked wait returns promptly when its ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := sub.Next(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
	// The Conn is fine afterwards.
	if _, err := devGet(ctxT(t), c, fi.ID, 1); err != nil {
		t.Fatal(err)
	}
	// Close unblocks a waiter.
	res := make(chan error, 1)
	go func() { _, err := sub.Next(context.Background()); res <- err }()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-res:
		if !strings.Contains(fmt.Sprint(err), "closed") {
			t.Fatalf("got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Next")
	}
}

// TestKernelSubscriberContexts checks the cancellation of a subscriber's
// wait across the contexts of successive Next calls: each wait ends
// promptly when its own context does, whether that context is new or was
// used for earlier waits, and the end of a context used for an earlier
// wait disturbs neither the Conn's requests nor a later wait.
func TestKernelSubscriberContexts(t *testing.T) {
	ns, c := kernelConn(t)
	fi := needFamily(t, c, netdevFamilyName)
	sub := subscribeMgmt(t, c, fi)
	cancelledWait := func(ctx context.Context, cancel context.CancelFunc) {
		t.Helper()
		res := make(chan error, 1)
		go func() { _, err := sub.Next(ctx); res <- err }()
		time.Sleep(20 * time.Millisecond)
		cancel()
		select {
		case err := <-res:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Next after cancel: got %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("cancelling the context did not end Next")
		}
	}
	for range 2 { // a new context each time
		ctx, cancel := context.WithCancel(context.Background())
		cancelledWait(ctx, cancel)
	}

	// The same context for a wait that gets a notification, then for one
	// that is cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	ns.AddVeths(t, "sc", 1)
	if _, err := sub.Next(ctx); err != nil {
		t.Fatal(err)
	}
	drainSub(ctx, t, sub) // the rest of the pair's notifications
	cancelledWait(ctx, cancel)

	// A context that ends while nobody waits: requests and the next wait
	// carry on.
	ctx, cancel = context.WithCancel(context.Background())
	ns.AddVeths(t, "sd", 1)
	if _, err := sub.Next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := devGet(ctxT(t), c, fi.ID, 1); err != nil {
		t.Fatalf("request after a subscriber's context ended: %v", err)
	}
	if _, err := sub.Next(ctxT(t)); err != nil {
		t.Fatalf("next wait after a subscriber's context ended: %v", err)
	}
}

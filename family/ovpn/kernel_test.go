package ovpn_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/ovpn"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// Live tests: the generated ovpn package against a kernel with the ovpn
// module (Debian's 7.3 guest), on a point-to-point ovpn device made through
// rtnetlink in a private network namespace, with a UDP socket of the test's
// as the peer's transport. The namespace has no route to the peer, so
// nothing is ever sent out of it.

func TestMain(m *testing.M) { testutils.Main(m) }

// udpSocket opens a UDP socket inside ns, bound to an ephemeral port, and
// closes it in t's cleanup; ovpn takes the peer's transport by its fd.
func udpSocket(t *testing.T, ns *testutils.NS) int {
	t.Helper()
	var fd int
	err := ns.Run(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrInet4{})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// setup makes a namespace with ovpn device ovpn0 and a Client there. ip
// sends RTM_NEWLINK with kind ovpn and no data: a P2P device.
func setup(t *testing.T) (*testutils.NS, *ovpn.Client, context.Context, uint32) {
	t.Helper()
	ns := testutils.NetNS(t)
	conn, ctx := ns.Dial(t)
	c, err := ovpn.New(ctx, conn)
	testutils.RequireModuleFamily(t, !errors.Is(err, family.ErrNotFound), ovpn.FamilyName)
	if err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "add", "ovpn0", "type", "ovpn")
	return ns, c, ctx, uint32(ns.Ifindexes(t)["ovpn0"])
}

func TestKernelPeerAndKeys(t *testing.T) {
	ns, c, ctx, ifindex := setup(t)
	fd := udpSocket(t, ns)

	const id = 7
	remote := netip.MustParseAddr("192.0.2.2")
	err := c.PeerNew(ctx, &ovpn.PeerNewRequest{Ifindex: ovpn.Some(ifindex), Peer: &ovpn.PeerNewInput{
		ID: ovpn.Some(uint32(id)), RemoteIPv4: remote, RemotePort: ovpn.Some(uint16(1194)), Socket: ovpn.Some(uint32(fd)),
		KeepaliveInterval: ovpn.Some(uint32(10)), KeepaliveTimeout: ovpn.Some(uint32(60)),
	}})
	if err != nil {
		t.Fatalf("peer-new: %v", err)
	}
	get := func() *ovpn.Peer {
		t.Helper()
		rep, err := c.PeerGet(ctx, &ovpn.PeerGetRequest{Ifindex: ovpn.Some(ifindex), Peer: &ovpn.Peer{ID: ovpn.Some(uint32(id))}})
		if err != nil {
			t.Fatalf("peer-get: %v", err)
		}
		if rep.Peer == nil {
			t.Fatal("peer-get: no peer in the reply")
		}
		return rep.Peer
	}
	p := get()
	if p.ID.Value != id || p.RemoteIPv4 != remote || p.RemotePort.Value != 1194 || p.KeepaliveInterval.Value != 10 || p.KeepaliveTimeout.Value != 60 {
		t.Errorf("peer read back: %+v", p)
	}
	if !p.LocalPort.Valid || p.LocalPort.Value == 0 {
		t.Errorf("peer local port %v, want the socket's port", p.LocalPort)
	}

	// peer-set changes the keepalive; the dump lists the one peer.
	err = c.PeerSet(ctx, &ovpn.PeerSetRequest{Ifindex: ovpn.Some(ifindex), Peer: &ovpn.PeerSetInput{
		ID: ovpn.Some(uint32(id)), KeepaliveInterval: ovpn.Some(uint32(20)), KeepaliveTimeout: ovpn.Some(uint32(120)),
	}})
	if err != nil {
		t.Fatalf("peer-set: %v", err)
	}
	if p := get(); p.KeepaliveInterval.Value != 20 || p.KeepaliveTimeout.Value != 120 {
		t.Errorf("peer after peer-set: keepalive %v/%v, want 20/120", p.KeepaliveInterval, p.KeepaliveTimeout)
	}
	n := 0
	for rep, err := range c.PeerGetDump(ctx, &ovpn.PeerGetDumpRequest{Ifindex: ovpn.Some(ifindex)}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if rep.Peer == nil || rep.Peer.ID.Value != id {
			t.Errorf("peer dump: %+v", rep.Peer)
		}
	}
	if n != 1 {
		t.Errorf("peer dump gave %d peers, want 1", n)
	}

	// Keys: a primary and a secondary, swapped, one deleted.
	dir := func(b byte) *ovpn.Keydir {
		k := make([]byte, 32)
		for i := range k {
			k[i] = b + byte(i)
		}
		return &ovpn.Keydir{CipherKey: k, NonceTail: k[:8]}
	}
	for slot, keyID := range map[ovpn.KeySlot]uint32{ovpn.KeySlotPrimary: 1, ovpn.KeySlotSecondary: 2} {
		err := c.KeyNew(ctx, &ovpn.KeyNewRequest{Ifindex: ovpn.Some(ifindex), Keyconf: &ovpn.Keyconf{
			PeerID: ovpn.Some(uint32(id)), Slot: ovpn.Some(slot), KeyID: ovpn.Some(keyID), CipherAlg: ovpn.Some(ovpn.CipherAlgAesGcm),
			EncryptDir: dir(byte(keyID)), DecryptDir: dir(byte(keyID) + 100),
		}})
		if err != nil {
			t.Fatalf("key-new slot %v: %v", slot, err)
		}
	}
	key := func(slot ovpn.KeySlot) (*ovpn.KeyconfGet, error) {
		rep, err := c.KeyGet(ctx, &ovpn.KeyGetRequest{Ifindex: ovpn.Some(ifindex), Keyconf: &ovpn.KeyconfGet{PeerID: ovpn.Some(uint32(id)), Slot: ovpn.Some(slot)}})
		if err != nil {
			return nil, err
		}
		return rep.Keyconf, nil
	}
	checkKey := func(slot ovpn.KeySlot, keyID uint32) {
		t.Helper()
		k, err := key(slot)
		if err != nil || k == nil || k.KeyID.Value != keyID || k.CipherAlg.Value != ovpn.CipherAlgAesGcm || k.PeerID.Value != id {
			t.Errorf("key-get slot %v: %+v %v, want key id %d aes-gcm", slot, k, err, keyID)
		}
	}
	checkKey(ovpn.KeySlotPrimary, 1)
	checkKey(ovpn.KeySlotSecondary, 2)
	if err := c.KeySwap(ctx, &ovpn.KeySwapRequest{Ifindex: ovpn.Some(ifindex), Keyconf: &ovpn.KeyconfSwapInput{PeerID: ovpn.Some(uint32(id))}}); err != nil {
		t.Fatalf("key-swap: %v", err)
	}
	checkKey(ovpn.KeySlotPrimary, 2)
	checkKey(ovpn.KeySlotSecondary, 1)
	if err := c.KeyDel(ctx, &ovpn.KeyDelRequest{Ifindex: ovpn.Some(ifindex), Keyconf: &ovpn.KeyconfDelInput{PeerID: ovpn.Some(uint32(id)), Slot: ovpn.Some(ovpn.KeySlotSecondary)}}); err != nil {
		t.Fatalf("key-del: %v", err)
	}
	if _, err := key(ovpn.KeySlotSecondary); !errors.Is(err, unix.ENOENT) {
		t.Errorf("key-get of a deleted key: %v, want ENOENT", err)
	}
	// A key of the wrong size for AES-GCM is refused.
	err = c.KeyNew(ctx, &ovpn.KeyNewRequest{Ifindex: ovpn.Some(ifindex), Keyconf: &ovpn.Keyconf{
		PeerID: ovpn.Some(uint32(id)), Slot: ovpn.Some(ovpn.KeySlotSecondary), KeyID: ovpn.Some(uint32(3)), CipherAlg: ovpn.Some(ovpn.CipherAlgAesGcm),
		EncryptDir: &ovpn.Keydir{CipherKey: make([]byte, 5), NonceTail: make([]byte, 8)}, DecryptDir: dir(9),
	}})
	if err == nil {
		t.Error("key-new with a 5-byte AES key succeeded")
	}

	// Deleting the peer; it is gone, and a peer-del notification says why.
	sub, err := c.Subscribe(ctx, ovpn.GroupPeers)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := c.PeerDel(ctx, &ovpn.PeerDelRequest{Ifindex: ovpn.Some(ifindex), Peer: &ovpn.PeerDelInput{ID: ovpn.Some(uint32(id))}}); err != nil {
		t.Fatalf("peer-del: %v", err)
	}
	if _, err := c.PeerGet(ctx, &ovpn.PeerGetRequest{Ifindex: ovpn.Some(ifindex), Peer: &ovpn.Peer{ID: ovpn.Some(uint32(id))}}); !errors.Is(err, unix.ENOENT) {
		t.Errorf("peer-get of a deleted peer: %v, want ENOENT", err)
	}
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	note, err := sub.Next(nctx)
	if err != nil {
		t.Fatalf("peer-del notification: %v", err)
	}
	del, ok := note.(*ovpn.PeerDelNtf)
	if !ok || del.Ifindex.Value != ifindex || del.Peer == nil || del.Peer.ID.Value != id || del.Peer.DelReason.Value != ovpn.DelPeerReasonUserspace {
		t.Errorf("notification %#v, want peer-del-ntf for peer %d, reason userspace", note, id)
	}
}

func TestKernelErrors(t *testing.T) {
	_, c, ctx, ifindex := setup(t)
	// lo is no ovpn device.
	_, err := c.PeerGet(ctx, &ovpn.PeerGetRequest{Ifindex: ovpn.Some(uint32(1)), Peer: &ovpn.Peer{ID: ovpn.Some(uint32(1))}})
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENODEV) {
		t.Errorf("peer-get on lo: %v, want EINVAL or ENODEV", err)
	}
	// A peer without a socket is refused.
	err = c.PeerNew(ctx, &ovpn.PeerNewRequest{Ifindex: ovpn.Some(ifindex), Peer: &ovpn.PeerNewInput{ID: ovpn.Some(uint32(1))}})
	if !errors.Is(err, unix.EINVAL) {
		t.Errorf("peer-new without a socket: %v, want EINVAL", err)
	}
	t.Logf("peer-new without a socket: %v", err)
}

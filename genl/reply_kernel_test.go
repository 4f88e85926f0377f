package genl_test

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
)

// TestKernelReplyDeclared: a request that declares a reply goes without
// NLM_F_ACK when sent alone, and Do still ends right for every outcome the
// kernel can give it: a reply (one message received, no ACK), an error, or
// nothing at all (mptcp_pm add-addr succeeds silently; Do returns nil
// without calling its function). With a warning handler, or on a Conn busy
// with other requests, the ACK is asked for as usual.
func TestKernelReplyDeclared(t *testing.T) {
	ns, c := kernelConn(t)
	fi := needFamily(t, c, mptcpFamilyName)
	const id = 9
	var add, get, missing attrs.Encoder
	mptcpAddr(&add, id, true)
	mptcpAddr(&get, id, false)
	mptcpAddr(&missing, id+1, false)
	req := func(cmd uint8, enc *attrs.Encoder) genl.Request {
		return genl.Request{Family: fi.ID, Command: cmd, Version: 1, Attrs: enc.Bytes(), ReplyDeclared: true}
	}
	// do runs req and returns how many messages the Conn received for it
	// and how many the function saw.
	do := func(c *genl.Conn, r genl.Request) (received, seen int, err error) {
		before := c.Stats().Messages
		err = c.Do(ctxT(t), r, func(genl.Message) error { seen++; return nil })
		return int(c.Stats().Messages - before), seen, err
	}

	// Nothing comes back: add-addr has no reply.
	received, seen, err := do(c, req(mptcpCmdAddAddr, &add))
	if err != nil || received != 0 || seen != 0 {
		t.Fatalf("add-addr declared with a reply: %d received, %d seen, %v; want 0, 0, nil", received, seen, err)
	}
	// The address is there: the request was carried out.
	received, seen, err = do(c, req(mptcpCmdGetAddr, &get))
	if err != nil || received != 1 || seen != 1 {
		t.Fatalf("get-addr: %d received, %d seen, %v; want the reply alone", received, seen, err)
	}
	// An error still arrives.
	received, seen, err = do(c, req(mptcpCmdGetAddr, &missing))
	var ge *genl.Error
	if !errors.As(err, &ge) || received != 1 || seen != 0 {
		t.Fatalf("get-addr of a missing endpoint: %d received, %d seen, %v; want a kernel error", received, seen, err)
	}
	// Adding it again fails, also without an ACK asked for.
	if _, _, err := do(c, req(mptcpCmdAddAddr, &add)); err == nil {
		t.Fatal("second add-addr succeeded")
	}

	// A request that asked for no ACK itself (ExpectReply) ends too when
	// the command replies nothing.
	var other attrs.Encoder
	mptcpAddrAt(&other, id+2, 2)
	r := req(mptcpCmdAddAddr, &other)
	r.ReplyDeclared, r.ExpectReply = false, true
	received, seen, err = do(c, r)
	if err != nil || received != 0 || seen != 0 {
		t.Fatalf("add-addr with ExpectReply: %d received, %d seen, %v; want 0, 0, nil", received, seen, err)
	}

	// A warning handler needs the ACK: it comes.
	warned, err := genl.Dial(genl.WithNetNS(ns.Name), genl.WithWarningHandler(func(*genl.Error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer warned.Close()
	received, seen, err = do(warned, req(mptcpCmdGetAddr, &get))
	if err != nil || received != 2 || seen != 1 {
		t.Fatalf("get-addr with a warning handler: %d received, %d seen, %v; want reply and ACK", received, seen, err)
	}
	// With a subscription on the Conn (whose reads may meet notifications
	// of these very changes), requests still end at their answers.
	if g := fi.Groups["mptcp_pm_events"]; g != 0 {
		sub, err := c.Subscribe(g)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
	}
	if _, _, err := do(c, req(mptcpCmdDelAddr, &get)); err != nil {
		t.Fatalf("del-addr: %v", err)
	}
	if _, _, err := do(c, req(mptcpCmdGetAddr, &get)); err == nil {
		t.Fatal("get-addr after del-addr succeeded")
	}
}

// mptcpAddrAt encodes an mptcp_pm endpoint with id and the address
// 192.0.2.last (documentation range).
func mptcpAddrAt(enc *attrs.Encoder, id, last uint8) {
	n := enc.Nest(mptcpAttrAddr)
	enc.U16(mptcpAddrFamily, unix.AF_INET)
	enc.Binary(mptcpAddrAddr4, []byte{192, 0, 2, last})
	enc.U32(mptcpAddrFlags, mptcpFlagSignal)
	enc.U8(mptcpAddrID, id)
	enc.End(n)
}

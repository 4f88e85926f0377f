package genl_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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

	// Several requests sent together (a Batch goes out in one flush) go
	// without ACKs as well: the two that reply nothing end with nil, the
	// other two at their reply and their error.
	var batched attrs.Encoder
	mptcpAddrAt(&batched, id+3, 3)
	var batchedID attrs.Encoder
	mptcpAddr(&batchedID, id+3, false)
	before := c.Stats().Messages
	replies := 0
	err = c.Batch(ctxT(t), []genl.Request{
		req(mptcpCmdAddAddr, &batched), req(mptcpCmdGetAddr, &batchedID),
		req(mptcpCmdDelAddr, &batchedID), req(mptcpCmdGetAddr, &batchedID),
	}, func(int, genl.Message) error { replies++; return nil })
	var be *genl.BatchError
	if !errors.As(err, &be) || be.Errs[0] != nil || be.Errs[1] != nil || be.Errs[2] != nil || be.Errs[3] == nil {
		t.Fatalf("batch add, get, del, get: %v; want the last get alone to fail", err)
	}
	if received := c.Stats().Messages - before; received != 2 || replies != 1 {
		t.Fatalf("batch add, get, del, get: %d messages received, %d replies; want the reply and the error alone", received, replies)
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

// TestKernelReplyDeclaredConcurrent: requests that declare a reply go
// without NLM_F_ACK also when several goroutines share the Conn (a flush
// sends them together), and each still ends at its answer: a reply, an
// error, or nothing (add-addr and del-addr reply nothing; Do returns nil
// at once rather than at its deadline). Callers that give up early leave
// no reservation behind.
func TestKernelReplyDeclaredConcurrent(t *testing.T) {
	_, c := kernelConn(t)
	fi := needFamily(t, c, mptcpFamilyName)
	const workers, rounds = 8, 150
	errs := make(chan error, workers)
	for g := range workers {
		go func() {
			errs <- mptcpRounds(t, c, fi.ID, uint8(20+g), rounds)
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	st := c.Stats()
	t.Logf("%d requests, %d messages received, %d sendmsg", st.Requests, st.Messages, st.Sends)
	// A round answers with 3 messages without ACKs (get's reply and two
	// errors) and 6 with them; resolving the family took 2.
	if withAcks := uint64(6*workers*rounds + 2); st.Messages >= withAcks {
		t.Errorf("%d messages for %d requests: every request took an ACK", st.Messages, st.Requests)
	}

	// Callers that leave before their answer: the reservations of their
	// requests end once the answers (or none) are read.
	var enc attrs.Encoder
	mptcpAddr(&enc, 20, false)
	get := genl.Request{Family: fi.ID, Command: mptcpCmdGetAddr, Version: 1, Attrs: enc.Bytes(), ReplyDeclared: true}
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for range rounds {
				ctx, cancel := context.WithCancel(ctxT(t))
				cancel()
				_ = c.Do(ctx, get, func(genl.Message) error { return nil })
				ctx, cancel = context.WithTimeout(ctxT(t), time.Microsecond)
				_ = c.Do(ctx, get, func(genl.Message) error { return nil })
				cancel()
			}
		}()
	}
	for range workers {
		<-done
	}
	// One more request reads whatever is left.
	if err := c.Do(ctxT(t), get, func(genl.Message) error { return nil }); err == nil {
		t.Fatal("get-addr of a deleted endpoint succeeded")
	}
	if reserved, unsettled := genl.InFlight(c); reserved != 0 || unsettled != 0 {
		t.Fatalf("after every request ended: %d bytes reserved, %d ACK-less requests unsettled", reserved, unsettled)
	}
}

// mptcpRounds adds, reads and deletes endpoint id rounds times on c, with
// requests that declare a reply, checking each outcome. Each request has
// its own deadline, well beyond the microseconds it takes: a silent
// request that waited for an answer would miss it.
func mptcpRounds(t *testing.T, c *genl.Conn, family uint16, id uint8, rounds int) error {
	var add, addr, other attrs.Encoder
	mptcpAddrAt(&add, id, id)
	mptcpAddr(&addr, id, false)
	mptcpAddrAt(&other, id, id+100)
	req := func(cmd uint8, enc *attrs.Encoder) genl.Request {
		return genl.Request{Family: family, Command: cmd, Version: 1, Attrs: enc.Bytes(), ReplyDeclared: true}
	}
	do := func(r genl.Request) (seen int, err error) {
		ctx, cancel := context.WithTimeout(ctxT(t), 5*time.Second)
		defer cancel()
		err = c.Do(ctx, r, func(genl.Message) error { seen++; return nil })
		return seen, err
	}
	for i := range rounds {
		if seen, err := do(req(mptcpCmdAddAddr, &add)); err != nil || seen != 0 {
			return fmt.Errorf("endpoint %d round %d: add-addr: %d seen, %v", id, i, seen, err)
		}
		if seen, err := do(req(mptcpCmdGetAddr, &addr)); err != nil || seen != 1 {
			return fmt.Errorf("endpoint %d round %d: get-addr: %d seen, %v", id, i, seen, err)
		}
		if _, err := do(req(mptcpCmdAddAddr, &other)); err == nil {
			return fmt.Errorf("endpoint %d round %d: a second add-addr with the same id succeeded", id, i)
		}
		r := req(mptcpCmdDelAddr, &addr)
		if i%2 == 1 {
			r.ReplyDeclared, r.ExpectReply = false, true
		}
		if seen, err := do(r); err != nil || seen != 0 {
			return fmt.Errorf("endpoint %d round %d: del-addr: %d seen, %v", id, i, seen, err)
		}
		if _, err := do(req(mptcpCmdGetAddr, &addr)); err == nil {
			return fmt.Errorf("endpoint %d round %d: get-addr after del-addr succeeded", id, i)
		}
	}
	return nil
}

// TestKernelReplyDeclaredParkedLeader: while another goroutine blocks in
// a receive (here a subscriber waiting for notifications that do not
// come), a request that declares a reply keeps its ACK, which is what
// wakes that reader; one that asked for no ACK (ExpectReply) and gets no
// reply still ends at once.
func TestKernelReplyDeclaredParkedLeader(t *testing.T) {
	_, c := kernelConn(t)
	fi := needFamily(t, c, mptcpFamilyName)
	ctrl := needFamily(t, c, "nlctrl")
	sub, err := c.Subscribe(ctrl.Groups["notify"])
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithCancel(ctxT(t))
	waited := make(chan error, 1)
	go func() {
		_, err := sub.Next(ctx)
		waited <- err
	}()
	defer func() {
		cancel()
		<-waited
	}()
	for deadline := time.Now().Add(5 * time.Second); !genl.LeaderParked(c); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the subscriber never blocked in a receive")
		}
	}

	const id = 11
	var add, get attrs.Encoder
	mptcpAddrAt(&add, id, id)
	mptcpAddr(&get, id, false)
	req := func(cmd uint8, enc *attrs.Encoder) genl.Request {
		return genl.Request{Family: fi.ID, Command: cmd, Version: 1, Attrs: enc.Bytes(), ReplyDeclared: true}
	}
	do := func(r genl.Request) (received, seen int, err error) {
		before := c.Stats().Messages
		rctx, cancel := context.WithTimeout(ctxT(t), 5*time.Second)
		defer cancel()
		err = c.Do(rctx, r, func(genl.Message) error { seen++; return nil })
		return int(c.Stats().Messages - before), seen, err
	}
	for _, tc := range []struct {
		name           string
		req            genl.Request
		received, seen int
		fails          bool
	}{
		{"add-addr", req(mptcpCmdAddAddr, &add), 1, 0, false}, // the ACK alone
		{"get-addr", req(mptcpCmdGetAddr, &get), 2, 1, false}, // reply and ACK
		{"del-addr", func() genl.Request {
			r := req(mptcpCmdDelAddr, &get)
			r.ReplyDeclared, r.ExpectReply = false, true
			return r
		}(), 0, 0, false},
		{"get-addr deleted", req(mptcpCmdGetAddr, &get), 1, 0, true},
	} {
		if !genl.LeaderParked(c) {
			time.Sleep(10 * time.Millisecond) // let the subscriber block again
		}
		received, seen, err := do(tc.req)
		if (err != nil) != tc.fails || seen != tc.seen || received != tc.received {
			t.Errorf("%s beside a blocked reader: %d received, %d seen, %v; want %d, %d, failure %v",
				tc.name, received, seen, err, tc.received, tc.seen, tc.fails)
		}
	}
	select {
	case err := <-waited:
		t.Fatalf("the subscriber stopped waiting: %v", err)
	default:
	}
}

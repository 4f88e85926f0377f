package genltest_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/genetlink"
	mgenltest "github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A handler written the way the tests of mdlayher/taskstats and wgctrl
// write them: ServeFamily answers the family lookup, CheckRequest checks
// the header, the handler answers by PID or fails with an errno.
func taskstatsHandler(t *testing.T) mgenltest.Func {
	fam := genetlink.Family{ID: 0x1e, Version: 1, Name: "TASKSTATS"}
	const (
		cmdGet     = 1
		cmdNew     = 2
		attrPID    = 1
		attrAggPID = 4
	)
	return mgenltest.ServeFamily(fam, mgenltest.CheckRequest(fam.ID, cmdGet, netlink.Request,
		func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
			ad, err := netlink.NewAttributeDecoder(greq.Data)
			if err != nil {
				t.Errorf("request attributes: %v", err)
				return nil, err
			}
			var pid uint32
			for ad.Next() {
				if ad.Type() == attrPID {
					pid = ad.Uint32()
				}
			}
			if pid == 0 {
				return nil, mgenltest.Error(int(unix.ESRCH))
			}
			ae := netlink.NewAttributeEncoder()
			ae.Nested(attrAggPID, func(nae *netlink.AttributeEncoder) error {
				nae.Uint32(attrPID, pid)
				return nil
			})
			b, err := ae.Encode()
			return []genetlink.Message{{Header: genetlink.Header{Command: cmdNew, Version: 1}, Data: b}}, err
		}))
}

// TestFunc runs a mdlayher genltest.Func on the fake kernel and drives it
// through a genl.Conn: family lookup, a do-request answered with a reply,
// an errno, and a request CheckRequest refuses.
func TestFunc(t *testing.T) {
	k := genltest.New()
	k.Handle(genltest.Func(taskstatsHandler(t)))
	c, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	f, err := family.Get(ctx, c, "TASKSTATS")
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != 0x1e {
		t.Fatalf("family %+v", f)
	}
	get := func(pid uint32, cmd uint8) (uint32, error) {
		var enc attrs.Encoder
		if pid != 0 {
			enc.U32(1, pid)
		}
		var got uint32
		err := c.Do(ctx, genl.Request{Family: f.ID, Command: cmd, Version: 1, Attrs: enc.Bytes(), ExpectReply: true},
			func(m genl.Message) error {
				d := attrs.NewDecoder(m.Data)
				for d.Next() {
					if d.Type() == 4 {
						nd := d.Nested()
						for nd.Next() {
							got = nd.U32()
						}
					}
				}
				return d.Err()
			})
		return got, err
	}
	if pid, err := get(4321, 1); err != nil || pid != 4321 {
		t.Fatalf("get 4321: %d, %v", pid, err)
	}
	if _, err := get(0, 1); !errors.Is(err, unix.ESRCH) {
		t.Fatalf("errno from genltest.Error: %v", err)
	}
	_, err = get(1, 9)
	var oe *netlink.OpError
	if !errors.As(err, &oe) || oe.Err != unix.EINVAL || oe.Message == "" {
		t.Fatalf("request CheckRequest refuses: %v", err)
	}
}

// TestFuncDump checks a dump's framing: the handler's messages as parts,
// then NLMSG_DONE; io.EOF is an empty answer.
func TestFuncDump(t *testing.T) {
	k := genltest.New()
	k.Handle(genltest.Func(func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		if greq.Header.Command == 2 {
			return nil, io.EOF
		}
		msgs := make([]genetlink.Message, 1000)
		for i := range msgs {
			msgs[i] = genetlink.Message{Header: genetlink.Header{Command: 1, Version: 1}, Data: make([]byte, 64)}
		}
		return msgs, nil
	}))
	c, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	n := 0
	for m, err := range c.Dump(ctx, genl.Request{Family: 0x20, Command: 1, Version: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Netlink.Flags&netlink.Multi == 0 || len(m.Data) != 64 {
			t.Fatalf("part %d: %+v", n, m.Netlink)
		}
		n++
	}
	if n != 1000 {
		t.Fatalf("%d parts, want 1000", n)
	}
	for m, err := range c.Dump(ctx, genl.Request{Family: 0x20, Command: 2, Version: 1}) {
		t.Fatalf("empty dump yielded %v, %v", m, err)
	}
	if err := c.Ack(ctx, genl.Request{Family: 0x20, Command: 2, Version: 1}); err != nil {
		t.Fatalf("empty do: %v", err)
	}
}

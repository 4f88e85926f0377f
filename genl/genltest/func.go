package genltest

import (
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/mdlayher/genetlink"
	mgenltest "github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Func adapts a handler written for mdlayher's genltest (a genltest.Func,
// as the tests of wgctrl, mdlayher/ethtool, taskstats and wifi write them,
// wrapped in genltest.ServeFamily and genltest.CheckRequest as they like)
// into a Handler of the fake kernel, so that those tests run against a
// genl.Conn or the drop-in of package genl/genetlink:
//
//	k := genltest.New()
//	k.Handle(genltest.Func(mgenltest.ServeFamily(family, handler)))
//
// The handler sees each request as mdlayher's genltest shows it and its
// answer reaches the Conn as the kernel would frame it: the messages it
// returns become replies with the request's sequence number (the parts of
// a dump, then NLMSG_DONE), followed by the ACK the request asked for (the
// Kernel adds it, as it does for every handler); an
// error made with genltest.Error(errno) becomes the kernel's NLMSG_ERROR
// with that errno; io.EOF with no messages is an empty answer. Any other
// error (a failed genltest.CheckRequest, say) becomes an NLMSG_ERROR with
// EINVAL whose extended ACK message is the error's text, so the call
// under test fails with it.
//
// mdlayher's genltest also calls a Func with empty requests when the Conn
// receives without having sent anything, to produce notifications; here
// the handler runs only for requests, and a test pushes notifications with
// Kernel.PushGroup (built with Notification).
func Func(fn mgenltest.Func) Handler {
	return func(k *Kernel, r Request) {
		greq := genetlink.Message{Header: r.Genl, Data: r.Data}
		nreq := netlink.Message{Header: r.Header, Data: r.Raw[min(16, len(r.Raw)):]}
		msgs, err := fn(greq, nreq)
		if errors.Is(err, io.EOF) && len(msgs) == 0 {
			err = nil
		}
		if err != nil {
			if errno, ok := funcErrno(err); ok {
				k.Push(Error(r, errno, nil))
				return
			}
			k.Push(Error(r, unix.EINVAL, &Extack{Msg: "genltest handler: " + err.Error()}))
			return
		}
		// One datagram per message, as a dump's parts may not fit in one.
		dump := r.Header.Flags&netlink.Dump == netlink.Dump
		var flags netlink.HeaderFlags
		if dump {
			flags = netlink.Multi
		}
		for _, m := range msgs {
			k.Push(GenlMsg(uint16(r.Header.Type), flags, r.Header.Sequence, r.Header.PID,
				m.Header.Command, m.Header.Version, m.Data))
		}
		if dump {
			k.Push(Done(r, 0, 0, nil))
		}
	}
}

// funcErrno recognises the error genltest.Error(errno) makes. Its type is
// unexported, so it is recognised by name and its number read back from
// its text ("genltest errno: %d").
func funcErrno(err error) (unix.Errno, bool) {
	t := reflect.TypeOf(err)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Name() != "errnoError" ||
		t.Elem().PkgPath() != "github.com/mdlayher/genetlink/genltest" {
		return 0, false
	}
	var n int
	if _, serr := fmt.Sscanf(err.Error(), "genltest errno: %d", &n); serr != nil {
		return 0, false
	}
	if n < 0 {
		n = -n
	}
	return unix.Errno(n), true
}

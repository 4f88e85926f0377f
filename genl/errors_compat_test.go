package genl_test

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// TestErrorContract checks that a kernel error from a genl.Conn meets the
// contract of mdlayher/netlink's errors: errors.As to *netlink.OpError with
// the fields it would have, errors.Is matching whatever a syscall.Errno of
// the same value matches, and still errors.As to *genl.Error.
func TestErrorContract(t *testing.T) {
	targets := []error{os.ErrNotExist, os.ErrPermission, os.ErrExist, errors.ErrUnsupported,
		os.ErrDeadlineExceeded, fs.ErrInvalid, unix.ENODEV, unix.ENOENT}
	for _, errno := range []unix.Errno{unix.ENOENT, unix.ENODEV, unix.EPERM, unix.EACCES, unix.EEXIST,
		unix.EOPNOTSUPP, unix.ENOTSUP, unix.ENOSYS, unix.EINVAL, unix.EBUSY, unix.ETIMEDOUT, unix.EAGAIN} {
		k, c := fake(t)
		k.Handle(func(k *genltest.Kernel, r genltest.Request) {
			k.Push(genltest.Error(r, errno, &genltest.Extack{Msg: "no good", Offset: 20}))
		})
		err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: 1, Attrs: u32Attrs(1, 1)})
		var oe *netlink.OpError
		if !errors.As(err, &oe) {
			t.Fatalf("%v: errors.As to *netlink.OpError failed: %v", errno, err)
		}
		want := netlink.OpError{Op: "receive", Err: syscall.Errno(errno), Message: "no good", Offset: 20}
		if *oe != want {
			t.Errorf("%v: OpError %+v, want %+v", errno, *oe, want)
		}
		var ge *genl.Error
		if !errors.As(err, &ge) || ge.Err != errno || ge.Path != "1" {
			t.Errorf("%v: errors.As to *genl.Error: %#v", errno, ge)
		}
		for _, target := range targets {
			if got, want := errors.Is(err, target), errors.Is(syscall.Errno(errno), target); got != want {
				t.Errorf("errors.Is(%v error, %v) = %v, a syscall.Errno gives %v", errno, target, got, want)
			}
			if got, want := errors.Is(oe, target), errors.Is(syscall.Errno(errno), target); got != want {
				t.Errorf("errors.Is(%v OpError, %v) = %v, want %v", errno, target, got, want)
			}
		}
	}
	// An error that is no errno does not pose as an OpError.
	_, c := fake(t)
	c.Close()
	err := c.Ack(ctxT(t), genl.Request{Family: fam, Command: 1})
	var oe *netlink.OpError
	if errors.As(err, &oe) {
		t.Errorf("a closed Conn's error converts to %+v", oe)
	}
}

// TestKernelErrorContract makes the same failing requests through a
// genl.Conn and through mdlayher/genetlink and compares the OpErrors.
func TestKernelErrorContract(t *testing.T) {
	ns, c := kernelConn(t)
	fi := needFamily(t, c, netdevFamilyName)
	f, err := os.Open(ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := genetlink.Dial(&netlink.Config{NetNS: int(f.Fd()), Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for name, data := range map[string][]byte{
		"no device":       u32Attrs(netdevADevIfindex, 9999),
		"bad attribute":   {5, 0, netdevADevIfindex, 0, 1, 0, 0, 0},
		"missing ifindex": nil,
	} {
		_, merr := m.Execute(genetlink.Message{Header: genetlink.Header{Command: netdevCmdDevGet, Version: 1}, Data: data},
			fi.ID, netlink.Request)
		var want *netlink.OpError
		if !errors.As(merr, &want) {
			t.Fatalf("%s: mdlayher/genetlink gave %v", name, merr)
		}
		gerr := c.Ack(ctxT(t), genl.Request{Family: fi.ID, Command: netdevCmdDevGet, Version: 1, Attrs: data})
		var got *netlink.OpError
		if !errors.As(gerr, &got) {
			t.Fatalf("%s: errors.As(%v) to *netlink.OpError failed", name, gerr)
		}
		want.Sequence = 0 // the Conns number their requests apart
		if *got != *want {
			t.Errorf("%s: OpError %+v, mdlayher/genetlink gives %+v", name, *got, *want)
		}
	}
}

// TestRefusedDumpOverrun checks that a dump the kernel refuses with ENOBUFS
// (its receive buffer full when the dump starts) matches ErrOverrun, as a
// reply lost to an overrun does, so callers retry both alike; other errors
// do not.
func TestRefusedDumpOverrun(t *testing.T) {
	for _, tc := range []struct {
		errno   unix.Errno
		overrun bool
	}{
		{unix.ENOBUFS, true},
		{unix.EINVAL, false},
		{unix.ENOMEM, false},
	} {
		k, c := fake(t)
		k.Handle(func(k *genltest.Kernel, r genltest.Request) {
			k.Push(genltest.Error(r, tc.errno, nil))
		})
		_, err := c.DumpAll(ctxT(t), genl.Request{Family: fam, Command: 1}, 0)
		if err == nil {
			t.Fatalf("%v: dump succeeded", tc.errno)
		}
		if got := errors.Is(err, genl.ErrOverrun); got != tc.overrun {
			t.Errorf("%v: errors.Is(%v, ErrOverrun) = %v, want %v", tc.errno, err, got, tc.overrun)
		}
		if !errors.Is(err, tc.errno) {
			t.Errorf("%v: errors.Is(%v, errno) = false", tc.errno, err)
		}
		if errors.Is(err, genl.ErrOutcomeUnknown) {
			t.Errorf("%v: a refused dump matches ErrOutcomeUnknown", tc.errno)
		}
	}
}

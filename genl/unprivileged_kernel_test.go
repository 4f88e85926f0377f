package genl_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/mptcppm"
	"github.com/genlkit/genlkit/family/netdev"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/testutils"
	"golang.org/x/sys/unix"
)

// The unprivileged caller: the test binary runs itself as a child inside
// the namespace, either as nobody or as root of a fresh user namespace
// (which has no CAP_NET_ADMIN over the namespace, owned by the initial
// user namespace). The child dials the namespace it was born in and tries
// admin operations; TestKernelUnprivilegedChild does that part.

const envUnprivChild = "GENLKIT_UNPRIV_CHILD"

func TestKernelUnprivileged(t *testing.T) {
	if os.Getenv(envUnprivChild) != "" {
		t.Skip("in the child")
	}
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "netdev")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// nobody cannot reach the test binary under the go build cache's
	// private directories: give it a copy.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pub := filepath.Join(dir, "genl.test")
	if err := copyFile(exe, pub, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		exe  string
		attr *syscall.SysProcAttr
	}{
		{"nobody", pub, &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}},
		{"userns", exe, &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tc.exe, "-test.run=^TestKernelUnprivilegedChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envUnprivChild+"="+tc.name, "GENLKIT_NO_LEAK_CHECK=1")
			cmd.Dir = "/"
			cmd.SysProcAttr = tc.attr
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			// Fork on a thread inside the namespace: the child is born in it.
			err := ns.Run(cmd.Run)
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out.String())
			}
			o := out.String()
			if !strings.Contains(o, "--- PASS: TestKernelUnprivilegedChild") {
				t.Fatalf("child did not pass:\n%s", o)
			}
			for line := range strings.SplitSeq(o, "\n") {
				if i := strings.Index(line, "RELIABILITY "); i >= 0 {
					t.Log(strings.TrimSpace(line[i:]))
				}
			}
		})
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func TestKernelUnprivilegedChild(t *testing.T) {
	mode := os.Getenv(envUnprivChild)
	if mode == "" {
		t.Skip("run by TestKernelUnprivileged")
	}
	var caps [2]unix.CapUserData // version 3: two words
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	_ = unix.Capget(&hdr, &caps[0])
	c, err := genl.Dial() // the namespace the child was born in
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxT(t)
	nd, err := netdev.New(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	// Unprivileged reads work.
	if _, err := nd.DevGet(ctx, &netdev.DevGetRequest{Ifindex: netdev.Some[uint32](1)}); err != nil {
		t.Fatalf("dev-get as %s: %v", mode, err)
	}
	check := func(fam, op string, err error) {
		t.Helper()
		if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, unix.EPERM) {
			t.Errorf("%s %s: got %v, want EPERM", fam, op, err)
			return
		}
		if msg := err.Error(); !strings.Contains(msg, fam) || !strings.Contains(msg, op) {
			t.Errorf("%s %s: message does not name the family and op: %q", fam, op, msg)
		}
		var e *genl.Error
		if !errors.As(err, &e) || e.Family == 0 || e.Command == 0 {
			t.Errorf("%s %s: no *genl.Error with the request: %v", fam, op, err)
		}
		reliabilityLine(t, "mode", mode, "uid", os.Getuid(), "cap_eff", fmt.Sprintf("%#x", uint64(caps[1].Effective)<<32|uint64(caps[0].Effective)), "op", fam+"/"+op, "err", fmt.Sprintf("%q", err.Error()))
	}
	// netdev napi-set: admin-perm (GENL_ADMIN_PERM, CAP_NET_ADMIN in the
	// initial user namespace). Kernels before 6.13 lack the op, and say so
	// before anything is sent.
	err = nd.NapiSet(ctx, &netdev.NapiSetRequest{ID: netdev.Some[uint32](1), DeferHardIrqs: netdev.Some[uint32](1)})
	if errors.Is(err, family.ErrNotSupported) && !testutils.KernelAtLeast(t, "6.13") {
		t.Logf("netdev napi-set: %v (Linux 6.13 and newer have it)", err)
	} else {
		check("netdev", "napi-set", err)
	}
	// mptcp_pm add-addr: uns-admin-perm (CAP_NET_ADMIN over the namespace).
	mp, err := mptcppm.New(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	check("mptcp_pm", "add-addr", mp.AddAddr(ctx, &mptcppm.AddAddrRequest{Addr: &mptcppm.Address{
		Family: mptcppm.Some[uint16](unix.AF_INET), ID: mptcppm.Some[uint8](9), Addr4: mptcppm.Some[uint32](0xc0000201),
		Flags: mptcppm.Some[uint32](mptcpFlagSignal)}}))
}

package testutils

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// EnvVMModules is the environment variable the VM harness sets in its
// guests to the directory holding lib/modules/RELEASE of the booted kernel:
// tests may load and unload modules from it there, and nowhere else.
const EnvVMModules = "GENLKIT_VM_MODULES"

// EnvVMKernel is the environment variable the VM harness sets in its guests
// to the name of the kernel it booted (7.3, 6.12, 6.1).
const EnvVMKernel = "GENLKIT_VM_KERNEL"

// Modprobe loads module name with params, or unloads it when remove is
// true, from the VM harness guest's module tree. Outside a guest it skips
// tb: tests never load modules into a host's kernel.
func Modprobe(tb testing.TB, name string, remove bool, params ...string) {
	tb.Helper()
	root := os.Getenv(EnvVMModules)
	if root == "" {
		tb.Skipf("loading module %s needs the VM harness's guest (%s unset)", name, EnvVMModules)
	}
	args := []string{"-d", root}
	if remove {
		args = append(args, "-r")
	}
	args = append(append(args, name), params...)
	if out, err := exec.Command("modprobe", args...).CombinedOutput(); err != nil {
		tb.Fatalf("modprobe %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// ModuleLoaded reports whether module name is loaded (or built in and
// showing in /sys/module).
func ModuleLoaded(name string) bool {
	_, err := os.Stat("/sys/module/" + strings.ReplaceAll(name, "-", "_"))
	return err == nil
}

// KernelVersion returns the running kernel's major and minor version.
func KernelVersion(tb testing.TB) (major, minor int) {
	tb.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		tb.Fatal(err)
	}
	rel := unix.ByteSliceToString(u.Release[:])
	if _, err := fmt.Sscanf(rel, "%d.%d", &major, &minor); err != nil {
		tb.Fatalf("kernel release %q: %v", rel, err)
	}
	return major, minor
}

// KernelAtLeast reports whether the running kernel is version want
// ("6.13") or newer.
func KernelAtLeast(tb testing.TB, want string) bool {
	tb.Helper()
	maj, minS, ok := strings.Cut(want, ".")
	wMaj, err1 := strconv.Atoi(maj)
	wMin, err2 := strconv.Atoi(minS)
	if !ok || err1 != nil || err2 != nil {
		tb.Fatalf("KernelAtLeast(%q): want MAJOR.MINOR", want)
	}
	major, minor := KernelVersion(tb)
	return major > wMaj || major == wMaj && minor >= wMin
}

// EnvPrebuilt is the environment variable naming a directory of programs
// of this module built for the tests ahead of time: the VM harness builds
// the CLI and the examples on the host, since compiling them in a guest
// under emulation takes minutes.
const EnvPrebuilt = "GENLKIT_PREBUILT"

// Prebuilt returns the path of program name (such as "genlkit" or
// "netdev-watch") in GENLKIT_PREBUILT, or "" when there is none: the test
// then builds it.
func Prebuilt(name string) string {
	dir := os.Getenv(EnvPrebuilt)
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, name)
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return ""
	}
	return p
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// bootModules are what the initramfs loads before it can mount the host's
// root: virtio PCI and 9p over virtio. Built-in ones are skipped.
var bootModules = []string{"virtio_pci", "9pnet_virtio", "9p"}

// A modIndex is a kernel tree's modules.dep and modules.builtin: module
// name (underscores) to its file and dependencies.
type modIndex struct {
	dir     string
	file    map[string]string   // name -> path relative to dir
	deps    map[string][]string // name -> names, load-last first
	builtin map[string]bool
}

func modName(path string) string {
	b := filepath.Base(path)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

func loadModIndex(dir string) (*modIndex, error) {
	ix := &modIndex{dir: dir, file: map[string]string{}, deps: map[string][]string{}, builtin: map[string]bool{}}
	dep, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(string(dep), "\n") {
		mod, rest, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n := modName(mod)
		ix.file[n] = mod
		for _, d := range strings.Fields(rest) {
			ix.deps[n] = append(ix.deps[n], modName(d))
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" {
				ix.builtin[modName(l)] = true
			}
		}
	}
	return ix, nil
}

// order returns the modules to load for names, dependencies first, each
// once; built-in modules are left out.
func (ix *modIndex) order(names []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var visit func(n string) error
	visit = func(n string) error {
		if seen[n] {
			return nil
		}
		seen[n] = true
		if _, ok := ix.file[n]; !ok {
			// Built in (Debian's 7.x packages ship no modules.builtin:
			// a module modules.dep lacks is taken to be built in).
			return nil
		}
		for _, d := range ix.deps[n] {
			if err := visit(d); err != nil {
				return err
			}
		}
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// initScript is the initramfs's /init: it loads the boot modules, mounts
// the host's root read-only (with tmpfs on /tmp and /run), the checkout
// read-only, the run's directory and the Go build cache writable at their
// host paths (so that a checkout under /tmp is seen too), and runs
// the guest script in that root. switch_root, not chroot: in a chroot the
// kernel refuses new user namespaces, which tests create.
const initScript = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do
	insmod /modules/$m.ko || echo "vmtest: insmod $m failed"
done
o=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $o,ro,cache=loose hostroot /host || echo "vmtest: mount host root failed"
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
mount -o bind /proc /host/proc
mount -o bind /sys /host/sys
mount -o bind /dev /host/dev
# The checkout, the run directory and the build cache at their host paths;
# a path under /tmp or /run needs its mount point made in the tmpfs.
mkdir -p /host@SRC@ /host@WORK@ 2>/dev/null
mount -t 9p -o $o,ro,cache=loose src /host@SRC@
mount -t 9p -o $o work /host@WORK@
[ -n "@GOCACHE@" ] && mkdir -p /host@GOCACHE@ 2>/dev/null && mount -t 9p -o $o gocache /host@GOCACHE@
exec switch_root /host /bin/bash -c '/bin/bash @WORK@/guest.sh; echo "vmtest: guest script exited with $?"; echo o >/proc/sysrq-trigger; sleep 10'
`

// buildInitramfs writes an uncompressed newc cpio archive holding a static
// busybox, /init and the boot modules (decompressed).
func buildInitramfs(path string, t kernelTree, src, work, gocache string) error {
	busybox, err := staticBusybox()
	if err != nil {
		return err
	}
	ix, err := loadModIndex(t.modDir())
	if err != nil {
		return err
	}
	mods, err := ix.order(bootModules)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := &cpioWriter{w: bufio.NewWriter(f)}
	for _, d := range []string{"bin", "dev", "proc", "sys", "host", "modules"} {
		w.dir(d)
	}
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return err
	}
	w.file("bin/busybox", 0o755, bb)
	init := strings.NewReplacer("@SRC@", src, "@WORK@", work, "@GOCACHE@", gocache).Replace(initScript)
	w.file("init", 0o755, []byte(init))
	w.file("modules/order", 0o644, []byte(strings.Join(mods, "\n")+"\n"))
	for _, m := range mods {
		data, err := readModule(filepath.Join(ix.dir, ix.file[m]))
		if err != nil {
			return err
		}
		w.file("modules/"+m+".ko", 0o644, data)
	}
	w.trailer()
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// readModule returns a module file's contents, decompressed (busybox's
// insmod takes plain ELF).
func readModule(path string) ([]byte, error) {
	var tool string
	switch {
	case strings.HasSuffix(path, ".xz"):
		tool = "xz"
	case strings.HasSuffix(path, ".zst"):
		tool = "zstd"
	case strings.HasSuffix(path, ".gz"):
		tool = "gzip"
	default:
		return os.ReadFile(path)
	}
	out, err := exec.Command(tool, "-dc", path).Output()
	if err != nil {
		return nil, fmt.Errorf("%s -dc %s: %w", tool, path, err)
	}
	return out, nil
}

// staticBusybox finds a statically linked busybox (Debian's busybox-static).
func staticBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if !bytes.Contains(b[:min(len(b), 1<<16)], []byte("/lib64/ld-linux")) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no statically linked busybox (apt-get install busybox-static)")
}

// A cpioWriter writes the newc format the kernel unpacks as an initramfs.
type cpioWriter struct {
	w   *bufio.Writer
	ino int
	err error
}

func (c *cpioWriter) entry(name string, mode uint32, data []byte) {
	if c.err != nil {
		return
	}
	c.ino++
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	buf := append([]byte(hdr), name...)
	buf = append(buf, 0)
	buf = pad4(buf)
	if _, err := c.w.Write(buf); err != nil {
		c.err = err
		return
	}
	if _, err := c.w.Write(data); err != nil {
		c.err = err
		return
	}
	if n := len(data) % 4; n != 0 {
		_, c.err = io.WriteString(c.w, strings.Repeat("\x00", 4-n))
	}
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (c *cpioWriter) dir(name string)                            { c.entry(name, 0o040755, nil) }
func (c *cpioWriter) file(name string, perm uint32, data []byte) { c.entry(name, 0o100000|perm, data) }
func (c *cpioWriter) trailer()                                   { c.entry("TRAILER!!!", 0, nil) }

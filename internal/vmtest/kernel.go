package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// A kernel is a Debian kernel the harness can boot: where apt finds it, and
// what the guest is known to register once its modules are loaded.
type kernel struct {
	// Name is what -kernel selects: "7.3", "6.12", "6.1".
	Name string
	// Suite is the Debian suite that holds the packages.
	Suite string
	// Packages are the packages holding vmlinuz and the modules. Empty
	// means the suite's linux-image-amd64 dependency, resolved at download.
	Packages []string
	// Families are the generic netlink families this kernel registers with
	// the harness's modules loaded, the ones the specs describe; the guest
	// gets them as GENLKIT_EXPECT_FAMILIES.
	Families []string
}

// hostFamilies are the spec'd families every kernel the harness boots
// registers built in, as the host does.
var hostFamilies = []string{"nlctrl", "ethtool", "mptcp_pm", "tcp_metrics"}

var kernels = []kernel{
	{
		Name:     "7.3",
		Suite:    "trixie-backports",
		Packages: []string{"linux-binary-7.3.4+deb13-amd64", "linux-modules-7.3.4+deb13-amd64"},
		Families: append([]string{"netdev", "wireguard", "nl80211", "team", "ovs_datapath", "ovs_vport", "ovs_flow", "ovs_packet",
			"ovpn", "fou", "handshake", "devlink", "dpll", "net-shaper", "dev-energymodel", "psample"}, hostFamilies...),
	},
	{
		Name:  "6.12",
		Suite: "trixie",
		Families: append([]string{"netdev", "wireguard", "nl80211", "team", "ovs_datapath", "ovs_vport", "ovs_flow", "ovs_packet",
			"fou", "handshake", "devlink", "dpll", "psample"}, hostFamilies...),
	},
	{
		Name:  "6.1",
		Suite: "bookworm",
		Families: append([]string{"wireguard", "nl80211", "team", "ovs_datapath", "ovs_vport", "ovs_flow", "ovs_packet",
			"fou", "devlink", "psample"}, hostFamilies...),
	},
}

func findKernel(name string) (kernel, error) {
	var names []string
	for _, k := range kernels {
		if k.Name == name {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return kernel{}, fmt.Errorf("unknown kernel %q (have %s)", name, strings.Join(names, ", "))
}

// A kernelTree is a kernel unpacked in the cache: vmlinuz and a module tree
// with modules.dep, under Root/lib/modules/Release.
type kernelTree struct {
	Root    string
	Release string
	Vmlinuz string
}

func (t kernelTree) modDir() string { return filepath.Join(t.Root, "lib", "modules", t.Release) }

// fetchKernel returns k unpacked under cache, downloading it with apt the
// first time. The downloaded packages' names are recorded, so a later run
// finds the tree without asking apt anything.
func fetchKernel(cache string, k kernel, logf func(string, ...any)) (kernelTree, error) {
	dir := filepath.Join(cache, "kernels", k.Name)
	root := filepath.Join(dir, "root")
	stamp := filepath.Join(dir, "ready")
	if _, err := os.Stat(stamp); err != nil {
		logf("kernel %s: not cached, downloading from Debian %s", k.Name, k.Suite)
		if err := os.RemoveAll(dir); err != nil {
			return kernelTree{}, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return kernelTree{}, err
		}
		a, err := newAptRoot(cache, k.Suite)
		if err != nil {
			return kernelTree{}, err
		}
		pkgs := k.Packages
		if len(pkgs) == 0 {
			if pkgs, err = a.imagePackages(); err != nil {
				return kernelTree{}, err
			}
		}
		debs, err := a.download(dir, pkgs)
		if err != nil {
			return kernelTree{}, err
		}
		for _, deb := range debs {
			if err := run("dpkg-deb", "-x", deb, root); err != nil {
				return kernelTree{}, err
			}
			os.Remove(deb)
		}
		t, err := findTree(root)
		if err != nil {
			return kernelTree{}, err
		}
		logf("kernel %s: depmod %s", k.Name, t.Release)
		if err := run("depmod", "-a", "-b", root, t.Release); err != nil {
			return kernelTree{}, err
		}
		if err := os.WriteFile(stamp, []byte(strings.Join(pkgs, "\n")+"\n"), 0o644); err != nil {
			return kernelTree{}, err
		}
	}
	return findTree(root)
}

// findTree finds vmlinuz and the module tree in an unpacked kernel: the
// image is boot/vmlinuz-RELEASE in older packages, modules/RELEASE/vmlinuz
// in newer ones, which also ship /usr/lib/modules; lib is then linked to
// usr/lib for depmod and modprobe -d.
func findTree(root string) (kernelTree, error) {
	var release, vm string
	if vms, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*")); len(vms) > 0 {
		sort.Strings(vms)
		vm = vms[len(vms)-1]
		release = strings.TrimPrefix(filepath.Base(vm), "vmlinuz-")
	} else {
		vms, _ := filepath.Glob(filepath.Join(root, "usr", "lib", "modules", "*", "vmlinuz"))
		if len(vms) == 0 {
			vms, _ = filepath.Glob(filepath.Join(root, "lib", "modules", "*", "vmlinuz"))
		}
		if len(vms) == 0 {
			return kernelTree{}, fmt.Errorf("%s: no boot/vmlinuz-* or modules/*/vmlinuz", root)
		}
		sort.Strings(vms)
		vm = vms[len(vms)-1]
		release = filepath.Base(filepath.Dir(vm))
	}
	if _, err := os.Stat(filepath.Join(root, "lib", "modules", release)); err != nil {
		if _, err2 := os.Stat(filepath.Join(root, "usr", "lib", "modules", release)); err2 != nil {
			return kernelTree{}, fmt.Errorf("%s: no modules for %s", root, release)
		}
		if _, err := os.Lstat(filepath.Join(root, "lib")); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink("usr/lib", filepath.Join(root, "lib")); err != nil {
				return kernelTree{}, err
			}
		}
	}
	return kernelTree{Root: root, Release: release, Vmlinuz: vm}, nil
}

// An aptRoot is a private apt configuration for one Debian suite: its own
// source list (on the mirror the machine's apt already uses), lists and
// archive cache, so the system's apt state is never touched.
type aptRoot struct {
	dir  string
	opts []string
}

func newAptRoot(cache, suite string) (*aptRoot, error) {
	mirror, err := debianMirror()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, "apt", suite)
	for _, d := range []string{"lists/partial", "archives/partial", "parts"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	list := filepath.Join(dir, "sources.list")
	line := fmt.Sprintf("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n", mirror, suite)
	if err := os.WriteFile(list, []byte(line), 0o644); err != nil {
		return nil, err
	}
	a := &aptRoot{dir: dir, opts: []string{
		"-o", "Dir::Etc::SourceList=" + list,
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(dir, "parts"),
		"-o", "Dir::State::Lists=" + filepath.Join(dir, "lists"),
		"-o", "Dir::Cache::Archives=" + filepath.Join(dir, "archives"),
		"-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",
		"-o", "APT::Sandbox::User=root",
		"-o", "Acquire::Languages=none",
	}}
	args := append(append([]string{}, a.opts...), "-qq", "update")
	if err := run("apt-get", args...); err != nil {
		return nil, fmt.Errorf("apt-get update for %s: %w", suite, err)
	}
	return a, nil
}

// imagePackages resolves the suite's default kernel: the package
// linux-image-amd64 depends on.
func (a *aptRoot) imagePackages() ([]string, error) {
	args := append(append([]string{}, a.opts...), "depends", "linux-image-amd64")
	out, err := exec.Command("apt-cache", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("apt-cache depends linux-image-amd64: %w", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if p, ok := strings.CutPrefix(l, "Depends: "); ok && strings.HasPrefix(p, "linux-image-") {
			return []string{p}, nil
		}
	}
	return nil, fmt.Errorf("apt-cache depends linux-image-amd64: no linux-image-* dependency in:\n%s", out)
}

// download fetches pkgs' .deb files into dir and returns their paths.
func (a *aptRoot) download(dir string, pkgs []string) ([]string, error) {
	args := append(append([]string{}, a.opts...), "-qq", "download")
	cmd := exec.Command("apt-get", append(args, pkgs...)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("apt-get download %s: %w", strings.Join(pkgs, " "), err)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	if len(debs) != len(pkgs) {
		return nil, fmt.Errorf("apt-get download %s: got %d .deb files", strings.Join(pkgs, " "), len(debs))
	}
	return debs, nil
}

// debianMirror returns the Debian archive URI the machine's apt uses (not a
// security one), from /etc/apt/sources.list and sources.list.d, in either
// format. GENLKIT_VM_MIRROR overrides it.
func debianMirror() (string, error) {
	if m := os.Getenv("GENLKIT_VM_MIRROR"); m != "" {
		return m, nil
	}
	files := []string{"/etc/apt/sources.list"}
	for _, pat := range []string{"/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		var uris []string
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(l, "#") {
				continue
			}
			if u, ok := strings.CutPrefix(l, "URIs:"); ok {
				uris = append(uris, strings.Fields(u)...)
				continue
			}
			if rest, ok := strings.CutPrefix(l, "deb "); ok {
				fs := strings.Fields(rest)
				if len(fs) > 0 && strings.HasPrefix(fs[0], "[") {
					for len(fs) > 0 && !strings.HasSuffix(fs[0], "]") {
						fs = fs[1:]
					}
					if len(fs) > 0 {
						fs = fs[1:]
					}
				}
				if len(fs) > 0 {
					uris = append(uris, fs[0])
				}
			}
		}
		fh.Close()
		for _, u := range uris {
			u = strings.TrimSuffix(u, "/")
			if strings.HasSuffix(u, "/debian") && !strings.Contains(u, "security") {
				return u, nil
			}
		}
	}
	return "", errors.New("no Debian archive in /etc/apt/sources.list*; set GENLKIT_VM_MIRROR")
}

func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// Command vmtest runs Go tests of this module inside a Debian kernel booted
// under qemu, with that kernel's modules loaded, as root, and reports the
// result.
//
//	go run ./internal/vmtest -kernel 7.3 ./genl/ ./family/...
//	go run ./internal/vmtest -kernel 6.12 -run 'Kernel|Live' ./...
//
// The first run downloads the kernel packages with apt (a private source
// list for the kernel's Debian suite on the mirror the machine's apt
// uses) into the cache (-cache, default /var/cache/genlkit-vm as root);
// later runs download nothing. The test binaries are built on the host
// with `go test -c`; the guest mounts the host's root read-only over 9p and
// runs them in their package directories with GENLKIT_REQUIRE_KERNEL=1 and
// GENLKIT_EXPECT_FAMILIES set to the families that kernel registers.
// The exit status is 0 when every package passed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// guestModules are loaded in every guest (those a kernel lacks are
// reported and skipped): the modules that register the families the
// project tests, and the devices the tests create.
var guestModules = [][]string{
	{"wireguard"},
	{"mac80211_hwsim", "radios=2"},
	{"team"}, {"team_mode_roundrobin"}, {"team_mode_activebackup"}, {"team_mode_loadbalance"},
	{"team_mode_broadcast"}, {"team_mode_random"},
	{"openvswitch"},
	{"ovpn"},
	{"fou"}, {"fou6"},
	{"bonding"}, {"dummy"}, {"veth"}, {"macvlan"}, {"vxlan"}, {"geneve"}, {"bridge"}, {"tun"},
	{"psample"}, {"tcp_diag"},
	// mac80211's CCMP keys (ccm(aes), built from ctr(aes)), which hostapd
	// installs for a WPA2 AP: the guest cannot load them on demand.
	{"ccm"}, {"ctr"},
}

type options struct {
	kernels    []kernel
	cache      string
	run        string
	skip       string
	short      bool
	bench      string
	benchtime  string
	kernelOnly bool
	verbose    bool
	timeout    time.Duration
	mem        string
	cpus       int
	expect     string
	summary    string
	args       []string
}

func main() {
	var o options
	kname := flag.String("kernel", "7.3", "Debian kernels to boot, comma-separated, one after the other: 7.3 (trixie-backports), 6.12 (trixie), 6.1 (bookworm)")
	flag.StringVar(&o.cache, "cache", defaultCache(), "directory for kernels, apt state and runs (shared by all checkouts; also $GENLKIT_VM_CACHE)")
	flag.StringVar(&o.run, "run", "", "passed to the test binaries as -test.run")
	flag.StringVar(&o.skip, "skip", "", "passed to the test binaries as -test.skip")
	flag.BoolVar(&o.short, "short", false, "pass -test.short")
	flag.StringVar(&o.bench, "bench", "", "passed to the test binaries as -test.bench (with -test.benchmem)")
	flag.StringVar(&o.benchtime, "benchtime", "", "passed to the test binaries as -test.benchtime")
	flag.BoolVar(&o.kernelOnly, "kernel-only", false, "run only the tests that reach the kernel (found in the test files: calls of testutils.NetNS, RequireKernel... directly or through the package's helpers), and only packages that have some; ignored with -run")
	flag.BoolVar(&o.verbose, "v", false, "show the guest's console (all test output) as it runs")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "bound on each kernel's guest run; qemu is killed after it")
	flag.StringVar(&o.mem, "mem", "3G", "guest memory")
	flag.IntVar(&o.cpus, "cpus", 2, "guest vCPUs")
	flag.StringVar(&o.expect, "expect", "", "override GENLKIT_EXPECT_FAMILIES (default: the families the kernel is known to register)")
	flag.StringVar(&o.summary, "summary", "", "write each kernel's results (families, ops, tests) as JSON to DIR/KERNEL.json")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./internal/vmtest [flags] [packages]\n\nRuns the packages' tests (default ./...) inside a Debian kernel under qemu.\n\n")
		flag.PrintDefaults()
	}
	source := flag.Bool("source", false, "download the kernel's source (Debian's linux-source package, same apt route) into the cache if needed, print the tarball's path, and exit")
	table := flag.Bool("table", false, "print the compatibility table (markdown) of the -summary files given as arguments, and exit")
	flag.Parse()
	if *table {
		if err := writeTable(os.Stdout, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "vmtest:", err)
			os.Exit(1)
		}
		return
	}
	for _, name := range strings.Split(*kname, ",") {
		k, err := findKernel(strings.TrimSpace(name))
		if err != nil {
			fmt.Fprintln(os.Stderr, "vmtest:", err)
			os.Exit(2)
		}
		o.kernels = append(o.kernels, k)
	}
	if *source {
		for _, k := range o.kernels {
			path, err := fetchSource(o.cache, k, logf)
			if err != nil {
				fmt.Fprintln(os.Stderr, "vmtest:", err)
				os.Exit(1)
			}
			fmt.Println(path)
		}
		return
	}
	o.args = flag.Args()
	if len(o.args) == 0 {
		o.args = []string{"./..."}
	}
	ok, err := runAll(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmtest:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func defaultCache() string {
	if d := os.Getenv("GENLKIT_VM_CACHE"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/cache/genlkit-vm"
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "genlkit-vm")
	}
	return filepath.Join(os.TempDir(), "genlkit-vm")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vmtest: "+format+"\n", args...)
}

// A testPkg is one package whose test binary runs in the guest.
type testPkg struct {
	ImportPath string
	Dir        string
	Bin        string // path of the test binary
	Name       string // file-name-safe ImportPath
	Run        string // -test.run pattern; "" for -run's
}

func runAll(o options) (bool, error) {
	start := time.Now()
	if os.Geteuid() != 0 {
		return false, errors.New("the guest's 9p root and qemu's shares need root on the host")
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return false, errors.New("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
	}
	runs := filepath.Join(o.cache, "runs")
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return false, err
	}
	pruneRuns(runs, 20)
	dir, err := os.MkdirTemp(runs, time.Now().UTC().Format("20060102T150405")+"-")
	if err != nil {
		return false, err
	}
	trees := make([]kernelTree, len(o.kernels))
	for i, k := range o.kernels {
		if trees[i], err = fetchKernelLocked(o.cache, k); err != nil {
			return false, err
		}
	}
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return false, err
	}
	pkgs, err := buildTests(o.args, bin, o.kernelOnly && o.run == "")
	if err != nil {
		return false, err
	}
	if len(pkgs) == 0 {
		return false, fmt.Errorf("no packages with tests in %s", strings.Join(o.args, " "))
	}
	// The CLI, which also names the families' ops, and the examples: tests
	// run them (testutils.Prebuilt) instead of compiling them in the guest.
	cli := filepath.Join(bin, "genlkit")
	if err := goCmd("build", "-o", cli, "./cmd/genlkit"); err != nil {
		cli = "" // not this module's checkout root: families are listed without op names
	}
	if err := goCmd("build", "-o", bin+"/", "./examples/..."); err != nil {
		logf("examples not prebuilt: %v", err)
	}
	prebuildTestdataModules(bin)
	logf("%d test binaries built in %s, run dir %s", len(pkgs), time.Since(start).Round(time.Second), dir)
	ok := true
	for i, k := range o.kernels {
		res, err := runKernel(o, k, trees[i], qemu, filepath.Join(dir, k.Name), cli, pkgs)
		if err != nil {
			return false, fmt.Errorf("kernel %s: %w", k.Name, err)
		}
		if o.summary != "" {
			b, _ := json.MarshalIndent(res, "", "  ")
			if err := os.MkdirAll(o.summary, 0o755); err != nil {
				return false, err
			}
			if err := os.WriteFile(filepath.Join(o.summary, k.Name+".json"), append(b, '\n'), 0o644); err != nil {
				return false, err
			}
		}
		ok = report(res) && ok
	}
	return ok, nil
}

// runKernel boots kernel k once and runs every package's test binary in it.
func runKernel(o options, k kernel, tree kernelTree, qemu, work, cli string, pkgs []testPkg) (*result, error) {
	if err := os.MkdirAll(filepath.Join(work, "out"), 0o755); err != nil {
		return nil, err
	}
	gocache := goEnv("GOCACHE")
	src, err := os.Getwd() // the checkout: vmtest runs from its root
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "guest.sh"), []byte(guestScript(o, k, tree, work, gocache, pkgs)), 0o755); err != nil {
		return nil, err
	}
	initrd := filepath.Join(work, "initramfs.cpio")
	if err := buildInitramfs(initrd, tree, src, work, gocache); err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}
	logf("kernel %s (%s): booting, %d packages", k.Name, tree.Release, len(pkgs))
	boot := time.Now()
	for attempt := 1; ; attempt++ {
		err := runQemu(o, qemu, tree, initrd, src, work, gocache)
		if err == nil {
			break
		}
		if !errors.Is(err, errBoot) || attempt == bootAttempts {
			return nil, err
		}
		logf("kernel %s: %v; booting again (%d of %d)", k.Name, err, attempt+1, bootAttempts)
	}
	res, err := collect(k, tree, work, cli, pkgs)
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(boot).Seconds()
	return res, nil
}

// pruneRuns removes all but the newest keep run directories, by
// modification time, and never one changed in the last two hours: another
// run may still be using it.
func pruneRuns(runs string, keep int) {
	ents, err := os.ReadDir(runs)
	if err != nil {
		return
	}
	type run struct {
		name string
		mod  time.Time
	}
	var old []run
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !e.IsDir() {
			continue
		}
		old = append(old, run{e.Name(), info.ModTime()})
	}
	sort.Slice(old, func(i, j int) bool { return old[i].mod.Before(old[j].mod) })
	for len(old) > keep && time.Since(old[0].mod) > 2*time.Hour {
		os.RemoveAll(filepath.Join(runs, old[0].name))
		old = old[1:]
	}
}

// fetchKernelLocked is fetchKernel under an exclusive lock on the cache, so
// concurrent runs download a kernel once.
func fetchKernelLocked(cache string, k kernel) (kernelTree, error) {
	unlock, err := lockFile(filepath.Join(cache, "lock"))
	if err != nil {
		return kernelTree{}, err
	}
	defer unlock()
	return fetchKernel(cache, k, logf)
}

// prebuildTestdataModules builds the programs of the separate modules
// under testdata directories (peers that benchmarks compare against, kept
// out of this module's go.mod) into bin, named after their directories,
// for testutils.Prebuilt. One that does not build is reported and left out;
// one with tests alone (a comparison run with go test, no program) is not
// a program to build.
func prebuildTestdataModules(bin string) {
	mods, _ := filepath.Glob("*/*/testdata/*/go.mod")
	more, _ := filepath.Glob("*/testdata/*/go.mod")
	for _, m := range append(mods, more...) {
		dir := filepath.Dir(m)
		if !hasProgram(dir) {
			continue
		}
		if err := goCmd("-C", dir, "build", "-o", filepath.Join(bin, filepath.Base(dir)), "."); err != nil {
			logf("%s not prebuilt: %v", dir, err)
		}
	}
}

// hasProgram reports whether dir holds Go files other than tests.
func hasProgram(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			return true
		}
	}
	return false
}

func goCmd(args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

func goEnv(name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// buildTests compiles the test binaries of the packages patterns match
// that have tests, two at a time, into bin.
//
// With kernelOnly, packages without kernel tests are left out and each
// package's kernel tests are selected by name.
func buildTests(patterns []string, bin string, kernelOnly bool) ([]testPkg, error) {
	args := append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}"}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("go list: %v\n%s", err, ee.Stderr)
		}
		return nil, err
	}
	var pkgs []testPkg
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 4 || (f[2] == "0" && f[3] == "0") {
			continue
		}
		name := strings.NewReplacer("/", "_", ".", "_").Replace(f[0])
		p := testPkg{ImportPath: f[0], Dir: f[1], Name: name, Bin: filepath.Join(bin, name+".test")}
		if kernelOnly {
			tests, err := kernelTests(p.Dir)
			if err != nil {
				return nil, err
			}
			if len(tests) == 0 {
				continue
			}
			p.Run = runPattern(tests)
		}
		pkgs = append(pkgs, p)
	}
	logf("building %d test binaries", len(pkgs))
	errs := make([]error, len(pkgs))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, p := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := exec.Command("go", "test", "-c", "-o", p.Bin, p.ImportPath).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("go test -c %s: %v\n%s", p.ImportPath, err, out)
			}
		}()
	}
	wg.Wait()
	return pkgs, errors.Join(errs...)
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// guestScript is the bash script the guest runs in the host's root: load
// the modules, record the families, run each test binary in its package
// directory, then write the end marker.
func guestScript(o options, k kernel, t kernelTree, work, gocache string, pkgs []testPkg) string {
	var b strings.Builder
	expect := o.expect
	if expect == "" {
		expect = strings.Join(k.Families, ",")
	}
	fmt.Fprintf(&b, "#!/bin/bash\n# Generated by internal/vmtest.\nset -u\nW=%s\n", shq(work))
	fmt.Fprintf(&b, "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:%s\n", shq(filepath.Dir(goBin())))
	fmt.Fprintf(&b, "export HOME=/tmp TMPDIR=/tmp GOTOOLCHAIN=local GOCACHE=%s GOMODCACHE=%s\n", shq(gocache), shq(goEnv("GOMODCACHE")))
	fmt.Fprintf(&b, "export GENLKIT_REQUIRE_KERNEL=1 GENLKIT_EXPECT_FAMILIES=%s GENLKIT_VM_KERNEL=%s GENLKIT_VM_MODULES=%s GENLKIT_PREBUILT=%s\n",
		shq(expect), shq(k.Name), shq(t.Root), shq(filepath.Dir(pkgs[0].Bin)))
	if s := os.Getenv("GENLKIT_SPECS"); s != "" {
		abs, _ := filepath.Abs(s)
		fmt.Fprintf(&b, "export GENLKIT_SPECS=%s\n", shq(abs))
	}
	b.WriteString("echo \"=== vmtest: guest $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print $2}' /proc/meminfo) kB\"\n")
	b.WriteString("ip link set lo up\n")
	for _, m := range guestModules {
		fmt.Fprintf(&b, "modprobe -d %s %s 2>>\"$W/out/modprobe.log\" || echo %s >>\"$W/out/modules-missing\"\n", shq(t.Root), strings.Join(m, " "), m[0])
	}
	b.WriteString("lsmod >\"$W/out/lsmod\" 2>&1 || cat /proc/modules >\"$W/out/lsmod\"\n")
	b.WriteString("genl ctrl list >\"$W/out/genl-ctrl-list\" 2>&1\n")
	for _, p := range pkgs {
		args := []string{"-test.v", "-test.count=1", "-test.timeout=" + o.timeout.String()}
		switch {
		case o.run != "":
			args = append(args, "-test.run="+o.run)
		case p.Run != "":
			args = append(args, "-test.run="+p.Run)
		}
		if o.skip != "" {
			args = append(args, "-test.skip="+o.skip)
		}
		if o.short {
			args = append(args, "-test.short")
		}
		if o.bench != "" {
			args = append(args, "-test.bench="+o.bench, "-test.benchmem")
		}
		if o.benchtime != "" {
			args = append(args, "-test.benchtime="+o.benchtime)
		}
		var qa []string
		for _, a := range args {
			qa = append(qa, shq(a))
		}
		fmt.Fprintf(&b, "echo '=== vmtest: RUN %s'\ncd %s\ns=$(date +%%s%%N)\n", p.ImportPath, shq(p.Dir))
		fmt.Fprintf(&b, "%s %s 2>&1 | tee \"$W/out/%s.log\"; rc=${PIPESTATUS[0]}\n", shq(p.Bin), strings.Join(qa, " "), p.Name)
		fmt.Fprintf(&b, "echo \"$rc $(( ($(date +%%s%%N) - s) / 1000000 ))\" >\"$W/out/%s.rc\"\necho \"=== vmtest: END %s rc=$rc\"\n", p.Name, p.ImportPath)
	}
	b.WriteString("sync\necho '=== vmtest: DONE' | tee \"$W/out/done\"\nsync\n")
	return b.String()
}

func goBin() string {
	p, err := exec.LookPath("go")
	if err != nil {
		return "/usr/local/go/bin/go"
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// runQemu boots the guest and waits for it to power off, killing it at
// o.timeout. The console goes to stderr with -v; otherwise only the
// harness's progress lines do.
func runQemu(o options, qemu string, t kernelTree, initrd, src, work, gocache string) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	share := func(path, tag string, ro bool) []string {
		s := "local,path=" + path + ",mount_tag=" + tag + ",security_model=none,multidevs=remap"
		if ro {
			s += ",readonly=on"
		}
		return []string{"-virtfs", s}
	}
	args := []string{
		"-accel", "tcg,thread=multi", "-cpu", "max", "-smp", strconv.Itoa(o.cpus), "-m", o.mem,
		"-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio",
		"-kernel", t.Vmlinuz, "-initrd", initrd,
		"-append", "console=ttyS0 loglevel=6 panic=-1 rdinit=/init",
	}
	args = append(args, share("/", "hostroot", true)...)
	args = append(args, share(src, "src", true)...)
	args = append(args, share(work, "work", false)...)
	if gocache != "" {
		args = append(args, share(gocache, "gocache", false)...)
	}
	cmd := exec.CommandContext(ctx, qemu, args...)
	cmd.Stdin = nil
	console, err := os.Create(filepath.Join(work, "console.log"))
	if err != nil {
		return err
	}
	defer console.Close()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	started := false // the guest script began: the kernel booted
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			fmt.Fprintln(console, l)
			if strings.HasPrefix(l, "=== vmtest: guest ") {
				started = true
			}
			if o.verbose || strings.HasPrefix(l, "=== vmtest:") || strings.HasPrefix(l, "vmtest:") {
				fmt.Fprintln(os.Stderr, l)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	err = cmd.Run()
	pw.Close()
	<-done
	if ctx.Err() != nil {
		return fmt.Errorf("guest did not finish within %s (killed); console in %s", o.timeout, console.Name())
	}
	if err != nil {
		return fmt.Errorf("qemu: %w (console in %s)", err, console.Name())
	}
	if _, err := os.Stat(filepath.Join(work, "out", "done")); err != nil {
		if !started {
			return fmt.Errorf("%w; console in %s", errBoot, console.Name())
		}
		return fmt.Errorf("guest stopped before its end marker; console in %s", console.Name())
	}
	return nil
}

// errBoot reports a guest that stopped before its script began: under TCG
// on a loaded machine a kernel now and then panics while booting (timer
// checks, "Fatal exception in interrupt"); runKernel boots it again.
var errBoot = errors.New("guest kernel stopped while booting")

// bootAttempts bounds how many times runKernel boots a kernel that fails
// while booting.
const bootAttempts = 3

// A result is one guest run, as -summary writes it.
type result struct {
	Kernel   string      `json:"kernel"`
	Release  string      `json:"release"`
	Seconds  float64     `json:"seconds"`
	Missing  []string    `json:"modules_missing,omitempty"`
	Families []familyOps `json:"families"`
	Packages []pkgResult `json:"packages"`
	Dir      string      `json:"dir"`
}

type familyOps struct {
	Name       string   `json:"name"`
	Described  bool     `json:"described"`             // genlkit has a descriptor (a generated package)
	Ops        []string `json:"ops"`                   // what the kernel registers
	SpecOps    []string `json:"spec_ops,omitempty"`    // what genlkit's descriptor has
	MissingOps []string `json:"missing_ops,omitempty"` // in the descriptor, not in the kernel
}

type pkgResult struct {
	ImportPath string            `json:"import_path"`
	OK         bool              `json:"ok"`
	Seconds    float64           `json:"seconds"`
	Tests      map[string]string `json:"tests"` // top-level test name -> PASS, FAIL, SKIP
	Log        string            `json:"log"`
}

var testLine = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) `)

func collect(k kernel, t kernelTree, work, cli string, pkgs []testPkg) (*result, error) {
	out := filepath.Join(work, "out")
	res := &result{Kernel: k.Name, Release: t.Release, Dir: work}
	if b, err := os.ReadFile(filepath.Join(out, "modules-missing")); err == nil {
		res.Missing = strings.Fields(string(b))
	}
	if b, err := os.ReadFile(filepath.Join(out, "genl-ctrl-list")); err == nil {
		for _, f := range parseCtrlList(string(b)) {
			res.Families = append(res.Families, describeFamily(cli, f))
		}
	}
	for _, p := range pkgs {
		pr := pkgResult{ImportPath: p.ImportPath, Tests: map[string]string{}, Log: filepath.Join(out, p.Name+".log")}
		if b, err := os.ReadFile(filepath.Join(out, p.Name+".rc")); err == nil {
			f := strings.Fields(string(b))
			if len(f) == 2 {
				pr.OK = f[0] == "0"
				ms, _ := strconv.ParseFloat(f[1], 64)
				pr.Seconds = ms / 1000
			}
		}
		if b, err := os.ReadFile(pr.Log); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if m := testLine.FindStringSubmatch(l); m != nil {
					pr.Tests[m[2]] = m[1]
				}
			}
		}
		res.Packages = append(res.Packages, pr)
	}
	return res, nil
}

// A ctrlFamily is one family of `genl ctrl list`: its name and op ids.
type ctrlFamily struct {
	Name string
	Ops  []int
}

var ctrlOp = regexp.MustCompile(`^\s*#\d+:\s+ID-0x([0-9a-fA-F]+)`)

func parseCtrlList(s string) []ctrlFamily {
	var fams []ctrlFamily
	for _, l := range strings.Split(s, "\n") {
		if n, ok := strings.CutPrefix(l, "Name: "); ok {
			fams = append(fams, ctrlFamily{Name: strings.TrimSpace(n)})
			continue
		}
		if m := ctrlOp.FindStringSubmatch(l); m != nil && len(fams) > 0 {
			id, _ := strconv.ParseUint(m[1], 16, 32)
			fams[len(fams)-1].Ops = append(fams[len(fams)-1].Ops, int(id))
		}
	}
	return fams
}

// describeFamily names a kernel family's ops with genlkit's descriptor of
// the family (the CLI's `ops`, on the host), and lists the descriptor's
// requests (do and dump ops) the kernel lacks.
func describeFamily(cli string, f ctrlFamily) familyOps {
	fo := familyOps{Name: f.Name}
	names := map[int]string{}
	var desc []struct {
		Name  string   `json:"name"`
		Value int      `json:"value"`
		Kinds []string `json:"kinds"`
	}
	if cli != "" {
		if b, err := exec.Command(cli, "--output", "json", "ops", f.Name).Output(); err == nil && json.Unmarshal(b, &desc) == nil {
			fo.Described = true
		}
	}
	kernel := map[int]bool{}
	for _, id := range f.Ops {
		kernel[id] = true
	}
	for _, d := range desc {
		if !slices.Contains(d.Kinds, "do") && !slices.Contains(d.Kinds, "dump") {
			continue
		}
		names[d.Value] = d.Name
		fo.SpecOps = append(fo.SpecOps, d.Name)
		if !kernel[d.Value] {
			fo.MissingOps = append(fo.MissingOps, d.Name)
		}
	}
	for _, id := range f.Ops {
		n, ok := names[id]
		if !ok {
			n = strconv.Itoa(id)
		}
		fo.Ops = append(fo.Ops, n)
	}
	return fo
}

// report prints one line per package, like go test, with the counts of
// top-level tests, and the output of failing packages; it returns whether
// all passed.
func report(res *result) bool {
	ok := true
	var pass, fail, skip int
	for _, p := range res.Packages {
		p1, f1, s1 := p.counts()
		pass, fail, skip = pass+p1, fail+f1, skip+s1
		status := "ok  "
		if !p.OK {
			status, ok = "FAIL", false
			if b, err := os.ReadFile(p.Log); err == nil {
				os.Stdout.Write(b)
			}
		}
		fmt.Printf("%s\t%s\t%.1fs\t(%d passed, %d failed, %d skipped)\n", status, p.ImportPath, p.Seconds, p1, f1, s1)
	}
	var fams []string
	for _, f := range res.Families {
		fams = append(fams, f.Name)
	}
	sort.Strings(fams)
	fmt.Printf("vmtest: kernel %s (%s): %d packages, %d tests passed, %d failed, %d skipped, in %.0fs; %d families: %s\n",
		res.Kernel, res.Release, len(res.Packages), pass, fail, skip, res.Seconds, len(fams), strings.Join(fams, " "))
	if len(res.Missing) > 0 {
		fmt.Printf("vmtest: modules this kernel lacks: %s\n", strings.Join(res.Missing, " "))
	}
	fmt.Printf("vmtest: logs in %s\n", filepath.Join(res.Dir, "out"))
	return ok
}

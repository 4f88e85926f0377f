package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
	"github.com/genlkit/genlkit/internal/testutils"
)

func specsDirOrSkip(t *testing.T) string { return spectest.Dir(t) }

// generateAndVet runs genlgen on each draft (by file name) into a scratch
// module that uses this one, then go vet (which type-checks) and the
// generated tests of the packages.
func generateAndVet(t *testing.T, drafts map[string][]byte) {
	t.Helper()
	if testing.Short() {
		t.Log("skipping genlgen and go vet of the drafts in -short mode")
		return
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the generated packages")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	genlgen := testutils.Prebuilt("genlgen")
	if genlgen == "" {
		genlgen = filepath.Join(tmp, "genlgen")
		if out, err := exec.Command(goBin, "build", "-o", genlgen, "../genlgen").CombinedOutput(); err != nil {
			t.Fatalf("go build genlgen: %v\n%s", err, out)
		}
	}
	mod := filepath.Join(tmp, "mod")
	write := func(name, content string) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(mod, "go.mod"), "module drafts\n\ngo 1.26.0\n\nrequire github.com/genlkit/genlkit v0.0.0\n\nreplace github.com/genlkit/genlkit => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(mod, "go.sum"), string(sum))
	for name, data := range drafts {
		file := filepath.Join(mod, "specs", name)
		write(file, string(data))
		pkg := "p" + strings.NewReplacer("-", "", "_", "", ".yaml", "").Replace(strings.ToLower(name))
		cmd := exec.Command(genlgen, "-spec", file, "-o", filepath.Join(mod, pkg))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("genlgen %s: %v\n%s\n%s", name, err, out, data)
		}
	}
	if t.Failed() {
		return
	}
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "-run=^$", "./..."}} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s of the generated packages: %v\n%s", args[0], err, out)
		}
	}
}

// kernelSpecNames lists the families the kernel's specs describe.
func kernelSpecNames(t *testing.T) map[string]bool {
	t.Helper()
	fams, err := spec.LoadDir(spectest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.Name] = true
	}
	return names
}

// TestSpecDraftSpecless drafts a spec of every family the running kernel
// has and no kernel spec describes (TASKSTATS, thermal, SEG6, IOAM6, the
// NLBL_* families, psample…): each draft parses, validates against the
// schema, agrees with the kernel by 'genlkit check', and generates a
// package that builds and vets.
//
// Families the kernel keeps in the initial network namespace (thermal,
// NLBL_*, VFS_DQUOT, acpi_event) are drafted there, which only reads;
// the others in the test's own namespace, through --netns.
func TestSpecDraftSpecless(t *testing.T) {
	ns := testutils.NetNS(t)
	known := kernelSpecNames(t)
	c, ctx := ns.Dial(t)
	inNSFams, err := family.List(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	ic, ictx := testutils.DialInit(t)
	fams, err := family.List(ictx, ic)
	if err != nil {
		t.Fatal(err)
	}
	drafts := map[string][]byte{}
	dir := t.TempDir()
	for _, f := range fams {
		if known[f.Name] {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			run := func(args ...string) result { return cli(t, "", args...) }
			if slices.ContainsFunc(inNSFams, func(g *family.Family) bool { return g.Name == f.Name }) {
				run = func(args ...string) result { return inNS(t, ns, args...) }
			}
			r := run("spec", f.Name)
			wantOK(t, r)
			file := filepath.Join(dir, f.Name+".yaml")
			if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			sf, err := spec.Parse(file, []byte(r.stdout))
			if err != nil {
				t.Fatalf("the draft does not parse: %v\n%s", err, r.stdout)
			}
			drafts[f.Name+".yaml"] = []byte(r.stdout)
			d := sf.Descriptor()
			if d.Name != f.Name || len(d.Ops) != len(f.Ops) || len(d.Groups) != len(f.Groups) {
				t.Errorf("draft of %s: %d ops, %d groups; the kernel has %d, %d", d.Name, len(d.Ops), len(d.Groups), len(f.Ops), len(f.Groups))
			}
			// The draft agrees with the kernel: ops, groups, policies.
			r = run("check", f.Name, "--spec", file, "-o", "table")
			if r.code != 0 || !strings.Contains(r.stdout, "the spec and the kernel agree") {
				t.Errorf("check of the draft: %v\n%s", r, r.stdout)
			}
		})
	}
	for _, name := range []string{"TASKSTATS", "SEG6", "IOAM6", "thermal"} {
		t.Run("drafted/"+name, func(t *testing.T) {
			_, ok := drafts[name+".yaml"]
			testutils.RequireBuiltinFamily(t, ok, name)
		})
	}
	if len(drafts) == 0 {
		t.Fatal("no spec-less family drafted")
	}
	validateSchema(t, drafts)
	generateAndVet(t, drafts)
}

// TestSpecDraftTaskstats pins what the draft of TASKSTATS says on the
// kernels the project runs on (Linux 6.1 to 7.3 register the same ops).
func TestSpecDraftTaskstats(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "TASKSTATS")
	r := inNS(t, ns, "spec", "TASKSTATS", "--placeholders")
	wantOK(t, r)
	sf, err := spec.Parse("TASKSTATS.yaml", []byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	d := sf.Descriptor()
	get := d.Op("cmd-1")
	if d.Protocol != "genetlink-legacy" || get == nil || get.Set != "taskstats" || !slices.Equal(get.Flags, []string{"admin-perm"}) ||
		get.Do == nil || get.Dump != nil || !slices.Equal(get.Do.Request, []string{"attr-1", "attr-2", "attr-3", "attr-4"}) {
		t.Fatalf("TASKSTATS draft:\n%s", r.stdout)
	}
	want := map[uint16]string{1: "u32", 2: "u32", 3: "string", 4: "string"}
	for v, typ := range want {
		if a := d.Set("taskstats").AttrByValue(v); a == nil || a.Type != typ {
			t.Errorf("attribute %d: %+v, want %s", v, a, typ)
		}
	}
}

// TestSpecDraftAgreesWithSpec drafts families the kernel's specs describe,
// by number only (--placeholders), and compares the drafts with the specs
// wherever the kernel's policy speaks: every op's forms and permission
// flags, and the type of every request attribute, by attribute path.
// The drafts with names (no --placeholders) take the spec's names, and
// netdev's passes 'genlkit check' against the kernel.
func TestSpecDraftAgreesWithSpec(t *testing.T) {
	ns := testutils.NetNS(t)
	for _, name := range []string{"netdev", "ethtool", "nlctrl", "tcp_metrics", "mptcp_pm"} {
		t.Run(name, func(t *testing.T) {
			ns.RequireBuiltinFamily(t, name)
			real, ok := family.Lookup(name)
			if !ok {
				t.Fatalf("%s is not compiled in", name)
			}
			r := inNS(t, ns, "spec", name, "--placeholders")
			wantOK(t, r)
			sf, err := spec.Parse(name+".yaml", []byte(r.stdout))
			if err != nil {
				t.Fatalf("%v\n%s", err, r.stdout)
			}
			dd := sf.Descriptor()
			for _, m := range compareDraft(dd, real) {
				t.Error(m)
			}
			// The flags are the kernel's.
			c, ctx := ns.Dial(t)
			f, err := family.Get(ctx, c, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range f.Ops {
				want := slices.DeleteFunc(opFlagNames(op.Flags), func(w string) bool { return !strings.HasSuffix(w, "admin-perm") })
				var got []string
				for i := range dd.Ops {
					if uint32(dd.Ops[i].Value) == op.ID {
						got = dd.Ops[i].Flags
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("cmd %d: draft flags %v, the kernel's %v", op.ID, got, want)
				}
			}
			r = inNS(t, ns, "spec", name)
			wantOK(t, r)
			named, err := spec.Parse(name+".yaml", []byte(r.stdout))
			if err != nil {
				t.Fatalf("%v\n%s", err, r.stdout)
			}
			nd := named.Descriptor()
			for i := range nd.Ops {
				if op := &nd.Ops[i]; strings.HasPrefix(op.Name, "cmd-") {
					t.Errorf("op %s: the spec names command %d", op.Name, op.Value)
				}
			}
			placeholders := 0
			for _, s := range nd.Sets {
				for _, a := range s.Attrs {
					if strings.HasPrefix(a.Name, "attr-") {
						placeholders++
					}
				}
			}
			t.Logf("%s: %d ops, %d sets, %d attributes the spec does not name", name, len(nd.Ops), len(nd.Sets), placeholders)
			if name == "netdev" {
				file := filepath.Join(t.TempDir(), "netdev.yaml")
				if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
				if r := inNS(t, ns, "check", name, "--spec", file, "-o", "json"); r.code != 0 {
					t.Errorf("check of the named draft: %v", r)
				}
			}
		})
	}
}

// compareDraft lists where a draft disagrees with a family's spec: ops
// by command, forms, permission flags, request attribute types by path.
func compareDraft(draft, real *family.Descriptor) []string {
	var out []string
	for i := range draft.Ops {
		dop := &draft.Ops[i]
		var rop *family.OpDesc
		for j := range real.Ops {
			for _, f := range forms(&real.Ops[j]) {
				if f.m.RequestValue == dop.Value {
					rop = &real.Ops[j]
				}
			}
		}
		if rop == nil {
			out = append(out, fmt.Sprintf("cmd %d: no op of the spec has this command", dop.Value))
			continue
		}
		label := fmt.Sprintf("%s (cmd %d)", rop.Name, dop.Value)
		if !slices.Equal(dop.Flags, rop.Flags) && !knownFlagDiff(real.Name, rop) {
			out = append(out, fmt.Sprintf("%s: flags %v, the spec's %v", label, dop.Flags, rop.Flags))
		}
		for _, df := range forms(dop) {
			var rm *family.OpMsgDesc
			for _, rf := range forms(rop) {
				if rf.name == df.name && rf.m.RequestValue == dop.Value {
					rm = rf.m
				}
			}
			if rm == nil {
				out = append(out, fmt.Sprintf("%s: the kernel has %s, the spec does not", label, df.name))
				continue
			}
			dset, rset := draft.Set(dop.Set), real.Set(rop.Set)
			for _, an := range df.m.Request {
				da := dset.Attr(an)
				out = append(out, compareAttr(draft, real, label+" "+df.name, strconv.Itoa(int(da.Value)), da, rset, map[string]bool{})...)
			}
		}
	}
	return out
}

// knownFlagDiff reports whether the kernel's permission flags of op are
// known to differ from its spec: the ethtool spec declares none (the
// kernel's ethtool ops take uns-admin-perm for changes), and netdev's
// bind-rx is admin-perm up to Linux 6.18 where the spec (7.3) says
// uns-admin-perm.
func knownFlagDiff(fam string, op *family.OpDesc) bool {
	return fam == "ethtool" && len(op.Flags) == 0 || fam == "netdev" && op.Name == "bind-rx"
}

// compareAttr compares a draft attribute's type with the spec's attribute
// of the same number in rset, and recurses into nests. An attribute the
// spec's set lacks is no mismatch (the spec may describe less than the
// kernel accepts); the test logs how many the named draft leaves unnamed.
func compareAttr(draft, real *family.Descriptor, label, path string, da *family.AttrDesc, rset *family.SetDesc, seen map[string]bool) []string {
	if rset == nil {
		return nil
	}
	ra := rset.AttrByValue(da.Value)
	if ra == nil {
		// The kernel accepts more than the spec's set says (mptcp_pm's
		// add-addr on Linux 6.1 takes the whole family policy): nothing
		// to compare.
		return nil
	}
	dk, rk := kernelTypes(da.Type), kernelTypes(ra.Type)
	if !slices.ContainsFunc(dk, func(t genl.AttrType) bool { return slices.Contains(rk, t) }) {
		return []string{fmt.Sprintf("%s attribute %s (%s): the draft says %s, the spec %s", label, path, ra.Name, da.Type, ra.Type)}
	}
	key := da.Nested + "/" + ra.Nested
	if da.Nested == "" || seen[key] {
		return nil
	}
	seen[key] = true
	var out []string
	dsub, rsub := draft.Set(da.Nested), real.Set(ra.Nested)
	for i := range dsub.Attrs {
		out = append(out, compareAttr(draft, real, label, path+"."+strconv.Itoa(int(dsub.Attrs[i].Value)), &dsub.Attrs[i], rsub, seen)...)
	}
	return out
}

// TestSpecDraftUsage: a family nobody knows is a usage error; --netns
// names the namespace.
func TestSpecDraftUsage(t *testing.T) {
	r := cli(t, "", "spec")
	wantExit(t, r, exitUsage, "spec: missing arguments")
	ns := testutils.NetNS(t)
	r = inNS(t, ns, "spec", "no-such-family")
	wantExit(t, r, exitUsage, `unknown family "no-such-family"`)
	r = inNS(t, ns, "spec", "nlctrl", "--output", "json")
	wantOK(t, r)
	if json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, "name: nlctrl") {
		t.Errorf("the draft is YAML whatever --output says: %.200s", r.stdout)
	}
}

// TestSpecDraftRequests: a draft describes a spec-less family well enough
// for requests: SEG6's tunnel source is set and read back through the
// draft of the namespace's kernel (commands 3 and 4, SET_TUNSRC and
// GET_TUNSRC; attribute 1, SEG6_ATTR_DST, a 16-byte address).
func TestSpecDraftRequests(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, "SEG6")
	r := inNS(t, ns, "spec", "SEG6", "--placeholders")
	wantOK(t, r)
	file := filepath.Join(t.TempDir(), "seg6.yaml")
	if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	const addr = "20010db8000000000000000000000001" // 2001:db8::1
	wantOK(t, inNS(t, ns, "do", "SEG6", "cmd-3", "--spec", file, "--json", `{"attr-1": "`+addr+`"}`))
	r = inNS(t, ns, "do", "SEG6", "cmd-4", "--spec", file)
	wantOK(t, r)
	wantJSON(t, r.stdout, `{"attr-1": "`+addr+`"}`)
}

package spec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
	"github.com/genlkit/genlkit/internal/spec/spectest"
)

// kernelFamilies are the families of the kernel specs expected in the specs
// directory, by file.
var kernelFamilies = map[string]string{
	"devlink.yaml":      "devlink",
	"dpll.yaml":         "dpll",
	"ethtool.yaml":      "ethtool",
	"fou.yaml":          "fou",
	"handshake.yaml":    "handshake",
	"lockd.yaml":        "lockd",
	"mptcp_pm.yaml":     "mptcp_pm",
	"net_shaper.yaml":   "net-shaper",
	"netdev.yaml":       "netdev",
	"nfsd.yaml":         "nfsd",
	"nlctrl.yaml":       "nlctrl",
	"ovs_datapath.yaml": "ovs_datapath",
	"ovs_vport.yaml":    "ovs_vport",
	"tcp_metrics.yaml":  "tcp_metrics",
	"wireguard.yaml":    "wireguard",
}

func loadKernel(t *testing.T, file string) *spec.Family {
	t.Helper()
	f, err := spec.Load(spectest.File(t, file))
	if err != nil {
		t.Fatalf("Load(%s): %v", file, err)
	}
	return f
}

// TestKernelSpecs loads every spec of the specs directory one by one. All
// of them are generic netlink specs (none is netlink-raw) and must load.
func TestKernelSpecs(t *testing.T) {
	dir := spectest.Dir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no specs in %s", dir)
	}
	loaded := 0
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), "\nprotocol: netlink-raw") {
				t.Fatalf("%s is a netlink-raw spec; all specs here are expected to be generic netlink", base)
			}
			f, err := spec.Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			loaded++
			if want, ok := kernelFamilies[base]; ok && f.Name != want {
				t.Errorf("family name = %q, want %q", f.Name, want)
			}
			if f.Path != path {
				t.Errorf("Path = %q, want %q", f.Path, path)
			}
			if !strings.Contains(f.License, "BSD-3-Clause") {
				t.Errorf("License = %q", f.License)
			}
			checkResolved(t, f)
		})
	}
	if loaded != len(files) {
		t.Errorf("loaded %d of %d specs", loaded, len(files))
	}
	for base := range kernelFamilies {
		if _, err := os.Stat(filepath.Join(dir, base)); err != nil {
			t.Errorf("expected spec %s: %v", base, err)
		}
	}
}

// checkResolved checks that every reference of a loaded family has its
// pointer set and that the lookups agree with the lists.
func checkResolved(t *testing.T, f *spec.Family) {
	t.Helper()
	for _, d := range f.Definitions {
		if f.Definition(d.Name) != d {
			t.Errorf("Definition(%q) mismatch", d.Name)
		}
		for _, e := range d.Entries {
			if d.Entry(e.Name) != e {
				t.Errorf("%s: Entry(%q) mismatch", d.Name, e.Name)
			}
		}
		for _, m := range d.Members {
			if m.Enum != "" && m.EnumDef == nil || m.Struct != "" && m.StructDef == nil {
				t.Errorf("struct %s member %s: unresolved reference", d.Name, m.Name)
			}
		}
	}
	for _, s := range f.AttributeSets {
		if f.AttributeSet(s.Name) != s {
			t.Errorf("AttributeSet(%q) mismatch", s.Name)
		}
		if s.IsSubset() && (s.Parent == nil || s.Parent.Name != s.SubsetOf) {
			t.Errorf("set %s: Parent not resolved", s.Name)
		}
		for _, a := range s.Attributes {
			if a.Set != s {
				t.Errorf("%s.%s: Set mismatch", s.Name, a.Name)
			}
			if s.Attribute(a.Name) != a || s.ByValue(a.Value) != a {
				t.Errorf("%s.%s: lookup mismatch", s.Name, a.Name)
			}
			if a.Type == "" {
				t.Errorf("%s.%s: no type", s.Name, a.Name)
			}
			if a.NestedAttributes != "" && a.Nested == nil ||
				a.Enum != "" && a.EnumDef == nil ||
				a.Struct != "" && a.StructDef == nil {
				t.Errorf("%s.%s: unresolved reference", s.Name, a.Name)
			}
			if s.IsSubset() {
				if a.Parent == nil || a.Parent.Value != a.Value || a.Parent.Set != s.Parent {
					t.Errorf("%s.%s: subset attribute not merged with its parent", s.Name, a.Name)
				}
			}
			if c := a.Checks; c != nil && c.FlagsMask != "" && c.FlagsMaskDef == nil {
				t.Errorf("%s.%s: flags-mask unresolved", s.Name, a.Name)
			}
		}
	}
	for _, op := range f.Operations.List {
		if f.Op(op.Name) != op {
			t.Errorf("Op(%q) mismatch", op.Name)
		}
		if !op.IsReserved() && op.Set == nil {
			t.Errorf("op %s: no attribute set", op.Name)
		}
		if op.Notify != "" && op.NotifyOp == nil || op.Mcgrp != "" && op.McastGrp == nil ||
			op.FixedHeader != "" && op.FixedHeaderDef == nil {
			t.Errorf("op %s: unresolved reference", op.Name)
		}
		if op.IsCall() && !op.HasRequestValue {
			t.Errorf("op %s: no request value", op.Name)
		}
		if op.IsCall() && f.OpByRequestValue(op.RequestValue) != op {
			t.Errorf("op %s: OpByRequestValue(%d) mismatch", op.Name, op.RequestValue)
		}
		for _, m := range []*spec.Mode{op.Do, op.Dump} {
			if m == nil {
				continue
			}
			for _, msg := range []*spec.Message{m.Request, m.Reply} {
				if msg == nil {
					continue
				}
				for _, a := range msg.Attributes {
					if a.Set != op.Set {
						t.Errorf("op %s: attribute %s not from the op's set", op.Name, a.Name)
					}
				}
			}
		}
		if op.IsAsync() && !op.HasReplyValue {
			t.Errorf("op %s: notification without a value", op.Name)
		}
	}
	for _, g := range f.MulticastGroups {
		if f.McastGroup(g.Name) != g {
			t.Errorf("McastGroup(%q) mismatch", g.Name)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := spectest.Dir(t)
	fams, err := spec.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(fams) != len(files) {
		t.Errorf("LoadDir returned %d families for %d files", len(fams), len(files))
	}
	for i := 1; i < len(fams); i++ {
		if fams[i-1].Name >= fams[i].Name {
			t.Errorf("families not sorted: %q before %q", fams[i-1].Name, fams[i].Name)
		}
	}
}

func TestLoadDirSkipsNetlinkRaw(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", strings.Replace(minimal, "name: test", "name: bbb", 1))
	write("a.yaml", strings.Replace(minimal, "name: test", "name: zzz", 1))
	write("raw.yaml", "name: rt-link\nprotocol: netlink-raw\nprotonum: 0\n")
	write("notes.txt", "not a spec")
	fams, err := spec.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fams {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "bbb,zzz" {
		t.Errorf("families = %s, want bbb,zzz", got)
	}
	// Loading the netlink-raw spec directly is an error.
	if _, err := spec.Load(filepath.Join(dir, "raw.yaml")); err == nil ||
		!strings.Contains(err.Error(), `raw.yaml:2:11: protocol "netlink-raw" is not supported`) {
		t.Errorf("Load(raw.yaml) error = %v", err)
	}
	// Invalid specs are reported along with the valid families.
	write("bad.yaml", minimal+"bogus: 1\n")
	fams, err = spec.LoadDir(dir)
	if len(fams) != 2 || err == nil || !strings.Contains(err.Error(), `bad.yaml:`) {
		t.Errorf("LoadDir with a bad spec = %d families, %v", len(fams), err)
	}
}

func TestFind(t *testing.T) {
	dir := spectest.Dir(t)
	for _, tc := range []struct{ name, file string }{
		{"net-shaper", "net_shaper.yaml"},
		{"net_shaper", "net_shaper.yaml"},
		{"net_shaper.yaml", "net_shaper.yaml"},
		{"netdev", "netdev.yaml"},
		{"nlctrl", "nlctrl.yaml"},
		{"ovs_vport", "ovs_vport.yaml"},
	} {
		f, err := spec.Find(dir, tc.name)
		if err != nil {
			t.Errorf("Find(%q): %v", tc.name, err)
			continue
		}
		if filepath.Base(f.Path) != tc.file {
			t.Errorf("Find(%q) loaded %s, want %s", tc.name, f.Path, tc.file)
		}
	}
	if _, err := spec.Find(dir, "no-such-family"); err == nil {
		t.Error("Find(no-such-family) succeeded")
	}
}

func TestKernelNlctrl(t *testing.T) {
	f := loadKernel(t, "nlctrl.yaml")
	// nlctrl's spec has no version; the kernel reports 2.
	if f.Version != 1 || f.VersionSet {
		t.Errorf("Version = %d (set %v), want default 1", f.Version, f.VersionSet)
	}
	if f.Protocol != spec.ProtocolGenetlinkLegacy || f.Operations.EnumModel != spec.EnumModelDirectional {
		t.Errorf("protocol %s, enum-model %s", f.Protocol, f.Operations.EnumModel)
	}
	if f.UAPIHeader != "linux/genetlink.h" {
		t.Errorf("UAPIHeader = %q", f.UAPIHeader)
	}
	get := f.Op("getfamily")
	// CTRL_CMD_GETFAMILY = 3, replies are CTRL_CMD_NEWFAMILY = 1.
	if get.RequestValue != 3 || get.ReplyValue != 1 || get.Dump.Reply.Value != 1 || get.Dump.Request != nil {
		t.Errorf("getfamily values: req %d rsp %d dump rsp %d", get.RequestValue, get.ReplyValue, get.Dump.Reply.Value)
	}
	if got := names(get.Do.Request.Attributes); got != "family-name" {
		t.Errorf("getfamily do request = %s", got)
	}
	pol := f.Op("getpolicy")
	if pol.RequestValue != 10 || pol.ReplyValue != 10 || pol.Do != nil {
		t.Errorf("getpolicy values: req %d rsp %d", pol.RequestValue, pol.ReplyValue)
	}
	if ops := f.OpsByReplyValue(1); len(ops) != 1 || ops[0] != get {
		t.Errorf("OpsByReplyValue(1) = %v", ops)
	}
	flags := f.Definition("op-flags")
	if flags.EnumName == nil || *flags.EnumName != "" {
		t.Errorf("op-flags enum-name = %v, want null (empty)", flags.EnumName)
	}
	if got := pairs(flags.Values()); got != "admin-perm=1 cmd-cap-do=2 cmd-cap-dump=4 cmd-cap-haspol=8 uns-admin-perm=16" {
		t.Errorf("op-flags values = %s", got)
	}
	if got := pairs(f.Definition("attr-type").Values()); !strings.HasPrefix(got, "invalid=0 flag=1 u8=2") || !strings.HasSuffix(got, "uint=17") {
		t.Errorf("attr-type values = %s", got)
	}
	policy := f.AttributeSet("ctrl-attrs").Attribute("policy")
	if policy.Type != spec.TypeNestTypeValue || strings.Join(policy.TypeValue, ",") != "policy-id,attr-id" || policy.Nested.Name != "policy-attrs" {
		t.Errorf("policy attribute = %+v", policy)
	}
	opsAttr := f.AttributeSet("ctrl-attrs").ByValue(6)
	if opsAttr.Name != "ops" || opsAttr.Type != spec.TypeIndexedArray || opsAttr.SubType != spec.TypeNest {
		t.Errorf("ctrl-attrs value 6 = %+v", opsAttr)
	}
	fl := f.AttributeSet("op-attrs").Attribute("flags")
	if fl.EnumDef != flags || !fl.EnumAsFlags {
		t.Errorf("op-attrs flags: enum %v as-flags %v", fl.EnumDef, fl.EnumAsFlags)
	}
	if p := fl.KeyPos("enum"); p.File != "nlctrl.yaml" || p.Line != 111 || p.Col != 15 {
		t.Errorf("KeyPos(enum) = %v, want nlctrl.yaml:111:15", p)
	}
	if pad := f.AttributeSet("policy-attrs").Attribute("pad"); pad.Type != spec.TypePad || pad.Value != 12 {
		t.Errorf("pad = %+v", pad)
	}
}

func TestKernelEthtoolDirectional(t *testing.T) {
	f := loadKernel(t, "ethtool.yaml")
	if f.Operations.EnumModel != spec.EnumModelDirectional {
		t.Fatalf("enum-model = %s", f.Operations.EnumModel)
	}
	// Values from include/uapi/linux/ethtool_netlink_generated.h:
	// ETHTOOL_MSG_* (user to kernel) and ETHTOOL_MSG_*_REPLY / _NTF (kernel
	// to user) enums.
	for _, tc := range []struct {
		op       string
		req, rsp int // -1: none
	}{
		{"strset-get", 1, 1},
		{"linkinfo-set", 3, -1},
		{"linkinfo-ntf", -1, 3},
		{"features-get", 11, 11},
		{"features-set", 12, 12},
		{"features-ntf", -1, 13},
		{"privflags-get", 13, 14},
		{"tsinfo-get", 25, 26},
		{"cable-test-act", 26, -1},
		{"cable-test-ntf", -1, 27},
		{"cable-test-tdr-ntf", -1, 28},
		{"plca-get-status", 41, 40},
		{"module-fw-flash-ntf", -1, 44},
		{"tsconfig-set", 47, 48},
		{"pse-ntf", -1, 49},
		{"rss-create-act", 49, 51},
		{"rss-delete-ntf", -1, 53},
	} {
		op := f.Op(tc.op)
		if op == nil {
			t.Errorf("no op %s", tc.op)
			continue
		}
		req, rsp := -1, -1
		if op.HasRequestValue {
			req = int(op.RequestValue)
		}
		if op.HasReplyValue {
			rsp = int(op.ReplyValue)
		}
		if req != tc.req || rsp != tc.rsp {
			t.Errorf("%s: request %d reply %d, want %d %d", tc.op, req, rsp, tc.req, tc.rsp)
		}
	}
	ntf := f.Op("linkinfo-ntf")
	if ntf.NotifyOp != f.Op("linkinfo-get") || ntf.Set != f.Op("linkinfo-get").Set || ntf.McastGrp != nil {
		t.Errorf("linkinfo-ntf not resolved: %+v", ntf)
	}
	if got, want := names(ntf.NotifyAttributes()), names(f.Op("linkinfo-get").Do.Reply.Attributes); got != want || got == "" {
		t.Errorf("linkinfo-ntf attributes %s, want %s", got, want)
	}
	ev := f.Op("cable-test-ntf")
	if ev.Event == nil || ev.Event.Value != 27 || names(ev.NotifyAttributes()) != "header,status" {
		t.Errorf("cable-test-ntf event = %+v", ev.Event)
	}
	if g := f.McastGroup("monitor"); g == nil || g.CDefineName != "ethtool-mcgrp-monitor-name" {
		t.Errorf("monitor group = %+v", g)
	}
	rxfh := f.Definition("rxfh-fields")
	if rxfh.Entry("l2da").Mask() != 2 || rxfh.Entry("vlan").Value != 2 || rxfh.Entry("discard").Mask() != 1<<31 {
		t.Errorf("rxfh-fields values: %s", pairs(rxfh.Values()))
	}
}

func TestKernelDevlink(t *testing.T) {
	f := loadKernel(t, "devlink.yaml")
	pg := f.Op("port-get")
	// port-get answers do with DEVLINK_CMD_PORT_NEW (7) but, due to a
	// kernel bug, dump with DEVLINK_CMD_NEW (3).
	if pg.RequestValue != 5 || pg.ReplyValue != 7 || pg.Do.Reply.Value != 7 || pg.Dump.Reply.Value != 3 || pg.Dump.Request.Value != 5 {
		t.Errorf("port-get values: req %d rsp %d do %d dump %d", pg.RequestValue, pg.ReplyValue, pg.Do.Reply.Value, pg.Dump.Reply.Value)
	}
	if ops := f.OpsByReplyValue(3); len(ops) != 2 || ops[0].Name != "get" || ops[1].Name != "port-get" {
		t.Errorf("OpsByReplyValue(3) = %v", ops)
	}
	if pn := f.Op("port-new"); pn.RequestValue != 7 || pn.ReplyValue != 7 {
		t.Errorf("port-new: req %d rsp %d", pn.RequestValue, pn.ReplyValue)
	}
	// dl-dpipe-table lists dpipe-table-name and dpipe-table-size twice.
	if len(f.Warnings) != 2 {
		t.Errorf("warnings = %v", f.Warnings)
	}
	tbl := f.AttributeSet("dl-dpipe-table")
	if tbl.Attributes[0].Name != "dpipe-table-name" || tbl.Attributes[2].Name != "dpipe-table-matches" {
		t.Errorf("dl-dpipe-table = %s", names(tbl.Attributes))
	}
	bw := f.AttributeSet("dl-rate-tc-bws").Attribute("index")
	if bw == nil || bw.Checks == nil || bw.Checks.Max.Const != "rate-tc-index-max" || bw.Checks.Max.Value.String() != "7" {
		t.Errorf("dl-rate-tc-bws index checks = %+v", bw)
	}
}

func TestKernelSubsetAndChecks(t *testing.T) {
	f := loadKernel(t, "netdev.yaml")
	info := f.AttributeSet("page-pool-info")
	if info.Parent != f.AttributeSet("page-pool") || info.NamePrefix != info.Parent.NamePrefix {
		t.Fatalf("page-pool-info parent = %v", info.Parent)
	}
	id := info.Attribute("id")
	pid := info.Parent.Attribute("id")
	if id.Type != spec.TypeUint || id.Value != pid.Value || id.Parent != pid || id.Checks == nil {
		t.Errorf("page-pool-info id = %+v", id)
	}
	if id.Checks.Max.Limit != "u32-max" || id.Checks.Max.Value != spec.UintOf(1<<32-1) || id.Checks.Min.Value != spec.IntOf(1) {
		t.Errorf("checks = min %+v max %+v", id.Checks.Min, id.Checks.Max)
	}
	if id.Pos.Line == pid.Pos.Line || id.KeyPos("type") != pid.KeyPos("type") {
		t.Errorf("positions: subset attr %v, type at %v (parent's type at %v)", id.Pos, id.KeyPos("type"), pid.KeyPos("type"))
	}
	ifi := f.AttributeSet("page-pool").Attribute("ifindex")
	if ifi.Checks.Max.Value != spec.IntOf(1<<31-1) {
		t.Errorf("s32-max = %v", ifi.Checks.Max.Value)
	}
	ps := f.Definition("page-size")
	if ps.Type != spec.DefConst || ps.Scope != spec.ScopeKernel || ps.Header != "asm/page.h" || ps.Value.Sign() != 0 {
		t.Errorf("page-size = %+v", ps)
	}

	wg := loadKernel(t, "wireguard.yaml")
	pk := wg.AttributeSet("wgdevice").Attribute("private-key")
	if pk.Checks.ExactLen.Const != "key-len" || pk.Checks.ExactLen.Raw != "wg-key-len" || pk.Checks.ExactLen.Value != spec.IntOf(32) {
		t.Errorf("exact-len = %+v", pk.Checks.ExactLen)
	}
	ts := wg.Definition("--kernel-timespec")
	if ts.Size != 16 || ts.Members[1].Offset != 8 {
		t.Errorf("--kernel-timespec size %d", ts.Size)
	}
	if unspec := wg.AttributeSet("wgdevice").ByValue(0); unspec == nil || unspec.Type != spec.TypeUnused {
		t.Errorf("wgdevice value 0 = %v", unspec)
	}
	if ifi := wg.AttributeSet("wgdevice").Attribute("ifindex"); ifi.Value != 1 {
		t.Errorf("ifindex after explicit 0 = %d", ifi.Value)
	}
}

func TestKernelFixedHeader(t *testing.T) {
	f := loadKernel(t, "ovs_datapath.yaml")
	if f.Version != 2 || !f.VersionSet {
		t.Errorf("version = %d", f.Version)
	}
	hdr := f.Operations.FixedHeaderDef
	if hdr == nil || hdr.Name != "ovs-header" || hdr.Size != 4 {
		t.Fatalf("fixed header = %+v", hdr)
	}
	for _, op := range f.Operations.List {
		if op.FixedHeaderDef != hdr {
			t.Errorf("op %s fixed header = %v", op.Name, op.FixedHeaderDef)
		}
	}
	if s := f.Definition("ovs-dp-megaflow-stats"); s.Size != 32 {
		t.Errorf("megaflow stats size = %d", s.Size)
	}

	h := loadKernel(t, "handshake.yaml")
	ready := h.Op("ready")
	// ready notifies "accept", defined after it, and takes its attribute set.
	if ready.NotifyOp != h.Op("accept") || ready.Set != h.AttributeSet("accept") || ready.RequestValue != 1 {
		t.Errorf("ready = %+v", ready)
	}
	if got := names(ready.NotifyAttributes()); !strings.HasPrefix(got, "sockfd,message-type") {
		t.Errorf("ready attributes = %s", got)
	}
	if d := h.Definition("handler-class"); d.ValueStart != 0 || pairs(d.Values()) != "none=0 tlshd=1 max=2" {
		t.Errorf("handler-class = %s", pairs(d.Values()))
	}
	if st := h.AttributeSet("done").Attribute("status"); st.Checks.Max.Value != spec.IntOf(4095) || st.Checks.Max.Const != "max-errno" {
		t.Errorf("status max = %+v", st.Checks.Max)
	}
}

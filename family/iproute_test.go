package family

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// This file parses what iproute2's `genl ctrl list` and `genl ctrl policy`
// print, so tests can compare genlkit's answers with an independent reader.

var (
	reName   = regexp.MustCompile(`^Name: (\S+)`)
	reHeader = regexp.MustCompile(`^\s*ID: (0x[0-9a-f]+)\s+Version: (0x[0-9a-f]+)\s+header size: (\d+)\s+max attribs: (\d+)`)
	reOp     = regexp.MustCompile(`^\s*#\d+:\s+ID-(0x[0-9a-f]+)\s*$`)
	reCaps   = regexp.MustCompile(`^\s*Capabilities \((0x[0-9a-f]+)\):`)
	reGroup  = regexp.MustCompile(`^\s*#\d+:\s+ID-(0x[0-9a-f]+)\s+name: (\S+)`)
)

func num(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

const flagsUnknown = ^OpFlags(0)

// parseCtrlList parses `genl ctrl list` output.
func parseCtrlList(t *testing.T, out string) []*Family {
	t.Helper()
	var fams []*Family
	var cur *Family
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := reName.FindStringSubmatch(line); m != nil {
			cur = &Family{Name: m[1]}
			fams = append(fams, cur)
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case reHeader.MatchString(line):
			m := reHeader.FindStringSubmatch(line)
			cur.ID = uint16(num(t, m[1]))
			cur.Version = uint32(num(t, m[2]))
			cur.HeaderSize = uint32(num(t, m[3]))
			cur.MaxAttr = uint32(num(t, m[4]))
		case reGroup.MatchString(line):
			m := reGroup.FindStringSubmatch(line)
			cur.Groups = append(cur.Groups, Group{ID: uint32(num(t, m[1])), Name: m[2]})
		case reOp.MatchString(line):
			m := reOp.FindStringSubmatch(line)
			// iproute2 6.1 prints capabilities for some families only;
			// flagsUnknown marks an op whose flags it did not print.
			cur.Ops = append(cur.Ops, Op{ID: uint32(num(t, m[1])), Flags: flagsUnknown})
		case reCaps.MatchString(line):
			m := reCaps.FindStringSubmatch(line)
			cur.Ops[len(cur.Ops)-1].Flags = OpFlags(num(t, m[1]))
		}
	}
	return fams
}

var (
	reOpPolicy   = regexp.MustCompile(`^\s*ID: 0x[0-9a-f]+\s+op (\d+) policies:(.*)$`)
	reAttrPolicy = regexp.MustCompile(`^\s*ID: 0x[0-9a-f]+\s+policy\[(\d+)\]:attr\[(\d+)\]: type=(\S+)(.*)$`)
)

// iprouteTypes maps iproute2's type names to genlkit's. iproute2 6.1 prints
// "unknown" for types newer than itself (uint, sint).
var iprouteTypes = map[string]genl.AttrType{
	"FLAG": genl.AttrTypeFlag, "U8": genl.AttrTypeU8, "U16": genl.AttrTypeU16,
	"U32": genl.AttrTypeU32, "U64": genl.AttrTypeU64, "S8": genl.AttrTypeS8,
	"S16": genl.AttrTypeS16, "S32": genl.AttrTypeS32, "S64": genl.AttrTypeS64,
	"BINARY": genl.AttrTypeBinary, "STRING": genl.AttrTypeString,
	"NUL_STRING": genl.AttrTypeNulString, "NESTED": genl.AttrTypeNested,
	"NESTED_ARRAY": genl.AttrTypeNestedArray, "BITFIELD32": genl.AttrTypeBitfield32,
}

// policyText renders one attribute policy the way iproute2 prints it, so
// that genlkit's decoded policy can be compared line by line.
func policyText(a AttrPolicy) string {
	var b strings.Builder
	name := "unknown"
	for n, t := range iprouteTypes {
		if t == a.Type {
			name = n
		}
	}
	b.WriteString("type=" + name)
	switch {
	case a.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S) || a.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S):
		fmt.Fprintf(&b, " range:[%d,%d]", a.MinValueS, a.MaxValueS)
	case a.Has(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U) || a.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U):
		fmt.Fprintf(&b, " range:[%d,%d]", a.MinValueU, a.MaxValueU)
	}
	if a.Has(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH) {
		fmt.Fprintf(&b, " min len:%d", a.MinLength)
	}
	if a.Has(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH) {
		fmt.Fprintf(&b, " max len:%d", a.MaxLength)
	}
	if a.Has(unix.NL_POLICY_TYPE_ATTR_POLICY_IDX) {
		fmt.Fprintf(&b, " policy:%d maxattr:%d", a.PolicyIdx, a.PolicyMaxType)
	}
	// iproute2 6.1 prints neither masks nor bitfield32 masks.
	return b.String()
}

// An iprouteOp is one "op N policies: ..." line of `genl ctrl policy`.
type iprouteOp struct {
	id       uint32
	policies string // "do=0 dump=1"
}

// parseCtrlPolicy parses `genl ctrl policy name X` into op lines
// ("op 1: do=0 dump=1"), in the order printed, and attribute lines
// ("policy[0]:attr[1]: type=U32 range:[1,4294967295]"), both normalised for
// comparison.
func parseCtrlPolicy(t *testing.T, out string) (ops []iprouteOp, attrs map[string]string) {
	t.Helper()
	attrs = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := reOpPolicy.FindStringSubmatch(line); m != nil {
			ops = append(ops, iprouteOp{uint32(num(t, m[1])), strings.TrimSpace(m[2])})
			continue
		}
		if m := reAttrPolicy.FindStringSubmatch(line); m != nil {
			key := fmt.Sprintf("policy[%s]:attr[%s]", m[1], m[2])
			attrs[key] = strings.Join(strings.Fields("type="+m[3]+" "+m[4]), " ")
			continue
		}
		if strings.TrimSpace(line) != "" {
			t.Fatalf("unparsed genl ctrl policy line: %q", line)
		}
	}
	return ops, attrs
}

// fileIprouteOps files the op lines of `genl ctrl policy` under their
// commands. iproute2 prints what nlctrl sends: an op without a do handler
// as "op 0". The kernel lists ops with a policy in the order GETFAMILY
// lists them, so the i-th line belongs to the i-th op of f flagged
// has-policy; a line under 0 must belong to an op without do.
func fileIprouteOps(t *testing.T, f *Family, lines []iprouteOp) map[uint32]string {
	t.Helper()
	var withPolicy []Op
	for _, o := range f.Ops {
		if o.Flags&OpHasPolicy != 0 {
			withPolicy = append(withPolicy, o)
		}
	}
	if len(withPolicy) != len(lines) {
		t.Fatalf("genl ctrl policy printed %d ops, the family has %d with a policy", len(lines), len(withPolicy))
	}
	out := map[uint32]string{}
	for i, l := range lines {
		o := withPolicy[i]
		if l.id != o.ID && (l.id != 0 || o.Flags&OpDo != 0) {
			t.Fatalf("genl ctrl policy line %d is op %d, op %d (%v) expected", i, l.id, o.ID, o.Flags)
		}
		out[o.ID] = l.policies
	}
	return out
}

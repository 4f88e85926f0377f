package ioam6_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/family/ioam6"
	"github.com/genlkit/genlkit/internal/testutils"
)

func TestMain(m *testing.M) { testutils.Main(m) }

// record is one IOAM namespace or schema as both sides print it:
// "ns 123 schema 7 data 0xdeadbeef wide 0x1122334455667788" or
// "sc 7 ns 123 data 61626364".
type records []string

var (
	nsLine = regexp.MustCompile(`^namespace (\d+)(?: \[schema (\d+)\])?(?:, data (0x[0-9a-f]+))?(?:, wide (0x[0-9a-f]+))?$`)
	scLine = regexp.MustCompile(`^schema (\d+)(?: \[namespace (\d+)\])?, data: ?([0-9a-f ]*)$`)
)

// ipRecords parses `ip ioam namespace show` or `ip ioam schema show`.
func ipRecords(t *testing.T, ns *testutils.NS, what string) records {
	t.Helper()
	var out records
	for _, line := range strings.Split(strings.TrimSpace(ns.IP(t, "ioam", what, "show")), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if m := nsLine.FindStringSubmatch(line); m != nil {
			r := "ns " + m[1]
			if m[2] != "" {
				r += " schema " + m[2]
			}
			if m[3] != "" {
				r += " data " + hexNumber(t, m[3])
			}
			if m[4] != "" {
				r += " wide " + hexNumber(t, m[4])
			}
			out = append(out, r)
		} else if m := scLine.FindStringSubmatch(line); m != nil {
			r := "sc " + m[1]
			if m[2] != "" {
				r += " ns " + m[2]
			}
			out = append(out, r+" data "+strings.ReplaceAll(m[3], " ", ""))
		} else {
			t.Fatalf("ip ioam %s show: unexpected line %q", what, line)
		}
	}
	slices.Sort(out)
	return out
}

// hexNumber returns the 0x number s (ip prints leading zeros) as %#x.
func hexNumber(t *testing.T, s string) string {
	t.Helper()
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%#x", u)
}

func typedRecords(t *testing.T, c *ioam6.Client, ctx context.Context, schemas bool) records {
	t.Helper()
	var out records
	dump := c.DumpNamespacesDump
	if schemas {
		dump = c.DumpSchemasDump
	}
	for v, err := range dump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		var r string
		if schemas {
			r = "sc " + strconv.Itoa(int(v.ScID.Value))
			if v.NsID.Valid {
				r += " ns " + strconv.Itoa(int(v.NsID.Value))
			}
			r += " data " + hex.EncodeToString(v.ScData)
		} else {
			r = "ns " + strconv.Itoa(int(v.NsID.Value))
			if v.ScID.Valid {
				r += " schema " + strconv.Itoa(int(v.ScID.Value))
			}
			if v.NsData.Valid {
				r += fmt.Sprintf(" data %#x", v.NsData.Value)
			}
			if v.NsDataWide.Valid {
				r += fmt.Sprintf(" wide %#x", v.NsDataWide.Value)
			}
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// TestNamespacesAndSchemas adds, links, dumps and deletes IOAM namespaces
// and schemas of a private network namespace, half with the typed client
// and half with iproute2, and checks after each step that the typed dumps
// and `ip ioam ... show` list the same.
func TestNamespacesAndSchemas(t *testing.T) {
	ns := testutils.NetNS(t)
	ns.RequireBuiltinFamily(t, ioam6.FamilyName)
	conn, ctx := ns.Dial(t)
	c, err := ioam6.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, wantNS, wantSC records) {
		t.Helper()
		for _, x := range []struct {
			what      string
			typed, ip records
			want      records
		}{
			{"namespaces", typedRecords(t, c, ctx, false), ipRecords(t, ns, "namespace"), wantNS},
			{"schemas", typedRecords(t, c, ctx, true), ipRecords(t, ns, "schema"), wantSC},
		} {
			if !slices.Equal(x.typed, x.ip) || !slices.Equal(x.typed, x.want) {
				t.Errorf("%s: %s:\n typed %q\n ip    %q\n want  %q", step, x.what, x.typed, x.ip, x.want)
			}
		}
	}
	check("fresh", nil, nil)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.AddNamespace(ctx, &ioam6.AddNamespaceRequest{NsID: ioam6.Some[uint16](123), NsData: ioam6.Some[uint32](0xdeadbeef), NsDataWide: ioam6.Some[uint64](0x1122334455667788)}))
	must(c.AddNamespace(ctx, &ioam6.AddNamespaceRequest{NsID: ioam6.Some[uint16](124)}))
	ns.IP(t, "ioam", "namespace", "add", "125", "data", "5")
	must(c.AddSchema(ctx, &ioam6.AddSchemaRequest{ScID: ioam6.Some[uint32](7), ScData: []byte("abcd")}))
	ns.IP(t, "ioam", "schema", "add", "8", "wxyz")
	check("added", records{"ns 123 data 0xdeadbeef wide 0x1122334455667788", "ns 124", "ns 125 data 0x5"},
		records{"sc 7 data 61626364", "sc 8 data 7778797a"})

	must(c.NsSetSchema(ctx, &ioam6.NsSetSchemaRequest{NsID: ioam6.Some[uint16](123), ScID: ioam6.Some[uint32](7)}))
	ns.IP(t, "ioam", "namespace", "set", "125", "schema", "8")
	check("linked", records{"ns 123 schema 7 data 0xdeadbeef wide 0x1122334455667788", "ns 124", "ns 125 schema 8 data 0x5"},
		records{"sc 7 ns 123 data 61626364", "sc 8 ns 125 data 7778797a"})

	must(c.NsSetSchema(ctx, &ioam6.NsSetSchemaRequest{NsID: ioam6.Some[uint16](125), ScNone: true}))
	check("unlinked", records{"ns 123 schema 7 data 0xdeadbeef wide 0x1122334455667788", "ns 124", "ns 125 data 0x5"},
		records{"sc 7 ns 123 data 61626364", "sc 8 data 7778797a"})

	// Errors come back as the kernel's: a namespace added twice.
	if err := c.AddNamespace(ctx, &ioam6.AddNamespaceRequest{NsID: ioam6.Some[uint16](124)}); err == nil {
		t.Error("namespace 124 added twice")
	}

	must(c.DelSchema(ctx, &ioam6.DelSchemaRequest{ScID: ioam6.Some[uint32](7)}))
	must(c.DelNamespace(ctx, &ioam6.DelNamespaceRequest{NsID: ioam6.Some[uint16](123)}))
	must(c.DelNamespace(ctx, &ioam6.DelNamespaceRequest{NsID: ioam6.Some[uint16](124)}))
	ns.IP(t, "ioam", "namespace", "del", "125")
	ns.IP(t, "ioam", "schema", "del", "8")
	check("deleted", nil, nil)

	// The trace event group subscribes.
	sub, err := c.Subscribe(ctx, "ioam6_events")
	if err != nil {
		t.Fatal(err)
	}
	sub.Close()
}

package nlblmgmt_test

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/nlblmgmt"
	"github.com/genlkit/genlkit/internal/testutils"
)

func TestMain(m *testing.M) { testutils.Main(m) }

// TestReadConfiguration reads the NetLabel configuration with the typed
// client, changing nothing (NetLabel is host-wide): the protocol version
// is 3, the supported protocols include unlabeled, the default mapping
// of each address family reads back, and the domain mappings dump.
func TestReadConfiguration(t *testing.T) {
	conn, ctx := testutils.DialInit(t)
	c, err := nlblmgmt.New(ctx, conn)
	if err != nil {
		testutils.RequireBuiltinFamily(t, !errors.Is(err, family.ErrNotFound), nlblmgmt.FamilyName)
		t.Fatal(err)
	}
	v, err := c.Version(ctx)
	if err != nil || v.Version.Value != 3 {
		t.Fatalf("version %+v, %v; want 3", v, err)
	}
	var protos []nlblmgmt.Protocol
	for p, err := range c.ProtocolsDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		protos = append(protos, p.Protocol.Value)
	}
	t.Logf("protocols %v", protos)
	if !slices.Contains(protos, nlblmgmt.ProtocolUnlabeled) {
		t.Errorf("protocols %v: no unlabeled", protos)
	}
	for _, af := range []uint16{unix.AF_INET, unix.AF_INET6} {
		def, err := c.Listdef(ctx, &nlblmgmt.ListdefRequest{Family: nlblmgmt.Some(af)})
		switch {
		case errors.Is(err, unix.ENOENT):
			t.Logf("family %d: no default mapping", af)
		case err != nil:
			t.Errorf("family %d: %v", af, err)
		case !def.Protocol.Valid && def.Selectorlist == nil:
			t.Errorf("family %d: default mapping without protocol or selectors: %+v", af, def)
		default:
			t.Logf("family %d: default %v", af, def.Protocol.Value)
		}
	}
	for d, err := range c.ListallDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if !d.Domain.Valid {
			t.Errorf("mapping without a domain: %+v", d)
		}
	}
}

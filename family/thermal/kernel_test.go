package thermal_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/family/thermal"
	"github.com/genlkit/genlkit/internal/testutils"
)

func TestMain(m *testing.M) { testutils.Main(m) }

// sysfs lists "id name" for each /sys/class/thermal/<prefix>N.
func sysfs(t *testing.T, prefix string) []string {
	t.Helper()
	dirs, _ := filepath.Glob("/sys/class/thermal/" + prefix + "*")
	var out []string
	for _, d := range dirs {
		typ, err := os.ReadFile(filepath.Join(d, "type"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimPrefix(filepath.Base(d), prefix)+" "+strings.TrimSpace(string(typ)))
	}
	slices.Sort(out)
	return out
}

func pairs(ids []uint32, names []string) []string {
	var out []string
	for i, id := range ids {
		n := ""
		if i < len(names) {
			n = names[i]
		}
		out = append(out, strconv.Itoa(int(id))+" "+n)
	}
	slices.Sort(out)
	return out
}

// TestZonesAndCoolingDevices: the typed dumps list the thermal zones and
// cooling devices sysfs shows (none on a machine without any: the dumps
// are then empty); each zone answers tz-get-temp, tz-get-trip and
// tz-get-gov; a zone that does not exist is EINVAL; the event and sampling
// groups subscribe.
func TestZonesAndCoolingDevices(t *testing.T) {
	conn, ctx := testutils.DialInit(t)
	c, err := thermal.New(ctx, conn)
	if err != nil {
		testutils.RequireBuiltinFamily(t, !errors.Is(err, family.ErrNotFound), thermal.FamilyName)
		t.Fatal(err)
	}
	var zones, cdevs []string
	for v, err := range c.TzGetIDDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if v.Tz != nil {
			zones = append(zones, pairs(v.Tz.TzID, v.Tz.TzName)...)
		}
	}
	for v, err := range c.CdevGetDump(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if v.Cdev != nil {
			cdevs = append(cdevs, pairs(v.Cdev.CdevID, v.Cdev.CdevName)...)
		}
	}
	slices.Sort(zones)
	slices.Sort(cdevs)
	if want := sysfs(t, "thermal_zone"); !slices.Equal(zones, want) {
		t.Errorf("zones: typed %q, sysfs %q", zones, want)
	}
	if want := sysfs(t, "cooling_device"); !slices.Equal(cdevs, want) {
		t.Errorf("cooling devices: typed %q, sysfs %q", cdevs, want)
	}
	t.Logf("%d thermal zones, %d cooling devices", len(zones), len(cdevs))
	ids := []uint32{}
	for _, z := range zones {
		id, _ := strconv.Atoi(strings.Fields(z)[0])
		ids = append(ids, uint32(id))
	}
	for _, id := range ids {
		temp, err := c.TzGetTemp(ctx, &thermal.TzGetTempRequest{TzID: thermal.Some(id)})
		if err != nil && !errors.Is(err, unix.ENODATA) && !errors.Is(err, unix.EAGAIN) {
			t.Errorf("zone %d: temperature: %v", id, err)
		} else if err == nil && (temp.TzID.Value != id || !temp.TzTemp.Valid) {
			t.Errorf("zone %d: temperature reply %+v", id, temp)
		}
		if _, err := c.TzGetTrip(ctx, &thermal.TzGetTripRequest{TzID: thermal.Some(id)}); err != nil {
			t.Errorf("zone %d: trips: %v", id, err)
		}
		if gov, err := c.TzGetGov(ctx, &thermal.TzGetGovRequest{TzID: thermal.Some(id)}); err != nil || !gov.TzGovName.Valid {
			t.Errorf("zone %d: governor %+v: %v", id, gov, err)
		}
	}
	missing := uint32(1 << 30)
	if _, err := c.TzGetTemp(ctx, &thermal.TzGetTempRequest{TzID: thermal.Some(missing)}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("temperature of a zone that does not exist: %v, want EINVAL", err)
	}
	sub, err := c.Subscribe(ctx, "event", "sampling")
	if err != nil {
		t.Fatal(err)
	}
	sub.Close()
}

// TestDecodeZoneList: the zones of a tz nest are pairs of repeated tz-id
// and tz-name attributes, decoded as two lists of one length; events
// decode by their command into their own types.
func TestDecodeZoneList(t *testing.T) {
	var e attrs.Encoder
	n := e.Nest(thermal.AttrTz)
	for i, name := range []string{"acpitz", "x86_pkg_temp"} {
		e.U32(thermal.AttrTzID, uint32(i))
		e.String(thermal.AttrTzName, name)
	}
	e.End(n)
	var v thermal.Thermal
	if err := v.UnmarshalAttrs(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if got := pairs(v.Tz.TzID, v.Tz.TzName); !slices.Equal(got, []string{"0 acpitz", "1 x86_pkg_temp"}) {
		t.Errorf("zones %q", got)
	}
	e = attrs.Encoder{}
	e.U32(thermal.AttrTzID, 3)
	e.U32(thermal.AttrTzTemp, uint32(0xffffec78)) // -5000 millidegrees
	if err := v.UnmarshalAttrs(e.Bytes()); err != nil || v.TzTemp.Value != -5000 {
		t.Errorf("negative temperature: %+v, %v", v.TzTemp, err)
	}
}

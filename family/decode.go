package family

import (
	"fmt"

	"github.com/genlkit/genlkit/attrs"
	"golang.org/x/sys/unix"
)

// Attribute names for error paths, indexed by attribute type.
var (
	ctrlAttrNames = []string{
		unix.CTRL_ATTR_FAMILY_ID:    "family-id",
		unix.CTRL_ATTR_FAMILY_NAME:  "family-name",
		unix.CTRL_ATTR_VERSION:      "version",
		unix.CTRL_ATTR_HDRSIZE:      "hdrsize",
		unix.CTRL_ATTR_MAXATTR:      "maxattr",
		unix.CTRL_ATTR_OPS:          "ops",
		unix.CTRL_ATTR_MCAST_GROUPS: "mcast-groups",
		unix.CTRL_ATTR_POLICY:       "policy",
		unix.CTRL_ATTR_OP_POLICY:    "op-policy",
		unix.CTRL_ATTR_OP:           "op",
	}
	opAttrNames    = []string{unix.CTRL_ATTR_OP_ID: "id", unix.CTRL_ATTR_OP_FLAGS: "flags"}
	mcastAttrNames = []string{unix.CTRL_ATTR_MCAST_GRP_NAME: "name", unix.CTRL_ATTR_MCAST_GRP_ID: "id"}
)

// A familyAlloc hands out the memory of decoded families. A message is
// decoded once into scratch space on the stack; then the family gets
// exactly sized ops and groups carved out of shared backing arrays (slabs,
// never reallocated once handed out from), and all its names come from one
// string. Decoding a family so costs a few allocations, and a list of them
// not many more.
type familyAlloc struct {
	fams   []Family
	ops    []Op
	groups []Group
	// min sizes new slabs: 0 sizes them exactly, for a single lookup.
	minFams, minOps, minGroups int
}

// listAlloc returns a familyAlloc for a list of families.
func listAlloc() *familyAlloc { return &familyAlloc{minFams: 16, minOps: 128, minGroups: 32} }

func (a *familyAlloc) family() *Family {
	if len(a.fams) == cap(a.fams) {
		a.fams = make([]Family, 0, max(1, a.minFams))
	}
	a.fams = a.fams[:len(a.fams)+1]
	return &a.fams[len(a.fams)-1]
}

// opSlice returns a copy of src carved from the op slab.
func (a *familyAlloc) opSlice(src []Op) []Op {
	n := len(src)
	if n == 0 {
		return nil
	}
	if cap(a.ops)-len(a.ops) < n {
		a.ops = make([]Op, 0, max(n, a.minOps))
	}
	l := len(a.ops)
	a.ops = append(a.ops, src...)
	return a.ops[l : l+n : l+n]
}

// groupSlice returns n groups carved from the group slab.
func (a *familyAlloc) groupSlice(n int) []Group {
	if n == 0 {
		return nil
	}
	if cap(a.groups)-len(a.groups) < n {
		a.groups = make([]Group, 0, max(n, a.minGroups))
	}
	l := len(a.groups)
	a.groups = a.groups[:l+n]
	return a.groups[l : l+n : l+n]
}

// decode decodes a CTRL_CMD_NEWFAMILY message into a new family.
func (a *familyAlloc) decode(b []byte) (*Family, error) {
	var sc familyScratch
	d, err := sc.decoding().decode(b)
	if err != nil {
		return nil, err
	}
	names := string(d.names)
	f := a.family()
	// Field by field, from values without pointers into the scratch
	// space: escape analysis would otherwise move it to the heap.
	*f = Family{
		ID: d.f.ID, Name: d.name.of(names), Version: d.f.Version,
		HeaderSize: d.f.HeaderSize, MaxAttr: d.f.MaxAttr,
		Ops: a.opSlice(d.f.Ops), Groups: a.groupSlice(len(d.f.Groups)),
	}
	for i, g := range d.f.Groups {
		f.Groups[i] = Group{ID: g.ID, Name: d.gnames[i].of(names)}
	}
	return f, nil
}

// decodeFamily decodes the attributes of a CTRL_CMD_NEWFAMILY message (a
// reply to GETFAMILY, or a notification) into f, reusing f's slices.
// Unknown attributes are skipped; malformed ones are errors with their path.
func decodeFamily(b []byte, f *Family) error {
	var sc familyScratch
	d, err := sc.decoding().decode(b)
	if err != nil {
		return err
	}
	names := string(d.names)
	*f = Family{
		ID: d.f.ID, Name: d.name.of(names), Version: d.f.Version,
		HeaderSize: d.f.HeaderSize, MaxAttr: d.f.MaxAttr,
		Ops: append(f.Ops[:0], d.f.Ops...), Groups: f.Groups[:0],
	}
	for i, g := range d.f.Groups {
		f.Groups = append(f.Groups, Group{ID: g.ID, Name: d.gnames[i].of(names)})
	}
	return nil
}

// familyScratch is stack space for decoding a family; a family that needs
// more grows onto the heap.
type familyScratch struct {
	ops    [64]Op
	groups [8]Group
	names  [128]byte
	gnames [8]span
}

func (sc *familyScratch) decoding() familyDecoding {
	return familyDecoding{
		f:      Family{Ops: sc.ops[:0], Groups: sc.groups[:0]},
		names:  sc.names[:0],
		gnames: sc.gnames[:0],
	}
}

// A familyDecoding is a CTRL_CMD_NEWFAMILY message being decoded: the
// family without its names, the names' bytes one after the other, and
// where in them the family's and each group's name are. It is passed and
// returned by value so that its slices may point at the caller's stack.
type familyDecoding struct {
	f      Family
	names  []byte
	name   span
	gnames []span
}

// A span locates a name in familyDecoding.names.
type span struct{ off, end int }

func (s span) of(names string) string { return names[s.off:s.end] }

func (d familyDecoding) addName(b []byte) (familyDecoding, span) {
	off := len(d.names)
	d.names = append(d.names, b...)
	return d, span{off, len(d.names)}
}

// decode decodes b, appending to d's slices, and returns the result.
func (d familyDecoding) decode(b []byte) (familyDecoding, error) {
	var sawID, sawName bool
	var ad attrs.Decoder
	ad.Reset(b)
	ad.SetNames(ctrlAttrNames)
	for ad.Next() {
		switch ad.Type() {
		case unix.CTRL_ATTR_FAMILY_ID:
			d.f.ID = ad.U16()
			sawID = true
		case unix.CTRL_ATTR_FAMILY_NAME:
			d, d.name = d.addName(ad.StringBytes())
			sawName = true
		case unix.CTRL_ATTR_VERSION:
			d.f.Version = ad.U32()
		case unix.CTRL_ATTR_HDRSIZE:
			d.f.HeaderSize = ad.U32()
		case unix.CTRL_ATTR_MAXATTR:
			d.f.MaxAttr = ad.U32()
		case unix.CTRL_ATTR_OPS:
			// An indexed array: each entry's type is its position.
			arr := ad.Nested()
			for arr.Next() {
				var o Op
				od := arr.Nested()
				od.SetNames(opAttrNames)
				for od.Next() {
					switch od.Type() {
					case unix.CTRL_ATTR_OP_ID:
						o.ID = od.U32()
					case unix.CTRL_ATTR_OP_FLAGS:
						o.Flags = OpFlags(od.U32())
					}
				}
				d.f.Ops = append(d.f.Ops, o)
			}
		case unix.CTRL_ATTR_MCAST_GROUPS:
			arr := ad.Nested()
			for arr.Next() {
				var g Group
				var name span
				gd := arr.Nested()
				gd.SetNames(mcastAttrNames)
				for gd.Next() {
					switch gd.Type() {
					case unix.CTRL_ATTR_MCAST_GRP_ID:
						g.ID = gd.U32()
					case unix.CTRL_ATTR_MCAST_GRP_NAME:
						d, name = d.addName(gd.StringBytes())
					}
				}
				d.f.Groups = append(d.f.Groups, g)
				d.gnames = append(d.gnames, name)
			}
		}
	}
	if err := ad.Err(); err != nil {
		return d, err
	}
	if !sawID || !sawName {
		return d, fmt.Errorf("nlctrl: family message without %s", missing(sawID, sawName))
	}
	return d, nil
}

func missing(id, name bool) string {
	switch {
	case !id && !name:
		return "family-id and family-name"
	case !id:
		return "family-id"
	}
	return "family-name"
}

// encodeFamilyRequest appends the attributes of a GETFAMILY request for name.
func encodeFamilyRequest(e *attrs.Encoder, name string) {
	e.String(unix.CTRL_ATTR_FAMILY_NAME, name)
}

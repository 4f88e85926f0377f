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

// A familyAlloc hands out the memory of decoded families. Families, ops and
// groups are carved out of shared backing arrays, each family exactly the
// slices it needs, and all the names of one family come from one string,
// so that decoding a family costs a few allocations and a list of them not
// many more. Slabs are never reallocated once handed out from.
type familyAlloc struct {
	fams   []Family
	ops    []Op
	groups []Group
	// min sizes new slabs: 0 sizes them exactly, for a single lookup.
	minFams, minOps, minGroups int
}

// listAlloc returns a familyAlloc for a list of families.
func listAlloc() familyAlloc { return familyAlloc{minFams: 16, minOps: 128, minGroups: 32} }

func (a *familyAlloc) family() *Family {
	if len(a.fams) == cap(a.fams) {
		a.fams = make([]Family, 0, max(1, a.minFams))
	}
	a.fams = a.fams[:len(a.fams)+1]
	return &a.fams[len(a.fams)-1]
}

func (a *familyAlloc) opSlice(n int) []Op {
	if n == 0 {
		return nil
	}
	if cap(a.ops)-len(a.ops) < n {
		a.ops = make([]Op, 0, max(n, a.minOps))
	}
	l := len(a.ops)
	a.ops = a.ops[:l+n]
	return a.ops[l : l : l+n]
}

func (a *familyAlloc) groupSlice(n int) []Group {
	if n == 0 {
		return nil
	}
	if cap(a.groups)-len(a.groups) < n {
		a.groups = make([]Group, 0, max(n, a.minGroups))
	}
	l := len(a.groups)
	a.groups = a.groups[:l+n]
	return a.groups[l : l : l+n]
}

// decode decodes a CTRL_CMD_NEWFAMILY message into a new family, in two
// passes: the first counts the ops and groups and gathers the names, the
// second decodes into exactly sized slices.
func (a *familyAlloc) decode(b []byte) (*Family, error) {
	var buf [256]byte
	nOps, nGroups, names := scanFamily(b, buf[:0])
	f := a.family()
	*f = Family{Ops: a.opSlice(nOps), Groups: a.groupSlice(nGroups)}
	if err := decodeFamilyNames(b, f, string(names)); err != nil {
		return nil, err
	}
	return f, nil
}

// scanFamily is decoding's first pass: it counts the ops and groups of a
// CTRL_CMD_NEWFAMILY message and appends its names, in attribute order, to
// names. Malformed attributes end it quietly; the second pass reports them.
func scanFamily(b []byte, names []byte) (nOps, nGroups int, _ []byte) {
	var d attrs.Decoder
	d.Reset(b)
	for d.Next() {
		switch d.Type() {
		case unix.CTRL_ATTR_FAMILY_NAME:
			names = append(names, d.StringBytes()...)
		case unix.CTRL_ATTR_OPS:
			arr := d.Nested()
			for arr.Next() {
				nOps++
			}
		case unix.CTRL_ATTR_MCAST_GROUPS:
			arr := d.Nested()
			for arr.Next() {
				nGroups++
				gd := arr.Nested()
				for gd.Next() {
					if gd.Type() == unix.CTRL_ATTR_MCAST_GRP_NAME {
						names = append(names, gd.StringBytes()...)
					}
				}
			}
		}
	}
	return nOps, nGroups, names
}

// nameTaker hands out the names gathered by scanFamily, in order, as
// substrings of one string; a name that does not match (or any name when
// there is no string) is copied instead.
type nameTaker struct {
	s   string
	off int
}

func (t *nameTaker) take(b []byte) string {
	if end := t.off + len(b); end <= len(t.s) && t.s[t.off:end] == string(b) {
		s := t.s[t.off:end]
		t.off = end
		return s
	}
	return string(b)
}

// decodeFamily decodes the attributes of a CTRL_CMD_NEWFAMILY message (a
// reply to GETFAMILY, or a notification) into f, reusing f's slices.
// Unknown attributes are skipped; malformed ones are errors with their path.
func decodeFamily(b []byte, f *Family) error {
	*f = Family{Ops: f.Ops[:0], Groups: f.Groups[:0]}
	return decodeFamilyNames(b, f, "")
}

// decodeFamilyNames decodes b into f, whose fields other than Ops and
// Groups must be zero, appending to f.Ops and f.Groups and taking names
// from names (see nameTaker).
func decodeFamilyNames(b []byte, f *Family, names string) error {
	var sawID, sawName bool
	t := nameTaker{s: names}
	var d attrs.Decoder
	d.Reset(b)
	d.SetNames(ctrlAttrNames)
	for d.Next() {
		switch d.Type() {
		case unix.CTRL_ATTR_FAMILY_ID:
			f.ID = d.U16()
			sawID = true
		case unix.CTRL_ATTR_FAMILY_NAME:
			f.Name = t.take(d.StringBytes())
			sawName = true
		case unix.CTRL_ATTR_VERSION:
			f.Version = d.U32()
		case unix.CTRL_ATTR_HDRSIZE:
			f.HeaderSize = d.U32()
		case unix.CTRL_ATTR_MAXATTR:
			f.MaxAttr = d.U32()
		case unix.CTRL_ATTR_OPS:
			// An indexed array: each entry's type is its position.
			arr := d.Nested()
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
				f.Ops = append(f.Ops, o)
			}
		case unix.CTRL_ATTR_MCAST_GROUPS:
			arr := d.Nested()
			for arr.Next() {
				var g Group
				gd := arr.Nested()
				gd.SetNames(mcastAttrNames)
				for gd.Next() {
					switch gd.Type() {
					case unix.CTRL_ATTR_MCAST_GRP_ID:
						g.ID = gd.U32()
					case unix.CTRL_ATTR_MCAST_GRP_NAME:
						g.Name = t.take(gd.StringBytes())
					}
				}
				f.Groups = append(f.Groups, g)
			}
		}
	}
	if err := d.Err(); err != nil {
		return err
	}
	if !sawID || !sawName {
		return fmt.Errorf("nlctrl: family message without %s", missing(sawID, sawName))
	}
	return nil
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

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

// decodeFamily decodes the attributes of a CTRL_CMD_NEWFAMILY message (a
// reply to GETFAMILY, or a notification) into f, reusing f's slices.
// Unknown attributes are skipped; malformed ones are errors with their path.
func decodeFamily(b []byte, f *Family) error {
	*f = Family{Ops: f.Ops[:0], Groups: f.Groups[:0]}
	var sawID, sawName bool
	d := attrs.NewDecoder(b)
	d.SetNames(ctrlAttrNames)
	for d.Next() {
		switch d.Type() {
		case unix.CTRL_ATTR_FAMILY_ID:
			f.ID = d.U16()
			sawID = true
		case unix.CTRL_ATTR_FAMILY_NAME:
			f.Name = d.String()
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
						g.Name = gd.String()
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

func newFamily(b []byte) (*Family, error) {
	f := new(Family)
	if err := decodeFamily(b, f); err != nil {
		return nil, err
	}
	return f, nil
}

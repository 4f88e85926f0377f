package familytest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/family"
	"golang.org/x/sys/unix"
)

// Lengths of the netlink and generic netlink headers that come before a
// request's fixed header and attributes.
const (
	nlmsgHdrLen = 16
	genlHdrLen  = 4
)

// A location is where an extended ACK points in a request: the offset of
// an attribute's header from the start of the netlink message, or, for an
// attribute the request lacks, its type and the offset of the nest that
// lacks it.
type location struct {
	offset   uint32 // NLMSGERR_ATTR_OFFS, 0 for none
	missType uint16 // NLMSGERR_ATTR_MISS_TYPE, 0 for none
	missNest uint32 // NLMSGERR_ATTR_MISS_NEST, 0 for the top level
}

// locate finds the attribute named by path (see Error.Path) in the
// request's attributes, following the op's attribute set through nests;
// "header" is the fixed header of an op that has one (and no attribute
// of that name).
func (c *Call) locate(path string) (location, error) {
	base := nlmsgHdrLen + genlHdrLen
	set := c.s.d.Set(c.op.Set)
	if path == "header" && c.hdrLen > 0 && (set == nil || set.Attr("header") == nil) {
		return location{offset: uint32(base)}, nil
	}
	skip := 0 // array indexes and keys to pass before set applies again
	data, off := c.Attrs(), base+c.hdrLen
	nest := -1
	for seg := range strings.SplitSeq(path, ".") {
		typ, next, nextSkip, err := step(c.s.d, set, skip, seg)
		if err != nil {
			return location{}, fmt.Errorf("path %q: %w", path, err)
		}
		set, skip = next, nextSkip
		found := false
		var d attrs.Decoder
		d.Reset(data)
		at := off
		for d.Next() {
			a := d.Attr()
			if a.Type == typ {
				data, off, found = a.Data, at+attrs.HeaderLen, true
				break
			}
			at += attrs.Align(attrs.HeaderLen + len(a.Data))
		}
		if !found {
			// The request lacks it (or the nest holding the rest of the
			// path): the kernel reports the outermost missing attribute.
			loc := location{missType: typ}
			if nest >= 0 {
				loc.missNest = uint32(nest)
			}
			return loc, nil
		}
		nest = at
	}
	return location{offset: uint32(nest)}, nil
}

// step resolves one path segment in set (nil when the path left the sets
// the descriptor knows) and returns its attribute type and the set and
// index levels that apply below it.
func step(d *family.Descriptor, set *family.SetDesc, skip int, seg string) (uint16, *family.SetDesc, int, error) {
	if n, err := strconv.ParseUint(seg, 10, 16); err == nil {
		typ := uint16(n)
		if skip > 0 {
			return typ, set, skip - 1, nil
		}
		if set != nil {
			if a := set.AttrByValue(typ); a != nil {
				next, nextSkip := below(d, a)
				return typ, next, nextSkip, nil
			}
		}
		return typ, nil, 0, nil
	}
	switch {
	case skip > 0:
		return 0, nil, 0, fmt.Errorf("%q where an index or key is expected", seg)
	case set == nil:
		return 0, nil, 0, fmt.Errorf("%q is inside an attribute that is not a nest of a known set", seg)
	}
	a := set.Attr(seg)
	if a == nil {
		return 0, nil, 0, fmt.Errorf("set %s has no attribute %q", set.Name, seg)
	}
	next, nextSkip := below(d, a)
	return a.Value, next, nextSkip, nil
}

// below returns the set of the attributes inside a, and how many levels of
// indexes or keys come first.
func below(d *family.Descriptor, a *family.AttrDesc) (*family.SetDesc, int) {
	switch a.Type {
	case "nest":
		return d.Set(a.Nested), 0
	case "indexed-array":
		if a.SubType == "nest" {
			return d.Set(a.Nested), 1
		}
		return nil, 1
	case "nest-type-value":
		return d.Set(a.Nested), len(a.TypeValue)
	}
	return nil, 0
}

// validate refuses, as strict validation of the op's policy does, a
// request with a top-level attribute the op's request does not list: EINVAL
// with "Unknown attribute type" above the policy's highest type and
// "Unsupported attribute" below it, pointing at the attribute. It applies
// to families of protocol genetlink (the specs of genetlink-legacy
// families describe kernels that validate liberally) and to ops whose
// request has attributes (others have no policy).
func (c *Call) validate() error {
	form := c.op.Do
	if c.dump {
		form = c.op.Dump
	}
	set := c.s.d.Set(c.op.Set)
	if c.s.d.Protocol != "genetlink" || form == nil || len(form.Request) == 0 || set == nil {
		return nil
	}
	var maxType uint16
	allowed := map[uint16]bool{}
	for _, name := range form.Request {
		if a := set.Attr(name); a != nil {
			allowed[a.Value] = true
			maxType = max(maxType, a.Value)
		}
	}
	var d attrs.Decoder
	d.Reset(c.Attrs())
	for d.Next() {
		a := d.Attr()
		switch {
		case a.Type > maxType:
			return &Error{Errno: unix.EINVAL, Message: "Unknown attribute type", Path: strconv.Itoa(int(a.Type))}
		case !allowed[a.Type]:
			return &Error{Errno: unix.EINVAL, Message: "Unsupported attribute", Path: strconv.Itoa(int(a.Type))}
		}
	}
	if err := d.Err(); err != nil {
		return &Error{Errno: unix.EINVAL, Message: "malformed attributes: " + err.Error()}
	}
	return nil
}

package family

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// nlctrl's fixed identity: its id and version never change.
const (
	ctrlID      = unix.GENL_ID_CTRL
	ctrlVersion = 2
	// NotifyGroup is the id of nlctrl's "notify" multicast group, where the
	// kernel announces families and groups coming and going.
	NotifyGroup = unix.GENL_ID_CTRL
)

var ctrlNames genl.AttrNamer = func(parents []uint16, typ uint16) string {
	if len(parents) == 0 && int(typ) < len(ctrlAttrNames) {
		return ctrlAttrNames[typ]
	}
	return ""
}

// Get asks the kernel for the family called name, without caching. A family
// the kernel lacks gives an error matching [ErrNotFound] (and
// os.ErrNotExist) that names it.
func Get(ctx context.Context, c *genl.Conn, name string) (*Family, error) {
	var e attrs.Encoder
	var buf [64]byte
	e.Reset(buf[:0])
	encodeFamilyRequest(&e, name)
	f, err := get(ctx, c, e.Bytes())
	if err != nil {
		return nil, lookupError("family "+strconv.Quote(name), err)
	}
	return f, nil
}

// GetByID asks the kernel for the family with the given id, without caching.
func GetByID(ctx context.Context, c *genl.Conn, id uint16) (*Family, error) {
	var e attrs.Encoder
	var buf [16]byte
	e.Reset(buf[:0])
	e.U16(unix.CTRL_ATTR_FAMILY_ID, id)
	f, err := get(ctx, c, e.Bytes())
	if err != nil {
		return nil, lookupError(fmt.Sprintf("family id %#x", id), err)
	}
	return f, nil
}

func get(ctx context.Context, c *genl.Conn, req []byte) (*Family, error) {
	f := new(Family)
	got := false
	err := c.Do(ctx, genl.Request{
		Family: ctrlID, Command: unix.CTRL_CMD_GETFAMILY, Version: ctrlVersion,
		Attrs: req, Names: ctrlNames,
	}, func(m genl.Message) error {
		if got {
			return errors.New("nlctrl: more than one reply to getfamily")
		}
		got = true
		return decodeFamily(m.Data, f)
	})
	if err != nil {
		return nil, err
	}
	if !got {
		return nil, errors.New("nlctrl: getfamily acknowledged without a reply")
	}
	return f, nil
}

// lookupError turns the kernel's ENOENT into ErrNotFound, keeping the
// kernel's error in the chain.
func lookupError(what string, err error) error {
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%s: %w: %w", what, ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// List returns every family the kernel has registered, with one dump, in
// the kernel's order.
func List(ctx context.Context, c *genl.Conn) ([]*Family, error) {
	var out []*Family
	for m, err := range c.Dump(ctx, genl.Request{
		Family: ctrlID, Command: unix.CTRL_CMD_GETFAMILY, Version: ctrlVersion, Names: ctrlNames,
	}) {
		if err != nil {
			return out, fmt.Errorf("list families: %w", err)
		}
		f := new(Family)
		if err := decodeFamily(m.Data, f); err != nil {
			return out, fmt.Errorf("list families: %w", err)
		}
		out = append(out, f)
	}
	return out, nil
}

// GetPolicy dumps the attribute policy of the family called name: of every
// operation, or only of op when it is not nil.
func GetPolicy(ctx context.Context, c *genl.Conn, name string, op *uint32) (*Policy, error) {
	var e attrs.Encoder
	e.String(unix.CTRL_ATTR_FAMILY_NAME, name)
	if op != nil {
		e.U32(unix.CTRL_ATTR_OP, *op)
	}
	what := "policy of family " + strconv.Quote(name)
	if op != nil {
		what += " op " + strconv.Itoa(int(*op))
	}
	var b policyBuilder
	for m, err := range c.Dump(ctx, genl.Request{
		Family: ctrlID, Command: unix.CTRL_CMD_GETPOLICY, Version: ctrlVersion,
		Attrs: e.Bytes(), Names: ctrlNames,
	}) {
		if err != nil {
			return nil, lookupError(what, err)
		}
		if err := b.add(m.Data); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	p := b.policy()
	if p.Family == "" {
		p.Family = name
	}
	return p, nil
}

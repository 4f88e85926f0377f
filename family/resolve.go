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
	g := newGetter()
	e := g.encoder()
	encodeFamilyRequest(&e, name)
	f, err := g.get(ctx, c, e.Bytes())
	if err != nil {
		return nil, lookupError("family "+strconv.Quote(name), err)
	}
	return f, nil
}

// GetByID asks the kernel for the family with the given id, without caching.
func GetByID(ctx context.Context, c *genl.Conn, id uint16) (*Family, error) {
	g := newGetter()
	e := g.encoder()
	e.U16(unix.CTRL_ATTR_FAMILY_ID, id)
	f, err := g.get(ctx, c, e.Bytes())
	if err != nil {
		return nil, lookupError(fmt.Sprintf("family id %#x", id), err)
	}
	return f, nil
}

// A getter is one GETFAMILY lookup: its request, its reply, and the
// memory of the family it returns, all in one allocation. The family
// points into the getter (its ops and groups too, when few), which it
// keeps alive.
type getter struct {
	f      *Family
	a      familyAlloc
	req    [64]byte
	fam    [1]Family
	ops    [8]Op
	groups [4]Group
}

func newGetter() *getter {
	g := new(getter)
	g.a = familyAlloc{fams: g.fam[:0], ops: g.ops[:0], groups: g.groups[:0]}
	return g
}

// encoder returns an attribute encoder over the getter's request buffer.
func (g *getter) encoder() attrs.Encoder {
	var e attrs.Encoder
	e.Reset(g.req[:0])
	return e
}

func (g *getter) reply(m genl.Message) error {
	if g.f != nil {
		return errors.New("nlctrl: more than one reply to getfamily")
	}
	f, err := g.a.decode(m.Data)
	g.f = f
	return err
}

// get sends a GETFAMILY request with the attributes req. GETFAMILY always
// answers with a reply or an error, so the request asks for no ACK.
func (g *getter) get(ctx context.Context, c *genl.Conn, req []byte) (*Family, error) {
	err := c.Do(ctx, genl.Request{
		Family: ctrlID, Command: unix.CTRL_CMD_GETFAMILY, Version: ctrlVersion,
		Attrs: req, Names: ctrlNames, ExpectReply: true,
	}, g.reply)
	if err != nil {
		return nil, err
	}
	if g.f == nil {
		return nil, errors.New("nlctrl: getfamily completed without a reply")
	}
	return g.f, nil
}

// lookupError names what was looked up in err and turns the kernel's ENOENT
// into ErrNotFound.
func lookupError(what string, err error) error {
	return fmt.Errorf("%s: %w", what, notFoundError(err))
}

// notFoundError turns the kernel's ENOENT into ErrNotFound, keeping the
// kernel's error in the chain.
func notFoundError(err error) error {
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// List returns every family the kernel has registered, with one dump, in
// the kernel's order.
func List(ctx context.Context, c *genl.Conn) ([]*Family, error) {
	out := make([]*Family, 0, 32)
	a := listAlloc()
	for m, err := range c.Dump(ctx, genl.Request{
		Family: ctrlID, Command: unix.CTRL_CMD_GETFAMILY, Version: ctrlVersion, Names: ctrlNames,
	}) {
		if err != nil {
			return out, fmt.Errorf("list families: %w", err)
		}
		f, err := a.decode(m.Data)
		if err != nil {
			return out, fmt.Errorf("list families: %w", err)
		}
		out = append(out, f)
	}
	return out, nil
}

// GetPolicy dumps the attribute policy of the family called name: of every
// operation, or only of op when it is not nil. Every operation's do and
// dump tables are filed under its own command, including those of an
// operation without a do handler, which nlctrl reports under command 0 (for
// those GetPolicy also asks for the family's op list, to tell them apart).
//
// Kernels before 6.2 flag an operation OpHasPolicy when the family has a
// policy, even when the operation only has a dump handler whose requests
// the kernel does not validate (GENL_DONT_VALIDATE_DUMP: SEG6's dumphmac,
// nl80211's get-scan), and leave that operation out of the policy dump: the
// result has no entry for it (Policy.Op reports false), as nothing checks
// its requests' attributes.
func GetPolicy(ctx context.Context, c *genl.Conn, name string, op *uint32) (*Policy, error) {
	what := "policy of family " + strconv.Quote(name)
	if op != nil {
		what += " op " + strconv.Itoa(int(*op))
	}
	// A family that is replaced between the dump and the op list does not
	// line up; ask again a few times before giving up.
	const attempts = 3
	var err error
	for range attempts {
		var p *Policy
		p, err = getPolicy(ctx, c, name, op)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, errOpsMismatch) {
			break
		}
	}
	return nil, fmt.Errorf("%s: %w", what, err)
}

// getPolicy is one attempt of GetPolicy: the dump, then, when an op's
// policies came under command 0, the family's op list to file them.
func getPolicy(ctx context.Context, c *genl.Conn, name string, op *uint32) (*Policy, error) {
	var e attrs.Encoder
	var buf [64]byte
	e.Reset(buf[:0])
	e.String(unix.CTRL_ATTR_FAMILY_NAME, name)
	if op != nil {
		e.U32(unix.CTRL_ATTR_OP, *op)
	}
	var b policyBuilder
	for m, err := range c.Dump(ctx, genl.Request{
		Family: ctrlID, Command: unix.CTRL_CMD_GETPOLICY, Version: ctrlVersion,
		Attrs: e.Bytes(), Names: ctrlNames,
	}) {
		if err != nil {
			return nil, notFoundError(err)
		}
		if err := b.add(m.Data); err != nil {
			return nil, err
		}
	}
	var f *Family
	if op == nil && b.needsOps() {
		var err error
		if f, err = Get(ctx, c, name); err != nil {
			return nil, fmt.Errorf("list its ops: %w", err)
		}
	}
	if err := b.fileOps(op, f); err != nil {
		return nil, err
	}
	p := b.policy()
	if p.Family == "" {
		p.Family = name
	}
	return p, nil
}

// Package family resolves generic netlink families through the kernel's
// NETLINK_GENERIC controller (nlctrl): ids, versions, header sizes, operations
// with their flags, multicast groups, and attribute policies.
//
// Every generic netlink family but nlctrl gets its id when it registers, so
// a client must ask nlctrl before it can say anything. A [Resolver] asks once
// per family, shares the answer between goroutines, and keeps it fresh by
// listening to nlctrl's "notify" multicast group: a family that goes away and
// comes back with a new id is resolved again.
package family

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNotFound reports a family, group or operation the running kernel does
// not have. It matches [fs.ErrNotExist] (and so os.ErrNotExist) too.
var ErrNotFound = notFound{}

type notFound struct{}

func (notFound) Error() string        { return "not found" }
func (notFound) Is(target error) bool { return target == fs.ErrNotExist }

// ErrNotSupported reports an operation the running kernel's family lacks, or
// lacks in the form asked for (do or dump), found before anything is sent.
var ErrNotSupported = errors.New("operation not supported by the running kernel")

// A Family is a generic netlink family as the running kernel reports it.
type Family struct {
	// ID is the family id, used as the netlink message type.
	ID uint16
	// Name is the family name, such as "netdev".
	Name string
	// Version is the family's version.
	Version uint32
	// HeaderSize is the size of the family's fixed header, which sits
	// between the generic netlink header and the attributes.
	HeaderSize uint32
	// MaxAttr is the highest attribute type the family's policy accepts.
	MaxAttr uint32
	// Ops are the operations (commands) the family accepts, in kernel order.
	Ops []Op
	// Groups are the family's multicast groups, in kernel order.
	Groups []Group
}

// An Op is one operation (command) of a family.
type Op struct {
	// ID is the command number.
	ID uint32
	// Flags say what the operation supports and needs.
	Flags OpFlags
}

// OpFlags are the capability flags nlctrl reports for an operation.
type OpFlags uint32

// Operation flags, from linux/genetlink.h.
const (
	OpAdminPerm    OpFlags = unix.GENL_ADMIN_PERM     // needs CAP_NET_ADMIN in the initial user namespace
	OpDo           OpFlags = unix.GENL_CMD_CAP_DO     // accepts do requests
	OpDump         OpFlags = unix.GENL_CMD_CAP_DUMP   // accepts dump requests
	OpHasPolicy    OpFlags = unix.GENL_CMD_CAP_HASPOL // has an attribute policy
	OpUnsAdminPerm OpFlags = unix.GENL_UNS_ADMIN_PERM // needs CAP_NET_ADMIN in the socket's network namespace
)

var opFlagNames = []struct {
	f    OpFlags
	name string
}{
	{OpAdminPerm, "admin-perm"},
	{OpDo, "do"},
	{OpDump, "dump"},
	{OpHasPolicy, "has-policy"},
	{OpUnsAdminPerm, "uns-admin-perm"},
}

// String lists the flags by name, joined with "|"; unknown bits appear in hex.
func (f OpFlags) String() string {
	var parts []string
	for _, n := range opFlagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(f)))
	}
	return strings.Join(parts, "|")
}

// A Group is one multicast group of a family.
type Group struct {
	// ID is the group id to join (NETLINK_ADD_MEMBERSHIP).
	ID uint32
	// Name is the group name, such as "mgmt".
	Name string
}

// Op returns the operation with the given command number.
func (f *Family) Op(cmd uint32) (Op, bool) {
	for _, o := range f.Ops {
		if o.ID == cmd {
			return o, true
		}
	}
	return Op{}, false
}

// Group returns the multicast group with the given name. A group the family
// lacks gives an error matching [ErrNotFound] that names the family and
// lists the groups it has.
func (f *Family) Group(name string) (Group, error) {
	for _, g := range f.Groups {
		if g.Name == name {
			return g, nil
		}
	}
	names := make([]string, len(f.Groups))
	for i, g := range f.Groups {
		names[i] = g.Name
	}
	return Group{}, fmt.Errorf("family %s: multicast group %q: %w (groups: %s)",
		f.Name, name, ErrNotFound, strings.Join(names, ", "))
}

// CheckOp reports whether the running kernel's family accepts command cmd as
// a dump (dump true) or a do request (dump false), before anything is sent.
// The error matches [ErrNotSupported] and names the family and the op; name
// is the caller's name for the op, used only in the message.
func (f *Family) CheckOp(cmd uint32, name string, dump bool) error {
	if name == "" {
		name = fmt.Sprintf("command %d", cmd)
	}
	o, ok := f.Op(cmd)
	if !ok {
		return fmt.Errorf("family %s: op %s: %w", f.Name, name, ErrNotSupported)
	}
	if dump && o.Flags&OpDump == 0 {
		return fmt.Errorf("family %s: op %s: dump: %w", f.Name, name, ErrNotSupported)
	}
	if !dump && o.Flags&OpDo == 0 {
		return fmt.Errorf("family %s: op %s: do: %w", f.Name, name, ErrNotSupported)
	}
	return nil
}

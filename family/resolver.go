package family

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

// A Resolver resolves families on one Conn and caches the answers. It is
// safe for concurrent use: lookups that miss for the same family at the same
// time cause one request to the kernel, and a cached lookup is a map read
// that allocates nothing.
//
// A Resolver keeps its cache fresh by listening to nlctrl's notify group on
// the Conn: when the kernel announces that a family was registered or
// removed, or that a family's multicast groups changed, the entry is
// dropped and the next lookup asks again. If notifications are lost (the
// socket overran) the whole cache is dropped.
type Resolver struct {
	conn  *genl.Conn
	cache *cache

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error // why the watcher stopped, if it did
}

// NewResolver returns a Resolver for c and starts listening to nlctrl's
// notify group on it; [Resolver.Close] stops listening.
//
// Family ids are the same in every network namespace, but a family that is
// not namespace-aware is visible only from the initial one, so a Resolver
// answers for the namespace of the Conn it was given.
func NewResolver(c *genl.Conn) (*Resolver, error) {
	r := &Resolver{conn: c, cache: newCache(), done: make(chan struct{})}
	if err := r.startWatch(); err != nil {
		return nil, err
	}
	return r, nil
}

// Close stops the Resolver's listening. Cached families remain readable but
// are no longer kept fresh; the Conn stays open.
func (r *Resolver) Close() error {
	r.cancel()
	<-r.done
	return nil
}

// Conn returns the Conn the Resolver resolves on.
func (r *Resolver) Conn() *genl.Conn { return r.conn }

// Family returns the family called name, from the cache or from the kernel.
// A family the kernel lacks gives an error matching [ErrNotFound]. It
// returns ctx's error when ctx ends first, even while a lookup another
// caller shares is still waiting for the kernel.
func (r *Resolver) Family(ctx context.Context, name string) (*Family, error) {
	if f, ok := r.cache.get(name); ok {
		return f, nil
	}
	return r.cache.resolve(ctx, name, func(ctx context.Context) (*Family, error) {
		return Get(ctx, r.conn, name)
	})
}

// FamilyByID returns the family with the given id, from the cache or from
// the kernel. Like [Resolver.Family] it returns when ctx ends.
func (r *Resolver) FamilyByID(ctx context.Context, id uint16) (*Family, error) {
	if f, ok := r.cache.getID(id); ok {
		return f, nil
	}
	return r.cache.resolve(ctx, "#"+strconv.Itoa(int(id)), func(ctx context.Context) (*Family, error) {
		return GetByID(ctx, r.conn, id)
	})
}

// List returns every family the kernel has registered (one dump, not
// cached) and refreshes the cache with them.
func (r *Resolver) List(ctx context.Context) ([]*Family, error) {
	fams, err := List(ctx, r.conn)
	if err != nil {
		return nil, err
	}
	for _, f := range fams {
		r.cache.store(f)
	}
	return fams, nil
}

// Policy dumps the attribute policy of the family called name: of every
// operation, or only of op when it is not nil. Policies are not cached.
func (r *Resolver) Policy(ctx context.Context, name string, op *uint32) (*Policy, error) {
	return GetPolicy(ctx, r.conn, name, op)
}

// Fetches returns how many lookups have reached the kernel.
func (r *Resolver) Fetches() uint64 { return r.cache.fetches.Load() }

// Err returns why the Resolver stopped keeping its cache fresh, or nil while
// it still does.
func (r *Resolver) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// handle applies one nlctrl notification to the cache.
func (r *Resolver) handle(m genl.Message) {
	switch m.Header.Command {
	case unix.CTRL_CMD_NEWFAMILY, unix.CTRL_CMD_DELFAMILY,
		unix.CTRL_CMD_NEWMCAST_GRP, unix.CTRL_CMD_DELMCAST_GRP:
	default:
		return
	}
	var f Family
	if err := decodeFamily(m.Data, &f); err != nil {
		// Cannot tell which family changed: forget them all.
		r.cache.flush()
		return
	}
	r.cache.forget(f.Name, f.ID)
}

func (r *Resolver) stop(err error) {
	r.mu.Lock()
	if r.err == nil && !errors.Is(err, context.Canceled) {
		r.err = fmt.Errorf("family resolver stopped listening to nlctrl: %w", err)
	}
	r.mu.Unlock()
	r.cache.disable()
}

// startWatch subscribes to nlctrl's notify group before any lookup, so that
// no change between the first lookup and the first notification is missed,
// and starts the goroutine that applies notifications to the cache.
func (r *Resolver) startWatch() error {
	sub, err := r.conn.Subscribe(NotifyGroup)
	if err != nil {
		return fmt.Errorf("family resolver: join nlctrl notify group: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		defer sub.Close()
		for m, err := range sub.All(ctx) {
			if err != nil {
				if errors.Is(err, genl.ErrOverrun) {
					// Notifications were lost: nothing cached can be trusted.
					r.cache.flush()
					continue
				}
				r.stop(err)
				return
			}
			r.handle(m)
		}
	}()
	return nil
}

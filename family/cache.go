package family

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// A cache maps family names and ids to resolved families. Lookups that miss
// for the same name at the same time share one fetch (single flight). Every
// invalidation bumps a generation, and a fetch that started before an
// invalidation does not store its (possibly stale) answer.
//
// Reads take no lock: the maps are an immutable snapshot behind an atomic
// pointer, which writers (serialised by mu) replace with an updated copy.
// Writes are rare (a resolution, a notification), families few.
type cache struct {
	snap   atomic.Pointer[snapshot]
	mu     sync.Mutex
	flight map[string]*call
	gen    uint64
	off    bool // nothing is stored: the cache can no longer be kept fresh

	fetches atomic.Uint64 // fetches that reached the kernel
}

// A snapshot is one immutable state of a cache's maps.
type snapshot struct {
	byName map[string]*Family
	byID   map[uint16]*Family
}

var emptySnapshot = &snapshot{byName: map[string]*Family{}, byID: map[uint16]*Family{}}

// editLocked returns a copy of the current snapshot to modify and publish
// with c.snap.Store; c.mu must be held.
func (c *cache) editLocked() *snapshot {
	s := c.snap.Load()
	return &snapshot{byName: maps.Clone(s.byName), byID: maps.Clone(s.byID)}
}

// A call is one fetch in flight, waited on by every caller that missed.
// The fetch runs on its own goroutine with a context of its own, which is
// cancelled when the last caller waiting for it has given up.
type call struct {
	done    chan struct{}
	f       *Family
	err     error
	waiters int                // callers waiting; guarded by cache.mu
	cancel  context.CancelFunc // ends the fetch's context
}

func newCache() *cache {
	c := &cache{flight: map[string]*call{}}
	c.snap.Store(emptySnapshot)
	return c
}

// get returns the cached family for name, if any. It takes no lock and
// allocates nothing.
func (c *cache) get(name string) (*Family, bool) {
	f, ok := c.snap.Load().byName[name]
	return f, ok
}

func (c *cache) getID(id uint16) (*Family, bool) {
	f, ok := c.snap.Load().byID[id]
	return f, ok
}

// resolve returns the family for key from the cache or through fetch, with
// one fetch at a time per key. A key is a family name, or "#" and a decimal
// id. A caller that missed just before another caller's fetch stored its
// answer finds it here instead of fetching again.
//
// Every caller returns when its own ctx ends, the first one included: the
// fetch runs on its own goroutine and goes on for the callers still
// waiting. When the last of them gives up, the fetch's context is cancelled
// and the key forgotten, so the next caller starts a fresh fetch. A ctx
// that has already ended sends nothing.
func (c *cache) resolve(ctx context.Context, key string, fetch func(context.Context) (*Family, error)) (*Family, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if f, ok := c.lookupLocked(key); ok {
		c.mu.Unlock()
		return f, nil
	}
	cl, ok := c.flight[key]
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cl = &call{done: make(chan struct{}), cancel: cancel}
		c.flight[key] = cl
		c.fetches.Add(1)
		go c.fetch(fctx, key, cl, c.gen, fetch)
	}
	cl.waiters++
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.f, cl.err
	case <-ctx.Done():
	}
	c.mu.Lock()
	cl.waiters--
	if cl.waiters == 0 {
		cl.cancel()
		if c.flight[key] == cl {
			delete(c.flight, key)
		}
	}
	c.mu.Unlock()
	return nil, ctx.Err()
}

// fetch runs one call's fetch and publishes its answer, storing it unless
// the cache was invalidated (gen moved on) meanwhile.
func (c *cache) fetch(ctx context.Context, key string, cl *call, gen uint64, fetch func(context.Context) (*Family, error)) {
	f, err := fetch(ctx)
	cl.cancel()
	c.mu.Lock()
	cl.f, cl.err = f, err
	if c.flight[key] == cl {
		delete(c.flight, key)
	}
	if err == nil && c.gen == gen && !c.off {
		c.storeLocked(f)
	}
	c.mu.Unlock()
	close(cl.done)
}

// lookupLocked finds key (see resolve) in the maps; c.mu must be held.
func (c *cache) lookupLocked(key string) (*Family, bool) {
	s := c.snap.Load()
	if id, ok := strings.CutPrefix(key, "#"); ok {
		if n, err := strconv.ParseUint(id, 10, 16); err == nil {
			f, ok := s.byID[uint16(n)]
			return f, ok
		}
	}
	f, ok := s.byName[key]
	return f, ok
}

func (c *cache) store(f *Family) {
	c.mu.Lock()
	if !c.off {
		c.storeLocked(f)
	}
	c.mu.Unlock()
}

func (c *cache) storeLocked(f *Family) {
	s := c.editLocked()
	if old, ok := s.byName[f.Name]; ok && old.ID != f.ID {
		delete(s.byID, old.ID)
	}
	if old, ok := s.byID[f.ID]; ok && old.Name != f.Name {
		delete(s.byName, old.Name)
	}
	s.byName[f.Name] = f
	s.byID[f.ID] = f
	c.snap.Store(s)
}

// forget drops what is cached for the family with this name or id, and
// makes fetches in flight not store their answers.
func (c *cache) forget(name string, id uint16) {
	c.mu.Lock()
	c.gen++
	s := c.editLocked()
	if f, ok := s.byName[name]; ok {
		delete(s.byID, f.ID)
		delete(s.byName, name)
	}
	if f, ok := s.byID[id]; ok {
		delete(s.byName, f.Name)
		delete(s.byID, id)
	}
	c.snap.Store(s)
	c.mu.Unlock()
}

// flush drops everything, for when notifications may have been lost.
func (c *cache) flush() {
	c.mu.Lock()
	c.gen++
	c.snap.Store(emptySnapshot)
	c.mu.Unlock()
}

// disable drops everything and stores nothing from now on.
func (c *cache) disable() {
	c.mu.Lock()
	c.off = true
	c.gen++
	c.snap.Store(emptySnapshot)
	c.mu.Unlock()
}

package family

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheSingleFlight(t *testing.T) {
	c := newCache()
	var fetches atomic.Int32
	names := []string{"a", "b", "c", "d", "e"}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := names[i%len(names)]
			f, err := c.resolve(context.Background(), name, func(context.Context) (*Family, error) {
				fetches.Add(1)
				time.Sleep(20 * time.Millisecond)
				return &Family{Name: name, ID: uint16(0x20 + i%len(names))}, nil
			})
			if err != nil || f.Name != name {
				t.Errorf("resolve(%s) = %v, %v", name, f, err)
			}
		}(i)
	}
	wg.Wait()
	if n := fetches.Load(); n != 5 {
		t.Fatalf("%d fetches for 5 names, want 5", n)
	}
	if f, ok := c.get("c"); !ok || f.Name != "c" {
		t.Fatal("not cached")
	}
}

func TestCacheInvalidationDuringFetch(t *testing.T) {
	c := newCache()
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		<-started
		c.forget("x", 0x30) // DELFAMILY arrives while the fetch is in flight
		close(release)
	}()
	_, err := c.resolve(context.Background(), "x", func(context.Context) (*Family, error) {
		close(started)
		<-release
		return &Family{Name: "x", ID: 0x30}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.get("x"); ok {
		t.Fatal("a fetch that raced an invalidation was cached")
	}
}

func TestCacheNewIDReplacesOld(t *testing.T) {
	c := newCache()
	c.store(&Family{Name: "x", ID: 0x30})
	c.store(&Family{Name: "x", ID: 0x31})
	if _, ok := c.getID(0x30); ok {
		t.Fatal("old id still cached")
	}
	if f, ok := c.getID(0x31); !ok || f.Name != "x" {
		t.Fatal("new id not cached")
	}
}

func TestCacheWaiterCancel(t *testing.T) {
	c := newCache()
	started, release := make(chan struct{}), make(chan struct{})
	go c.resolve(context.Background(), "slow", func(context.Context) (*Family, error) {
		close(started)
		<-release
		return &Family{Name: "slow", ID: 1}, nil
	})
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.resolve(ctx, "slow", nil); err != context.Canceled {
		t.Fatalf("got %v", err)
	}
	close(release)
}

// waitWaiters waits until n callers wait on the fetch of key.
func waitWaiters(t *testing.T, c *cache, key string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		cl := c.flight[key]
		got := 0
		if cl != nil {
			got = cl.waiters
		}
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers wait for %s, want %d", got, key, n)
		}
	}
}

// TestCacheFirstCallerGivesUp: the caller whose miss started the fetch
// returns when its ctx ends; the fetch goes on for the other caller, which
// gets its answer; one fetch in all.
func TestCacheFirstCallerGivesUp(t *testing.T) {
	c := newCache()
	release := make(chan struct{})
	var fetches atomic.Int32
	fetch := func(ctx context.Context) (*Family, error) {
		fetches.Add(1)
		select {
		case <-release:
			return &Family{Name: "slow", ID: 1}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	short, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := c.resolve(short, "slow", fetch)
		first <- err
	}()
	waitWaiters(t, c, "slow", 1)
	second := make(chan *Family, 1)
	go func() {
		f, _ := c.resolve(context.Background(), "slow", fetch)
		second <- f
	}()
	waitWaiters(t, c, "slow", 2)
	cancel()
	if err := <-first; err != context.Canceled {
		t.Fatalf("first caller: %v", err)
	}
	close(release)
	if f := <-second; f == nil || f.ID != 1 {
		t.Fatalf("second caller got %+v", f)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// TestCacheLastCallerCancelsFetch: when every caller has given up the
// fetch's context ends, and the next caller starts a new fetch.
func TestCacheLastCallerCancelsFetch(t *testing.T) {
	c := newCache()
	ended := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	_, err := c.resolve(ctx, "x", func(ctx context.Context) (*Family, error) {
		<-ctx.Done()
		close(ended)
		return nil, ctx.Err()
	})
	if err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the fetch's context was not cancelled after its last caller left")
	}
	f, err := c.resolve(context.Background(), "x", func(context.Context) (*Family, error) {
		return &Family{Name: "x", ID: 2}, nil
	})
	if err != nil || f.ID != 2 {
		t.Fatalf("next caller: %+v, %v", f, err)
	}
}

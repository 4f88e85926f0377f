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
			f, err := c.resolve(context.Background(), name, func() (*Family, error) {
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
	_, err := c.resolve(context.Background(), "x", func() (*Family, error) {
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
	go c.resolve(context.Background(), "slow", func() (*Family, error) {
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

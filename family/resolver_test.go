package family_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// fakeResolver returns a Resolver over a fake kernel whose nlctrl holds
// fams.
func fakeResolver(t *testing.T, fams ...genltest.Family) (*family.Resolver, *genltest.Kernel, *genltest.Controller) {
	t.Helper()
	k := genltest.New()
	ctl := k.Controller(fams...)
	return newResolver(t, k), k, ctl
}

// newResolver returns a Resolver over a Conn to k, both closed at the end
// of the test.
func newResolver(t *testing.T, k *genltest.Kernel) *family.Resolver {
	t.Helper()
	c, err := k.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r, err := family.NewResolver(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// lookupUntil resolves name until ok accepts the answer, and fails the
// test if that takes more than a few seconds: the Resolver applies nlctrl's
// notifications on its own goroutine.
func lookupUntil(t *testing.T, r *family.Resolver, name string, ok func(*family.Family, error) bool) (*family.Family, error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := r.Family(context.Background(), name)
		if ok(f, err) {
			return f, err
		}
		if time.Now().After(deadline) {
			t.Fatalf("Family(%s) still %+v, %v", name, f, err)
		}
		time.Sleep(time.Millisecond)
	}
}

var fam = genltest.Family{
	ID: 0x20, Name: "fam", Version: 1, MaxAttr: 4,
	Ops:    []genltest.Op{{ID: 1, Flags: unix.GENL_CMD_CAP_DO | unix.GENL_CMD_CAP_HASPOL}},
	Groups: []genltest.Group{{ID: 0x21, Name: "events"}},
}

// TestResolverFamilyComesBack: a family that goes away (DELFAMILY) and
// comes back with a new id (NEWFAMILY) is resolved again, by asking the
// kernel again.
func TestResolverFamilyComesBack(t *testing.T) {
	r, _, ctl := fakeResolver(t, fam)
	ctx := context.Background()
	f, err := r.Family(ctx, "fam")
	if err != nil || f.ID != 0x20 {
		t.Fatalf("Family(fam) = %+v, %v", f, err)
	}
	if _, err := r.Family(ctx, "fam"); err != nil || ctl.Lookups() != 1 {
		t.Fatalf("cached lookup: %v, %d kernel lookups", err, ctl.Lookups())
	}

	ctl.Unregister("fam") // DELMCAST_GRP events, DELFAMILY
	back := fam
	back.ID = 0x30
	back.Groups = []genltest.Group{{ID: 0x31, Name: "events"}}
	ctl.Register(back) // NEWFAMILY, NEWMCAST_GRP events

	f, _ = lookupUntil(t, r, "fam", func(f *family.Family, err error) bool { return err == nil && f.ID == 0x30 })
	if g, err := f.Group("events"); err != nil || g.ID != 0x31 {
		t.Errorf("Group(events) = %+v, %v", g, err)
	}
	if n := ctl.Lookups(); n < 2 || uint64(n) != r.Fetches() {
		t.Errorf("%d kernel lookups, the resolver counts %d fetches; want ≥ 2 and equal", n, r.Fetches())
	}
	if _, err := r.FamilyByID(ctx, 0x20); !errors.Is(err, family.ErrNotFound) {
		t.Errorf("FamilyByID(old id) = %v, want ErrNotFound", err)
	}
}

// TestResolverInvalidation: each nlctrl notification about a family drops
// that family's entry, and only that one; an overrun drops everything.
func TestResolverInvalidation(t *testing.T) {
	bystander := genltest.Family{ID: 0x40, Name: "bystander", Version: 1}
	// Without groups, a family's registration and removal are one
	// notification each.
	lone := fam
	lone.Groups = nil
	cases := []struct {
		name string
		fam  genltest.Family
		act  func(k *genltest.Kernel, ctl *genltest.Controller)
		// after checks the re-resolved family (or the error).
		after func(f *family.Family, err error) bool
		// flush is true when the bystander must be dropped too.
		flush bool
	}{
		{
			name: "DELFAMILY",
			fam:  lone,
			act: func(k *genltest.Kernel, ctl *genltest.Controller) {
				ctl.Unregister("fam")
			},
			after: func(f *family.Family, err error) bool { return errors.Is(err, family.ErrNotFound) },
		},
		{
			name: "NEWFAMILY",
			fam:  lone,
			act: func(k *genltest.Kernel, ctl *genltest.Controller) {
				f := lone
				f.ID = 0x50
				ctl.Register(f)
			},
			after: func(f *family.Family, err error) bool { return err == nil && f.ID == 0x50 },
		},
		{
			name: "NEWMCAST_GRP",
			fam:  fam,
			act: func(k *genltest.Kernel, ctl *genltest.Controller) {
				ctl.AddGroup("fam", genltest.Group{ID: 0x22, Name: "more"})
			},
			after: func(f *family.Family, err error) bool {
				g, gerr := f.Group("more")
				return err == nil && gerr == nil && g.ID == 0x22
			},
		},
		{
			name: "DELMCAST_GRP",
			fam:  fam,
			act: func(k *genltest.Kernel, ctl *genltest.Controller) {
				ctl.RemoveGroup("fam", "events")
			},
			after: func(f *family.Family, err error) bool {
				_, gerr := f.Group("events")
				return err == nil && errors.Is(gerr, family.ErrNotFound)
			},
		},
		{
			name:  "overrun",
			fam:   fam,
			act:   func(k *genltest.Kernel, ctl *genltest.Controller) { k.Overrun() },
			after: func(f *family.Family, err error) bool { return err == nil && f.ID == 0x20 },
			flush: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, k, ctl := fakeResolver(t, tc.fam, bystander)
			ctx := context.Background()
			for _, name := range []string{"fam", "bystander"} {
				if _, err := r.Family(ctx, name); err != nil {
					t.Fatal(err)
				}
			}
			if n := ctl.Lookups(); n != 2 {
				t.Fatalf("%d kernel lookups for 2 families", n)
			}
			tc.act(k, ctl)
			// Cached answers go on until the notification is applied; then
			// the kernel is asked again.
			lookupUntil(t, r, "fam", func(*family.Family, error) bool { return ctl.Lookups() > 2 })
			f, err := r.Family(ctx, "fam")
			if !tc.after(f, err) {
				t.Errorf("after the change: Family(fam) = %+v, %v", f, err)
			}
			before := ctl.Lookups()
			if _, err := r.Family(ctx, "bystander"); err != nil {
				t.Fatal(err)
			}
			asked := ctl.Lookups() > before
			if asked != tc.flush {
				t.Errorf("bystander asked again: %v, want %v", asked, tc.flush)
			}
			if err := r.Err(); err != nil {
				t.Errorf("resolver stopped: %v", err)
			}
		})
	}
}

// TestResolverCachedAllocs: a cached hit, by name or by id, allocates
// nothing.
func TestResolverCachedAllocs(t *testing.T) {
	r, _, _ := fakeResolver(t, fam)
	ctx := context.Background()
	if _, err := r.Family(ctx, "fam"); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := r.Family(ctx, "fam"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.FamilyByID(ctx, 0x20); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocs per cached lookup", n)
	}
	if r.Fetches() != 1 {
		t.Fatalf("%d fetches, want 1", r.Fetches())
	}
}

// TestResolverHonoursCallerDeadline: with a kernel that never answers,
// Family and FamilyByID return at their caller's deadline, the first
// caller (the one whose miss started the fetch) included.
func TestResolverHonoursCallerDeadline(t *testing.T) {
	lookups := map[string]func(context.Context, *family.Resolver) error{
		"Family": func(ctx context.Context, r *family.Resolver) error {
			_, err := r.Family(ctx, "fam")
			return err
		},
		"FamilyByID": func(ctx context.Context, r *family.Resolver) error {
			_, err := r.FamilyByID(ctx, 0x20)
			return err
		},
	}
	for name, lookup := range lookups {
		t.Run(name, func(t *testing.T) {
			r := newResolver(t, genltest.New()) // no nlctrl: nothing answers
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- lookup(ctx, r) }()
			select {
			case err := <-done:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want context.DeadlineExceeded", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("still blocked long after the caller's deadline")
			}
			// A later caller starts afresh and is bounded by its own ctx too.
			ctx2, cancel2 := context.WithCancel(context.Background())
			cancel2()
			if err := lookup(ctx2, r); !errors.Is(err, context.Canceled) {
				t.Fatalf("with a cancelled ctx: err = %v", err)
			}
		})
	}
}

package testutils

import (
	"context"
	"testing"
	"time"

	"github.com/genlkit/genlkit/genl"
)

// DialInit opens a genl.Conn in the test process's own network namespace,
// for families the kernel keeps in the initial namespace (dpll,
// dev-energymodel) and for finding what a test then moves into its own
// namespace. Tests must only read there. It calls RequireKernel first and
// returns the Conn, closed in tb's cleanup, with a context that ends after
// two minutes or in tb's cleanup.
func DialInit(tb testing.TB, opts ...genl.Option) (*genl.Conn, context.Context) {
	tb.Helper()
	RequireKernel(tb)
	c, err := genl.Dial(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	tb.Cleanup(cancel)
	return c, ctx
}

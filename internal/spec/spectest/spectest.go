// Package spectest locates the Linux kernel's YNL family specs for tests.
//
// The specs are input data and are not part of this module. Tests find them
// in the directory named by the GENLKIT_SPECS environment variable, or by
// default in ../shared/specs relative to the module root. When the
// directory is missing, tests are skipped, unless GENLKIT_REQUIRE_KERNEL=1
// is set, in which case they fail.
package spectest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/genlkit/genlkit/internal/spec"
)

// EnvSpecs names the environment variable holding the specs directory.
const EnvSpecs = spec.EnvSpecs

// EnvRequire names the environment variable that, set to 1, makes tests
// fail instead of skipping when the specs are missing.
const EnvRequire = "GENLKIT_REQUIRE_KERNEL"

// Dir returns the specs directory. If it does not exist, Dir skips the test,
// or fails it if GENLKIT_REQUIRE_KERNEL=1.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := Path()
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(dir); err == nil && !st.IsDir() {
			err = &os.PathError{Op: "stat", Path: dir, Err: os.ErrInvalid}
		}
	}
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("kernel specs not available (%s=1): %v", EnvRequire, err)
		}
		tb.Skipf("kernel specs not available (set %s): %v", EnvSpecs, err)
	}
	return dir
}

// File returns the path of the spec file name (e.g. "netdev.yaml") in the
// specs directory, skipping or failing the test like Dir if it is missing.
func File(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("kernel spec not available (%s=1): %v", EnvRequire, err)
		}
		tb.Skipf("kernel spec not available: %v", err)
	}
	return p
}

// Path returns the specs directory without checking that it exists:
// $GENLKIT_SPECS, or ../shared/specs relative to the module root (the
// nearest directory above the working directory holding a go.mod).
func Path() (string, error) { return spec.DefaultDir() }

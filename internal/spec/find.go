package spec

import (
	"os"
	"path/filepath"
)

// EnvSpecs names the environment variable holding the specs directory.
const EnvSpecs = "GENLKIT_SPECS"

// DefaultDir returns the default specs directory, without checking that it
// exists: $GENLKIT_SPECS, or ../shared/specs relative to the module root
// (the nearest directory above the working directory holding a go.mod).
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvSpecs); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "specs"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", &os.PathError{Op: "find module root from", Path: wd, Err: os.ErrNotExist}
		}
		dir = parent
	}
}

package main

import (
	"slices"
	"testing"
)

// TestKernelTests finds the kernel tests of packages whose tests reach the
// kernel in the ways the project's tests do: directly, through package
// helpers, and through NS methods.
func TestKernelTests(t *testing.T) {
	for _, tc := range []struct {
		dir       string
		want      []string // among the kernel tests
		notWanted []string // not among them
	}{
		{"../../genl", []string{"TestKernelNetdev", "TestKernelCancelMidDump", "TestKernelUnprivileged"}, []string{"TestSenderNotHeld", "TestCancel"}},
		{"../../family", []string{"TestResolverFollowsModules", "TestAbsentFamilies", "TestGetUnknownFamily"}, []string{"TestCacheForget"}},
		{"../../family/netdev", []string{"TestDevGet", "TestDumpMemoryFlat"}, nil},
		{"../../attrs", nil, []string{"TestEncoder"}},
	} {
		got, err := kernelTests(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: %s not found among %v", tc.dir, w, got)
			}
		}
		for _, w := range tc.notWanted {
			if slices.Contains(got, w) {
				t.Errorf("%s: %s is not a kernel test, found in %v", tc.dir, w, got)
			}
		}
	}
}

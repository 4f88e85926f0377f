// Package ynlbench holds benchmarks that run typed workloads through
// genlkit's generated clients and, in the same run, through the kernel's YNL
// C library (tools/net/ynl), the fastest typed netlink client there is. The
// C side is built by testdata/build.sh from Debian's kernel source; the
// benchmarks skip, saying why, when it cannot be built. See
// docs/benchmarks.md for the figures and the commands.
package ynlbench

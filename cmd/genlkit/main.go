// Command genlkit talks to Linux generic netlink families from the command
// line: it lists the families the running kernel has, shows their
// operations, groups and policies, runs do and dump requests written as
// JSON, batches requests, follows multicast notifications, checks a
// family's spec against the kernel, and drafts a spec (YAML) of a family
// that has none from what the kernel reports.
//
// Messages are encoded and decoded with the descriptors of the families
// compiled into genlkit, or of any spec file given with --spec, so no spec
// files are needed on the machine. The JSON has the shape the Linux kernel's
// YNL tools print.
//
// Usage:
//
//	genlkit families
//	genlkit family NAME|ID [--policy]
//	genlkit ops FAMILY [OP]
//	genlkit do FAMILY OP [--json '{…}' | --json @file] [--create] [--excl] [--replace] [--append]
//	genlkit dump FAMILY OP [--json '{…}']
//	genlkit batch FAMILY --op OP [--json '{…}'] --op OP …
//	genlkit subscribe FAMILY GROUP… [--duration 10s]
//	genlkit check FAMILY [--spec FILE]
//	genlkit spec FAMILY [--placeholders]
//	genlkit completion bash|zsh|fish
//
// Global flags, accepted anywhere on the line: --netns NAME, --output
// json|table, --spec FILE, --timeout DURATION, --pretty.
//
// JSON input may nest at most 1,000 levels deep and hold at most 16 MiB per
// request; deeper or longer input, a key given twice, a string with an
// embedded NUL or an address of the wrong IP version is a usage error, as
// is a negative --timeout, --duration or --count.
//
// Exit status: 0 on success; 1 for kernel and runtime errors and for a
// check that found differences; 2 for usage errors.
package main

import (
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one genlkit command line and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	defer a.close()
	return a.exit(a.dispatch(args))
}

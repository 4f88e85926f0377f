package main

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/genl"
)

// TestKernelErrorText: a kernel error reads as the errno's sentence with
// its name; an error that is not an errno keeps its text as written.
func TestKernelErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *genl.Error
		want string
	}{
		{&genl.Error{Err: unix.ENODEV, Message: "no device", Offset: -1}, "No such device (ENODEV): dev-get: no device"},
		{&genl.Error{Err: fmt.Errorf("%w (1 overruns)", genl.ErrOverrun), Offset: -1}, "genl: receive buffer overrun: messages were lost (1 overruns): dev-get"},
	} {
		if got := kernelErrorText("dev-get", tc.err); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

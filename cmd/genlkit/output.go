package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/genlkit/genlkit/family"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/internal/jsonmsg"
)

// tableOutput reports whether to print tables (or trees) rather than
// JSON: --output decides, else whether stdout is a terminal.
func (a *app) tableOutput() bool {
	switch a.output {
	case "json":
		return false
	case "table":
		return true
	}
	f, ok := a.stdout.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// printJSON writes v as one line of JSON (indented with --pretty).
func (a *app) printJSON(v any) error {
	b, err := jsonmsg.Marshal(v)
	if err != nil {
		return err
	}
	if a.pretty {
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err == nil {
			b = buf.Bytes()
		}
	}
	b = append(b, '\n')
	_, err = a.stdout.Write(b)
	return err
}

// printTree writes a decoded message as an indented "key: value" tree.
func printTree(w io.Writer, v any, indent string) {
	switch v := v.(type) {
	case *jsonmsg.Object:
		if v.Len() == 0 {
			fmt.Fprintf(w, "%s(empty)\n", indent)
		}
		for _, k := range v.Keys() {
			x, _ := v.Get(k)
			if isScalarish(x) {
				fmt.Fprintf(w, "%s%s: %s\n", indent, printable(k), scalarText(x))
				continue
			}
			fmt.Fprintf(w, "%s%s:\n", indent, printable(k))
			printTree(w, x, indent+"  ")
		}
	case []any:
		for _, x := range v {
			if isScalarish(x) {
				fmt.Fprintf(w, "%s- %s\n", indent, scalarText(x))
				continue
			}
			if o, ok := x.(*jsonmsg.Object); ok && o.Len() > 0 {
				// "- key: value" with the rest of the object aligned under it.
				var buf bytes.Buffer
				printTree(&buf, o, indent+"  ")
				s := buf.String()
				fmt.Fprintf(w, "%s- %s", indent, strings.TrimPrefix(s, indent+"  "))
				continue
			}
			fmt.Fprintf(w, "%s-\n", indent)
			printTree(w, x, indent+"  ")
		}
	default:
		fmt.Fprintf(w, "%s%s\n", indent, scalarText(v))
	}
}

// isScalarish reports whether v prints on one line: a scalar, or an array
// of scalars.
func isScalarish(v any) bool {
	switch v := v.(type) {
	case *jsonmsg.Object:
		return v.Len() == 0
	case []any:
		for _, x := range v {
			switch x.(type) {
			case *jsonmsg.Object, []any:
				return false
			}
		}
	}
	return true
}

func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return printable(v)
	case nil:
		return "null"
	case *jsonmsg.Object:
		return "{}"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = scalarText(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// errorText formats an error for the "Error: " line. Kernel errors read
// "No such device (ENODEV): dev-get: attribute ifindex".
func errorText(err error) string {
	var opErr *opError
	if errors.As(err, &opErr) {
		var ge *genl.Error
		if errors.As(opErr.err, &ge) {
			return kernelErrorText(opErr.op, ge)
		}
		return opErr.op + ": " + errorText(opErr.err)
	}
	var ge *genl.Error
	if errors.As(err, &ge) {
		return kernelErrorText("", ge)
	}
	if errors.Is(err, family.ErrNotSupported) {
		// Found before sending, from the family's op list: say it as the
		// kernel would have.
		return fmt.Sprintf("%s (%s): %v", upperFirst(unix.EOPNOTSUPP.Error()), errnoName(unix.EOPNOTSUPP), err)
	}
	var se *jsonmsg.EncodeError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

// An opError is an error of one op, named in its message.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func kernelErrorText(op string, e *genl.Error) string {
	var sb strings.Builder
	var errno unix.Errno
	if errors.As(e.Err, &errno) {
		fmt.Fprintf(&sb, "%s (%s)", upperFirst(errno.Error()), errnoName(errno))
	} else if e.Err != nil {
		// A Go error ("genl: …") keeps its package prefix as written.
		sb.WriteString(e.Err.Error())
	}
	if op != "" {
		sb.WriteString(": " + op)
	}
	if e.Message != "" {
		sb.WriteString(": " + e.Message)
	}
	if e.Path != "" {
		sb.WriteString(": attribute " + e.Path)
	} else if e.Offset >= 0 && len(e.AttrTypes) == 0 {
		fmt.Fprintf(&sb, ": attribute at offset %d", e.Offset)
	}
	if e.MissingPath != "" {
		sb.WriteString(": missing attribute " + e.MissingPath)
	} else if e.MissingType != 0 {
		fmt.Fprintf(&sb, ": missing attribute %d", e.MissingType)
	}
	if e.Policy != nil {
		if p := policyText(e.Policy); p != "" {
			sb.WriteString(" (policy: " + p + ")")
		}
	}
	return sb.String()
}

// policyText describes the policy an attribute broke, from the extended ACK.
func policyText(p *genl.Policy) string {
	if !p.Has(unix.NL_POLICY_TYPE_ATTR_TYPE) {
		return ""
	}
	return p.String()
}

// printable returns s with what a terminal would act on escaped, for
// tables and trees: control characters (an interface named "\x1b[31m…"
// would colour the screen), Unicode format characters (bidi overrides)
// and bytes that are not UTF-8 are written as Go escapes (\x1b, \u202e).
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && (r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// errnoName returns the symbolic name of an errno, as the kernel's sources
// name it: EOPNOTSUPP rather than its Linux alias ENOTSUP.
func errnoName(e unix.Errno) string {
	if e == unix.EOPNOTSUPP {
		return "EOPNOTSUPP"
	}
	return unix.ErrnoName(e)
}

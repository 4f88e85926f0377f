package spec

import (
	"fmt"
	"sort"
	"strings"
)

// A Pos is a position in a spec file. Line and Col are 1-based; a zero Pos
// means the position is unknown.
type Pos struct {
	File string // base name of the spec file, e.g. "netdev.yaml"
	Line int
	Col  int
}

// IsValid reports whether the position is known.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats the position as "file:line:col", omitting unknown parts.
func (p Pos) String() string {
	switch {
	case p.Line > 0 && p.File != "":
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	case p.Line > 0:
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	case p.File != "":
		return p.File
	}
	return "-"
}

// An Error is a problem found in a spec, with the position it refers to.
type Error struct {
	File string // base name of the spec file
	Line int    // 1-based line, 0 if unknown
	Col  int    // 1-based column, 0 if unknown
	Msg  string
}

// Pos returns the position of the error.
func (e *Error) Pos() Pos { return Pos{File: e.File, Line: e.Line, Col: e.Col} }

// Error formats the error as "file:line:col: message".
func (e *Error) Error() string {
	p := e.Pos()
	if !p.IsValid() && p.File == "" {
		return e.Msg
	}
	return p.String() + ": " + e.Msg
}

// An ErrorList is a list of spec errors, sorted by position. It is the error
// type returned by Load, Parse, LoadDir and Find when a spec is invalid; use
// errors.As to retrieve it, or to retrieve its first *Error.
type ErrorList []*Error

// maxPrinted bounds how many errors ErrorList.Error spells out.
const maxPrinted = 20

// Error returns the errors one per line (at most 20, then a count of the rest).
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i == maxPrinted {
			fmt.Fprintf(&b, "\n(and %d more errors)", len(l)-maxPrinted)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors of the list, so that errors.As and errors.Is can
// look at each *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Err returns nil if the list is empty and the list itself otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// sortErrors orders errors by file, line and column, keeping the order of
// errors at the same position, and drops exact duplicates.
func sortErrors(l ErrorList) ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := l[:0]
	for _, e := range l {
		if len(out) > 0 && *e == *out[len(out)-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

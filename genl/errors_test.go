package genl_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"github.com/genlkit/genlkit/genl/genltest"
	"golang.org/x/sys/unix"
)

// names is an AttrNamer for a family whose attribute 1 is a nest "header"
// holding "dev-index" (1) and "dev-name" (2).
func names(parents []uint16, typ uint16) string {
	switch {
	case len(parents) == 0 && typ == 1:
		return "header"
	case len(parents) == 1 && parents[0] == 1 && typ == 1:
		return "dev-index"
	case len(parents) == 1 && parents[0] == 1 && typ == 2:
		return "dev-name"
	}
	return ""
}

func nestedReq() []byte {
	var enc attrs.Encoder
	enc.U8(5, 1) // offset 20
	n := enc.Nest(1)
	enc.String(2, "eth0")
	enc.U32(1, 99)
	enc.End(n)
	return enc.Bytes()
}

func TestErrorExtack(t *testing.T) {
	// Request layout: 16 nlmsghdr + 4 genlmsghdr; attribute 5 at 20 (8
	// bytes), nest 1 at 28, its "dev-name" at 32 (12 bytes), "dev-index"
	// at 44.
	var pol attrs.Encoder
	pol.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_U32)
	pol.U64(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 10)
	for _, capped := range []bool{true, false} {
		t.Run(fmt.Sprint("capped=", capped), func(t *testing.T) {
			k, c := fake(t)
			ext := &genltest.Extack{Msg: "no such device", Offset: 44, Cookie: []byte{1, 2}, Policy: pol.Bytes()}
			k.Handle(func(k *genltest.Kernel, r genltest.Request) {
				if capped {
					k.Push(genltest.Error(r, unix.ENODEV, ext))
				} else {
					k.Push(genltest.ErrorFull(r, unix.ENODEV, ext))
				}
			})
			err := c.Do(ctxT(t), genl.Request{Family: fam, Command: 7, Attrs: nestedReq(), Names: names}, nil)
			if !errors.Is(err, unix.ENODEV) {
				t.Fatalf("got %v, want ENODEV", err)
			}
			var e *genl.Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is not *genl.Error", err)
			}
			if e.Message != "no such device" || e.Offset != 44 || e.Path != "header.dev-index" ||
				!slices.Equal(e.AttrTypes, []uint16{1, 1}) || !bytes.Equal(e.Cookie, []byte{1, 2}) ||
				e.Family != fam || e.Command != 7 || e.Op != "do" {
				t.Errorf("error fields %+v", e)
			}
			if e.Policy == nil || e.Policy.Type != unix.NL_ATTR_TYPE_U32 || e.Policy.MaxValueU != 10 ||
				!e.Policy.Has(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U) || e.Policy.Has(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH) {
				t.Errorf("policy %+v", e.Policy)
			}
			t.Log(err)
		})
	}
}

func TestErrorPaths(t *testing.T) {
	cases := []struct {
		name  string
		ext   genltest.Extack
		names genl.AttrNamer
		path  string
		miss  string
	}{
		{"numbers", genltest.Extack{Offset: 32}, nil, "1.2", ""},
		{"top", genltest.Extack{Offset: 20}, names, "5", ""},
		{"nest", genltest.Extack{Offset: 28}, names, "header", ""},
		{"inside payload", genltest.Extack{Offset: 46}, names, "header.dev-index", ""},
		{"fixed header", genltest.Extack{Offset: 16}, nil, "genlmsghdr", ""},
		{"out of range", genltest.Extack{Offset: 4000}, nil, "", ""},
		{"missing top", genltest.Extack{MissType: 3}, names, "", "3"},
		{"missing in nest", genltest.Extack{MissType: 1, MissNest: 28}, names, "", "header.dev-index"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, c := fake(t)
			k.Handle(func(k *genltest.Kernel, r genltest.Request) {
				k.Push(genltest.Error(r, unix.EINVAL, &tc.ext))
			})
			err := c.Do(ctxT(t), genl.Request{Family: fam, Attrs: nestedReq(), Names: tc.names}, nil)
			var e *genl.Error
			if !errors.As(err, &e) || !errors.Is(err, unix.EINVAL) {
				t.Fatalf("got %v", err)
			}
			if e.Path != tc.path || e.MissingPath != tc.miss {
				t.Errorf("path %q missing %q, want %q %q (%v)", e.Path, e.MissingPath, tc.path, tc.miss, err)
			}
		})
	}
	t.Run("family header", func(t *testing.T) {
		k, c := fake(t)
		k.Handle(func(k *genltest.Kernel, r genltest.Request) {
			k.Push(genltest.Error(r, unix.EINVAL, &genltest.Extack{Offset: 22}))
		})
		err := c.Do(ctxT(t), genl.Request{Family: fam, Header: []byte{1, 2, 3, 4}, Attrs: nestedReq()}, nil)
		var e *genl.Error
		if !errors.As(err, &e) || e.Path != "header" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestErrorPermission(t *testing.T) {
	k, c := fake(t)
	k.Handle(func(k *genltest.Kernel, r genltest.Request) { k.Push(genltest.Error(r, unix.EPERM, nil)) })
	err := c.Do(ctxT(t), genl.Request{Family: fam}, nil)
	if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, unix.EPERM) {
		t.Fatalf("got %v", err)
	}
}

func TestWarning(t *testing.T) {
	var connWarn []*genl.Error
	k, c := fake(t, genl.WithWarningHandler(func(e *genl.Error) { connWarn = append(connWarn, e) }))
	k.Handle(func(k *genltest.Kernel, r genltest.Request) {
		k.Push(genltest.Error(r, 0, &genltest.Extack{Msg: "deprecated attribute", Offset: 20}))
	})
	var reqWarn *genl.Error
	err := c.Do(ctxT(t), genl.Request{Family: fam, Attrs: nestedReq(), OnWarning: func(e *genl.Error) { reqWarn = e }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reqWarn == nil || !reqWarn.Warning || reqWarn.Message != "deprecated attribute" || reqWarn.Path != "5" {
		t.Fatalf("warning %+v", reqWarn)
	}
	if err := c.Ack(ctxT(t), genl.Request{Family: fam}); err != nil {
		t.Fatal(err)
	}
	if len(connWarn) != 1 || c.Stats().Warnings != 2 {
		t.Fatalf("conn warnings %v, stats %+v", connWarn, c.Stats())
	}
}

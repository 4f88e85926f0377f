package ethtool

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
)

// TestDecodeNewFallsBack checks decodeNew, which dumps and notifications
// use, against the Decoder on the inputs its fast path gives up on or
// treats specially: the value and the error (with its attribute path) must
// be the Decoder's.
func TestDecodeNewFallsBack(t *testing.T) {
	var e attrs.Encoder
	header := func(typ uint16, fn func(*attrs.Encoder)) []byte {
		e.Reset(nil)
		n := e.Nest(typ)
		fn(&e)
		e.End(n)
		return append([]byte(nil), e.Bytes()...)
	}
	devIndex := func(n *attrs.Encoder) { n.U32(AttrHeaderDevIndex, 7); n.String(AttrHeaderDevName, "eth0") }
	// fast: decodeFast takes the input as it is; wantErr: the Decoder's
	// error kind (nil: none), at errPath.
	cases := []struct {
		name    string
		msg     []byte
		fast    bool
		wantErr error
		errPath string
	}{
		{"well formed", slices.Concat(header(AttrLinkinfoHeader, devIndex), u8(AttrLinkinfoPort, 1)), true, nil, ""},
		{"repeat", slices.Concat(u8(AttrLinkinfoPort, 1), u8(AttrLinkinfoPort, 2)), true, nil, ""},
		{"unknown type", slices.Concat(u8(AttrLinkinfoPort, 1), u8(100, 9)), true, nil, ""},
		{"unknown nest", slices.Concat(header(100, devIndex), u8(AttrLinkinfoPort, 1)), true, nil, ""},
		{"padding", slices.Concat(u8(AttrLinkinfoPort, 1), []byte{4, 0, 0, 0}), true, nil, ""},
		{"net byte order on a u32", header(AttrLinkinfoHeader, func(n *attrs.Encoder) {
			n.Binary(AttrHeaderDevIndex|attrs.FlagNetByteOrder, []byte{0, 0, 0, 7})
		}), false, nil, ""},
		{"nest without NLA_F_NESTED", slices.Concat(
			[]byte{16, 0, AttrLinkinfoHeader, 0}, []byte{8, 0, AttrHeaderDevIndex, 0, 7, 0, 0, 0},
			[]byte{4, 0, AttrHeaderDevName, 0}), true, nil, ""},
		{"short u8", []byte{4, 0, AttrLinkinfoPort, 0}, false, attrs.ErrBadLength, "port"},
		{"long u32 in a nest", header(AttrLinkinfoHeader, func(n *attrs.Encoder) {
			n.String(AttrHeaderDevName, "eth0")
			n.Binary(AttrHeaderDevIndex, []byte{1, 2, 3, 4, 5, 6, 7, 8})
		}), false, attrs.ErrBadLength, "header.dev-index"},
		{"length past the end", slices.Concat(u8(AttrLinkinfoPort, 1), []byte{12, 0, AttrLinkinfoPhyaddr, 0, 1}), false, attrs.ErrTruncated, "phyaddr"},
		{"trailing bytes", slices.Concat(u8(AttrLinkinfoPort, 1), []byte{1, 2}), false, attrs.ErrTruncated, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want Linkinfo
			wantErr := want.decodeMessage(tc.msg, nil)
			for _, a := range []*allocator{nil, new(allocator)} {
				var got Linkinfo
				err := got.decodeNew(tc.msg, a)
				if !reflect.DeepEqual(got, want) || (err == nil) != (wantErr == nil) ||
					err != nil && err.Error() != wantErr.Error() {
					t.Fatalf("decodeNew: %+v, %v; the Decoder: %+v, %v", got, err, want, wantErr)
				}
			}
			var v Linkinfo
			if fast := v.decodeFast(tc.msg, nil); fast != tc.fast {
				t.Errorf("decodeFast took it: %v, want %v", fast, tc.fast)
			}
			var ae *attrs.Error
			switch {
			case tc.wantErr == nil && wantErr != nil:
				t.Fatalf("unexpected error: %v", wantErr)
			case tc.wantErr != nil && (!errors.Is(wantErr, tc.wantErr) || !errors.As(wantErr, &ae) || !strings.HasPrefix(ae.Path, tc.errPath)):
				t.Fatalf("error %v, want %v at %q", wantErr, tc.wantErr, tc.errPath)
			}
		})
	}
}

func u8(typ uint16, v uint8) []byte { return []byte{5, 0, byte(typ), byte(typ >> 8), v, 0, 0, 0} }

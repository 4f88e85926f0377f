package genl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/genlkit/genlkit/genl"
	"golang.org/x/sys/unix"
)

func TestDecodePolicy(t *testing.T) {
	bit := func(ts ...int) uint32 {
		var m uint32
		for _, t := range ts {
			m |= 1 << t
		}
		return m
	}
	cases := []struct {
		name   string
		encode func(e *attrs.Encoder)
		want   genl.Policy
		text   string
		err    string // a substring of the decoder's error, "" for none
	}{
		{
			name: "unsigned range",
			encode: func(e *attrs.Encoder) {
				e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_U32)
				e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U, unix.NL_POLICY_TYPE_ATTR_PAD, 1)
				e.U64Pad(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U, unix.NL_POLICY_TYPE_ATTR_PAD, 4294967295)
			},
			want: genl.Policy{Type: genl.AttrTypeU32, MinValueU: 1, MaxValueU: 4294967295,
				Present: bit(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_U, unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U)},
			text: "u32 range [1, 4294967295]",
		},
		{
			name: "signed range",
			encode: func(e *attrs.Encoder) {
				e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_S16)
				e.S64(unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S, -5)
				e.S64(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S, 5)
			},
			want: genl.Policy{Type: genl.AttrTypeS16, MinValueS: -5, MaxValueS: 5,
				Present: bit(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_POLICY_TYPE_ATTR_MIN_VALUE_S, unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_S)},
			text: "s16 range [-5, 5]",
		},
		{
			name: "lengths",
			encode: func(e *attrs.Encoder) {
				e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_BINARY)
				e.U32(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH, 0)
				e.U32(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH, 16)
			},
			want: genl.Policy{Type: genl.AttrTypeBinary, MaxLength: 16,
				Present: bit(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH, unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH)},
			text: "binary min-len 0 max-len 16",
		},
		{
			name: "nested",
			encode: func(e *attrs.Encoder) {
				e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_NESTED)
				e.U32(unix.NL_POLICY_TYPE_ATTR_POLICY_IDX, 9)
				e.U32(unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, 3)
			},
			want: genl.Policy{Type: genl.AttrTypeNested, PolicyIdx: 9, PolicyMaxType: 3,
				Present: bit(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_POLICY_TYPE_ATTR_POLICY_IDX, unix.NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE)},
			text: "nested policy 9 maxattr 3",
		},
		{
			name: "masks, variable-width mask, unknown attribute skipped",
			encode: func(e *attrs.Encoder) {
				e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, 17) // NL_ATTR_TYPE_UINT
				e.U32(unix.NL_POLICY_TYPE_ATTR_MASK, 0xf0)
				e.U32(unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK, 0x7)
				e.U32(200, 1)
			},
			want: genl.Policy{Type: genl.AttrTypeUint, Mask: 0xf0, Bitfield32Mask: 7,
				Present: bit(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_POLICY_TYPE_ATTR_MASK, unix.NL_POLICY_TYPE_ATTR_BITFIELD32_MASK)},
			text: "uint mask 0xf0 bitfield32-mask 0x7",
		},
		{
			name: "unknown type",
			encode: func(e *attrs.Encoder) {
				e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, 99)
			},
			want: genl.Policy{Type: 99, Present: bit(unix.NL_POLICY_TYPE_ATTR_TYPE)},
			text: "type(99)",
		},
		{
			name: "malformed field keeps what came before",
			encode: func(e *attrs.Encoder) {
				e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_U8)
				e.U16(unix.NL_POLICY_TYPE_ATTR_MAX_LENGTH, 4) // should be u32
				e.U32(unix.NL_POLICY_TYPE_ATTR_MIN_LENGTH, 1)
			},
			want: genl.Policy{Type: genl.AttrTypeU8, Present: bit(unix.NL_POLICY_TYPE_ATTR_TYPE)},
			text: "u8",
			err:  "max-length",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e attrs.Encoder
			tc.encode(&e)
			d := attrs.NewDecoder(e.Bytes())
			got := genl.DecodePolicy(d)
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if s := got.String(); s != tc.text {
				t.Errorf("String() = %q, want %q", s, tc.text)
			}
			switch err := d.Err(); {
			case tc.err == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, attrs.ErrBadLength)):
				t.Errorf("error %v, want one naming %q", err, tc.err)
			}
		})
	}
}

func TestDecodePolicyAllocs(t *testing.T) {
	var e attrs.Encoder
	e.U32(unix.NL_POLICY_TYPE_ATTR_TYPE, unix.NL_ATTR_TYPE_U32)
	e.U64(unix.NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 10)
	b := e.Bytes()
	var d attrs.Decoder
	if n := testing.AllocsPerRun(100, func() {
		d.Reset(b)
		_ = genl.DecodePolicy(&d)
	}); n != 0 {
		t.Fatalf("%v allocs per DecodePolicy", n)
	}
}

package attrs_test

import (
	"errors"
	"fmt"
	"slices"

	"github.com/genlkit/genlkit/attrs"
)

// Encode a flat attribute, a nest and a multi-attr into a reused buffer.
func ExampleEncoder() {
	buf := make([]byte, 0, 256)
	var e attrs.Encoder
	e.Reset(buf)
	e.U32(1, 7)      // ifindex
	n := e.Nest(2)   // a nest...
	e.String(1, "a") // ...holding a string
	e.U16BE(2, 443)  // ...and a big-endian port
	e.End(n)         // length patched in place
	e.U8(3, 1)       // multi-attr: the same type
	e.U8(3, 2)       // repeated
	if err := e.Err(); err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", e.Bytes())
	// Output:
	// 08 00 01 00 07 00 00 00 14 00 02 80 06 00 01 00 61 00 00 00 06 00 02 00 01 bb 00 00 05 00 03 00 01 00 00 00 05 00 03 00 02 00 00 00
}

// Walk attributes with a range loop, descend into a nest, and read values
// without copying.
func ExampleDecoder_All() {
	var e attrs.Encoder
	e.String(1, "veth0")
	n := e.Nest(2)
	e.U32(1, 1500)
	e.End(n)

	d := attrs.NewDecoder(e.Bytes())
	for a := range d.All() {
		switch a.Type {
		case 1:
			fmt.Printf("name %s\n", d.StringBytes())
		case 2:
			nd := d.Nested()
			for nd.Next() {
				fmt.Printf("mtu %d\n", nd.U32())
			}
		}
	}
	if err := d.Err(); err != nil {
		panic(err)
	}
	// Output:
	// name veth0
	// mtu 1500
}

// A malformed attribute gives an error naming its path and kind.
func ExampleError() {
	var e attrs.Encoder
	n := e.Nest(2)
	e.U16(1, 5) // two bytes where four are expected
	e.End(n)

	d := attrs.NewDecoder(e.Bytes())
	d.SetNames([]string{2: "dev"})
	for d.Next() {
		nd := d.Nested()
		nd.SetNames([]string{1: "ifindex"})
		for nd.Next() {
			_ = nd.U32()
		}
	}
	err := d.Err()
	fmt.Println(err)
	fmt.Println(errors.Is(err, attrs.ErrBadLength))
	// Output:
	// dev.ifindex: u32 needs 4 bytes, got 2
	// true
}

// Fill a fixed-layout C struct in place and read it back.
func ExampleStructWriter() {
	var e attrs.Encoder
	// struct { __u16 family; __u8 pad[2]; __be32 addr; }
	w := attrs.NewStructWriter(e.Reserve(1, 8))
	w.U16(2, false)
	w.Pad(2)
	w.U32(0xc0000201, true)

	d := attrs.NewDecoder(e.Bytes())
	for d.Next() {
		r := attrs.NewStructReader(d.Bytes())
		family := r.U16(false)
		r.Skip(2)
		addr := r.U32(true)
		if err := r.Err(); err != nil {
			d.Fail(err)
		}
		fmt.Printf("family %d addr %#08x\n", family, addr)
	}
	// Output:
	// family 2 addr 0xc0000201
}

// Read and change a compact bitmap, such as an ethtool bitset's value, in
// place.
func ExampleBitmap() {
	b := attrs.NewBitmap(40) // two 32-bit words
	for _, i := range []int{1, 33, 39} {
		if err := b.Set(i, true); err != nil {
			panic(err)
		}
	}
	fmt.Println(b.Len(), b.Test(33), b.Test(2))
	fmt.Println(slices.Collect(b.Ones()))
	fmt.Println(b.Set(64, true))
	// Output:
	// 64 true false
	// [1 33 39]
	// bit 64 outside a bitmap of 64 bits: invalid value
}

// Decode with a loop over Types, keeping attributes without a field.
func ExampleDecoder_Types() {
	var e attrs.Encoder
	e.U32(1, 1500) // mtu
	e.String(2, "eth0")
	e.U8(9, 1) // a type this decoder does not know
	var (
		mtu   uint32
		name  string
		extra []attrs.Attr
	)
	d := attrs.NewDecoder(e.Bytes())
	for t := range d.Types() {
		switch t {
		case 1:
			mtu = d.U32()
		case 2:
			name = d.String()
		default:
			extra = d.AppendCopy(extra)
		}
	}
	if err := d.Err(); err != nil {
		panic(err)
	}
	fmt.Println(mtu, name, len(extra), extra[0].Type)
	// Output:
	// 1500 eth0 1 9
}

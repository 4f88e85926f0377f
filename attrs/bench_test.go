package attrs_test

import (
	"testing"

	"github.com/genlkit/genlkit/attrs"
	"github.com/mdlayher/netlink"
)

// The benchmark workload: 64 attributes in two levels of nesting with mixed
// types and strings. Top level: 8 scalars and 4 nests; each nest: 6 scalars
// and an inner nest of 6 scalars.
var (
	benchMAC  = []byte{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	benchStrs = [4]string{"eth0", "veth-peer-1", "br0", "wlp0s20f3"}
)

type benchSums struct {
	n    int
	sum  uint64
	slen int
}

func encodeAttrs(e *attrs.Encoder) {
	e.U8(1, 1)
	e.U16(2, 1500)
	e.U32(3, 7)
	e.U64(4, 1<<40)
	e.S32(5, -1)
	e.String(6, "genlkit-bench")
	e.Binary(7, benchMAC)
	e.Flag(8)
	for i := uint16(0); i < 4; i++ {
		n := e.Nest(9 + i)
		e.U32(1, uint32(i))
		e.U64(2, uint64(i)<<33)
		e.String(3, benchStrs[i])
		e.U16(4, 80)
		e.U8(5, 2)
		e.String(6, "queue")
		in := e.Nest(7)
		e.U32(1, 100)
		e.U32(2, 200)
		e.U64(3, 300)
		e.String(4, "napi")
		e.U16(5, 5)
		e.Flag(6)
		e.End(in)
		e.End(n)
	}
}

func encodeMdlayher(ae *netlink.AttributeEncoder) {
	ae.Uint8(1, 1)
	ae.Uint16(2, 1500)
	ae.Uint32(3, 7)
	ae.Uint64(4, 1<<40)
	ae.Int32(5, -1)
	ae.String(6, "genlkit-bench")
	ae.Bytes(7, benchMAC)
	ae.Flag(8, true)
	for i := uint16(0); i < 4; i++ {
		ae.Nested(9+i, func(ne *netlink.AttributeEncoder) error {
			ne.Uint32(1, uint32(i))
			ne.Uint64(2, uint64(i)<<33)
			ne.String(3, benchStrs[i])
			ne.Uint16(4, 80)
			ne.Uint8(5, 2)
			ne.String(6, "queue")
			ne.Nested(7, func(ie *netlink.AttributeEncoder) error {
				ie.Uint32(1, 100)
				ie.Uint32(2, 200)
				ie.Uint64(3, 300)
				ie.String(4, "napi")
				ie.Uint16(5, 5)
				ie.Flag(6, true)
				return nil
			})
			return nil
		})
	}
}

func benchMessage() []byte {
	var e attrs.Encoder
	encodeAttrs(&e)
	return e.Bytes()
}

func decodeAttrs(b []byte) (benchSums, error) {
	var s benchSums
	var d attrs.Decoder
	d.Reset(b)
	for d.Next() {
		s.n++
		switch d.Type() {
		case 1:
			s.sum += uint64(d.U8())
		case 2:
			s.sum += uint64(d.U16())
		case 3:
			s.sum += uint64(d.U32())
		case 4:
			s.sum += d.U64()
		case 5:
			s.sum += uint64(d.S32())
		case 6:
			s.slen += len(d.StringBytes())
		case 7:
			s.slen += len(d.Bytes())
		case 8:
			d.Flag()
		default:
			nd := d.Nested()
			for nd.Next() {
				s.n++
				switch nd.Type() {
				case 1:
					s.sum += uint64(nd.U32())
				case 2:
					s.sum += nd.U64()
				case 3, 6:
					s.slen += len(nd.StringBytes())
				case 4:
					s.sum += uint64(nd.U16())
				case 5:
					s.sum += uint64(nd.U8())
				case 7:
					id := nd.Nested()
					for id.Next() {
						s.n++
						switch id.Type() {
						case 1, 2:
							s.sum += uint64(id.U32())
						case 3:
							s.sum += id.U64()
						case 4:
							s.slen += len(id.StringBytes())
						case 5:
							s.sum += uint64(id.U16())
						case 6:
							id.Flag()
						}
					}
				}
			}
		}
	}
	return s, d.Err()
}

func decodeMdlayher(b []byte) (benchSums, error) {
	var s benchSums
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return s, err
	}
	for ad.Next() {
		s.n++
		switch ad.Type() {
		case 1:
			s.sum += uint64(ad.Uint8())
		case 2:
			s.sum += uint64(ad.Uint16())
		case 3:
			s.sum += uint64(ad.Uint32())
		case 4:
			s.sum += ad.Uint64()
		case 5:
			s.sum += uint64(ad.Int32())
		case 6:
			s.slen += len(ad.String())
		case 7:
			s.slen += len(ad.Bytes())
		case 8:
			ad.Flag()
		default:
			ad.Nested(func(nd *netlink.AttributeDecoder) error {
				for nd.Next() {
					s.n++
					switch nd.Type() {
					case 1:
						s.sum += uint64(nd.Uint32())
					case 2:
						s.sum += nd.Uint64()
					case 3, 6:
						s.slen += len(nd.String())
					case 4:
						s.sum += uint64(nd.Uint16())
					case 5:
						s.sum += uint64(nd.Uint8())
					case 7:
						nd.Nested(func(id *netlink.AttributeDecoder) error {
							for id.Next() {
								s.n++
								switch id.Type() {
								case 1, 2:
									s.sum += uint64(id.Uint32())
								case 3:
									s.sum += id.Uint64()
								case 4:
									s.slen += len(id.String())
								case 5:
									s.sum += uint64(id.Uint16())
								case 6:
									id.Flag()
								}
							}
							return nil
						})
					}
				}
				return nil
			})
		}
	}
	return s, ad.Err()
}

func TestBenchWorkloadsAgree(t *testing.T) {
	ae := netlink.NewAttributeEncoder()
	encodeMdlayher(ae)
	mb, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if string(mb) != string(benchMessage()) {
		t.Fatal("encoders disagree on the benchmark message")
	}
	a, err := decodeAttrs(mb)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMdlayher(mb)
	if err != nil {
		t.Fatal(err)
	}
	if a != m || a.n != 64 {
		t.Fatalf("attrs %+v, mdlayher %+v (want 64 attributes)", a, m)
	}
}

func BenchmarkEncode(b *testing.B) {
	b.Run("attrs", func(b *testing.B) {
		b.ReportAllocs()
		var e attrs.Encoder
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			e.Reset(buf[:0])
			encodeAttrs(&e)
			if e.Err() != nil {
				b.Fatal(e.Err())
			}
			buf = e.Bytes()
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("mdlayher", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			ae := netlink.NewAttributeEncoder()
			encodeMdlayher(ae)
			out, err := ae.Encode()
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.SetBytes(int64(n))
	})
}

func BenchmarkDecode(b *testing.B) {
	msg := benchMessage()
	b.Run("attrs", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := decodeAttrs(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mdlayher", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := decodeMdlayher(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

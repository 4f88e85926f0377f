package attrs

import "strconv"

// A FlagName names the bits of a flags type that Mask selects, for
// [FormatFlags].
type FlagName struct {
	Mask uint64
	Name string
}

// FormatFlags formats v as the names of the flags it holds joined with "|",
// in the order of names; bits no name covers follow in hex ("up|0x40").
// Zero formats as "0". Names with a zero Mask are skipped.
func FormatFlags(v uint64, names []FlagName) string {
	if v == 0 {
		return "0"
	}
	var buf [64]byte // most results fit: the string is then the only allocation
	b := buf[:0]
	for _, n := range names {
		if n.Mask != 0 && v&n.Mask == n.Mask {
			if len(b) > 0 {
				b = append(b, '|')
			}
			b = append(b, n.Name...)
			v &^= n.Mask
		}
	}
	if v != 0 {
		if len(b) > 0 {
			b = append(b, '|')
		}
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, v, 16)
	}
	return string(b)
}

package nl80211

import (
	"context"
	"fmt"
	"reflect"
)

// Wiphys dumps the wireless devices (get-wiphy with split-wiphy-dump,
// which every kernel since 3.10 needs to send all of a wiphy: it spreads
// one wiphy over many messages, its bands and each band's channels over
// several) and merges each wiphy's messages into one Attrs, in the order
// the kernel lists the wiphys.
func (c *Client) Wiphys(ctx context.Context) ([]*Attrs, error) {
	var out []*Attrs
	byIndex := map[uint32]*Attrs{}
	for m, err := range c.GetWiphyDump(ctx, &GetWiphyDumpRequest{SplitWiphyDump: true}) {
		if err != nil {
			return nil, err
		}
		if !m.Wiphy.Valid {
			return nil, opError("get-wiphy", fmt.Errorf("dump message without a wiphy index"))
		}
		if w := byIndex[m.Wiphy.Value]; w != nil {
			MergeWiphy(w, m)
			continue
		}
		byIndex[m.Wiphy.Value] = m
		out = append(out, m)
	}
	return out, nil
}

// MergeWiphy merges src, a later message of a split wiphy dump, into dst:
// values dst lacks are taken from src (the ones every message repeats,
// such as the index and name, stay as they are), lists are appended
// (supported commands, a band's channels and rates, Extra), and nests
// present in both (the bands) are merged the same way, field by field.
func MergeWiphy(dst, src *Attrs) {
	merge(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem())
}

// merge merges the struct src into the struct dst (see MergeWiphy).
func merge(dst, src reflect.Value) {
	for i := range dst.NumField() {
		d, s := dst.Field(i), src.Field(i)
		switch d.Kind() {
		case reflect.Bool:
			d.SetBool(d.Bool() || s.Bool())
		case reflect.Slice:
			switch {
			case s.Len() == 0:
			case d.Len() == 0:
				d.Set(s)
			case d.Type().Elem().Kind() != reflect.Uint8:
				// A list; []byte (and net.HardwareAddr) is one value.
				d.Set(reflect.AppendSlice(d, s))
			}
		case reflect.Pointer:
			switch {
			case s.IsNil():
			case d.IsNil():
				d.Set(s)
			case d.Elem().Kind() == reflect.Struct:
				merge(d.Elem(), s.Elem())
			}
		case reflect.Struct:
			if valid := d.FieldByName("Valid"); valid.IsValid() && valid.Kind() == reflect.Bool {
				// An Optional.
				if !valid.Bool() {
					d.Set(s)
				}
			} else if d.IsZero() {
				d.Set(s)
			}
		default:
			if d.IsZero() {
				d.Set(s)
			}
		}
	}
}

package jsonmsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// An Object is a JSON object that keeps its keys in insertion order, so that
// decoded messages list attributes in the order the kernel sent them and
// encoded requests carry attributes in the order the user wrote them.
//
// Values are nil, bool, string, uint64, int64, json.Number, []any or *Object.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty Object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// Set sets key to v. A new key goes last; an existing key keeps its place.
func (o *Object) Set(key string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

// Get returns the value of key and whether it is present.
func (o *Object) Get(key string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[key]
	return v, ok
}

// Delete removes key.
func (o *Object) Delete(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// Keys returns the keys in order. The slice must not be modified.
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// Len returns the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// MarshalJSON implements json.Marshaler, writing the keys in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, o); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Marshal returns the compact JSON text of v (an Object, a []any or a
// scalar), without HTML escaping.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case *Object:
		if v == nil {
			buf.WriteString("null")
			return nil
		}
		buf.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				buf.WriteString(", ")
			}
			writeString(buf, k)
			buf.WriteString(": ")
			if err := writeJSON(buf, v.vals[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteString(", ")
			}
			if err := writeJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case string:
		writeString(buf, v)
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case uint64:
		buf.WriteString(strconv.FormatUint(v, 10))
	case int64:
		buf.WriteString(strconv.FormatInt(v, 10))
	case json.Number:
		buf.WriteString(string(v))
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	buf.Truncate(buf.Len() - 1)
}

// MaxDepth is how deeply arrays and objects may nest in the JSON that
// [Parse] reads. No message of any family comes near it; deeper input is
// refused with an error matching [ErrTooDeep], found while scanning, before
// anything is built.
const MaxDepth = 1000

// ErrTooDeep is the error, wrapped, of JSON nested deeper than [MaxDepth].
var ErrTooDeep = errors.New("nested too deeply")

// A parseError is a mistake in the JSON that is not a syntax error: a
// duplicate key or nesting past [MaxDepth]. It carries its own offset.
type parseError struct {
	err error
}

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// Parse reads one JSON value from data, keeping the key order of objects
// (as *Object) and numbers as json.Number. Trailing non-space data is an
// error, and so are an object with the same key twice and nesting deeper
// than [MaxDepth].
func Parse(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, jsonSyntax(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the value at offset %d", dec.InputOffset())
	}
	return v, nil
}

// ParseObject is Parse for text that must hold a JSON object.
func ParseObject(data []byte) (*Object, error) {
	v, err := Parse(data)
	if err != nil {
		return nil, err
	}
	o, ok := v.(*Object)
	if !ok {
		return nil, fmt.Errorf("invalid JSON: want an object, got %s", kindOf(v))
	}
	return o, nil
}

func jsonSyntax(data []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON: %v (at offset %d)", se, se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if len(bytes.TrimSpace(data)) == 0 {
			return errors.New("invalid JSON: empty input")
		}
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %v (at offset %d)", err, dec.InputOffset())
}

// parseValue reads one value whose enclosing arrays and objects number
// depth. The json.Decoder reads tokens one at a time, so nesting past
// MaxDepth is refused after reading at most MaxDepth+1 open brackets.
func parseValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	t, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // nil, bool, string, json.Number
	}
	if depth >= MaxDepth {
		return nil, &parseError{fmt.Errorf("invalid JSON: %w: more than %d levels (at offset %d)", ErrTooDeep, MaxDepth, dec.InputOffset()-1)}
	}
	switch t {
	case '{':
		o := NewObject()
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			if _, dup := o.vals[k]; dup {
				return nil, &parseError{fmt.Errorf("invalid JSON: duplicate key %q (at offset %d)", k, dec.InputOffset())}
			}
			v, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			o.Set(k, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return o, nil
	case '[':
		a := []any{}
		for dec.More() {
			v, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("unexpected %v", t)
}

func kindOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case *Object:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, uint64, int64:
		return "a number"
	default:
		return fmt.Sprintf("%T", v)
	}
}

package jsonmsg

import (
	"errors"
	"strings"
	"testing"
)

// TestParseDepthLimit: nesting past MaxDepth is refused while scanning,
// with a short error, however deep the input goes; MaxDepth itself parses.
func TestParseDepthLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
	}{
		{"arrays", strings.Repeat("[", 5_000_000)},
		{"objects", strings.Repeat(`{"a":`, 100_000)},
		{"closed arrays", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)},
		{"inside an object", `{"x": ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.input))
			if !errors.Is(err, ErrTooDeep) {
				t.Fatalf("err = %v, want ErrTooDeep", err)
			}
			if len(err.Error()) > 120 || strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one short line: %q", err)
			}
		})
	}
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
}

// TestParseDuplicateKey: an object with the same key twice is refused,
// naming the key, at any depth.
func TestParseDuplicateKey(t *testing.T) {
	for _, in := range []string{
		`{"ifindex": 1, "ifindex": 2}`,
		`{"addr": {"id": 1, "flags": 1, "id": 2}}`,
	} {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), `duplicate key`) {
			t.Errorf("%s: err = %v, want a duplicate key error", in, err)
			continue
		}
		if !strings.Contains(err.Error(), `"ifindex"`) && !strings.Contains(err.Error(), `"id"`) {
			t.Errorf("%s: %v does not name the key", in, err)
		}
	}
}

// TestEncodeRefuses: values that would be sent other than as written are
// refused, naming the attribute path and what is wrong.
func TestEncodeRefuses(t *testing.T) {
	long := strings.Repeat("x", 70001)
	for _, tc := range []struct {
		family, op, json string
		want             []string
	}{
		{"ethtool", "linkinfo-get", `{"header": {"dev-name": "v0\u0000x"}}`,
			[]string{".header.dev-name", "NUL", "byte 2"}},
		{"mptcp_pm", "add-addr", `{"addr": {"family": 10, "addr6": "192.0.2.1"}}`,
			[]string{".addr.addr6", "IPv4", "IPv6"}},
		{"mptcp_pm", "add-addr", `{"addr": {"family": 10, "addr6": "::ffff:192.0.2.1"}}`,
			nil}, // a v4-mapped IPv6 address is an IPv6 address
		{"ethtool", "linkinfo-get", `{"header": {"dev-name": "` + long + `"}}`,
			[]string{"json .header.dev-name", "does not fit"}},
		{"ethtool", "features-set", `{"header": {"dev-name": "v0"}, "wanted": {"bits": {"bit": [{"name": "` + long + `"}]}}}`,
			[]string{".wanted.bits.bit[0].name", "does not fit"}},
	} {
		d := specDesc(t, tc.family)
		msg, err := ParseObject([]byte(tc.json))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = New(d).EncodeRequest(op(t, d, tc.op), msg)
		name := tc.json
		if len(name) > 80 {
			name = name[:80]
		}
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: encoded, want an error", name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", name, err, w)
			}
		}
	}
}

// FuzzParse feeds arbitrary text to the JSON parser the CLI reads requests
// with, and what parses to the request encoder: nothing may panic, nesting
// past MaxDepth is refused, and what parses marshals to JSON that parses
// to the same text again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"ifindex": 1}`, `{"addr": {"family": 10, "addr6": "2001:db8::1", "flags": ["signal"]}}`,
		`{"header": {"dev-name": "v0\u0000"}, "wanted": {"bits": {"bit": [{"name": "rx-gro", "value": true}]}}}`,
		`{"a": 1, "a": 2}`, `[[[[[[]]]]]]`, strings.Repeat("[", 1200),
	} {
		f.Add(s)
	}
	type target struct{ fam, op string }
	targets := []target{{"netdev", "dev-get"}, {"ethtool", "features-set"}, {"mptcp_pm", "add-addr"}, {"tcp_metrics", "get"}}
	codecs := make([]*Codec, len(targets))
	for i, tg := range targets {
		codecs[i] = New(compiledDesc(f, tg.fam))
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse([]byte(s))
		if err != nil {
			if strings.Count(s, "[")+strings.Count(s, "{") <= MaxDepth && errors.Is(err, ErrTooDeep) {
				t.Fatalf("ErrTooDeep with at most %d brackets: %v", MaxDepth, err)
			}
			return
		}
		js, err := Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := Parse(js)
		if err != nil {
			t.Fatalf("marshalled JSON does not parse: %v\n%s", err, js)
		}
		if js2, _ := Marshal(back); string(js2) != string(js) {
			t.Fatalf("round trip: %s became %s", js, js2)
		}
		if o, ok := v.(*Object); ok {
			for i, c := range codecs {
				_, _, _ = c.EncodeRequest(c.Descriptor().Op(targets[i].op), o)
			}
		}
	})
}

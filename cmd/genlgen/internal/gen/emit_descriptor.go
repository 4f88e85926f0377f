package gen

import (
	"fmt"
	"reflect"
	"strconv"
)

// genDescriptor prints the family's descriptor, as internal/spec builds it,
// as a Go composite literal, and registers it with package family.
func (g *generator) genDescriptor(f *file) {
	d := g.p.spec.Descriptor()
	f.P("// Descriptor returns the ", g.p.spec.Name, " family's descriptor: the facts of its")
	f.P("// spec (names, values, types, nesting) that tools need to encode and decode")
	f.P("// its messages without the spec. The package registers it with")
	f.P("// family.Register.")
	f.P("func Descriptor() *", familyPkg.Ident("Descriptor"), " { return descriptor }")
	f.P()
	f.P("func init() { ", familyPkg.Ident("Register"), "(descriptor) }")
	f.P()
	f.P("var descriptor = ", literal(reflect.ValueOf(d), false))
}

// literal returns v as Go source arguments for the printer: a composite
// literal with keyed fields, leaving out zero values and unexported fields.
// With elide (elements of a slice) the type of a struct or pointer to struct
// is left out, as gofmt -s would.
func literal(v reflect.Value, elide bool) []any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []any{"nil"}
		}
		if elide {
			return literal(v.Elem(), true)
		}
		return append([]any{"&"}, literal(v.Elem(), false)...)
	case reflect.Struct:
		t := v.Type()
		var out []any
		if !elide {
			out = append(out, typeIdent(t))
		}
		out = append(out, "{\n")
		for i := range t.NumField() {
			sf := t.Field(i)
			fv := v.Field(i)
			if !sf.IsExported() || fv.IsZero() {
				continue
			}
			out = append(out, sf.Name, ": ")
			out = append(out, literal(fv, false)...)
			out = append(out, ",\n")
		}
		return append(out, "}")
	case reflect.Slice:
		if v.IsNil() {
			return []any{"nil"}
		}
		out := []any{"[]", elemTypeName(v.Type().Elem()), "{\n"}
		for i := range v.Len() {
			out = append(out, literal(v.Index(i), true)...)
			out = append(out, ",\n")
		}
		return append(out, "}")
	case reflect.String:
		return []any{strconv.Quote(v.String())}
	case reflect.Bool:
		return []any{strconv.FormatBool(v.Bool())}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return []any{strconv.FormatInt(v.Int(), 10)}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return []any{strconv.FormatUint(v.Uint(), 10)}
	}
	panic(fmt.Sprintf("descriptor literal: unsupported kind %s", v.Kind()))
}

func typeIdent(t reflect.Type) any {
	if t.PkgPath() == string(familyPkg) {
		return familyPkg.Ident(t.Name())
	}
	return t.Name()
}

func elemTypeName(t reflect.Type) []any {
	switch t.Kind() {
	case reflect.Pointer:
		return []any{"*", elemTypeName(t.Elem())}
	case reflect.Struct:
		return []any{typeIdent(t)}
	}
	return []any{t.Name()}
}

package attrs

import "fmt"

// An Optional holds a value that a message may or may not carry: the
// attribute is present when Valid is true, and the zero Optional is absent.
// Generated family packages use it for every optional scalar and string
// field, so that an attribute the kernel sent as 0 is told apart from one it
// did not send. Setting and reading an Optional never allocates.
type Optional[T any] struct {
	Value T
	Valid bool
}

// Some returns a present Optional holding v.
func Some[T any](v T) Optional[T] { return Optional[T]{Value: v, Valid: true} }

// Get returns the value and whether it is present.
func (o Optional[T]) Get() (T, bool) { return o.Value, o.Valid }

// Or returns the value if present, else def.
func (o Optional[T]) Or(def T) T {
	if o.Valid {
		return o.Value
	}
	return def
}

// Set makes o present with value v.
func (o *Optional[T]) Set(v T) { o.Value, o.Valid = v, true }

// Clear makes o absent.
func (o *Optional[T]) Clear() { *o = Optional[T]{} }

// String formats the value with fmt's %v, or "<absent>".
func (o Optional[T]) String() string {
	if !o.Valid {
		return "<absent>"
	}
	return fmt.Sprint(o.Value)
}

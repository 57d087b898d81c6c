// Package vocab maps the closed Danish vocabularies of the authority
// formats (incident kinds, channels, recipient roles, …) one to one to the
// common record's. Every adapter declares its tables with it, so that the
// three formats look codes up, list them in problems and check them in
// tests in one way.
package vocab

import (
	"fmt"
	"strings"
)

// Code is one Danish code of a format and the common value it stands for.
type Code[T ~string] struct {
	// Danish is the code as the format writes it (ASCII: æ → ae, ø → oe, å → aa).
	Danish string
	// Common is the value of the common record.
	Common T
}

// Pair returns the Code of danish and common; tables read better with it.
func Pair[T ~string](danish string, common T) Code[T] {
	return Code[T]{Danish: danish, Common: common}
}

// Vocab is a closed vocabulary of a format: Danish codes one to one with
// common values, in the order of the common vocabulary. It is read-only
// after New and safe for concurrent use.
type Vocab[T ~string] struct {
	name  string
	codes []Code[T]
	list  string
}

// New returns the vocabulary of codes. name is the vocabulary's type in
// the format's schema (the XSD simple type, or a JSON Schema member), for
// tests and messages. New panics when a Danish code or a common value
// appears twice or is empty: the tables are package-level declarations,
// so that is a programming error found when the package loads.
func New[T ~string](name string, codes ...Code[T]) *Vocab[T] {
	danish := make([]string, len(codes))
	for i, c := range codes {
		if c.Danish == "" || c.Common == "" {
			panic(fmt.Sprintf("vocab %s: code %d is empty", name, i))
		}
		for _, d := range codes[:i] {
			if d.Danish == c.Danish || d.Common == c.Common {
				panic(fmt.Sprintf("vocab %s: %s/%s appears twice", name, c.Danish, c.Common))
			}
		}
		danish[i] = c.Danish
	}
	return &Vocab[T]{name: name, codes: codes, list: strings.Join(danish, ", ")}
}

// Name returns the vocabulary's type name in the format's schema.
func (v *Vocab[T]) Name() string { return v.name }

// Common returns the common value of a Danish code.
func (v *Vocab[T]) Common(danish string) (T, bool) {
	for _, c := range v.codes {
		if c.Danish == danish {
			return c.Common, true
		}
	}
	var zero T
	return zero, false
}

// Danish returns the Danish code of a common value.
func (v *Vocab[T]) Danish(common T) (string, bool) {
	for _, c := range v.codes {
		if c.Common == common {
			return c.Danish, true
		}
	}
	return "", false
}

// List returns the Danish codes, comma separated, for problem messages.
func (v *Vocab[T]) List() string { return v.list }

// Codes returns the Danish codes in order.
func (v *Vocab[T]) Codes() []string {
	out := make([]string, len(v.codes))
	for i, c := range v.codes {
		out[i] = c.Danish
	}
	return out
}

// Values returns the common values in order.
func (v *Vocab[T]) Values() []T {
	out := make([]T, len(v.codes))
	for i, c := range v.codes {
		out[i] = c.Common
	}
	return out
}

package vocab

import (
	"slices"
	"testing"
)

type color string

func TestVocab(t *testing.T) {
	v := New("Farve", Pair("roed", color("red")), Pair("groen", color("green")))
	tests := []struct {
		danish string
		common color
		ok     bool
	}{
		{"roed", "red", true},
		{"groen", "green", true},
		{"blaa", "", false},
		{"Roed", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.danish, func(t *testing.T) {
			got, ok := v.Common(tc.danish)
			if got != tc.common || ok != tc.ok {
				t.Errorf("Common(%q) = %q, %v", tc.danish, got, ok)
			}
			if !tc.ok {
				return
			}
			if back, ok := v.Danish(got); !ok || back != tc.danish {
				t.Errorf("Danish(%q) = %q, %v", got, back, ok)
			}
		})
	}
	if v.Name() != "Farve" || v.List() != "roed, groen" || !slices.Equal(v.Codes(), []string{"roed", "groen"}) ||
		!slices.Equal(v.Values(), []color{"red", "green"}) {
		t.Errorf("Name %q, List %q, Codes %v, Values %v", v.Name(), v.List(), v.Codes(), v.Values())
	}
}

func TestNewPanicsOnARepeat(t *testing.T) {
	tests := map[string][]Code[color]{
		"repeated code":  {Pair("roed", color("red")), Pair("roed", color("green"))},
		"repeated value": {Pair("roed", color("red")), Pair("groen", color("red"))},
		"empty code":     {Pair("", color("red"))},
	}
	for name, codes := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			New("Farve", codes...)
		})
	}
}

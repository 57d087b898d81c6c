package municipality

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Classification is a case classification in KL Emnesystematik (KLE), the
// journal plan Danish municipalities file cases by: a subject number
// (emne, "NN.NN.NN": main group, group, subject) and an optional action
// facet (handlingsfacet, a capital letter and two digits such as "G01").
//
// Which subject and facet a municipality files psychosocial registrations
// under is the municipality's decision, so it is configuration (see
// Options), not something this package knows.
type Classification struct {
	// Subject is the KLE subject number, "NN.NN.NN".
	Subject string
	// Facet is the KLE action facet, "XNN"; empty when none is used.
	Facet string
}

// DefaultClassification returns the classification Encode writes when
// neither Options.ByRecipient nor Options.Classification names one. It is
// a deliberately neutral placeholder chosen by this project (subject
// 00.00.00, no facet), NOT a claim that KLE assigns this number to psychosocial registrations:
// configure the number each municipality's journal plan uses.
func DefaultClassification() Classification { return Classification{Subject: "00.00.00"} }

var (
	reKLESubject = regexp.MustCompile(`^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$`)
	reKLEFacet   = regexp.MustCompile(`^[A-Z][0-9]{2}$`)
)

// ErrInvalidClassification is wrapped by the errors of Classification.Check
// and ParseClassification.
var ErrInvalidClassification = errors.New("invalid KLE classification")

// Check reports whether c is well formed.
func (c Classification) Check() error {
	if !reKLESubject.MatchString(c.Subject) {
		return fmt.Errorf("%w: subject must have the form NN.NN.NN", ErrInvalidClassification)
	}
	if c.Facet != "" && !reKLEFacet.MatchString(c.Facet) {
		return fmt.Errorf("%w: action facet must be a capital letter and two digits (G01)", ErrInvalidClassification)
	}
	return nil
}

// IsZero reports whether c is the zero Classification.
func (c Classification) IsZero() bool { return c == Classification{} }

// String formats c as "NN.NN.NN" or "NN.NN.NN-XNN".
func (c Classification) String() string {
	if c.Facet == "" {
		return c.Subject
	}
	return c.Subject + "-" + c.Facet
}

// ParseClassification parses the form String writes: "27.24.00" or
// "27.24.00-G01" (configuration files name classifications this way).
func ParseClassification(s string) (Classification, error) {
	subject, facet, _ := strings.Cut(s, "-")
	c := Classification{Subject: subject, Facet: facet}
	if strings.HasSuffix(s, "-") {
		return Classification{}, fmt.Errorf("%w: empty action facet after '-'", ErrInvalidClassification)
	}
	if err := c.Check(); err != nil {
		return Classification{}, err
	}
	return c, nil
}

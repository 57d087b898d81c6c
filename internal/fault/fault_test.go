package fault_test

import (
	"errors"
	"testing"
	"time"

	"github.com/psykosocial/exchange/internal/fault"
)

func TestErrorMatchesItsKindAndCause(t *testing.T) {
	cause := errors.New("database is down")
	err := error(fault.Wrap(fault.ErrUnavailable, "store-unavailable", "Temporarily unavailable", "retry later", cause))
	err.(*fault.Error).RetryAfter = 5 * time.Second
	if !errors.Is(err, fault.ErrUnavailable) || !errors.Is(err, cause) || errors.Is(err, fault.ErrConflict) {
		t.Fatalf("errors.Is does not match the kind and cause only: %v", err)
	}
	e, ok := fault.As(errors.Join(errors.New("context"), err))
	if !ok || e.Type != "store-unavailable" || e.RetryAfter != 5*time.Second {
		t.Fatalf("As: %+v %v", e, ok)
	}
	if got := fault.New(fault.ErrConflict, "message-conflict", "Conflict", "another document").Error(); got != "conflict: message-conflict: another document" {
		t.Errorf("Error() = %q", got)
	}
}

// Package testenv lets tests require real external tools and services.
//
// On a developer's laptop a missing tool skips the test with a message that
// says what to install; under CI=true a missing tool fails the test, because
// CI must prove that the real thing ran.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips t (or, under CI, fails it) with the given reason.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("required under CI=true: %s", reason)
	}
	t.Skipf("skipped: %s", reason)
}

// RequireTool returns the path of the named program, or skips/fails t when it
// is not installed. hint says how to install it (e.g. "apt-get install libxml2-utils").
func RequireTool(t testing.TB, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed ("+hint+")")
	}
	return p
}

// DefaultDatabaseURL is the PostgreSQL server tests use when
// GATEWAY_TEST_DATABASE_URL is not set (this machine's, trust auth).
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DatabaseURL is the PostgreSQL server of the tests: GATEWAY_TEST_DATABASE_URL
// or DefaultDatabaseURL.
func DatabaseURL() string {
	if u := os.Getenv("GATEWAY_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultDatabaseURL
}

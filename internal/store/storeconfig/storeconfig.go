// Package storeconfig chooses and opens the store's backend from the
// configuration: SQLite in the data directory (the default, zero set-up)
// or PostgreSQL shared by several replicas.
package storeconfig

import (
	"context"
	"errors"
	"fmt"

	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/postgres"
	"github.com/psykosocial/exchange/internal/store/sqlite"
)

// Drivers.
const (
	// DriverSQLite keeps the store in one SQLite file.
	DriverSQLite = "sqlite"
	// DriverPostgres keeps the store in PostgreSQL.
	DriverPostgres = "postgres"
)

// Config selects the backend. The zero value is not valid: SQLite needs
// its path.
type Config struct {
	// Driver is DriverSQLite or DriverPostgres; "" means DriverSQLite.
	Driver string
	// SQLitePath is the database file (DriverSQLite), e.g. DATA/gateway.db.
	SQLitePath string
	// PostgresURL is the connection string (DriverPostgres); a secret,
	// given by the environment rather than the file.
	PostgresURL string
	// PostgresSchema holds the tables (DriverPostgres); "" means "public".
	PostgresSchema string
}

// Validate checks the configuration once, at start, naming the setting at fault.
func (c Config) Validate() error {
	switch c.Driver {
	case "", DriverSQLite:
		if c.SQLitePath == "" {
			return errors.New("store: SQLitePath is required with the sqlite driver")
		}
		if c.PostgresURL != "" {
			return errors.New("store: PostgresURL is set but the driver is sqlite")
		}
	case DriverPostgres:
		if c.PostgresURL == "" {
			return errors.New("store: PostgresURL is required with the postgres driver")
		}
		if c.SQLitePath != "" {
			return errors.New("store: SQLitePath is set but the driver is postgres")
		}
	default:
		return fmt.Errorf("store: Driver must be %q or %q", DriverSQLite, DriverPostgres)
	}
	return nil
}

// Open validates c, opens the chosen backend and migrates it. Close the
// backend when done.
func Open(ctx context.Context, c Config) (store.Backend, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	if c.Driver == DriverPostgres {
		return postgres.OpenURL(ctx, c.PostgresURL, postgres.Options{Schema: c.PostgresSchema})
	}
	return sqlite.Open(ctx, c.SQLitePath, sqlite.Options{})
}

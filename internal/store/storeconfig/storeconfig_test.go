package storeconfig_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/postgres"
	"github.com/psykosocial/exchange/internal/store/sqlite"
	"github.com/psykosocial/exchange/internal/store/storeconfig"
	"github.com/psykosocial/exchange/internal/testenv"
)

func TestValidate(t *testing.T) {
	for _, c := range []storeconfig.Config{
		{},
		{Driver: "mysql", SQLitePath: "x.db"},
		{Driver: "postgres"},
		{Driver: "postgres", PostgresURL: "postgres://x", SQLitePath: "x.db"},
		{SQLitePath: "x.db", PostgresURL: "postgres://x"},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := storeconfig.Open(context.Background(), c); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%+v): %v, want ErrInvalid", c, err)
		}
	}
}

func TestOpenChoosesTheDriver(t *testing.T) {
	ctx := context.Background()
	b, err := storeconfig.Open(ctx, storeconfig.Config{SQLitePath: filepath.Join(t.TempDir(), "gateway.db")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(*sqlite.Backend); !ok {
		t.Errorf("the default driver gave %T", b)
	}
	b.Close()

	var r [6]byte
	rand.Read(r[:])
	schema := "storeconfig_test_" + hex.EncodeToString(r[:])
	b, err = storeconfig.Open(ctx, storeconfig.Config{Driver: storeconfig.DriverPostgres, PostgresURL: testenv.DatabaseURL(), PostgresSchema: schema})
	if err != nil {
		testenv.Missing(t, "PostgreSQL at "+testenv.DatabaseURL()+": "+err.Error())
	}
	defer b.Close()
	if _, ok := b.(*postgres.Backend); !ok {
		t.Fatalf("the postgres driver gave %T", b)
	}
	conn, err := pgx.Connect(ctx, testenv.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	defer conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "store_migrations"}.Sanitize()).Scan(&n); err != nil || n != 5 {
		t.Fatalf("migrations recorded: %d, %v; want 5", n, err)
	}
}

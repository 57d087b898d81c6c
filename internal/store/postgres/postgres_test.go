package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/psykosocial/exchange/internal/store"
	"github.com/psykosocial/exchange/internal/store/postgres"
	"github.com/psykosocial/exchange/internal/testenv"
	"github.com/psykosocial/exchange/internal/testenv/storetest"
)

// testPool connects to the test server, or skips (fails under CI=true).
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, testenv.DatabaseURL())
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		testenv.Missing(t, fmt.Sprintf("PostgreSQL at %s (set GATEWAY_TEST_DATABASE_URL) is unreachable: %v", testenv.DatabaseURL(), err))
	}
	t.Cleanup(pool.Close)
	return pool
}

// db is one schema of its own on the test server, dropped after the test.
type db struct {
	admin  *pgxpool.Pool
	schema string
}

func newDB(t testing.TB) storetest.DB {
	t.Helper()
	pool := testPool(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "store_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return &db{admin: pool, schema: schema}
}

func (d *db) Open(t testing.TB) store.Backend {
	t.Helper()
	b, err := postgres.OpenURL(context.Background(), testenv.DatabaseURL(), postgres.Options{Schema: d.schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Find searches every text and bytea column of every table in the
// schema through SQL.
func (d *db) Find(t testing.TB, needles [][]byte) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := d.admin.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = $1 AND data_type IN ('text', 'bytea', 'character varying', 'character', 'json', 'jsonb')`, d.schema)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, column, typ string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
		var c col
		return c, r.Scan(&c.table, &c.column, &c.typ)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) < 10 {
		t.Fatalf("only %d text and binary columns in %s", len(cols), d.schema)
	}
	var found []string
	for _, c := range cols {
		ref := pgx.Identifier{d.schema, c.table}.Sanitize()
		colRef := pgx.Identifier{c.column}.Sanitize()
		for _, n := range needles {
			if c.typ != "bytea" && !utf8.Valid(n) {
				continue // bytes that are not UTF-8 cannot be in a text column
			}
			var q string
			var arg any
			if c.typ == "bytea" {
				q, arg = `SELECT count(*) FROM `+ref+` WHERE position($1::bytea IN `+colRef+`) > 0`, n
			} else {
				q, arg = `SELECT count(*) FROM `+ref+` WHERE strpos(`+colRef+`::text, $1) > 0`, string(n)
			}
			var k int
			if err := d.admin.QueryRow(ctx, q, arg).Scan(&k); err != nil {
				t.Fatalf("search %s.%s: %v", c.table, c.column, err)
			}
			if k > 0 {
				found = append(found, fmt.Sprintf("%s.%s: %s (%d rows)", c.table, c.column, n, k))
			}
		}
	}
	return found
}

func TestStore(t *testing.T) { storetest.Run(t, newDB) }

package sqlite_test

import (
	"testing"

	"github.com/psykosocial/exchange/internal/testenv/storetest"
)

func BenchmarkCommit(b *testing.B) { storetest.BenchmarkCommit(b, newDB) }
func BenchmarkPurge(b *testing.B)  { storetest.BenchmarkPurge(b, newDB) }

// Package storetest gives a test a PostgreSQL schema of its own, so tests of
// the store, the server and the command can share one test database.
package storetest

import (
	"crypto/rand"
	"net/url"
	"strings"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// Schema creates an empty schema in the database base names, drops it when
// the test ends, and returns base with its search_path pointing there.
func Schema(t testing.TB, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse GATEWISE_TEST_POSTGRES: %v", err)
	}
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: gormlogger.Discard})
	if err != nil {
		t.Fatalf("connect to %s: %v", u.Redacted(), err)
	}
	schema := "gatewise_test_" + strings.ToLower(rand.Text()[:16]) // base32: letters and 2–7
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		if db, err := admin.DB(); err == nil {
			db.Close()
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

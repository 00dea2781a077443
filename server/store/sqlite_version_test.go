package store

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// minSQLite is the oldest SQLite gatewise accepts embedded in its driver:
// the one modernc.org/sqlite (go.mod) carries. The driver used to embed
// 3.41.2, from 2023, with the fixes of three years missing; this keeps a
// downgrade of the driver from passing unseen.
const minSQLite = "3.54.1"

func TestEmbeddedSQLiteIsRecent(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "gatewise.db"))
	var v string
	if err := s.db.WithContext(t.Context()).Raw("SELECT sqlite_version()").Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("SQLite %s", v)
	if older(v, minSQLite) {
		t.Errorf("the driver embeds SQLite %s, older than %s", v, minSQLite)
	}
}

// older reports whether dotted version a is before b.
func older(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// A nil []byte is SQL NULL. glebarez/go-sqlite before v1.23.0 bound it with
// malloc(0), which the libc that modernc.org/sqlite v1.62.0 needs makes a
// real pointer: nil became a zero-length blob, and "data IS NULL" (a run's
// parts not yet in) stopped matching.
func TestNilBytesAreNull(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "gatewise.db"))
	var null, empty bool
	if err := s.db.WithContext(t.Context()).Raw("SELECT ? IS NULL, ? IS NULL", []byte(nil), []byte{}).Row().Scan(&null, &empty); err != nil {
		t.Fatal(err)
	}
	if !null || empty {
		t.Errorf("nil []byte IS NULL: %v (want true); []byte{} IS NULL: %v (want false)", null, empty)
	}
}

package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"
)

// A database whose disk is full says so: the write fails with ErrNoSpace,
// which the server answers with 507, not a bare 500. SQLite is held to
// its present size (max_page_count) to stand for a full disk.
func TestFullDatabaseIsNoSpace(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "gatewise.db"))
	err := s.db.WithContext(t.Context()).Connection(func(conn *gorm.DB) error {
		tx := conn.Session(&gorm.Session{NewDB: true}) // each call a statement of its own
		var pages int64
		if err := tx.Raw("PRAGMA page_count").Scan(&pages).Error; err != nil {
			return err
		}
		if err := tx.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)).Error; err != nil {
			return err
		}
		row := architectureRow{ID: "full", Name: "big", Spec: strings.Repeat("x", 1<<20)}
		return tx.Create(&row).Error
	})
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("a write to a full database: %v, want ErrNoSpace", err)
	}
	if errors.Is(err, ErrUnavailable) {
		t.Errorf("a full database reads as unavailable (503, try again soon): %v", err)
	}
}

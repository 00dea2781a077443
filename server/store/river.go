package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// On PostgreSQL, runs are River jobs (server/river.go), and River's tables
// live in gatewise's schema. Their migrations are steps of gatewise's own,
// applied to a fixed River migration version inside the step's transaction,
// so a database is always at one known River schema; a River upgrade that
// needs a newer one is a new gatewise step.

// riverSchemaVersion is the River migration version gatewise's schema
// includes: the latest of River v0.51. riverSchemaAddsPending is River's
// migration that adds the job state "pending", which the next ones use:
// gatewise's steps stop there and go on in a new transaction.
const (
	riverSchemaVersion     = 8
	riverSchemaAddsPending = 4
)

// migrateRiver brings River's tables in the current schema up to River
// migration version inside tx. SQLite has none: one process owns it and
// works its runs with the in-process queue.
func migrateRiver(tx *gorm.DB, kind string, version int) error {
	if kind != KindPostgres {
		return nil
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return fmt.Errorf("River's migrations need a *sql.Tx, the connection is %T", tx.Statement.ConnPool)
	}
	var schema string
	if err := tx.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		return err
	}
	if schema == "" {
		return errors.New("the connection has no current schema (check search_path)")
	}
	m, err := rivermigrate.New(riverdatabasesql.New(nil), &rivermigrate.Config{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	ctx := tx.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	_, err = m.MigrateTx(ctx, sqlTx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{TargetVersion: version})
	return err
}

// PostgresDSN returns the connection string a PostgreSQL store was opened
// with, for the job queue's own connection pool; "" on SQLite.
func (s *Store) PostgresDSN() string {
	if d, ok := s.db.Dialector.(*postgres.Dialector); ok && s.kind == KindPostgres {
		return d.DSN
	}
	return ""
}

// SQL returns the store's connection pool, on which the job queue inserts
// jobs inside the store's transactions (see TxHook).
func (s *Store) SQL() (*sql.DB, error) {
	db, err := s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return db, nil
}

// Schema returns the PostgreSQL schema gatewise's tables are in (the
// first of search_path), where River's are too; "" on SQLite.
func (s *Store) Schema(ctx context.Context) (string, error) {
	if s.kind != KindPostgres {
		return "", nil
	}
	var schema string
	if err := s.db.WithContext(ctx).Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		return "", fmt.Errorf("store: current schema: %w", err)
	}
	return schema, nil
}

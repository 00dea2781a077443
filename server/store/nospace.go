package store

import (
	"errors"

	sqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoSpace marks a database error that means the database's disk is
// full: SQLite's "database or disk is full", PostgreSQL's disk_full. The
// request was fine and will fail again until someone makes room, so the
// server says so rather than answer a bare 500.
var ErrNoSpace = errors.New("the database's disk is full")

// sqliteFull is SQLite's result code for a write that found no room.
const sqliteFull = 13

// noSpace reports whether err is a database out of disk space.
func noSpace(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqliteFull
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53100"
}

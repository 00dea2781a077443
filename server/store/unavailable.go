package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	sqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// SQLite result codes for a database another connection holds.
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// ErrUnavailable marks a database error that means the database could not
// be reached or was too busy to answer in time; see unavailable.
var ErrUnavailable = errors.New("the database is unavailable")

// markUnavailable is a gorm callback run after every statement: it tags an
// unavailable database's error with ErrUnavailable, so callers can tell it
// from a bad request by errors.Is without knowing the drivers.
func markUnavailable(db *gorm.DB) {
	if db.Error != nil && !errors.Is(db.Error, ErrUnavailable) && unavailable(db.Error) {
		db.Error = fmt.Errorf("%w: %w", ErrUnavailable, db.Error)
	}
	if db.Error != nil && !errors.Is(db.Error, ErrNoSpace) && noSpace(db.Error) {
		db.Error = fmt.Errorf("%w: %w", ErrNoSpace, db.Error)
	}
}

// registerUnavailable installs markUnavailable on every kind of statement.
func registerUnavailable(db *gorm.DB) error {
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("*").Register("gatewise:unavailable", markUnavailable),
		cb.Query().After("*").Register("gatewise:unavailable", markUnavailable),
		cb.Update().After("*").Register("gatewise:unavailable", markUnavailable),
		cb.Delete().After("*").Register("gatewise:unavailable", markUnavailable),
		cb.Row().After("*").Register("gatewise:unavailable", markUnavailable),
		cb.Raw().After("*").Register("gatewise:unavailable", markUnavailable),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// unavailable reports whether err means the database could not be reached
// or was too busy to answer in time, rather than that the request was
// wrong: SQLite locked past its busy timeout, or PostgreSQL down,
// restarting or unreachable. Such a request may succeed if tried again, so
// the server answers 503 instead of 500.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff // extended codes keep the primary code in the low byte
		return code == sqliteBusy || code == sqliteLocked
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exceptions; 57P01-57P03: the server is
		// shutting down, crashed or starting up; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	// pgx reports a connection closed under it in plain words.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset by peer") || strings.Contains(msg, "unexpected EOF")
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// ErrNotFound is returned when the requested row does not exist.
var ErrNotFound = errors.New("store: not found")

// Database kinds reported by Store.Kind.
const (
	KindSQLite   = "sqlite"
	KindPostgres = "postgres"
)

// DefaultSQLitePath is the database file used when Open is given an empty DSN,
// so a first run needs no configuration at all.
const DefaultSQLitePath = "gatewise.db"

// sqlitePragmas are applied by the driver to every new SQLite connection, in
// this order. busy_timeout comes first so that switching to WAL (which needs a
// lock) waits for another process instead of failing with SQLITE_BUSY; WAL
// lets readers proceed while a writer commits; synchronous(NORMAL) is durable
// enough under WAL and much faster than FULL; foreign keys are off by default
// in SQLite and later tables rely on them; secure_delete zeroes what is
// deleted, so a raw log's prompt text does not outlive its rows in free
// pages (see scrub in upload_chunk.go). _txlock=immediate makes every
// transaction take the write lock at BEGIN, which serialises concurrent
// migrations and avoids deadlocks when a reader upgrades to a writer.
const sqlitePragmas = "_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=secure_delete(1)" +
	"&_txlock=immediate"

// Store is gatewise's handle on its database. It is safe for concurrent use.
type Store struct {
	db   *gorm.DB
	kind string
}

// Open connects to the database named by dsn, applies pending migrations and
// refuses a database whose schema is newer than this binary knows, since
// writing to it could corrupt data a newer gatewise relies on.
//
// dsn selects the database:
//   - "" opens the SQLite file gatewise.db in the working directory;
//   - "postgres://..." or "postgresql://..." connects to PostgreSQL;
//   - ":memory:" opens a private, uniquely named in-memory SQLite database;
//   - "sqlite://path", "file:path" or any other string is a SQLite file path.
//
// A nil logger means slog.Default().
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.Default()
	}
	cfg := &gorm.Config{
		Logger: newGormLogger(logger),
		// Every write is a single statement; gorm's implicit transaction
		// around it would only add two round trips.
		SkipDefaultTransaction: true,
		NowFunc:                now,
		// Open pings itself so that it can honour ctx and word the error.
		DisableAutomaticPing: true,
	}

	var (
		s   *Store
		err error
	)
	if isPostgres(dsn) {
		s, err = openPostgres(ctx, dsn, cfg)
	} else {
		s, err = openSQLite(ctx, dsn, cfg)
	}
	if err != nil {
		return nil, err
	}
	if err := registerUnavailable(s.db); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLiteFile returns the file a DSN names, or "" for PostgreSQL and
// in-memory databases, so a command that must not create a database can
// check first that it exists.
func SQLiteFile(dsn string) (string, error) {
	if isPostgres(dsn) {
		return "", nil
	}
	t, err := parseSQLiteDSN(dsn)
	return t.path, err
}

// sqliteTarget is what a non-PostgreSQL DSN names: a file path, or an
// in-memory database.
type sqliteTarget struct {
	path   string
	memory bool
}

// parseSQLiteDSN turns the accepted SQLite DSN forms into a target. Query
// parameters are rejected rather than dropped silently, because gatewise sets
// the connection pragmas itself.
func parseSQLiteDSN(dsn string) (sqliteTarget, error) {
	path := dsn
	switch {
	case path == "":
		path = DefaultSQLitePath
	case strings.HasPrefix(path, "sqlite://"):
		path = strings.TrimPrefix(path, "sqlite://")
	case strings.HasPrefix(path, "sqlite:"):
		path = strings.TrimPrefix(path, "sqlite:")
	case strings.HasPrefix(path, "file:"):
		path = strings.TrimPrefix(path, "file:")
	}
	if strings.ContainsRune(path, '?') {
		return sqliteTarget{}, fmt.Errorf("store: SQLite DSN %q: query parameters are not supported (gatewise sets its own pragmas)", dsn)
	}
	if path == ":memory:" {
		return sqliteTarget{memory: true}, nil
	}
	if path == "" {
		return sqliteTarget{}, fmt.Errorf("store: SQLite DSN %q names no file", dsn)
	}
	return sqliteTarget{path: path}, nil
}

// driverDSN is the string handed to the SQLite driver. An in-memory database
// gets a unique name with a shared cache so that every connection of this
// Store (and no other Store) sees the same data.
func (t sqliteTarget) driverDSN() string {
	if t.memory {
		return "file:gatewise-mem-" + newID() + "?mode=memory&cache=shared&" + sqlitePragmas
	}
	return t.path + "?" + sqlitePragmas
}

func openSQLite(ctx context.Context, dsn string, cfg *gorm.Config) (*Store, error) {
	target, err := parseSQLiteDSN(dsn)
	if err != nil {
		return nil, err
	}
	name := target.path
	if target.memory {
		name = ":memory:"
	} else if dir := filepath.Dir(target.path); !isDir(dir) {
		// SQLite reports a missing directory as "unable to open database
		// file: out of memory (14)"; say what is actually wrong.
		return nil, fmt.Errorf("store: cannot open SQLite database %q: directory %q does not exist", target.path, dir)
	}

	// The pool is opened here rather than by gorm so that the first
	// connection can be retried (see pingSQLite) before gorm queries it.
	sqlDB, err := sql.Open(sqlite.DriverName, target.driverDSN())
	if err != nil {
		return nil, fmt.Errorf("store: cannot open SQLite database %q: %w", name, err)
	}
	if target.memory {
		// The in-memory database lives only as long as a connection to it;
		// one connection that never expires keeps it alive.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	} else {
		// SQLite has a single writer; a few connections let reads overlap
		// with it under WAL without piling up waiters on the write lock.
		sqlDB.SetMaxOpenConns(4)
		sqlDB.SetMaxIdleConns(4)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := pingSQLite(ctx, sqlDB.PingContext); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: cannot open SQLite database %q: %w", name, err)
	}
	db, err := gorm.Open(&sqlite.Dialector{Conn: sqlDB}, cfg)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: cannot open SQLite database %q: %w", name, err)
	}
	return &Store{db: db, kind: KindSQLite}, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// pingSQLite opens the first connection, retrying while the file is busy.
// When several processes open a new file at once, switching it to WAL needs
// an exclusive lock and SQLite can report SQLITE_BUSY at once instead of
// waiting out busy_timeout; once the file is in WAL mode this cannot happen.
func pingSQLite(ctx context.Context, ping func(context.Context) error) error {
	const budget = 5 * time.Second // as long as busy_timeout would wait
	deadline := time.Now().Add(budget)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := ping(ctx)
		if err == nil || !isSQLiteBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// isSQLiteBusy reports whether err is SQLite's SQLITE_BUSY (any extended
// code). The driver's error type exposes the result code through Code.
func isSQLiteBusy(err error) bool {
	const sqliteBusy = 5
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteBusy
}

func openPostgres(ctx context.Context, dsn string, cfg *gorm.Config) (*Store, error) {
	dsn = withDefaultConnectTimeout(dsn)
	// pgconn redacts the password in its parse errors, so they can be shown.
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: invalid PostgreSQL DSN: %w", err)
	}
	addr := net.JoinHostPort(pc.Host, strconv.Itoa(int(pc.Port)))

	db, err := gorm.Open(postgres.Open(dsn), cfg)
	if err != nil {
		return nil, fmt.Errorf("store: cannot reach PostgreSQL at %s: %w", addr, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: cannot reach PostgreSQL at %s: %w", addr, err)
	}
	// Several gatewise processes may share one server; keep each one's share
	// of max_connections (100 by default) small, and recycle connections so
	// that a failover or pgbouncer restart is picked up.
	sqlDB.SetMaxOpenConns(10)
	sqlDB.SetMaxIdleConns(5)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("store: cannot reach PostgreSQL at %s: %w", addr, err)
	}
	return &Store{db: db, kind: KindPostgres}, nil
}

// withDefaultConnectTimeout adds connect_timeout=10 unless the DSN sets one,
// so that an unreachable host fails Open in seconds even when the caller's
// context has no deadline.
func withDefaultConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pgconn.ParseConfig reports the problem without the password
	}
	q := u.Query()
	if q.Has("connect_timeout") {
		return dsn
	}
	q.Set("connect_timeout", "10")
	u.RawQuery = q.Encode()
	return u.String()
}

// Kind reports which database the store uses: KindSQLite or KindPostgres.
func (s *Store) Kind() string { return s.kind }

// Close releases the database connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		if unavailable(err) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// now is the store's clock: UTC, truncated to microseconds because that is
// what PostgreSQL keeps, so a time read back equals the time written on both
// databases.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// slowQuery is the duration above which a query is logged as a warning.
const slowQuery = 500 * time.Millisecond

// gormLogger sends gorm's messages to slog. Statements are never logged
// one by one; only slow ones are, at warn level, and failed ones at debug
// level, since the caller receives the error and decides how loud it is.
type gormLogger struct {
	log   *slog.Logger
	level gormlogger.LogLevel
}

func newGormLogger(l *slog.Logger) *gormLogger {
	return &gormLogger{log: l.With("component", "store"), level: gormlogger.Warn}
}

func (g *gormLogger) LogMode(level gormlogger.LogLevel) gormlogger.Interface {
	c := *g
	c.level = level
	return &c
}

func (g *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	if g.level >= gormlogger.Info {
		g.log.InfoContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (g *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	if g.level >= gormlogger.Warn {
		g.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (g *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	if g.level >= gormlogger.Error {
		g.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (g *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if g.level <= gormlogger.Silent {
		return
	}
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		if g.log.Enabled(ctx, slog.LevelDebug) {
			sql, rows := fc()
			g.log.DebugContext(ctx, "query failed", "err", err, "elapsed", elapsed, "rows", rows, "sql", clip(sql))
		}
	case elapsed > slowQuery && g.level >= gormlogger.Warn:
		sql, rows := fc()
		g.log.WarnContext(ctx, "slow query", "elapsed", elapsed, "rows", rows, "sql", clip(sql))
	}
}

// clip shortens a statement for the log; specs make statements long.
func clip(sql string) string {
	const max = 300
	if len(sql) <= max {
		return sql
	}
	return sql[:max] + "…"
}

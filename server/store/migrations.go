package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// The schema evolves only by appending to migrations(); a step that has
// shipped is never edited or removed, because databases in the field have
// already recorded it as applied. The schema version of a database is the
// number of steps applied, so the version this binary knows is simply
// len(migrations()).
//
// Steps are plain SQL rather than gorm's AutoMigrate so that the schema is
// reviewed, identical in intent on SQLite and PostgreSQL, and never changed
// behind our back by a struct edit. Each step runs in its own transaction
// together with the row recording it in schema_migrations, so a failed step
// leaves the database at the previous version.
//
// Runs (step 2) keep their result and memo with them; uploads (step 3) keep
// the traffic profile built from a request log (aggregates only, never
// prompt or completion text), not the log. Step 4 adds when a worker took
// a run, from which its page estimates the time left. Step 5 keeps price
// files users chose to price runs with. Step 6 lets an upload wait for its
// column mapping with its raw file on disk, and keep that file when the user
// asks to. Step 7 is for shared deployments: every row has an owner, and
// sign-in sessions and read-only share links have tables of their own.
// Step 8 keeps, with each run, the architecture as it was when the run was
// queued: editing the architecture later then changes neither what a
// restart simulates nor what a comparison of two runs shows as changed.
// Step 9 keeps a finished run's chosen option and traffic source in
// columns of their own, so lists show them without reading results.
// Step 10 moves the raw log of an upload (waiting for its mapping, or kept
// by choice) from one server's disk into the database, in chunks
// (upload_chunks, see upload_chunk.go), so every server on a shared database
// can map, read and re-read it; and it gives the deployment an id (settings),
// which names the files its servers write while receiving logs, so a sweep
// removes only those. Raw files an earlier gatewise left on disk are
// imported by the server, which knows the upload folder, not here.
// Steps 11 and 12 let one run be simulated by several workers: run_parts
// keeps each trial range's part until the merge, and on PostgreSQL River's
// job tables (at River migration riverSchemaVersion, see river.go) hold the
// runs' jobs, which any gatewise serve or worker on the database may take.
// River's migrations are split over two steps because one adds a value to
// an enum that a later one uses, and PostgreSQL lets a transaction use a
// new enum value only once the transaction that added it has committed.
// Step 13 lets an upload combine several logs (a deployment's SpendLogs and
// ErrorLogs, or one file a day): upload_logs keeps each file's own profile,
// summary, checksum and request-id fingerprints (never the ids), so a file
// added later is checked against every one before it and the combination
// can be made again; uploads.revision counts the changes, so two additions
// at once cannot both build on the same state.

// migration is one versioned step of the schema.
type migration struct {
	version int
	name    string
	// up applies the step inside tx; kind is KindSQLite or KindPostgres for
	// the few places where the two dialects differ.
	up func(tx *gorm.DB, kind string) error
}

// migrations lists every schema step in order; step i has version i+1.
func migrations() []migration {
	return []migration{
		{
			version: 1,
			name:    "create architectures",
			up: func(tx *gorm.DB, kind string) error {
				ts := timestampType(kind)
				return execAll(tx,
					`CREATE TABLE architectures (
						id         TEXT PRIMARY KEY,
						name       TEXT NOT NULL,
						spec       TEXT NOT NULL,
						created_at `+ts+` NOT NULL,
						updated_at `+ts+` NOT NULL
					)`,
					`CREATE INDEX architectures_created_at_idx ON architectures (created_at DESC, id DESC)`,
				)
			},
		},
		{
			version: 2,
			name:    "create runs",
			up: func(tx *gorm.DB, kind string) error {
				ts := timestampType(kind)
				return execAll(tx,
					`CREATE TABLE runs (
						id              TEXT PRIMARY KEY,
						architecture_id TEXT NOT NULL REFERENCES architectures (id) ON DELETE CASCADE,
						status          TEXT NOT NULL,
						options         TEXT NOT NULL,
						done            INTEGER NOT NULL DEFAULT 0,
						total           INTEGER NOT NULL DEFAULT 0,
						result          TEXT NOT NULL DEFAULT '',
						memo            TEXT NOT NULL DEFAULT '',
						error           TEXT NOT NULL DEFAULT '',
						created_at      `+ts+` NOT NULL,
						updated_at      `+ts+` NOT NULL
					)`,
					`CREATE INDEX runs_created_at_idx ON runs (created_at DESC, id DESC)`,
					`CREATE INDEX runs_status_idx ON runs (status, created_at)`,
				)
			},
		},
		{
			version: 3,
			name:    "create uploads",
			up: func(tx *gorm.DB, kind string) error {
				ts := timestampType(kind)
				return execAll(tx,
					`CREATE TABLE uploads (
						id              TEXT PRIMARY KEY,
						architecture_id TEXT NOT NULL REFERENCES architectures (id) ON DELETE CASCADE,
						name            TEXT NOT NULL,
						summary         TEXT NOT NULL,
						profile         `+blobType(kind)+` NOT NULL,
						created_at      `+ts+` NOT NULL
					)`,
					`CREATE INDEX uploads_architecture_idx ON uploads (architecture_id, created_at DESC)`,
				)
			},
		},
		{
			version: 4,
			name:    "runs record when a worker took them",
			up: func(tx *gorm.DB, kind string) error {
				return execAll(tx, `ALTER TABLE runs ADD COLUMN started_at `+timestampType(kind))
			},
		},
		{
			version: 5,
			name:    "create price files",
			up: func(tx *gorm.DB, kind string) error {
				return execAll(tx,
					`CREATE TABLE price_files (
						id         TEXT PRIMARY KEY,
						name       TEXT NOT NULL,
						format     TEXT NOT NULL,
						as_of      TEXT NOT NULL,
						data       `+blobType(kind)+` NOT NULL,
						created_at `+timestampType(kind)+` NOT NULL
					)`,
					`CREATE INDEX price_files_created_at_idx ON price_files (created_at DESC, id DESC)`,
				)
			},
		},
		{
			version: 6,
			name:    "uploads wait for a mapping and may keep their raw file",
			up: func(tx *gorm.DB, kind string) error {
				return execAll(tx,
					`ALTER TABLE uploads ADD COLUMN status TEXT NOT NULL DEFAULT 'ready'`,
					`ALTER TABLE uploads ADD COLUMN raw_bytes BIGINT NOT NULL DEFAULT 0`,
					`ALTER TABLE uploads ADD COLUMN read_options TEXT NOT NULL DEFAULT ''`,
				)
			},
		},
		{
			version: 7,
			name:    "owners, sessions and share links",
			up: func(tx *gorm.DB, kind string) error {
				ts := timestampType(kind)
				return execAll(tx,
					`ALTER TABLE architectures ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
					`ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
					`ALTER TABLE uploads ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
					`ALTER TABLE price_files ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
					`CREATE INDEX architectures_owner_idx ON architectures (owner, created_at DESC)`,
					`CREATE INDEX runs_owner_idx ON runs (owner, created_at DESC)`,
					`CREATE TABLE sessions (
						token_hash TEXT PRIMARY KEY,
						username   TEXT NOT NULL,
						created_at `+ts+` NOT NULL,
						expires_at `+ts+` NOT NULL
					)`,
					`CREATE INDEX sessions_expires_idx ON sessions (expires_at)`,
					`CREATE TABLE shares (
						token      TEXT PRIMARY KEY,
						kind       TEXT NOT NULL,
						target_id  TEXT NOT NULL,
						owner      TEXT NOT NULL,
						created_at `+ts+` NOT NULL
					)`,
					`CREATE INDEX shares_target_idx ON shares (kind, target_id)`,
				)
			},
		},
		{
			version: 8,
			name:    "runs keep the architecture they ran",
			up: func(tx *gorm.DB, kind string) error {
				return execAll(tx, `ALTER TABLE runs ADD COLUMN spec TEXT NOT NULL DEFAULT ''`)
			},
		},
		{
			version: 9,
			name:    "runs keep their choice and traffic source for lists",
			up: func(tx *gorm.DB, kind string) error {
				return execAll(tx, `ALTER TABLE runs ADD COLUMN chosen TEXT NOT NULL DEFAULT ''`,
					`ALTER TABLE runs ADD COLUMN traffic TEXT NOT NULL DEFAULT ''`)
			},
		},
		{
			version: 10,
			name:    "raw logs in the database, and a deployment id",
			up: func(tx *gorm.DB, kind string) error {
				if err := execAll(tx,
					`CREATE TABLE upload_chunks (
						upload_id TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
						seq       INTEGER NOT NULL,
						data      `+blobType(kind)+` NOT NULL,
						PRIMARY KEY (upload_id, seq)
					)`,
					`CREATE TABLE settings (
						name  TEXT PRIMARY KEY,
						value TEXT NOT NULL
					)`,
				); err != nil {
					return err
				}
				return tx.Exec(`INSERT INTO settings (name, value) VALUES (?, ?)`, settingDeployment, newID()).Error
			},
		},
		{
			version: 11,
			name:    "runs split across workers: run parts, and River's jobs on PostgreSQL",
			up: func(tx *gorm.DB, kind string) error {
				if err := execAll(tx,
					`CREATE TABLE run_parts (
						run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
						from_trial INTEGER NOT NULL,
						to_trial   INTEGER NOT NULL,
						plan       TEXT NOT NULL,
						done       INTEGER NOT NULL DEFAULT 0,
						data       `+blobType(kind)+`,
						PRIMARY KEY (run_id, from_trial)
					)`,
				); err != nil {
					return err
				}
				return migrateRiver(tx, kind, riverSchemaAddsPending)
			},
		},
		{
			version: 12,
			name:    "River's jobs on PostgreSQL, from the pending state on",
			up: func(tx *gorm.DB, kind string) error {
				return migrateRiver(tx, kind, riverSchemaVersion)
			},
		},
		{
			version: 13,
			name:    "uploads combine several logs",
			up: func(tx *gorm.DB, kind string) error {
				return execAll(tx,
					`CREATE TABLE upload_logs (
						upload_id  TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
						seq        INTEGER NOT NULL,
						name       TEXT NOT NULL,
						sha256     TEXT NOT NULL,
						summary    TEXT NOT NULL,
						profile    `+blobType(kind)+` NOT NULL,
						ids        `+blobType(kind)+` NOT NULL,
						details    TEXT NOT NULL,
						created_at `+timestampType(kind)+` NOT NULL,
						PRIMARY KEY (upload_id, seq)
					)`,
					`ALTER TABLE uploads ADD COLUMN revision INTEGER NOT NULL DEFAULT 0`,
				)
			},
		},
	}
}

// timestampType is the column type for a point in time. PostgreSQL keeps the
// instant with its zone. SQLite has no time type, but the driver turns text
// in a column declared DATETIME back into time.Time; the store writes UTC
// with a fixed offset, so the text also sorts in time order.
func timestampType(kind string) string {
	if kind == KindPostgres {
		return "TIMESTAMP WITH TIME ZONE"
	}
	return "DATETIME"
}

// blobType is the column type for bytes stored as they are.
func blobType(kind string) string {
	if kind == KindPostgres {
		return "BYTEA"
	}
	return "BLOB"
}

// execAll runs statements one by one; some drivers refuse several statements
// in one Exec.
func execAll(tx *gorm.DB, stmts ...string) error {
	for _, q := range stmts {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}

// migrationLockKey identifies gatewise's migration lock among PostgreSQL
// advisory locks ("gatewise" in ASCII).
const migrationLockKey int64 = 0x6761746577697365

// migrate applies pending steps one transaction at a time. Each transaction
// first takes the database's migration lock and reads the version again, so
// two processes opening the same database at once apply every step exactly
// once: on PostgreSQL through a transaction-scoped advisory lock, on SQLite
// because transactions begin IMMEDIATE and so hold the single write lock.
func (s *Store) migrate(ctx context.Context) error {
	steps := migrations()
	for done := false; !done; {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if s.kind == KindPostgres {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error; err != nil {
					return fmt.Errorf("store: take migration lock: %w", err)
				}
			}
			// Creating the bookkeeping table under the lock avoids the
			// race PostgreSQL has between concurrent CREATE TABLE IF NOT EXISTS.
			if err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
				version    INTEGER PRIMARY KEY,
				name       TEXT NOT NULL,
				applied_at ` + timestampType(s.kind) + ` NOT NULL
			)`).Error; err != nil {
				return fmt.Errorf("store: create schema_migrations: %w", err)
			}
			current, err := schemaVersion(tx)
			if err != nil {
				return err
			}
			if current > len(steps) {
				return fmt.Errorf("store: database schema version %d is newer than this gatewise binary supports (%d); upgrade gatewise", current, len(steps))
			}
			if current == len(steps) {
				done = true
				return nil
			}
			step := steps[current]
			if err := step.up(tx, s.kind); err != nil {
				return fmt.Errorf("store: migration %d (%s): %w", step.version, step.name, err)
			}
			if err := tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				step.version, step.name, now()).Error; err != nil {
				return fmt.Errorf("store: record migration %d: %w", step.version, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion reports the number of migration steps applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(s.db.WithContext(ctx))
}

func schemaVersion(db *gorm.DB) (int, error) {
	var v int
	if err := db.Raw("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v, nil
}

// Package store persists gatewise's inputs and outputs: architectures today,
// and later uploaded traffic profiles, simulation runs and their memos.
//
// One Store works on either of two databases. SQLite (pure Go, no cgo) is the
// embedded default, so a single gatewise binary needs nothing else to run;
// PostgreSQL is for a shared deployment where several gatewise processes use
// one database. The schema is written in plain SQL by versioned, append-only
// migrations (see migrations.go) so both databases hold the same tables and a
// database can be upgraded in place by simply starting a newer binary.
//
// Every method takes a context first and passes it to the database, so a
// cancelled request stops its query. Lookups of a missing row return
// ErrNotFound, which callers test with errors.Is.
package store

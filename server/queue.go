package server

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"gatewise/pricing"
	"gatewise/server/store"
)

// Queue is where runs wait for a worker, and how they are stopped. With
// SQLite, which one process owns, the runs table is the queue and this
// process's Runner works it. With PostgreSQL every run is a River job that
// any gatewise serve or gatewise worker on the database may take, split
// into trial ranges that several may work at once (RiverQueue).
type Queue interface {
	// Enqueue adds the job of run runID inside tx, the transaction that
	// creates or requeues the run, so the run and its job are stored
	// together or not at all. It fits store.TxHook.
	Enqueue(ctx context.Context, tx *sql.Tx, runID string) error
	// Notify says that a run was queued and its transaction committed.
	Notify()
	// Cancel stops a queued or running run wherever it is worked and marks
	// it cancelled; store.ErrRunEnded when it has already ended.
	Cancel(ctx context.Context, runID string) error
	// Start sets this process's workers going until ctx ends; Wait waits
	// until they have stopped.
	Start(ctx context.Context) error
	Wait()
}

// newQueue picks the queue for the store: River on PostgreSQL, the
// in-process runner on SQLite. Both report their runs to tel.
func newQueue(cfg Config, st *store.Store, cat *pricing.Catalog, logger *slog.Logger, sweep func(context.Context), tel telemetry) Queue {
	if st.Kind() == store.KindPostgres {
		return NewRiverQueue(st, cat, logger, RiverOptions{Workers: cfg.Workers, Lease: cfg.JobLease,
			TrialsPerJob: cfg.TrialsPerJob, Version: cfg.Version, Sweep: sweep, Metrics: tel.metrics, TracerProvider: cfg.TracerProvider})
	}
	r := NewRunner(st, cat, logger, cfg.Workers, cfg.Version)
	r.tel = tel
	return r
}

// SweepDatabase removes what time leaves behind in the database whoever
// made it: expired sign-in sessions, and uploads that waited too long for
// their column mapping (their raw logs go with them). On PostgreSQL it is a
// periodic job that one process of the deployment takes each round.
func SweepDatabase(ctx context.Context, st *store.Store, log *slog.Logger) {
	ctx = store.Unscoped(ctx)
	if _, err := st.DeleteWaitingUploads(ctx, time.Now().Add(-waitingUploadTTL)); err != nil && ctx.Err() == nil {
		log.Warn("sweeping uploads", "error", err)
	}
	// Uploads deleted with their architecture took their raw logs along.
	if err := st.Scrub(ctx); err != nil {
		log.Debug("sweeping uploads", "error", err)
	}
	if _, err := st.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
		log.Warn("removing expired sessions", "error", err)
	}
}

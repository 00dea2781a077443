package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Run statuses. A run is queued when created, running while a worker has
// it, and ends done, failed or cancelled; one whose worker stopped is
// marked interrupted (on SQLite at the next start, on PostgreSQL once its
// jobs have run out of attempts) and can be queued again.
const (
	RunQueued      = "queued"
	RunRunning     = "running"
	RunDone        = "done"
	RunFailed      = "failed"
	RunCancelled   = "cancelled"
	RunInterrupted = "interrupted"
)

// Run is a simulation job: what to simulate (an architecture and the run's
// options, as JSON), how far it is, and what it produced. A worker needs
// only the id to take it.
type Run struct {
	ID             string
	ArchitectureID string
	Status         string
	Options        []byte // JSON
	// Spec is the architecture file (JSON) as it was when the run was
	// queued; empty for runs made before gatewise kept it.
	Spec        []byte
	Done, Total int    // trials
	Result      []byte // the simulation result as JSON, when done
	Memo        string // the decision memo (Markdown), when done
	Error       string // why it failed
	CreatedAt   time.Time
	UpdatedAt   time.Time
	StartedAt   time.Time // when a worker last took it; zero while never taken
	// Chosen and Traffic summarise a finished run for lists: the memo's
	// choice, and "synthetic" or the log's file name. Empty before.
	Chosen, Traffic string
}

// ErrRunEnded is returned when a run has already ended (done, failed,
// cancelled or interrupted) and so cannot be ended, started or worked on
// again.
var ErrRunEnded = errors.New("store: the run has already ended")

// TxHook is work another part of gatewise does on a run inside a store
// transaction, on the same connection, so that it commits or rolls back
// with the rows the store writes: River inserting or cancelling the run's
// jobs. A nil hook does nothing.
type TxHook func(ctx context.Context, tx *sql.Tx, runID string) error

// inTx runs fn in a transaction, then the hooks for run id in the same
// transaction.
func (s *Store) inTx(ctx context.Context, id string, fn func(tx *gorm.DB) error, hooks ...TxHook) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return runHooks(ctx, tx, id, hooks)
	})
}

// runHooks calls each hook with the *sql.Tx under a gorm transaction.
func runHooks(ctx context.Context, tx *gorm.DB, id string, hooks []TxHook) error {
	for _, h := range hooks {
		if h == nil {
			continue
		}
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return fmt.Errorf("store: a transaction hook needs a *sql.Tx, the connection is %T", tx.Statement.ConnPool)
		}
		if err := h(ctx, sqlTx, id); err != nil {
			return err
		}
	}
	return nil
}

// RunSummary is what lists show of a finished run.
type RunSummary struct {
	Chosen  string
	Traffic string
}

type runRow struct {
	ID             string `gorm:"column:id;primaryKey"`
	ArchitectureID string `gorm:"column:architecture_id"`
	Status         string `gorm:"column:status"`
	Options        string `gorm:"column:options"`
	Spec           string `gorm:"column:spec"`
	Done           int    `gorm:"column:done"`
	Total          int    `gorm:"column:total"`
	Result         string `gorm:"column:result"`
	Memo           string `gorm:"column:memo"`
	Error          string `gorm:"column:error"`
	Owner          string `gorm:"column:owner"`
	Chosen         string `gorm:"column:chosen"`
	Traffic        string `gorm:"column:traffic"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
	StartedAt      *time.Time `gorm:"column:started_at"`
}

func (runRow) TableName() string { return "runs" }

func (r runRow) run() Run {
	out := Run{ID: r.ID, ArchitectureID: r.ArchitectureID, Status: r.Status, Options: []byte(r.Options), Spec: []byte(r.Spec),
		Done: r.Done, Total: r.Total, Result: []byte(r.Result), Memo: r.Memo, Error: r.Error, Chosen: r.Chosen, Traffic: r.Traffic,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.StartedAt != nil {
		out.StartedAt = r.StartedAt.UTC()
	}
	return out
}

// CreateRun queues a run of an existing architecture and fills in its ID,
// status and times. ErrNotFound if the architecture does not exist. The
// hooks run in the same transaction with the new run's ID in r (a queue
// inserting the run's job): the run and its job are stored together or not
// at all.
func (s *Store) CreateRun(ctx context.Context, r *Run, inTx ...TxHook) error {
	if _, err := s.Architecture(ctx, r.ArchitectureID); err != nil {
		return err
	}
	t := now()
	row := runRow{ID: newID(), ArchitectureID: r.ArchitectureID, Status: RunQueued, Options: string(r.Options), Spec: string(r.Spec),
		Total: r.Total, Owner: ownerFor(ctx), CreatedAt: t, UpdatedAt: t}
	err := s.inTx(ctx, row.ID, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store: create run: %w", err)
		}
		return nil
	}, inTx...)
	if err != nil {
		return err
	}
	*r = row.run()
	return nil
}

// Run returns the run with the given id, or ErrNotFound.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	row, err := take[runRow](s.owned(ctx).Where("id = ?", id), "run "+strconv.Quote(id))
	if err != nil {
		return Run{}, err
	}
	return row.run(), nil
}

// ListRuns returns runs newest first without their result, memo and spec,
// which lists do not show.
func (s *Store) ListRuns(ctx context.Context, limit, offset int) ([]Run, error) {
	q := s.owned(ctx).Select("id, architecture_id, status, options, done, total, error, chosen, traffic, created_at, updated_at, started_at").
		Order("created_at DESC, id DESC")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if offset > 0 {
		q = q.Offset(offset)
	}
	var rows []runRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	out := make([]Run, len(rows))
	for i, r := range rows {
		out[i] = r.run()
	}
	return out, nil
}

// ClaimRun moves the oldest queued run to running and returns it, or
// ErrNotFound when none is queued. Two workers never claim the same run:
// the update only succeeds while the run is still queued.
func (s *Store) ClaimRun(ctx context.Context) (Run, error) {
	for {
		var row runRow
		err := s.db.WithContext(ctx).Where("status = ?", RunQueued).Order("created_at, id").Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Run{}, ErrNotFound
		}
		if err != nil {
			return Run{}, fmt.Errorf("store: claim run: %w", err)
		}
		t := now()
		res := s.db.WithContext(ctx).Exec("UPDATE runs SET status = ?, updated_at = ?, started_at = ? WHERE id = ? AND status = ?",
			RunRunning, t, t, row.ID, RunQueued)
		if res.Error != nil {
			return Run{}, fmt.Errorf("store: claim run: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			row.Status, row.UpdatedAt, row.StartedAt = RunRunning, t, &t
			return row.run(), nil
		}
	}
}

// QueuePosition is where a queued run stands in the line workers take runs
// from: 1 when it is next. It is 0 for a run that is not queued.
func (s *Store) QueuePosition(ctx context.Context, r Run) (int, error) {
	if r.Status != RunQueued {
		return 0, nil
	}
	var ahead int64
	err := s.db.WithContext(ctx).Model(&runRow{}).
		Where("status = ? AND (created_at < ? OR (created_at = ? AND id < ?))", RunQueued, r.CreatedAt, r.CreatedAt, r.ID).
		Count(&ahead).Error
	if err != nil {
		return 0, fmt.Errorf("store: queue position of run %q: %w", r.ID, err)
	}
	return int(ahead) + 1, nil
}

// StartRun marks a queued run running for a worker that took its job and
// returns it. A run already running is returned as it is: its job was taken
// up again after its worker stopped. ErrRunEnded when the run has ended
// (cancelled before any worker took it), ErrNotFound when it is gone.
func (s *Store) StartRun(ctx context.Context, id string) (Run, error) {
	t := now()
	res := s.db.WithContext(ctx).Exec("UPDATE runs SET status = ?, updated_at = ?, started_at = ? WHERE id = ? AND status = ?",
		RunRunning, t, t, id, RunQueued)
	if res.Error != nil {
		return Run{}, fmt.Errorf("store: start run %q: %w", id, res.Error)
	}
	run, err := s.Run(ctx, id)
	if err != nil {
		return Run{}, err
	}
	if run.Status != RunRunning {
		return run, fmt.Errorf("run %q is %s: %w", id, run.Status, ErrRunEnded)
	}
	return run, nil
}

// RunsInFlight lists the ids of every queued or running run, whoever owns
// it, oldest first: what a sweep checks still has a worker or a job.
func (s *Store) RunsInFlight(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&runRow{}).Where("status IN (?, ?)", RunQueued, RunRunning).
		Order("created_at, id").Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: runs in flight: %w", err)
	}
	return ids, nil
}

// RunProgress records trials done while the run is running.
func (s *Store) RunProgress(ctx context.Context, id string, done, total int) error {
	res := s.db.WithContext(ctx).Exec("UPDATE runs SET done = ?, total = ?, updated_at = ? WHERE id = ? AND status = ?",
		done, total, now(), id, RunRunning)
	if res.Error != nil {
		return fmt.Errorf("store: run progress: %w", res.Error)
	}
	return nil
}

// FinishRun stores a running run's result and memo and marks it done; the
// parts its trial ranges left (run_part.go) go in the same transaction.
func (s *Store) FinishRun(ctx context.Context, id string, result []byte, memo string, sum RunSummary) error {
	return s.endRun(ctx, id, "status = ?, result = ?, memo = ?, chosen = ?, traffic = ?, done = total", []any{RunDone, string(result), memo, sum.Chosen, sum.Traffic}, nil)
}

// EndRun marks a queued or running run failed, cancelled or interrupted,
// with the reason, and drops the parts of it already simulated. The hooks
// run in the same transaction (a queue cancelling the run's jobs).
// ErrRunEnded when the run had already ended.
func (s *Store) EndRun(ctx context.Context, id, status, reason string, inTx ...TxHook) error {
	switch status {
	case RunFailed, RunCancelled, RunInterrupted:
	default:
		return fmt.Errorf("store: a run cannot end as %q", status)
	}
	return s.endRun(ctx, id, "status = ?, error = ?", []any{status, reason}, inTx)
}

func (s *Store) endRun(ctx context.Context, id, set string, args []any, hooks []TxHook) error {
	if _, err := s.Run(ctx, id); err != nil {
		return err // unknown, or another owner's
	}
	args = append(args, now(), id, RunQueued, RunRunning)
	return s.inTx(ctx, id, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE runs SET "+set+", updated_at = ? WHERE id = ? AND status IN (?, ?)", args...)
		if res.Error != nil {
			return fmt.Errorf("store: end run %q: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: run %q: %w", id, ErrRunEnded)
		}
		if err := tx.Exec("DELETE FROM run_parts WHERE run_id = ?", id).Error; err != nil {
			return fmt.Errorf("store: end run %q: drop its parts: %w", id, err)
		}
		return nil
	}, hooks...)
}

// RequeueRun queues an interrupted, failed or cancelled run again from the
// start. The hooks run in the same transaction (a queue inserting the
// run's job again).
func (s *Store) RequeueRun(ctx context.Context, id string, inTx ...TxHook) error {
	if _, err := s.Run(ctx, id); err != nil {
		return err // unknown, or another owner's
	}
	return s.inTx(ctx, id, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE runs SET status = ?, done = 0, error = '', updated_at = ? WHERE id = ? AND status IN (?, ?, ?)",
			RunQueued, now(), id, RunInterrupted, RunFailed, RunCancelled)
		if res.Error != nil {
			return fmt.Errorf("store: requeue run %q: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: run %q is not interrupted, failed or cancelled", id)
		}
		// A run that ended while its parts were being saved may still
		// have some; a new start plans its ranges afresh.
		if err := tx.Exec("DELETE FROM run_parts WHERE run_id = ?", id).Error; err != nil {
			return fmt.Errorf("store: requeue run %q: %w", id, err)
		}
		return nil
	}, inTx...)
}

// InterruptRunning marks every running run interrupted: called at start-up,
// when no worker of this process can still hold one. It returns how many.
func (s *Store) InterruptRunning(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Exec("UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE status = ?",
		RunInterrupted, "the server stopped while the run was going; restart it", now(), RunRunning)
	if res.Error != nil {
		return 0, fmt.Errorf("store: interrupt runs: %w", res.Error)
	}
	return res.RowsAffected, nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Run statuses. A run is queued when created, running while a worker has
// it, and ends done, failed or cancelled; one that was running when the
// server stopped is marked interrupted at the next start and can be queued
// again.
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
// status and times. ErrNotFound if the architecture does not exist.
func (s *Store) CreateRun(ctx context.Context, r *Run) error {
	if _, err := s.Architecture(ctx, r.ArchitectureID); err != nil {
		return err
	}
	t := now()
	row := runRow{ID: newID(), ArchitectureID: r.ArchitectureID, Status: RunQueued, Options: string(r.Options), Spec: string(r.Spec),
		Total: r.Total, Owner: ownerFor(ctx), CreatedAt: t, UpdatedAt: t}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: create run: %w", err)
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

// RunProgress records trials done while the run is running.
func (s *Store) RunProgress(ctx context.Context, id string, done, total int) error {
	res := s.db.WithContext(ctx).Exec("UPDATE runs SET done = ?, total = ?, updated_at = ? WHERE id = ? AND status = ?",
		done, total, now(), id, RunRunning)
	if res.Error != nil {
		return fmt.Errorf("store: run progress: %w", res.Error)
	}
	return nil
}

// FinishRun stores a running run's result and memo and marks it done.
func (s *Store) FinishRun(ctx context.Context, id string, result []byte, memo string, sum RunSummary) error {
	return s.endRun(ctx, id, "status = ?, result = ?, memo = ?, chosen = ?, traffic = ?, done = total", []any{RunDone, string(result), memo, sum.Chosen, sum.Traffic})
}

// EndRun marks a run failed, cancelled or interrupted, with the reason.
func (s *Store) EndRun(ctx context.Context, id, status, reason string) error {
	switch status {
	case RunFailed, RunCancelled, RunInterrupted:
	default:
		return fmt.Errorf("store: a run cannot end as %q", status)
	}
	return s.endRun(ctx, id, "status = ?, error = ?", []any{status, reason})
}

func (s *Store) endRun(ctx context.Context, id, set string, args []any) error {
	if _, err := s.Run(ctx, id); err != nil {
		return err // unknown, or another owner's
	}
	args = append(args, now(), id, RunQueued, RunRunning)
	res := s.db.WithContext(ctx).Exec("UPDATE runs SET "+set+", updated_at = ? WHERE id = ? AND status IN (?, ?)", args...)
	if res.Error != nil {
		return fmt.Errorf("store: end run %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: run %q has already ended", id)
	}
	return nil
}

// RequeueRun queues an interrupted, failed or cancelled run again from the
// start.
func (s *Store) RequeueRun(ctx context.Context, id string) error {
	if _, err := s.Run(ctx, id); err != nil {
		return err // unknown, or another owner's
	}
	res := s.db.WithContext(ctx).Exec("UPDATE runs SET status = ?, done = 0, error = '', updated_at = ? WHERE id = ? AND status IN (?, ?, ?)",
		RunQueued, now(), id, RunInterrupted, RunFailed, RunCancelled)
	if res.Error != nil {
		return fmt.Errorf("store: requeue run %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: run %q is not interrupted, failed or cancelled", id)
	}
	return nil
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

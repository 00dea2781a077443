package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// A run split across workers: its trials are planned as ranges, each range
// is simulated by whichever worker takes it and stored here as a part (the
// simulator's mergeable accumulators, encoded), and once every range is in,
// one worker merges them into the run's result. The rows of a plan are
// written with the plan, so a range saved twice (a worker taken for dead
// that finishes anyway, and the retry) fills its row once, and a range of
// an earlier plan of the same run, arriving after the run was restarted,
// finds no row of its plan and is dropped.

// PartRange is trials [From, To) of a run.
type PartRange struct{ From, To int }

type runPartRow struct {
	RunID     string `gorm:"column:run_id;primaryKey"`
	FromTrial int    `gorm:"column:from_trial;primaryKey"`
	ToTrial   int    `gorm:"column:to_trial"`
	Plan      string `gorm:"column:plan"`
	Done      int    `gorm:"column:done"`
	Data      []byte `gorm:"column:data"`
}

func (runPartRow) TableName() string { return "run_parts" }

// lockRun takes the run's row for the rest of the transaction, so that the
// saves of one run's parts follow one another and exactly one of them sees
// the last range come in. SQLite needs no lock: its transactions begin
// IMMEDIATE and so hold the one write lock. It returns the run's status.
func (s *Store) lockRun(tx *gorm.DB, id string) (string, error) {
	q := "SELECT status FROM runs WHERE id = ?"
	if s.kind == KindPostgres {
		q += " FOR UPDATE"
	}
	var status []string
	if err := tx.Raw(q, id).Scan(&status).Error; err != nil {
		return "", fmt.Errorf("store: lock run %q: %w", id, err)
	}
	if len(status) == 0 {
		return "", fmt.Errorf("store: run %q: %w", id, ErrNotFound)
	}
	return status[0], nil
}

// PlanRun records how a running run's trials are split: a row per range,
// under the plan's name, and total trials on the run; the hook inserts the
// ranges' jobs in the same transaction. It reports false, and writes
// nothing, when the run already has a plan (its planning job ran twice);
// ErrRunEnded when the run is no longer running.
func (s *Store) PlanRun(ctx context.Context, id, plan string, ranges []PartRange, inTx ...TxHook) (bool, error) {
	if len(ranges) == 0 || ranges[0].From != 0 {
		return false, fmt.Errorf("store: plan of run %q does not start at trial 0", id)
	}
	rows := make([]runPartRow, len(ranges))
	total := 0
	for i, r := range ranges {
		if r.From >= r.To || (i > 0 && r.From != ranges[i-1].To) {
			return false, fmt.Errorf("store: plan of run %q: range %d (%d to %d) does not follow the one before", id, i, r.From, r.To)
		}
		rows[i] = runPartRow{RunID: id, FromTrial: r.From, ToTrial: r.To, Plan: plan}
		total += r.To - r.From
	}
	planned := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		status, err := s.lockRun(tx, id)
		if err != nil {
			return err
		}
		if status != RunRunning {
			return fmt.Errorf("run %q is %s: %w", id, status, ErrRunEnded)
		}
		var have int64
		if err := tx.Model(&runPartRow{}).Where("run_id = ?", id).Count(&have).Error; err != nil {
			return fmt.Errorf("store: plan run %q: %w", id, err)
		}
		if have > 0 {
			return nil
		}
		// A range still out has no data: NULL, which the SQLite driver
		// would write as an empty blob if given the nil slice.
		if err := tx.Omit("data").CreateInBatches(rows, 500).Error; err != nil {
			return fmt.Errorf("store: plan run %q: %w", id, err)
		}
		if err := tx.Exec("UPDATE runs SET done = 0, total = ?, updated_at = ? WHERE id = ?", total, now(), id).Error; err != nil {
			return fmt.Errorf("store: plan run %q: %w", id, err)
		}
		planned = true
		return runHooks(ctx, tx, id, inTx)
	})
	if err != nil {
		return false, err
	}
	return planned, nil
}

// PartProgress records trials done within a range still being simulated,
// and the run's trials done across its ranges, for its page. Progress of a
// range already in, or of another plan, is ignored.
func (s *Store) PartProgress(ctx context.Context, id, plan string, from, done int) error {
	db := s.db.WithContext(ctx)
	res := db.Exec("UPDATE run_parts SET done = ? WHERE run_id = ? AND from_trial = ? AND plan = ? AND data IS NULL", done, id, from, plan)
	if res.Error != nil {
		return fmt.Errorf("store: progress of run %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	return s.sumProgress(db, id)
}

// sumProgress sets the run's trials done to the sum over its ranges.
func (s *Store) sumProgress(db *gorm.DB, id string) error {
	err := db.Exec("UPDATE runs SET done = (SELECT COALESCE(SUM(done), 0) FROM run_parts WHERE run_id = ?), updated_at = ? WHERE id = ? AND status = ?",
		id, now(), id, RunRunning).Error
	if err != nil {
		return fmt.Errorf("store: progress of run %q: %w", id, err)
	}
	return nil
}

// SavePart stores a range's part (simulated under plan) and counts its
// trials done. When it is the last range to come in, the hook runs in the
// same transaction (inserting the merge job), so that happens exactly once
// however many workers finish at the same moment. It reports whether the
// part was kept: it is dropped when the run is no longer running
// (cancelled), when the range is already in, or when it belongs to an
// earlier plan.
func (s *Store) SavePart(ctx context.Context, id, plan string, r PartRange, data []byte, last TxHook) (bool, error) {
	if len(data) == 0 {
		return false, fmt.Errorf("store: part %d to %d of run %q is empty", r.From, r.To, id)
	}
	saved := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		status, err := s.lockRun(tx, id)
		if err != nil || status != RunRunning {
			return err
		}
		res := tx.Exec("UPDATE run_parts SET data = ?, done = to_trial - from_trial WHERE run_id = ? AND from_trial = ? AND to_trial = ? AND plan = ? AND data IS NULL",
			data, id, r.From, r.To, plan)
		if res.Error != nil {
			return fmt.Errorf("store: save part of run %q: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		saved = true
		if err := s.sumProgress(tx, id); err != nil {
			return err
		}
		var missing int64
		if err := tx.Model(&runPartRow{}).Where("run_id = ? AND data IS NULL", id).Count(&missing).Error; err != nil {
			return fmt.Errorf("store: save part of run %q: %w", id, err)
		}
		if missing > 0 {
			return nil
		}
		return runHooks(ctx, tx, id, []TxHook{last})
	})
	if err != nil {
		return false, err
	}
	return saved, nil
}

// RunParts returns the data of every part of a run's plan in trial order,
// for the merge. It fails when a range has not come in.
func (s *Store) RunParts(ctx context.Context, id string) ([][]byte, error) {
	var rows []runPartRow
	if err := s.db.WithContext(ctx).Where("run_id = ?", id).Order("from_trial").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: parts of run %q: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("store: run %q has no parts", id)
	}
	out := make([][]byte, len(rows))
	for i, r := range rows {
		if r.Data == nil {
			return nil, fmt.Errorf("store: run %q: trials %d to %d have not come in", id, r.FromTrial, r.ToTrial)
		}
		out[i] = r.Data
	}
	return out, nil
}

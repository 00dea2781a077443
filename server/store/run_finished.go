package store

import (
	"context"
	"fmt"
)

// FinishedRuns returns up to limit done runs, newest first, with their memo
// (whose front matter and decision line name what ran and what was chosen)
// but without their result and spec, which a list of runs to pick from does
// not need.
func (s *Store) FinishedRuns(ctx context.Context, limit int) ([]Run, error) {
	q := s.owned(ctx).Select("id, architecture_id, status, options, done, total, memo, created_at, updated_at").
		Where("status = ?", RunDone).Order("created_at DESC, id DESC")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var rows []runRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list finished runs: %w", err)
	}
	out := make([]Run, len(rows))
	for i, r := range rows {
		out[i] = r.run()
	}
	return out, nil
}

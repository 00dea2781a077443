package store

import (
	"context"
	"fmt"
	"time"
)

// What a share link can open.
const (
	ShareRun          = "run"
	ShareArchitecture = "architecture"
)

// Share is a read-only link to one run or architecture: whoever has the
// token may read the target, nothing else. The token is the link, so it is
// kept as it is (the owner can copy the link again later); anyone able to
// read the database can read the shared rows themselves anyway.
type Share struct {
	Token     string
	Kind      string // ShareRun or ShareArchitecture
	TargetID  string
	Owner     string
	CreatedAt time.Time
}

type shareRow struct {
	Token     string `gorm:"column:token;primaryKey"`
	Kind      string `gorm:"column:kind"`
	TargetID  string `gorm:"column:target_id"`
	Owner     string `gorm:"column:owner"`
	CreatedAt time.Time
}

func (shareRow) TableName() string { return "shares" }

func (r shareRow) share() Share {
	return Share{Token: r.Token, Kind: r.Kind, TargetID: r.TargetID, Owner: r.Owner, CreatedAt: r.CreatedAt.UTC()}
}

// CreateShare makes a link to a run or architecture the owner in ctx can
// see. ErrNotFound if the target is not theirs.
func (s *Store) CreateShare(ctx context.Context, kind, targetID string) (Share, error) {
	var err error
	switch kind {
	case ShareRun:
		_, err = s.Run(ctx, targetID)
	case ShareArchitecture:
		_, err = s.Architecture(ctx, targetID)
	default:
		err = fmt.Errorf("store: cannot share a %q", kind)
	}
	if err != nil {
		return Share{}, err
	}
	row := shareRow{Token: newToken(), Kind: kind, TargetID: targetID, Owner: ownerFor(ctx), CreatedAt: now()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return Share{}, fmt.Errorf("store: create share: %w", err)
	}
	return row.share(), nil
}

// Share returns the link with the given token, whoever asks: the token is
// the permission. ErrNotFound once revoked.
func (s *Store) Share(ctx context.Context, token string) (Share, error) {
	row, err := take[shareRow](s.db.WithContext(ctx).Where("token = ?", token), "share")
	if err != nil {
		return Share{}, err
	}
	return row.share(), nil
}

// ListShares returns the live links to one target, newest first, for the
// owner in ctx.
func (s *Store) ListShares(ctx context.Context, kind, targetID string) ([]Share, error) {
	var rows []shareRow
	err := s.owned(ctx).Where("kind = ? AND target_id = ?", kind, targetID).Order("created_at DESC, token").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list shares: %w", err)
	}
	out := make([]Share, len(rows))
	for i, r := range rows {
		out[i] = r.share()
	}
	return out, nil
}

// RevokeShare ends a link of the owner in ctx. ErrNotFound if there is no
// such link of theirs.
func (s *Store) RevokeShare(ctx context.Context, token string) (Share, error) {
	row, err := take[shareRow](s.owned(ctx).Where("token = ?", token), "share")
	if err != nil {
		return Share{}, err
	}
	if err := s.db.WithContext(ctx).Where("token = ?", token).Delete(&shareRow{}).Error; err != nil {
		return Share{}, fmt.Errorf("store: revoke share: %w", err)
	}
	return row.share(), nil
}

// SharedLink is a link with the name of what it opens, for an
// administrator's list.
type SharedLink struct {
	Share
	// Name is the architecture's name, or for a run its architecture's;
	// empty when the target is gone.
	Name string
}

// AllShares lists the live links of the owner in ctx, or everyone's when
// ctx names no owner, newest first: the administrator's view, for finding
// and revoking links (of a user who has left, say) that no page lists.
func (s *Store) AllShares(ctx context.Context) ([]SharedLink, error) {
	var rows []shareRow
	if err := s.owned(ctx).Order("created_at DESC, token").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list all shares: %w", err)
	}
	var runIDs, archIDs []string
	for _, r := range rows {
		if r.Kind == ShareRun {
			runIDs = append(runIDs, r.TargetID)
		} else {
			archIDs = append(archIDs, r.TargetID)
		}
	}
	all := Unscoped(ctx) // the links are the question; their targets are only named
	runArch := map[string]string{}
	if len(runIDs) > 0 {
		var runs []runRow
		if err := s.db.WithContext(all).Select("id, architecture_id").Where("id IN ?", runIDs).Find(&runs).Error; err != nil {
			return nil, fmt.Errorf("store: list all shares: %w", err)
		}
		for _, r := range runs {
			runArch[r.ID] = r.ArchitectureID
			archIDs = append(archIDs, r.ArchitectureID)
		}
	}
	names, err := s.ArchitectureNames(all, archIDs)
	if err != nil {
		return nil, err
	}
	out := make([]SharedLink, len(rows))
	for i, r := range rows {
		arch := r.TargetID
		if r.Kind == ShareRun {
			arch = runArch[r.TargetID]
		}
		out[i] = SharedLink{Share: r.share(), Name: names[arch]}
	}
	return out, nil
}

// RevokeShares ends the links with the given tokens, of the owner in ctx
// or anyone's when ctx names no owner, in one statement, and says how many
// there were.
func (s *Store) RevokeShares(ctx context.Context, tokens []string) (int64, error) {
	if len(tokens) == 0 {
		return 0, nil
	}
	res := s.owned(ctx).Where("token IN ?", tokens).Delete(&shareRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: revoke shares: %w", res.Error)
	}
	return res.RowsAffected, nil
}

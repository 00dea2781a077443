package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Upload is a request log turned into a traffic profile: the summary the
// user saw (JSON) and the profile (encoded by the caller). The log itself is
// never stored.
type Upload struct {
	ID             string
	ArchitectureID string
	Name           string // the file's base name, for people
	Summary        []byte // JSON
	Profile        []byte
	CreatedAt      time.Time
}

type uploadRow struct {
	ID             string `gorm:"column:id;primaryKey"`
	ArchitectureID string `gorm:"column:architecture_id"`
	Name           string `gorm:"column:name"`
	Summary        string `gorm:"column:summary"`
	Profile        []byte `gorm:"column:profile"`
	CreatedAt      time.Time
}

func (uploadRow) TableName() string { return "uploads" }

func (r uploadRow) upload() Upload {
	return Upload{ID: r.ID, ArchitectureID: r.ArchitectureID, Name: r.Name, Summary: []byte(r.Summary), Profile: r.Profile, CreatedAt: r.CreatedAt.UTC()}
}

// CreateUpload stores an upload of an existing architecture and fills in its
// ID and time. ErrNotFound if the architecture does not exist.
func (s *Store) CreateUpload(ctx context.Context, u *Upload) error {
	if _, err := s.Architecture(ctx, u.ArchitectureID); err != nil {
		return err
	}
	row := uploadRow{ID: newID(), ArchitectureID: u.ArchitectureID, Name: u.Name, Summary: string(u.Summary), Profile: u.Profile, CreatedAt: now()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: create upload: %w", err)
	}
	*u = row.upload()
	return nil
}

// Upload returns the upload with the given id, or ErrNotFound.
func (s *Store) Upload(ctx context.Context, id string) (Upload, error) {
	var row uploadRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Upload{}, ErrNotFound
	}
	if err != nil {
		return Upload{}, fmt.Errorf("store: get upload %q: %w", id, err)
	}
	return row.upload(), nil
}

// ListUploads returns an architecture's uploads newest first, without their
// profiles.
func (s *Store) ListUploads(ctx context.Context, architectureID string) ([]Upload, error) {
	var rows []uploadRow
	err := s.db.WithContext(ctx).Select("id, architecture_id, name, summary, created_at").
		Where("architecture_id = ?", architectureID).Order("created_at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list uploads: %w", err)
	}
	out := make([]Upload, len(rows))
	for i, r := range rows {
		out[i] = r.upload()
	}
	return out, nil
}

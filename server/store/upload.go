package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Upload statuses. A log gatewise could not read as it is waits in
// UploadMapping, its raw file on disk, until the user maps its columns.
const (
	UploadReady   = "ready"
	UploadMapping = "mapping"
)

// Upload is a request log turned into a traffic profile: the summary the
// user saw (JSON) and the profile (encoded by the caller). The log itself is
// not stored in the database; its raw file stays on disk only while the
// upload waits for a mapping, or when the user asked to keep it (RawBytes
// is then its size).
type Upload struct {
	ID             string
	ArchitectureID string
	Name           string // the file's base name, for people
	Status         string // UploadReady (the default) or UploadMapping
	Summary        []byte // JSON; empty while mapping
	Profile        []byte
	RawBytes       int64
	ReadOptions    string // how the user asked the file to be read (JSON, caller's shape)
	CreatedAt      time.Time
}

type uploadRow struct {
	ID             string `gorm:"column:id;primaryKey"`
	ArchitectureID string `gorm:"column:architecture_id"`
	Name           string `gorm:"column:name"`
	Status         string `gorm:"column:status"`
	Summary        string `gorm:"column:summary"`
	Profile        []byte `gorm:"column:profile"`
	RawBytes       int64  `gorm:"column:raw_bytes"`
	ReadOptions    string `gorm:"column:read_options"`
	Owner          string `gorm:"column:owner"`
	CreatedAt      time.Time
}

func (uploadRow) TableName() string { return "uploads" }

func (r uploadRow) upload() Upload {
	return Upload{ID: r.ID, ArchitectureID: r.ArchitectureID, Name: r.Name, Status: r.Status, Summary: []byte(r.Summary),
		Profile: r.Profile, RawBytes: r.RawBytes, ReadOptions: r.ReadOptions, CreatedAt: r.CreatedAt.UTC()}
}

// CreateUpload stores an upload of an existing architecture and fills in its
// ID and time. ErrNotFound if the architecture does not exist.
func (s *Store) CreateUpload(ctx context.Context, u *Upload) error {
	if _, err := s.Architecture(ctx, u.ArchitectureID); err != nil {
		return err
	}
	status := u.Status
	if status == "" {
		status = UploadReady
	}
	if status != UploadReady && status != UploadMapping {
		return fmt.Errorf("store: create upload: unknown status %q", status)
	}
	profile := u.Profile
	if profile == nil {
		profile = []byte{} // the column is NOT NULL
	}
	row := uploadRow{ID: newID(), ArchitectureID: u.ArchitectureID, Name: u.Name, Status: status, Summary: string(u.Summary),
		Profile: profile, RawBytes: u.RawBytes, ReadOptions: u.ReadOptions, Owner: ownerFor(ctx), CreatedAt: now()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: create upload: %w", err)
	}
	*u = row.upload()
	return nil
}

// CompleteUpload gives an upload that waits for its mapping the profile read
// with it, in one statement so that the upload is never half done.
// ErrNotFound if no upload with that id is waiting (unknown, or completed
// already by another request).
func (s *Store) CompleteUpload(ctx context.Context, u *Upload) error {
	res := s.owned(ctx).Model(&uploadRow{}).Where("id = ? AND status = ?", u.ID, UploadMapping).
		Updates(map[string]any{"status": UploadReady, "summary": string(u.Summary), "profile": u.Profile,
			"raw_bytes": u.RawBytes, "read_options": u.ReadOptions})
	if res.Error != nil {
		return fmt.Errorf("store: complete upload %q: %w", u.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	got, err := s.Upload(ctx, u.ID)
	if err != nil {
		return err
	}
	*u = got
	return nil
}

// SetUploadOptions records how the user last asked a waiting upload to be
// read, so the mapping page shows it again.
func (s *Store) SetUploadOptions(ctx context.Context, id, options string) error {
	res := s.owned(ctx).Model(&uploadRow{}).Where("id = ?", id).Update("read_options", options)
	if res.Error != nil {
		return fmt.Errorf("store: set upload options %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ForgetRawFile records that an upload's raw file is gone.
func (s *Store) ForgetRawFile(ctx context.Context, id string) error {
	res := s.owned(ctx).Model(&uploadRow{}).Where("id = ?", id).Update("raw_bytes", 0)
	if res.Error != nil {
		return fmt.Errorf("store: forget raw file of %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteUpload removes an upload that still waits for its mapping; a ready
// upload stays, because runs replay its profile. ErrNotFound otherwise.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	res := s.owned(ctx).Where("id = ? AND status = ?", id, UploadMapping).Delete(&uploadRow{})
	if res.Error != nil {
		return fmt.Errorf("store: delete upload %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteWaitingUploads removes uploads that have waited for a mapping since
// before the given time, and returns their ids so the caller can remove
// their raw files.
func (s *Store) DeleteWaitingUploads(ctx context.Context, before time.Time) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&uploadRow{}).Where("status = ? AND created_at < ?", UploadMapping, before.UTC())
		if err := q.Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return tx.Where("id IN ?", ids).Delete(&uploadRow{}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete waiting uploads: %w", err)
	}
	return ids, nil
}

// RawFileUploads returns the ids of uploads whose raw file should be on disk:
// those waiting for a mapping and those kept by choice.
func (s *Store) RawFileUploads(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&uploadRow{}).Where("status = ? OR raw_bytes > 0", UploadMapping).Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: list raw files: %w", err)
	}
	return ids, nil
}

// Upload returns the upload with the given id, or ErrNotFound.
func (s *Store) Upload(ctx context.Context, id string) (Upload, error) {
	row, err := take[uploadRow](s.owned(ctx).Where("id = ?", id), "upload "+strconv.Quote(id))
	if err != nil {
		return Upload{}, err
	}
	return row.upload(), nil
}

// ListUploads returns an architecture's uploads newest first, without their
// profiles.
func (s *Store) ListUploads(ctx context.Context, architectureID string) ([]Upload, error) {
	var rows []uploadRow
	err := s.owned(ctx).Select("id, architecture_id, name, status, summary, raw_bytes, read_options, created_at").
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

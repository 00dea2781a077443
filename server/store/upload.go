package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Upload statuses. A log gatewise could not read as it is waits in
// UploadMapping, its raw bytes in the database, until the user maps its
// columns.
const (
	UploadReady   = "ready"
	UploadMapping = "mapping"
)

// Upload is a request log turned into a traffic profile: the summary the
// user saw (JSON) and the profile (encoded by the caller). The log itself is
// kept (in chunks, see upload_chunk.go) only while the upload waits for a
// mapping, or when the user asked to keep it; RawBytes is then its size.
type Upload struct {
	ID             string
	ArchitectureID string
	Name           string // the file's base name, for people
	Status         string // UploadReady (the default) or UploadMapping
	Summary        []byte // JSON; empty while mapping
	Profile        []byte
	RawBytes       int64
	ReadOptions    string // how the user asked the file to be read (JSON, caller's shape)
	// Revision counts the changes to the upload's combination of logs.
	Revision  int
	CreatedAt time.Time
	// Logs, on create and complete, are the files stored with the upload
	// (see upload_combine.go).
	Logs []UploadLog
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
	Revision       int    `gorm:"column:revision"`
	CreatedAt      time.Time
}

func (uploadRow) TableName() string { return "uploads" }

func (r uploadRow) upload() Upload {
	return Upload{ID: r.ID, ArchitectureID: r.ArchitectureID, Name: r.Name, Status: r.Status, Summary: []byte(r.Summary),
		Profile: r.Profile, RawBytes: r.RawBytes, ReadOptions: r.ReadOptions, Revision: r.Revision, CreatedAt: r.CreatedAt.UTC()}
}

// CreateUpload stores an upload of an existing architecture, without a raw
// log (RawBytes is ignored), with its Logs, and fills in its ID and time.
// ErrNotFound if the architecture does not exist.
func (s *Store) CreateUpload(ctx context.Context, u *Upload) error {
	return s.createUpload(ctx, u, nil)
}

// createUpload stores u and, when raw is not nil, its raw log in the same
// transaction; raw writes the chunks of the new upload and says how many
// bytes they hold.
func (s *Store) createUpload(ctx context.Context, u *Upload, raw func(tx *gorm.DB, id string) (int64, error)) error {
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
	if status == UploadMapping && raw == nil {
		return errors.New("store: create upload: an upload waiting for its mapping needs its raw log")
	}
	row := uploadRow{ID: newID(), ArchitectureID: u.ArchitectureID, Name: u.Name, Status: status, Summary: string(u.Summary),
		Profile: profile, ReadOptions: u.ReadOptions, Owner: ownerFor(ctx), CreatedAt: now()}
	logs := u.Logs
	if raw == nil && len(logs) == 0 {
		if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
			return fmt.Errorf("store: create upload: %w", err)
		}
		*u = row.upload()
		return nil
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := insertLogs(tx, row.ID, logs); err != nil {
			return err
		}
		if raw == nil {
			return nil
		}
		n, err := raw(tx, row.ID)
		if err != nil {
			return err
		}
		row.RawBytes = n
		return tx.Model(&uploadRow{}).Where("id = ?", row.ID).Update("raw_bytes", n).Error
	})
	if errors.Is(err, ErrRawGone) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: create upload: %w", err)
	}
	*u = row.upload()
	return nil
}

// CompleteUpload gives an upload that waits for its mapping the profile read
// with it, and its Logs, in one transaction so that the upload is never half
// done. With
// u.RawBytes zero its raw log goes; otherwise it stays, and RawBytes keeps
// the size it has. ErrNotFound if no upload with that id is waiting
// (unknown, or completed already by another request, on any server).
func (s *Store) CompleteUpload(ctx context.Context, u *Upload) error {
	dropRaw := u.RawBytes == 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fields := map[string]any{"status": UploadReady, "summary": string(u.Summary), "profile": u.Profile, "read_options": u.ReadOptions}
		if dropRaw {
			fields["raw_bytes"] = 0
		}
		res := ownedBy(ctx, tx).Model(&uploadRow{}).Where("id = ? AND status = ?", u.ID, UploadMapping).Updates(fields)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := insertLogs(tx, u.ID, u.Logs); err != nil {
			return err
		}
		if !dropRaw {
			return nil
		}
		return tx.Where("upload_id = ?", u.ID).Delete(&chunkRow{}).Error
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: complete upload %q: %w", u.ID, err)
	}
	if dropRaw {
		s.scrub(ctx)
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

// DeleteUpload removes an upload that still waits for its mapping, with its
// raw log; a ready upload stays, because runs replay its profile.
// ErrNotFound otherwise.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	res := s.owned(ctx).Where("id = ? AND status = ?", id, UploadMapping).Delete(&uploadRow{})
	if res.Error != nil {
		return fmt.Errorf("store: delete upload %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	s.scrub(ctx)
	return nil
}

// DeleteWaitingUploads removes uploads that have waited for a mapping since
// before the given time, with their raw logs, and returns their ids.
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
	if len(ids) > 0 {
		s.scrub(ctx)
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

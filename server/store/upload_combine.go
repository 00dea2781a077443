package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// ErrChanged says an upload changed (another file was added, a choice
// made) since the caller read it: what the caller built from it is stale.
var ErrChanged = errors.New("store: the upload changed meanwhile")

// UploadLog is one file of an upload: an upload may combine several logs
// (a deployment's SpendLogs and ErrorLogs, a file a day). The upload's own
// summary and profile are those of the combination; each file keeps its
// own, so a file added later can be checked against it and the
// combination made again with another choice.
type UploadLog struct {
	Seq    int // 1 for the first file
	Name   string
	SHA256 string // hex, of the bytes as uploaded
	// Summary is the file's own summary (JSON) and Profile its profile
	// (encoded by the caller); an empty Profile stands for the upload's,
	// which is the file's while it is the only one.
	Summary []byte
	Profile []byte
	// IDs are the fingerprints of its request ids (the caller's encoding;
	// never the ids), empty when it has none.
	IDs []byte
	// Details is what else the caller keeps of the file (JSON, its shape).
	Details   string
	CreatedAt time.Time
}

type uploadLogRow struct {
	UploadID  string `gorm:"column:upload_id;primaryKey"`
	Seq       int    `gorm:"column:seq;primaryKey"`
	Name      string `gorm:"column:name"`
	SHA256    string `gorm:"column:sha256"`
	Summary   string `gorm:"column:summary"`
	Profile   []byte `gorm:"column:profile"`
	IDs       []byte `gorm:"column:ids"`
	Details   string `gorm:"column:details"`
	CreatedAt time.Time
}

func (uploadLogRow) TableName() string { return "upload_logs" }

func (r uploadLogRow) log() UploadLog {
	return UploadLog{Seq: r.Seq, Name: r.Name, SHA256: r.SHA256, Summary: []byte(r.Summary), Profile: r.Profile,
		IDs: r.IDs, Details: r.Details, CreatedAt: r.CreatedAt.UTC()}
}

func logRow(uploadID string, l UploadLog) uploadLogRow {
	nonNil := func(b []byte) []byte {
		if b == nil {
			return []byte{} // the columns are NOT NULL
		}
		return b
	}
	at := l.CreatedAt
	if at.IsZero() {
		at = now()
	}
	return uploadLogRow{UploadID: uploadID, Seq: l.Seq, Name: l.Name, SHA256: l.SHA256, Summary: string(l.Summary),
		Profile: nonNil(l.Profile), IDs: nonNil(l.IDs), Details: l.Details, CreatedAt: at.UTC()}
}

// insertLogs writes the files of a new (or newly completed) upload.
func insertLogs(tx *gorm.DB, uploadID string, logs []UploadLog) error {
	for _, l := range logs {
		if l.Seq < 1 {
			return fmt.Errorf("upload log %q: seq %d, want 1 or more", l.Name, l.Seq)
		}
		row := logRow(uploadID, l)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// UploadLogs returns the files of an upload in the order they were added;
// none for an upload stored before gatewise kept them. ErrNotFound if the
// upload is not there (or not the owner's).
func (s *Store) UploadLogs(ctx context.Context, uploadID string) ([]UploadLog, error) {
	if _, err := s.Upload(ctx, uploadID); err != nil {
		return nil, err
	}
	var rows []uploadLogRow
	if err := s.db.WithContext(ctx).Where("upload_id = ?", uploadID).Order("seq").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: upload logs %q: %w", uploadID, err)
	}
	out := make([]UploadLog, len(rows))
	for i, r := range rows {
		out[i] = r.log()
	}
	return out, nil
}

// SaveUploadLogs gives a ready upload a new combination of its files, in
// one transaction: u's Name, Summary and Profile become the upload's, and
// each of logs is written (a new seq is added, a known one replaced). It
// does so only if the upload's revision is still rev, the one the caller
// built from, and then counts one more; u.Revision is the new one.
// ErrNotFound if the upload is not there, not the owner's, or waits for
// its mapping; ErrChanged if its revision moved on. A failure leaves the
// upload and its files as they were.
func (s *Store) SaveUploadLogs(ctx context.Context, u *Upload, rev int, logs []UploadLog) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := ownedBy(ctx, tx).Model(&uploadRow{}).Where("id = ? AND status = ? AND revision = ?", u.ID, UploadReady, rev).
			Updates(map[string]any{"name": u.Name, "summary": string(u.Summary), "profile": u.Profile, "revision": gorm.Expr("revision + 1")})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := ownedBy(ctx, tx).Model(&uploadRow{}).Where("id = ? AND status = ?", u.ID, UploadReady).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return ErrNotFound
			}
			return ErrChanged
		}
		for _, l := range logs {
			if l.Seq < 1 {
				return fmt.Errorf("upload log %q: seq %d, want 1 or more", l.Name, l.Seq)
			}
			row := logRow(u.ID, l)
			res := tx.Model(&uploadLogRow{}).Where("upload_id = ? AND seq = ?", u.ID, l.Seq).Updates(map[string]any{
				"name": row.Name, "sha256": row.SHA256, "summary": row.Summary, "profile": row.Profile, "ids": row.IDs, "details": row.Details})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				if err := tx.Create(&row).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrChanged) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: save the logs of upload %s: %w", strconv.Quote(u.ID), err)
	}
	got, err := s.Upload(ctx, u.ID)
	if err != nil {
		return err
	}
	*u = got
	return nil
}

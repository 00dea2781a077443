package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"gorm.io/gorm"
)

// Raw logs. The raw bytes of an upload that waits for its column mapping,
// or that its user chose to keep, live in the database in chunks
// (upload_chunks), so every gatewise serve on the database can show the
// mapping page, read the log and read it again, whichever server received
// it. The chunks are written in the transaction that creates the upload, so
// an upload never exists without its bytes, and they go with the upload
// (ON DELETE CASCADE) or with DeleteRaw. Reading streams them a few at a
// time, so a large log is never wholly in memory.

// RawChunkSize is the size of every chunk but a log's last.
const RawChunkSize = 1 << 20

// rawBatch is how many chunks a reader fetches at once after the first:
// few enough to bound its memory, enough to keep round trips rare.
const rawBatch = 4

// ErrRawGone says an upload keeps no raw log: the user deleted it, the
// mapping was saved without keeping it, or a log left on another server's
// disk by an earlier gatewise has not been imported.
var ErrRawGone = errors.New("store: the raw log is not kept")

// settingDeployment names the settings row holding the deployment's id.
const settingDeployment = "deployment"

type chunkRow struct {
	UploadID string `gorm:"column:upload_id;primaryKey"`
	Seq      int    `gorm:"column:seq;primaryKey"`
	Data     []byte `gorm:"column:data"`
}

func (chunkRow) TableName() string { return "upload_chunks" }

// CreateUploadWithRaw stores u together with the raw log read from raw, in
// one transaction: a failed or cancelled write leaves neither. u.RawBytes
// becomes the number of bytes read. ErrNotFound if the architecture does not
// exist.
func (s *Store) CreateUploadWithRaw(ctx context.Context, u *Upload, raw io.Reader) error {
	return s.createUpload(ctx, u, func(tx *gorm.DB, id string) (int64, error) {
		n, err := writeChunks(tx, id, raw)
		if err == nil && n == 0 {
			err = errors.New("the raw log is empty")
		}
		return n, err
	})
}

// CreateUploadFrom stores u with a copy of the raw log upload from keeps,
// copied inside the database in the transaction that creates u. ErrNotFound
// if from is not there (or not the owner's); ErrRawGone if it keeps no raw
// log.
func (s *Store) CreateUploadFrom(ctx context.Context, u *Upload, from string) error {
	src, err := s.Upload(ctx, from)
	if err != nil {
		return err
	}
	if src.RawBytes == 0 {
		return ErrRawGone
	}
	return s.createUpload(ctx, u, func(tx *gorm.DB, id string) (int64, error) {
		res := tx.Exec(`INSERT INTO upload_chunks (upload_id, seq, data) SELECT ?, seq, data FROM upload_chunks WHERE upload_id = ?`, id, from)
		if res.Error != nil {
			return 0, res.Error
		}
		if res.RowsAffected == 0 {
			return 0, ErrRawGone
		}
		return src.RawBytes, nil
	})
}

// ImportRaw gives an upload that should keep a raw log but has none in the
// database the bytes read from raw, which must number size, as the upload
// row says. It is how a raw file an earlier gatewise kept on disk moves into
// the database. ErrNotFound if the upload is not there, keeps no raw log, or
// has its chunks already.
func (s *Store) ImportRaw(ctx context.Context, id string, size int64, raw io.Reader) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		q := tx.Model(&uploadRow{}).Where("id = ? AND raw_bytes = ?", id, size).
			Where("NOT EXISTS (SELECT 1 FROM upload_chunks c WHERE c.upload_id = uploads.id)")
		if err := q.Count(&n).Error; err != nil {
			return err
		}
		if n == 0 || size == 0 {
			return ErrNotFound
		}
		written, err := writeChunks(tx, id, raw)
		if err != nil {
			return err
		}
		if written != size {
			return fmt.Errorf("the file holds %d bytes, the upload %d", written, size)
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: import raw log of %q: %w", id, err)
	}
	return nil
}

// UploadsMissingRaw returns the uploads, of every owner, that should keep a
// raw log and have no chunk of it: rows written by a gatewise that kept raw
// logs on disk.
func (s *Store) UploadsMissingRaw(ctx context.Context) ([]Upload, error) {
	var rows []uploadRow
	err := s.db.WithContext(ctx).Select("id, architecture_id, name, status, raw_bytes, created_at").
		Where("raw_bytes > 0").
		Where("NOT EXISTS (SELECT 1 FROM upload_chunks c WHERE c.upload_id = uploads.id)").
		Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list uploads missing their raw log: %w", err)
	}
	out := make([]Upload, len(rows))
	for i, r := range rows {
		out[i] = r.upload()
	}
	return out, nil
}

// writeChunks stores what raw yields as the chunks of upload id and returns
// how many bytes that was.
func writeChunks(tx *gorm.DB, id string, raw io.Reader) (int64, error) {
	buf := make([]byte, RawChunkSize)
	var total int64
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(raw, buf)
		if n > 0 {
			if err := tx.Create(&chunkRow{UploadID: id, Seq: seq, Data: buf[:n]}).Error; err != nil {
				return total, err
			}
			total += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("reading the raw log: %w", err)
		}
	}
}

// OpenRaw streams the raw log upload id keeps. ErrNotFound if the upload is
// not there (or not the owner's); ErrRawGone if it keeps none. The reader
// runs its queries with ctx.
func (s *Store) OpenRaw(ctx context.Context, id string) (*RawReader, error) {
	up, err := s.Upload(ctx, id)
	if err != nil {
		return nil, err
	}
	if up.RawBytes == 0 {
		return nil, ErrRawGone
	}
	r := &RawReader{db: s.db.WithContext(ctx), id: id, size: up.RawBytes}
	// A log in chunks from step 10 on has its first chunk; one that does
	// not was left on a disk and is not imported yet.
	if err := r.fetch(1); err != nil {
		return nil, err
	}
	if len(r.chunks) == 0 {
		return nil, ErrRawGone
	}
	return r, nil
}

// RawReader reads an upload's raw log from its chunks, fetching a few at a
// time. A log that ends before the size its upload records (deleted while
// being read) is an error, never a quietly shorter log.
type RawReader struct {
	db     *gorm.DB
	id     string
	size   int64
	seq    int      // the next chunk to fetch
	chunks [][]byte // fetched, not yet read; chunks[0] is being read
	read   int64
	err    error
}

// Size is the log's length in bytes.
func (r *RawReader) Size() int64 { return r.size }

// Err is the error reading stopped at, other than the log's end: the
// database's, or ErrRawGone when chunks went missing. Readers that wrap
// errors in their own words lose the cause; this keeps it.
func (r *RawReader) Err() error { return r.err }

func (r *RawReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks[0] = nil // let the chunk go as soon as it is read
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.read == r.size {
			return 0, io.EOF
		}
		if err := r.fetch(rawBatch); err != nil {
			return 0, err
		}
		if len(r.chunks) == 0 {
			r.err = fmt.Errorf("%w: the log of upload %q ends after %d of its %d bytes", ErrRawGone, r.id, r.read, r.size)
			return 0, r.err
		}
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	r.read += int64(n)
	if r.read > r.size {
		r.err = fmt.Errorf("store: the log of upload %q is longer than its %d bytes", r.id, r.size)
		return n, r.err
	}
	return n, nil
}

// fetch reads up to n chunks from the next one on, checking that none is
// missing in between.
func (r *RawReader) fetch(n int) error {
	var rows []chunkRow
	err := r.db.Where("upload_id = ? AND seq >= ?", r.id, r.seq).Order("seq").Limit(n).Find(&rows).Error
	if err != nil {
		r.err = fmt.Errorf("store: read the raw log of %q: %w", r.id, err)
		return r.err
	}
	for _, row := range rows {
		if row.Seq != r.seq {
			r.err = fmt.Errorf("%w: chunk %d of upload %q is missing", ErrRawGone, r.seq, r.id)
			return r.err
		}
		r.chunks = append(r.chunks, row.Data)
		r.seq++
	}
	return nil
}

// DeleteRaw removes the raw log an upload keeps; the upload and its profile
// stay. ErrNotFound if the upload is not there (or not the owner's).
func (s *Store) DeleteRaw(ctx context.Context, id string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := ownedBy(ctx, tx).Model(&uploadRow{}).Where("id = ?", id).Update("raw_bytes", 0)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Where("upload_id = ?", id).Delete(&chunkRow{}).Error
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: delete raw log of %q: %w", id, err)
	}
	s.scrub(ctx)
	return nil
}

// ownedBy limits a query in a transaction to the owner in ctx, as owned
// does outside one.
func ownedBy(ctx context.Context, tx *gorm.DB) *gorm.DB {
	if o, ok := OwnerOf(ctx); ok {
		return tx.Where("owner = ?", o)
	}
	return tx
}

// Scrub makes deleted rows unreadable in the database's files now, for the
// raw logs deleted with their architecture (see scrub).
func (s *Store) Scrub(ctx context.Context) error {
	if s.kind != KindSQLite {
		return nil
	}
	var res struct{ Busy, Log, Checkpointed int }
	if err := s.db.WithContext(ctx).Raw("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&res).Error; err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	if res.Busy != 0 {
		return errors.New("store: checkpoint: the database was busy; the write-ahead log empties at the next one")
	}
	return nil
}

// scrub follows every deletion of raw bytes. A raw log holds prompt text,
// which gatewise keeps only while it must. On SQLite, secure_delete zeroes
// the freed pages, but the write-ahead log still holds their earlier images
// until a checkpoint empties it; this is that checkpoint. PostgreSQL reuses
// the space after VACUUM, which autovacuum runs. Best effort: the deletion
// has happened whatever this says.
func (s *Store) scrub(ctx context.Context) { _ = s.Scrub(ctx) }

// DeploymentID is the id the database gave its deployment when it was
// created (step 10): every server on the database shares it, and a server
// on another database has another. It names the files the deployment's
// servers write, so each removes only its own.
func (s *Store) DeploymentID(ctx context.Context) (string, error) {
	var v []string
	if err := s.db.WithContext(ctx).Table("settings").Where("name = ?", settingDeployment).Pluck("value", &v).Error; err != nil {
		return "", fmt.Errorf("store: read the deployment id: %w", err)
	}
	if len(v) == 0 || v[0] == "" {
		return "", fmt.Errorf("store: the database has no deployment id (settings row %s)", strconv.Quote(settingDeployment))
	}
	return v[0], nil
}

package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// PriceFile is a LiteLLM, OpenRouter or Portkey price file a user kept to
// price runs with. The file is stored as sent, so a run re-reads it with the
// importer of its own version.
type PriceFile struct {
	ID        string
	Name      string // the file's base name, for people
	Format    string // litellm, openrouter or portkey
	AsOf      string // the file's own date, "" when it states none
	Data      []byte
	CreatedAt time.Time
}

type priceFileRow struct {
	ID        string `gorm:"column:id;primaryKey"`
	Name      string `gorm:"column:name"`
	Format    string `gorm:"column:format"`
	AsOf      string `gorm:"column:as_of"`
	Data      []byte `gorm:"column:data"`
	Owner     string `gorm:"column:owner"`
	CreatedAt time.Time
}

func (priceFileRow) TableName() string { return "price_files" }

func (r priceFileRow) priceFile() PriceFile {
	return PriceFile{ID: r.ID, Name: r.Name, Format: r.Format, AsOf: r.AsOf, Data: r.Data, CreatedAt: r.CreatedAt.UTC()}
}

// CreatePriceFile stores a price file and fills in its ID and time.
func (s *Store) CreatePriceFile(ctx context.Context, p *PriceFile) error {
	row := priceFileRow{ID: newID(), Name: p.Name, Format: p.Format, AsOf: p.AsOf, Data: p.Data, Owner: ownerFor(ctx), CreatedAt: now()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: create price file: %w", err)
	}
	*p = row.priceFile()
	return nil
}

// PriceFile returns the price file with the given id, or ErrNotFound.
func (s *Store) PriceFile(ctx context.Context, id string) (PriceFile, error) {
	row, err := take[priceFileRow](s.owned(ctx).Where("id = ?", id), "price file "+strconv.Quote(id))
	if err != nil {
		return PriceFile{}, err
	}
	return row.priceFile(), nil
}

// ListPriceFiles returns the kept price files newest first, without their
// data.
func (s *Store) ListPriceFiles(ctx context.Context) ([]PriceFile, error) {
	var rows []priceFileRow
	err := s.owned(ctx).Select("id, name, format, as_of, created_at").Order("created_at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list price files: %w", err)
	}
	out := make([]PriceFile, len(rows))
	for i, r := range rows {
		out[i] = r.priceFile()
	}
	return out, nil
}

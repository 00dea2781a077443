package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"
)

// Architecture is a saved architecture spec: the team's providers, routes,
// traffic and priorities, as validated by the simulator.
type Architecture struct {
	// ID is assigned by CreateArchitecture. It is random and unguessable, so
	// a link to an architecture can be shared without exposing the others.
	ID   string
	Name string
	// Spec is the validated spec as JSON; the store keeps it opaque so the
	// spec format can evolve without migrations.
	Spec []byte
	// CreatedAt and UpdatedAt are set by the store, in UTC, to the
	// microsecond.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// architectureRow is the architectures table as gorm sees it. Spec is a
// string because the column is TEXT on both databases.
type architectureRow struct {
	ID        string `gorm:"column:id;primaryKey"`
	Name      string `gorm:"column:name"`
	Spec      string `gorm:"column:spec"`
	Owner     string `gorm:"column:owner"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (architectureRow) TableName() string { return "architectures" }

func (r architectureRow) architecture() Architecture {
	return Architecture{
		ID:        r.ID,
		Name:      r.Name,
		Spec:      []byte(r.Spec),
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// idAlphabet is RFC 4648 base32 in lower case: no characters that are easily
// confused in a URL read aloud, and 32 symbols so each random byte maps to
// one without bias.
const idAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// idLength gives 60 random bits, plenty for ids nobody can guess or collide.
const idLength = 12

// newID returns a fresh random id.
func newID() string {
	var b [idLength]byte
	rand.Read(b[:]) // never fails; crypto/rand aborts the program instead
	for i := range b {
		b[i] = idAlphabet[b[i]&31]
	}
	return string(b[:])
}

// CreateArchitecture saves a new architecture and fills in its ID, CreatedAt
// and UpdatedAt. Any ID already set on a is replaced.
func (s *Store) CreateArchitecture(ctx context.Context, a *Architecture) error {
	t := now()
	row := architectureRow{ID: newID(), Name: a.Name, Spec: string(a.Spec), Owner: ownerFor(ctx), CreatedAt: t, UpdatedAt: t}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: create architecture: %w", err)
	}
	a.ID, a.CreatedAt, a.UpdatedAt = row.ID, t, t
	return nil
}

// Architecture returns the architecture with the given id, or ErrNotFound.
func (s *Store) Architecture(ctx context.Context, id string) (Architecture, error) {
	row, err := take[architectureRow](s.owned(ctx).Where("id = ?", id), "architecture "+strconv.Quote(id))
	if err != nil {
		return Architecture{}, err
	}
	return row.architecture(), nil
}

// UpdateArchitecture replaces the name and spec of the architecture a.ID and
// sets a.UpdatedAt. It returns ErrNotFound if there is no such architecture.
func (s *Store) UpdateArchitecture(ctx context.Context, a *Architecture) error {
	t := now()
	res := s.owned(ctx).Model(&architectureRow{}).Where("id = ?", a.ID).
		Updates(map[string]any{"name": a.Name, "spec": string(a.Spec), "updated_at": t})
	if res.Error != nil {
		return fmt.Errorf("store: update architecture %q: %w", a.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	a.UpdatedAt = t
	return nil
}

// DeleteArchitecture removes the architecture with the given id, or returns
// ErrNotFound if there is none.
func (s *Store) DeleteArchitecture(ctx context.Context, id string) error {
	res := s.owned(ctx).Where("id = ?", id).Delete(&architectureRow{})
	if res.Error != nil {
		return fmt.Errorf("store: delete architecture %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ListArchitectures returns architectures newest first, skipping offset rows
// and returning at most limit (all of them if limit <= 0). Ties in creation
// time are broken by id so that paging is stable.
func (s *Store) ListArchitectures(ctx context.Context, limit, offset int) ([]Architecture, error) {
	q := s.owned(ctx).Order("created_at DESC, id DESC")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if offset > 0 {
		q = q.Offset(offset)
	}
	var rows []architectureRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list architectures: %w", err)
	}
	out := make([]Architecture, len(rows))
	for i, r := range rows {
		out[i] = r.architecture()
	}
	return out, nil
}

// CountArchitectures returns how many architectures are saved, for paging.
func (s *Store) CountArchitectures(ctx context.Context) (int64, error) {
	var n int64
	if err := s.owned(ctx).Model(&architectureRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count architectures: %w", err)
	}
	return n, nil
}

// ArchitectureNames returns the names of the given architectures by id, in
// one query (a list of runs names each run's architecture). Ids that do not
// exist, or are not the owner's, are left out.
func (s *Store) ArchitectureNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []architectureRow
	if err := s.owned(ctx).Select("id, name").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: architecture names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Ownership. When gatewise runs with sign-in, every architecture, run,
// upload and price file belongs to the user who made it, and a request's
// context carries that user (AsOwner): store methods then see, change and
// create only that owner's rows, so a handler cannot forget the check.
// Without sign-in, and for background work (the runner, the upload sweep),
// the context carries no owner and every row is visible; rows made then
// belong to no one ("").

type ownerKey struct{}

// AsOwner scopes ctx to one owner.
func AsOwner(ctx context.Context, owner string) context.Context {
	return context.WithValue(ctx, ownerKey{}, &owner)
}

// Unscoped drops an owner scope, for work done on behalf of the server
// rather than of one user.
func Unscoped(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownerKey{}, (*string)(nil))
}

// OwnerOf returns the owner ctx is scoped to, if any.
func OwnerOf(ctx context.Context) (string, bool) {
	p, _ := ctx.Value(ownerKey{}).(*string)
	if p == nil {
		return "", false
	}
	return *p, true
}

// owned starts a query limited to the owner in ctx.
func (s *Store) owned(ctx context.Context) *gorm.DB {
	db := s.db.WithContext(ctx)
	if o, ok := OwnerOf(ctx); ok {
		db = db.Where("owner = ?", o)
	}
	return db
}

// take loads the one row q finds, or says ErrNotFound; what names the row
// in any other error ("architecture \"ab12\"").
func take[R any](q *gorm.DB, what string) (R, error) {
	var row R
	err := q.Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, ErrNotFound
	}
	if err != nil {
		return row, fmt.Errorf("store: get %s: %w", what, err)
	}
	return row, nil
}

// ownerFor is the owner a row created under ctx gets.
func ownerFor(ctx context.Context) string {
	o, _ := OwnerOf(ctx)
	return o
}

// Claimed counts the rows ClaimUnowned handed over, per table.
type Claimed struct {
	Architectures, Runs, Uploads, PriceFiles, Shares int64
}

// Total is the number of rows handed over.
func (c Claimed) Total() int64 {
	return c.Architectures + c.Runs + c.Uploads + c.PriceFiles + c.Shares
}

// Unowned counts the rows that belong to no one: made while gatewise ran
// without sign-in, and visible to nobody once it is on.
func (s *Store) Unowned(ctx context.Context) (Claimed, error) {
	c, err := s.claim(ctx, "", true)
	if err != nil {
		return Claimed{}, fmt.Errorf("store: count rows of no one: %w", err)
	}
	return c, nil
}

// ClaimUnowned gives every row that belongs to no one to owner, so a team
// that started alone keeps its work when it turns sign-in on. All tables
// change in one transaction.
func (s *Store) ClaimUnowned(ctx context.Context, owner string) (Claimed, error) {
	if owner == "" {
		return Claimed{}, errors.New("store: claim: no owner named")
	}
	c, err := s.claim(ctx, owner, false)
	if err != nil {
		return Claimed{}, fmt.Errorf("store: claim rows for %q: %w", owner, err)
	}
	return c, nil
}

// claim counts (dryRun) or hands over the rows of no one, table by table.
func (s *Store) claim(ctx context.Context, owner string, dryRun bool) (Claimed, error) {
	var c Claimed
	tables := []struct {
		model any
		n     *int64
	}{
		{&architectureRow{}, &c.Architectures},
		{&runRow{}, &c.Runs},
		{&uploadRow{}, &c.Uploads},
		{&priceFileRow{}, &c.PriceFiles},
		{&shareRow{}, &c.Shares},
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, t := range tables {
			q := tx.Model(t.model).Where("owner = ?", "")
			if dryRun {
				if err := q.Count(t.n).Error; err != nil {
					return err
				}
				continue
			}
			res := q.UpdateColumn("owner", owner) // not UpdatedAt: nothing was edited
			if res.Error != nil {
				return res.Error
			}
			*t.n = res.RowsAffected
		}
		return nil
	})
	return c, err
}

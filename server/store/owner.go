package store

import (
	"context"

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

// ownerFor is the owner a row created under ctx gets.
func ownerFor(ctx context.Context) string {
	o, _ := OwnerOf(ctx)
	return o
}

package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// A session is a signed-in browser: the cookie holds a random token, the
// table holds only its SHA-256, so a copy of the database signs no one in.
type sessionRow struct {
	TokenHash string `gorm:"column:token_hash;primaryKey"`
	Username  string `gorm:"column:username"`
	CreatedAt time.Time
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func (sessionRow) TableName() string { return "sessions" }

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession signs username in for ttl and returns the token for the
// cookie.
func (s *Store) CreateSession(ctx context.Context, username string, ttl time.Duration) (string, error) {
	token := newToken()
	t := now()
	row := sessionRow{TokenHash: hashToken(token), Username: username, CreatedAt: t, ExpiresAt: t.Add(ttl)}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	return token, nil
}

// SessionUser returns who a session token signs in, or ErrNotFound when the
// token is unknown or expired.
func (s *Store) SessionUser(ctx context.Context, token string) (string, error) {
	row, err := take[sessionRow](s.db.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", hashToken(token), now()), "session")
	if err != nil {
		return "", err
	}
	return row.Username, nil
}

// DeleteSession signs a token out; an unknown token is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their end and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at <= ?", now()).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}

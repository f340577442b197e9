package gormdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/platform/database"
)

var _ auth.ActionTokenStore = (*ActionTokens)(nil)

// ActionTokens is the auth.ActionTokenStore (emailed verification and reset
// tokens) on PostgreSQL and SQLite.
type ActionTokens struct{ db *database.DB }

// NewActionTokens returns the store over db.
func NewActionTokens(db *database.DB) *ActionTokens { return &ActionTokens{db: db} }

type actionTokenRow struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    uuid.UUID
	Purpose   string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (actionTokenRow) TableName() string { return "user_tokens" }

func (r actionTokenRow) token() auth.ActionToken {
	return auth.ActionToken{Hash: r.TokenHash, UserID: users.ID(r.UserID), Purpose: auth.Purpose(r.Purpose),
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), UsedAt: utcPtr(r.UsedAt)}
}

func (a *ActionTokens) Create(ctx context.Context, t auth.ActionToken) error {
	row := actionTokenRow{TokenHash: t.Hash, UserID: uuid.UUID(t.UserID), Purpose: string(t.Purpose),
		CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(), UsedAt: utcPtr(t.UsedAt)}
	if err := a.db.Conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("insert %s token: %w", t.Purpose, err)
	}
	return nil
}

func (a *ActionTokens) load(ctx context.Context, q *gorm.DB, hash string, p auth.Purpose) (auth.ActionToken, error) {
	var row actionTokenRow
	err := q.Where("token_hash = ? AND purpose = ? AND used_at IS NULL", hash, string(p)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return auth.ActionToken{}, auth.ErrActionTokenInvalid
	}
	if err != nil {
		return auth.ActionToken{}, fmt.Errorf("load %s token: %w", p, err)
	}
	return row.token(), nil
}

func (a *ActionTokens) Find(ctx context.Context, hash string, p auth.Purpose) (auth.ActionToken, error) {
	return a.load(ctx, a.db.Conn(ctx), hash, p)
}

// Consume is a conditional update (used_at IS NULL), so a token presented
// twice at once is consumed once.
func (a *ActionTokens) Consume(ctx context.Context, hash string, p auth.Purpose, at time.Time) (auth.ActionToken, error) {
	var out auth.ActionToken
	err := a.db.InTx(ctx, func(ctx context.Context) error {
		q := a.db.Conn(ctx)
		if a.db.Dialect == database.DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		t, err := a.load(ctx, q, hash, p)
		if err != nil {
			return err
		}
		if !at.Before(t.ExpiresAt) {
			return auth.ErrActionTokenInvalid
		}
		res := a.db.Conn(ctx).Model(&actionTokenRow{}).Where("token_hash = ? AND used_at IS NULL", hash).Update("used_at", at.UTC())
		if res.Error != nil {
			return fmt.Errorf("consume %s token: %w", p, res.Error)
		}
		if res.RowsAffected != 1 {
			return auth.ErrActionTokenInvalid
		}
		u := at.UTC()
		t.UsedAt = &u
		out = t
		return nil
	})
	return out, err
}

func (a *ActionTokens) InvalidateAll(ctx context.Context, user users.ID, p auth.Purpose, at time.Time) error {
	err := a.db.Conn(ctx).Model(&actionTokenRow{}).Where("user_id = ? AND purpose = ? AND used_at IS NULL", uuid.UUID(user), string(p)).
		Update("used_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("invalidate %s tokens: %w", p, err)
	}
	return nil
}

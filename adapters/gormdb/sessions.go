package gormdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/platform/database"
)

var _ auth.SessionStore = (*Sessions)(nil)

// Sessions is the auth.SessionStore on PostgreSQL and SQLite.
type Sessions struct{ db *database.DB }

// NewSessions returns the store over db.
func NewSessions(db *database.DB) *Sessions { return &Sessions{db: db} }

type sessionRow struct {
	ID           uuid.UUID `gorm:"primaryKey"`
	UserID       uuid.UUID
	UserAgent    string
	IP           string    `gorm:"column:ip"`
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	LastUsedAt   time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time
	RevokeReason *string
}

func (sessionRow) TableName() string { return "sessions" }

func (r sessionRow) session() auth.Session {
	s := auth.Session{
		ID: r.ID, UserID: users.ID(r.UserID), UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: r.CreatedAt.UTC(), LastUsedAt: r.LastUsedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		RevokedAt: utcPtr(r.RevokedAt),
	}
	if r.RevokeReason != nil {
		s.RevokeReason = *r.RevokeReason
	}
	return s
}

type refreshRow struct {
	TokenHash  string `gorm:"primaryKey"`
	SessionID  uuid.UUID
	ParentHash *string
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	ExpiresAt  time.Time
	RotatedAt  *time.Time
}

func (refreshRow) TableName() string { return "refresh_tokens" }

func toRefreshRow(t auth.RefreshToken) refreshRow {
	r := refreshRow{TokenHash: t.Hash, SessionID: t.SessionID, CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(), RotatedAt: utcPtr(t.RotatedAt)}
	if t.Parent != "" {
		p := t.Parent
		r.ParentHash = &p
	}
	return r
}

func (s *Sessions) Create(ctx context.Context, sess auth.Session, first auth.RefreshToken) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		row := sessionRow{
			ID: sess.ID, UserID: uuid.UUID(sess.UserID), UserAgent: sess.UserAgent, IP: sess.IP,
			CreatedAt: sess.CreatedAt.UTC(), LastUsedAt: sess.LastUsedAt.UTC(), ExpiresAt: sess.ExpiresAt.UTC(),
		}
		if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		rt := toRefreshRow(first)
		if err := s.db.Conn(ctx).Create(&rt).Error; err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
}

func (s *Sessions) Get(ctx context.Context, id uuid.UUID) (auth.Session, error) {
	var row sessionRow
	err := s.db.Conn(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return auth.Session{}, auth.ErrSessionNotFound
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("load session: %w", err)
	}
	return row.session(), nil
}

func (s *Sessions) ListActive(ctx context.Context, owner users.ID, now time.Time) ([]auth.Session, error) {
	var rows []sessionRow
	err := s.db.Conn(ctx).Where("user_id = ? AND revoked_at IS NULL", uuid.UUID(owner)).
		Order("created_at DESC").Limit(1000).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]auth.Session, 0, len(rows))
	for _, r := range rows {
		if x := r.session(); x.Active(now) {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *Sessions) Revoke(ctx context.Context, owner users.ID, id uuid.UUID, reason string, at time.Time) error {
	res := s.db.Conn(ctx).Model(&sessionRow{}).
		Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, uuid.UUID(owner)).
		Updates(map[string]any{"revoked_at": at.UTC(), "revoke_reason": reason})
	if res.Error != nil {
		return fmt.Errorf("revoke session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return auth.ErrSessionNotFound
	}
	return nil
}

func (s *Sessions) RevokeAll(ctx context.Context, owner users.ID, keep uuid.UUID, reason string, at time.Time) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		q := s.db.Conn(ctx).Model(&sessionRow{}).Where("user_id = ? AND revoked_at IS NULL AND id <> ?", uuid.UUID(owner), keep)
		if err := q.Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("list sessions to revoke: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		err := s.db.Conn(ctx).Model(&sessionRow{}).Where("id IN ? AND revoked_at IS NULL", ids).
			Updates(map[string]any{"revoked_at": at.UTC(), "revoke_reason": reason}).Error
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		return nil
	})
	return ids, err
}

func (s *Sessions) Touch(ctx context.Context, id uuid.UUID, at, expires time.Time, ip, ua string) error {
	set := map[string]any{"last_used_at": at.UTC()}
	if !expires.IsZero() {
		set["expires_at"] = expires.UTC()
	}
	if ip != "" {
		set["ip"] = ip
	}
	if ua != "" {
		set["user_agent"] = ua
	}
	if err := s.db.Conn(ctx).Model(&sessionRow{}).Where("id = ?", id).Updates(set).Error; err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

func (s *Sessions) RefreshToken(ctx context.Context, hash string) (auth.RefreshToken, error) {
	var r refreshRow
	err := s.db.Conn(ctx).Where("token_hash = ?", hash).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return auth.RefreshToken{}, auth.ErrRefreshTokenNotFound
	}
	if err != nil {
		return auth.RefreshToken{}, fmt.Errorf("load refresh token: %w", err)
	}
	t := auth.RefreshToken{Hash: r.TokenHash, SessionID: r.SessionID, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), RotatedAt: utcPtr(r.RotatedAt)}
	if r.ParentHash != nil {
		t.Parent = *r.ParentHash
	}
	return t, nil
}

// Rotate is a conditional update: of two requests rotating one token at
// once, exactly one sees a row affected.
func (s *Sessions) Rotate(ctx context.Context, old string, next auth.RefreshToken, at time.Time) (bool, error) {
	rotated := false
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		res := s.db.Conn(ctx).Model(&refreshRow{}).Where("token_hash = ? AND rotated_at IS NULL", old).
			Update("rotated_at", at.UTC())
		if res.Error != nil {
			return fmt.Errorf("rotate refresh token: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			if _, err := s.RefreshToken(ctx, old); err != nil {
				return err
			}
			return nil
		}
		row := toRefreshRow(next)
		if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		rotated = true
		return nil
	})
	return rotated, err
}

func (s *Sessions) AddRefreshToken(ctx context.Context, t auth.RefreshToken) error {
	row := toRefreshRow(t)
	if err := s.db.Conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

type stateRow struct {
	UserID       uuid.UUID
	RevokedAt    *time.Time
	RevokeReason *string
	Role         string
	IsActive     bool
	DeletedAt    *time.Time
}

// State reads the session with its user in one query (the hot path's miss).
func (s *Sessions) State(ctx context.Context, id uuid.UUID) (auth.SessionState, error) {
	var r stateRow
	err := s.db.Conn(ctx).Raw(`SELECT s.user_id, s.revoked_at, s.revoke_reason, u.role, u.is_active, u.deleted_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id).Scan(&r).Error
	if err != nil {
		return auth.SessionState{}, fmt.Errorf("load session state: %w", err)
	}
	if r.UserID == uuid.Nil {
		return auth.SessionState{}, auth.ErrSessionNotFound
	}
	uid := users.ID(r.UserID)
	switch {
	case !r.IsActive || r.DeletedAt != nil:
		return auth.SessionState{Status: auth.StatusUserGone, UserID: uid}, nil
	case r.RevokedAt != nil:
		if r.RevokeReason != nil && (*r.RevokeReason == "user_disabled" || *r.RevokeReason == "account_deleted") {
			return auth.SessionState{Status: auth.StatusUserGone, UserID: uid}, nil
		}
		return auth.SessionState{Status: auth.StatusRevoked, UserID: uid}, nil
	}
	return auth.SessionState{Status: auth.StatusActive, UserID: uid, Role: users.Role(r.Role)}, nil
}

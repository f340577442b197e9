package gormdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/platform/database"
)

var _ users.Repository = (*Users)(nil)

// Users is the users.Repository on PostgreSQL and SQLite. Every query goes
// through database.DB.Conn, so it joins the transaction ctx carries.
type Users struct{ db *database.DB }

// NewUsers returns the repository over db.
func NewUsers(db *database.DB) *Users { return &Users{db: db} }

type userRow struct {
	ID                 uuid.UUID `gorm:"primaryKey"`
	Email              string
	EmailNormalized    string
	Username           *string
	UsernameNormalized *string
	DisplayName        string
	AvatarURL          string `gorm:"column:avatar_url"`
	Bio                string
	Role               string
	IsActive           bool
	EmailVerifiedAt    *time.Time
	LastLoginAt        *time.Time
	PasswordHash       string
	PasswordChangedAt  *time.Time
	Metadata           string
	CreatedAt          time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt          time.Time `gorm:"autoUpdateTime:false"`
	DeletedAt          *time.Time
}

func (userRow) TableName() string { return "users" }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toUserRow(u users.User) userRow {
	r := userRow{
		ID: uuid.UUID(u.ID), Email: u.Email.String(), EmailNormalized: u.Email.Normalized(),
		DisplayName: u.DisplayName, AvatarURL: u.AvatarURL, Bio: u.Bio, Role: string(u.Role),
		IsActive: u.IsActive, EmailVerifiedAt: utcPtr(u.EmailVerifiedAt), LastLoginAt: utcPtr(u.LastLoginAt),
		PasswordHash: u.PasswordHash, PasswordChangedAt: utcPtr(u.PasswordChangedAt), Metadata: string(u.Metadata),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(), DeletedAt: utcPtr(u.DeletedAt),
	}
	if r.Metadata == "" {
		r.Metadata = "{}"
	}
	if !u.Username.IsZero() {
		name, norm := u.Username.String(), u.Username.Normalized()
		r.Username, r.UsernameNormalized = &name, &norm
	}
	return r
}

func (r userRow) user() users.User {
	u := users.User{
		ID: users.ID(r.ID), Email: users.RestoreEmail(r.Email, r.EmailNormalized),
		DisplayName: r.DisplayName, AvatarURL: r.AvatarURL, Bio: r.Bio, Role: users.Role(r.Role),
		IsActive: r.IsActive, EmailVerifiedAt: utcPtr(r.EmailVerifiedAt), LastLoginAt: utcPtr(r.LastLoginAt),
		PasswordHash: r.PasswordHash, PasswordChangedAt: utcPtr(r.PasswordChangedAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), DeletedAt: utcPtr(r.DeletedAt),
	}
	if r.Username != nil {
		u.Username = users.RestoreUsername(*r.Username)
	}
	if r.Metadata != "" && r.Metadata != "{}" {
		u.Metadata = []byte(r.Metadata)
	}
	return u
}

// Create inserts with ON CONFLICT DO NOTHING, so a duplicate never aborts the
// surrounding transaction (PostgreSQL) and concurrent registrations of one
// address wait for each other: exactly one inserts, the others see its row.
func (s *Users) Create(ctx context.Context, u users.User) error {
	row := toUserRow(u)
	res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return fmt.Errorf("insert user: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := s.db.Conn(ctx).Model(&userRow{}).Where("email_normalized = ?", row.EmailNormalized).Count(&n).Error; err != nil {
		return fmt.Errorf("find conflicting user: %w", err)
	}
	if n > 0 {
		return users.ErrEmailTaken
	}
	if row.UsernameNormalized != nil {
		return users.ErrUsernameTaken
	}
	return fmt.Errorf("insert user: conflict on id %s", u.ID)
}

func (s *Users) find(ctx context.Context, where string, arg any) (users.User, error) {
	var row userRow
	err := s.db.Conn(ctx).Where(where+" AND deleted_at IS NULL", arg).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return users.User{}, users.ErrNotFound
	}
	if err != nil {
		return users.User{}, fmt.Errorf("load user: %w", err)
	}
	return row.user(), nil
}

func (s *Users) ByID(ctx context.Context, id users.ID) (users.User, error) {
	return s.find(ctx, "id = ?", uuid.UUID(id))
}

func (s *Users) ByEmail(ctx context.Context, e users.Email) (users.User, error) {
	return s.find(ctx, "email_normalized = ?", e.Normalized())
}

func (s *Users) ByUsername(ctx context.Context, n users.Username) (users.User, error) {
	return s.find(ctx, "username_normalized = ?", n.Normalized())
}

// Update runs in a transaction (a savepoint inside the caller's), reads the
// row FOR UPDATE on PostgreSQL (SQLite has one connection, so the
// transaction alone serialises writers), and writes every column back.
func (s *Users) Update(ctx context.Context, id users.ID, fn func(*users.User) error) (users.User, error) {
	var out users.User
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		q := s.db.Conn(ctx)
		if s.db.Dialect == database.DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var row userRow
		err := q.Where("id = ? AND deleted_at IS NULL", uuid.UUID(id)).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return users.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		before := row.user()
		u := row.user()
		if err := fn(&u); err != nil {
			return err
		}
		u.ID, u.CreatedAt, u.UpdatedAt = before.ID, before.CreatedAt, time.Now().UTC()
		next := toUserRow(u)
		err = s.db.Conn(ctx).Model(&userRow{}).Where("id = ?", next.ID).Updates(map[string]any{
			"email": next.Email, "email_normalized": next.EmailNormalized,
			"username": next.Username, "username_normalized": next.UsernameNormalized,
			"display_name": next.DisplayName, "avatar_url": next.AvatarURL, "bio": next.Bio,
			"role": next.Role, "is_active": next.IsActive, "email_verified_at": next.EmailVerifiedAt,
			"last_login_at": next.LastLoginAt, "password_hash": next.PasswordHash,
			"password_changed_at": next.PasswordChangedAt, "metadata": next.Metadata,
			"updated_at": next.UpdatedAt, "deleted_at": next.DeletedAt,
		}).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			if !u.Email.Equal(before.Email) {
				return users.ErrEmailTaken
			}
			return users.ErrUsernameTaken
		}
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		out = next.user()
		return nil
	})
	return out, err
}

// likePattern escapes s for LIKE ... ESCAPE '\'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

func (s *Users) List(ctx context.Context, q users.Query) ([]users.User, error) {
	db := s.db.Conn(ctx).Where("deleted_at IS NULL")
	if q.Role != "" {
		db = db.Where("role = ?", string(q.Role))
	}
	if !q.After.IsZero() {
		db = db.Where("id < ?", uuid.UUID(q.After))
	}
	if q.Search != "" {
		p := likePattern(strings.ToLower(q.Search))
		db = db.Where(`(email_normalized LIKE ? ESCAPE '\' OR username_normalized LIKE ? ESCAPE '\' OR lower(display_name) LIKE ? ESCAPE '\')`, p, p, p)
	}
	if q.Limit > 0 {
		db = db.Limit(q.Limit)
	}
	var rows []userRow
	if err := db.Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]users.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

func (s *Users) CountActiveAdmins(ctx context.Context) (int, error) {
	q := s.db.Conn(ctx).Model(&userRow{})
	cond := "role = 'admin' AND is_active AND deleted_at IS NULL"
	if s.db.Dialect == database.DialectSQLite {
		cond = "role = 'admin' AND is_active = 1 AND deleted_at IS NULL"
	} else {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var ids []uuid.UUID
	if err := q.Where(cond).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return len(ids), nil
}

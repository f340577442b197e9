package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/users"
)

// DeleteAccount erases the caller's account after checking the password:
// personal data is removed, the email and username become free, every
// session is revoked (its tokens then answer invalid_token).
func (s *Service) DeleteAccount(ctx context.Context, p Principal, password string) error {
	u, err := s.d.Users.ByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, _, err := s.d.Hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil && !errors.Is(err, ErrUnknownHashFormat) {
		return err
	}
	if !ok {
		return &users.FieldError{Field: "password", Code: "incorrect", Message: "the password is incorrect"}
	}
	if u.Role == users.RoleAdmin && u.IsActive {
		n, err := s.d.Users.CountActiveAdmins(ctx)
		if err != nil {
			return err
		}
		if n <= 1 {
			return users.ErrLastAdmin
		}
	}
	now := s.now()
	var revoked []uuid.UUID
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.d.Users.Update(ctx, u.ID, func(x *users.User) error {
			Erase(x, now)
			return nil
		}); err != nil {
			return err
		}
		for _, purpose := range []Purpose{PurposeVerifyEmail, PurposeResetPassword} {
			if err := s.d.Tokens.InvalidateAll(ctx, u.ID, purpose, now); err != nil {
				return err
			}
		}
		revoked, err = s.d.Sessions.RevokeAll(ctx, u.ID, uuid.Nil, "account_deleted", now)
		return err
	})
	if err != nil {
		return err
	}
	s.afterRevokeAll(ctx, u.ID, revoked, "account_deleted", StatusUserGone)
	s.d.Log.InfoContext(ctx, "account deleted", "user_id", u.ID.String())
	return nil
}

// Erase removes the personal data of an account and frees its email and
// username: the address becomes a non-deliverable placeholder under the
// reserved .invalid domain.
func Erase(u *users.User, now time.Time) {
	placeholder := "deleted-" + u.ID.String() + "@deleted.invalid"
	u.Email = users.RestoreEmail(placeholder, placeholder)
	u.Username = users.Username{}
	u.DisplayName, u.AvatarURL, u.Bio = "", "", ""
	u.Metadata = nil
	u.PasswordHash = ""
	u.IsActive = false
	u.DeletedAt = &now
}

// CreateAdmin creates an administrator (the `lenticular admin create`
// command). The operator vouches for the address, so it is marked verified.
func (s *Service) CreateAdmin(ctx context.Context, address, password string) (users.User, error) {
	email, err := users.ParseEmail(address)
	if err != nil {
		return users.User{}, err
	}
	if err := CheckPassword("password", password, email, users.Username{}); err != nil {
		return users.User{}, err
	}
	hash, err := s.d.Hasher.Hash(ctx, password)
	if err != nil {
		return users.User{}, err
	}
	now := s.now()
	u := users.User{
		ID: users.NewID(), Email: email, Role: users.RoleAdmin, IsActive: true, PasswordHash: hash,
		PasswordChangedAt: &now, EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.d.Users.Create(ctx, u); err != nil {
		return users.User{}, err
	}
	return u, nil
}

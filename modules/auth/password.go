package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/users"
)

// ChangePassword replaces the caller's password after checking the
// current one; every other session is revoked and the account's address
// gets a notice.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	u, err := s.d.Users.ByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, _, err := s.d.Hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil && !errors.Is(err, ErrUnknownHashFormat) {
		return err
	}
	if !ok {
		s.event(ctx, "password_change_failed", "user_id", u.ID.String(), "reason", "wrong_current_password")
		return &users.FieldError{Field: "current_password", Code: "incorrect", Message: "the current password is incorrect"}
	}
	if err := CheckPassword("new_password", next, u.Email, u.Username); err != nil {
		return err
	}
	hash, err := s.d.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	var revoked []uuid.UUID
	now := s.now()
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.d.Users.Update(ctx, u.ID, func(x *users.User) error {
			x.PasswordHash, x.PasswordChangedAt = hash, &now
			return nil
		}); err != nil {
			return err
		}
		if err := s.d.Tokens.InvalidateAll(ctx, u.ID, PurposeResetPassword, now); err != nil {
			return err
		}
		if revoked, err = s.d.Sessions.RevokeAll(ctx, u.ID, p.SessionID, "password_changed", now); err != nil {
			return err
		}
		return s.d.Mail.Enqueue(ctx, notify.Email{To: u.Email.String(), Template: "password_changed", Data: mailData(u, "")})
	})
	if err != nil {
		return err
	}
	s.afterRevokeAll(ctx, u.ID, revoked, "password_changed", StatusRevoked)
	s.event(ctx, "password_changed", "user_id", u.ID.String())
	return nil
}

// ForgotPassword queues a reset email to the address stored on the
// account the submitted address normalises to, at most one per account per
// minute. It answers the same way, no sooner than ForgotMinDuration,
// whether or not the account exists.
func (s *Service) ForgotPassword(ctx context.Context, address string) error {
	floor := time.NewTimer(s.cfg.ForgotMinDuration)
	defer func() {
		select {
		case <-floor.C:
		case <-ctx.Done():
		}
	}()
	email, err := users.ParseEmail(address)
	if err != nil {
		return err
	}
	u, err := s.d.Users.ByEmail(ctx, email)
	if errors.Is(err, users.ErrNotFound) {
		s.event(ctx, "password_reset_requested", "outcome", "unknown_account")
		return nil
	}
	if err != nil {
		return err
	}
	if !u.IsActive {
		s.event(ctx, "password_reset_requested", "user_id", u.ID.String(), "outcome", "account_disabled")
		return nil
	}
	res, err := s.d.Limiter.Allow(ctx, "reset-mail:"+u.ID.String(), ratelimit.Limit{Rate: 1, Period: time.Minute})
	if err != nil {
		return err
	}
	if !res.Allowed {
		s.event(ctx, "password_reset_requested", "user_id", u.ID.String(), "outcome", "throttled")
		return nil
	}
	now := s.now()
	raw := randomToken("")
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		t := ActionToken{Hash: HashToken(raw), UserID: u.ID, Purpose: PurposeResetPassword, CreatedAt: now, ExpiresAt: now.Add(s.cfg.ResetTTL)}
		if err := s.d.Tokens.Create(ctx, t); err != nil {
			return err
		}
		return s.d.Mail.Enqueue(ctx, notify.Email{To: u.Email.String(), Template: "reset_password", Data: mailData(u, raw)})
	})
	if err != nil {
		return err
	}
	s.event(ctx, "password_reset_requested", "user_id", u.ID.String(), "outcome", "sent")
	return nil
}

// ResetPassword sets a new password with an emailed reset token (single
// use, ResetTTL). Every session is revoked; the address is thereby proven
// and marked verified.
func (s *Service) ResetPassword(ctx context.Context, raw, next string) error {
	hash := HashToken(raw)
	t, err := s.d.Tokens.Find(ctx, hash, PurposeResetPassword)
	if err != nil {
		return err
	}
	if !s.now().Before(t.ExpiresAt) {
		return ErrActionTokenInvalid
	}
	u, err := s.d.Users.ByID(ctx, t.UserID)
	if errors.Is(err, users.ErrNotFound) || err == nil && !u.IsActive {
		return ErrActionTokenInvalid
	}
	if err != nil {
		return err
	}
	if err := CheckPassword("new_password", next, u.Email, u.Username); err != nil {
		return err
	}
	pwHash, err := s.d.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	var revoked []uuid.UUID
	now := s.now()
	err = s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.d.Tokens.Consume(ctx, hash, PurposeResetPassword, now); err != nil {
			return err
		}
		if err := s.d.Tokens.InvalidateAll(ctx, u.ID, PurposeResetPassword, now); err != nil {
			return err
		}
		if _, err := s.d.Users.Update(ctx, u.ID, func(x *users.User) error {
			x.PasswordHash, x.PasswordChangedAt = pwHash, &now
			if x.EmailVerifiedAt == nil {
				x.EmailVerifiedAt = &now
			}
			return nil
		}); err != nil {
			return err
		}
		if revoked, err = s.d.Sessions.RevokeAll(ctx, u.ID, uuid.Nil, "password_reset", now); err != nil {
			return err
		}
		return s.d.Mail.Enqueue(ctx, notify.Email{To: u.Email.String(), Template: "password_changed", Data: mailData(u, "")})
	})
	if err != nil {
		return err
	}
	s.afterRevokeAll(ctx, u.ID, revoked, "password_reset", StatusRevoked)
	s.event(ctx, "password_reset_completed", "user_id", u.ID.String())
	return nil
}

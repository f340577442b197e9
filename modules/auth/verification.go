package auth

import (
	"context"
	"errors"
	"time"

	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/users"
)

// VerifyEmail consumes a verification token and marks the address verified.
func (s *Service) VerifyEmail(ctx context.Context, raw string) error {
	now := s.now()
	return s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		t, err := s.d.Tokens.Consume(ctx, HashToken(raw), PurposeVerifyEmail, now)
		if err != nil {
			return err
		}
		_, err = s.d.Users.Update(ctx, t.UserID, func(x *users.User) error {
			if x.EmailVerifiedAt == nil {
				x.EmailVerifiedAt = &now
			}
			return nil
		})
		if errors.Is(err, users.ErrNotFound) {
			return ErrActionTokenInvalid
		}
		return err
	})
}

// ResendVerification queues another verification email (at most one a
// minute; nothing when the address is already verified).
func (s *Service) ResendVerification(ctx context.Context, p Principal) error {
	u, err := s.d.Users.ByID(ctx, p.UserID)
	if err != nil || u.EmailVerifiedAt != nil {
		return err
	}
	res, err := s.d.Limiter.Allow(ctx, "verify-mail:"+u.ID.String(), ratelimit.Limit{Rate: 1, Period: time.Minute})
	if err != nil || !res.Allowed {
		return err
	}
	now := s.now()
	return s.d.Tx.InTx(ctx, func(ctx context.Context) error { return s.sendVerification(ctx, u, now) })
}

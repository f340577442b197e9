package users

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits of the profile fields.
const (
	MaxDisplayName = 100
	MaxBio         = 1000
	MaxAvatarURL   = 2048
	MaxPageSize    = 100
)

// Service holds the profile and administration use cases.
type Service struct {
	repo     Repository
	tx       Transactor
	sessions SessionControl
	log      *slog.Logger
}

// NewService returns the users use cases.
func NewService(repo Repository, tx Transactor, sessions SessionControl, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{repo: repo, tx: tx, sessions: sessions, log: log}
}

// Me returns the actor's own account.
func (s *Service) Me(ctx context.Context, actor ID) (User, error) {
	return s.repo.ByID(ctx, actor)
}

// Public returns a live account for its public profile.
func (s *Service) Public(ctx context.Context, id ID) (User, error) {
	return s.repo.ByID(ctx, id)
}

// ProfilePatch is a partial update of one's own profile. A nil pointer
// leaves the field unchanged; Username with UsernameSet and a nil value
// removes the username.
type ProfilePatch struct {
	UsernameSet bool
	Username    *string
	DisplayName *string
	AvatarURL   *string
	Bio         *string
	Metadata    json.RawMessage
}

// UpdateProfile changes the actor's own profile: no id comes from outside,
// so nobody can edit another person's account through it.
func (s *Service) UpdateProfile(ctx context.Context, actor ID, p ProfilePatch) (User, error) {
	var (
		username Username
		err      error
	)
	if p.UsernameSet && p.Username != nil {
		if username, err = ParseUsername(*p.Username); err != nil {
			return User{}, err
		}
	}
	if p.DisplayName != nil {
		if err := checkText("display_name", *p.DisplayName, MaxDisplayName); err != nil {
			return User{}, err
		}
	}
	if p.Bio != nil {
		if err := checkText("bio", *p.Bio, MaxBio); err != nil {
			return User{}, err
		}
	}
	if p.AvatarURL != nil {
		if err := checkAvatar(*p.AvatarURL); err != nil {
			return User{}, err
		}
	}
	var meta json.RawMessage
	if p.Metadata != nil {
		if meta, err = CheckMetadata(p.Metadata); err != nil {
			return User{}, err
		}
	}
	return s.repo.Update(ctx, actor, func(u *User) error {
		if p.UsernameSet {
			u.Username = username
		}
		if p.DisplayName != nil {
			u.DisplayName = strings.TrimSpace(*p.DisplayName)
		}
		if p.Bio != nil {
			u.Bio = *p.Bio
		}
		if p.AvatarURL != nil {
			u.AvatarURL = *p.AvatarURL
		}
		if meta != nil {
			u.Metadata = meta
		}
		return nil
	})
}

func checkText(field, v string, limit int) error {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > limit {
		return &FieldError{Field: field, Code: "too_long", Message: fmt.Sprintf("%s must be at most %d characters", field, limit)}
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' }) {
		return &FieldError{Field: field, Code: "invalid", Message: field + " contains control characters"}
	}
	return nil
}

func checkAvatar(v string) error {
	if v == "" {
		return nil
	}
	bad := &FieldError{Field: "avatar_url", Code: "invalid", Message: "avatar_url must be an http or https URL of at most 2048 characters"}
	if len(v) > MaxAvatarURL {
		return bad
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return bad
	}
	return nil
}

// CheckMetadata accepts a JSON object of at most MaxMetadataBytes and
// returns it compacted.
func CheckMetadata(raw json.RawMessage) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, &FieldError{Field: "metadata", Code: "invalid", Message: "metadata must be a JSON object"}
	}
	if buf.Len() > MaxMetadataBytes {
		return nil, &FieldError{Field: "metadata", Code: "too_long", Message: "metadata must be at most 16 KiB"}
	}
	return json.RawMessage(buf.Bytes()), nil
}

// List is the admin list of accounts. It returns the next page's cursor
// (the last id) when the page is full.
func (s *Service) List(ctx context.Context, actor Actor, q Query) ([]User, *ID, error) {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return nil, nil, err
	}
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		q.Limit = 20
	}
	q.Search = strings.ToLower(strings.TrimSpace(q.Search))
	// One more row than asked tells whether there is a next page.
	want := q.Limit
	q.Limit++
	list, err := s.repo.List(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	if len(list) <= want {
		return list, nil, nil
	}
	list = list[:want]
	next := list[want-1].ID
	return list, &next, nil
}

// AdminPatch is an administrator's change to an account.
type AdminPatch struct {
	Role     *Role
	IsActive *bool
}

// AdminUpdate changes another account's role or status. The last active
// admin can be neither demoted nor disabled (ErrLastAdmin). Disabling
// revokes every session of the user.
func (s *Service) AdminUpdate(ctx context.Context, actor Actor, id ID, p AdminPatch) (User, error) {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return User{}, err
	}
	var before, after User
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.repo.ByID(ctx, id)
		if err != nil {
			return err
		}
		losesAdmin := cur.Role == RoleAdmin && cur.IsActive &&
			(p.Role != nil && *p.Role != RoleAdmin || p.IsActive != nil && !*p.IsActive)
		if losesAdmin {
			n, err := s.repo.CountActiveAdmins(ctx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastAdmin
			}
		}
		after, err = s.repo.Update(ctx, id, func(u *User) error {
			before = *u
			if p.Role != nil {
				u.Role = *p.Role
			}
			if p.IsActive != nil {
				u.IsActive = *p.IsActive
			}
			return nil
		})
		return err
	})
	if err != nil {
		return User{}, err
	}
	if before.IsActive && !after.IsActive {
		if err := s.sessions.RevokeAllSessions(ctx, id, "user_disabled"); err != nil {
			return User{}, fmt.Errorf("revoke sessions of disabled user: %w", err)
		}
	} else if before.Role != after.Role {
		if err := s.sessions.UserChanged(ctx, id); err != nil {
			return User{}, fmt.Errorf("refresh sessions after role change: %w", err)
		}
	}
	s.log.InfoContext(ctx, "user changed by admin", "target_user_id", id.String(), "admin_id", actor.ID.String(),
		"role", string(after.Role), "is_active", after.IsActive)
	return after, nil
}

func (s *Service) requireAdmin(ctx context.Context, actor Actor) error {
	if actor.Role != RoleAdmin {
		s.log.WarnContext(ctx, "security event", "event", "permission_denied", "user_id", actor.ID.String(), "required", "admin")
		return ErrForbidden
	}
	return nil
}

// IsNotFound reports whether err is ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

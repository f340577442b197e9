// Package users is the user account: the User entity, the Email and
// Username value objects, roles, the repository port and the profile and
// administration use cases.
//
// Emails and usernames are compared only through their value objects
// (Email.Normalized, Username.Normalized); nothing else in the code base
// compares them.
package users

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ID identifies a user: a UUIDv7, so ids sort by creation time.
type ID uuid.UUID

// NewID returns a fresh UUIDv7.
func NewID() ID { return ID(uuid.Must(uuid.NewV7())) }

// ParseID parses the canonical string form of an id.
func ParseID(s string) (ID, error) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return ID{}, ErrNotFound
	}
	return ID(u), nil
}

func (id ID) String() string { return uuid.UUID(id).String() }

// IsZero reports whether id is the zero value.
func (id ID) IsZero() bool { return id == ID{} }

// Role is what a user may do beyond their own account.
type Role string

// The roles of API.md.
const (
	RoleUser      Role = "user"
	RoleModerator Role = "moderator"
	RoleAdmin     Role = "admin"
)

// ParseRole accepts the three roles.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleUser, RoleModerator, RoleAdmin:
		return r, nil
	}
	return "", &FieldError{Field: "role", Code: "invalid", Message: "role must be user, moderator or admin"}
}

// MaxMetadataBytes bounds the free JSON object a user may store.
const MaxMetadataBytes = 16 << 10

// User is an account. The zero Username means the user has none.
type User struct {
	ID                ID
	Email             Email
	Username          Username
	DisplayName       string
	AvatarURL         string
	Bio               string
	Role              Role
	IsActive          bool
	EmailVerifiedAt   *time.Time
	LastLoginAt       *time.Time
	PasswordHash      string // PHC string (or an imported Django hash); "" means no password
	PasswordChangedAt *time.Time
	Metadata          json.RawMessage // a JSON object; nil means {}
	CreatedAt         time.Time
	UpdatedAt         time.Time
	DeletedAt         *time.Time
}

// Deleted reports whether the account was erased.
func (u User) Deleted() bool { return u.DeletedAt != nil }

// Usable reports whether the user may sign in and use tokens.
func (u User) Usable() bool { return u.IsActive && u.DeletedAt == nil }

// Actor is the user on whose behalf a use case runs: ownership and role
// checks are made against it, never against ids taken from a request.
type Actor struct {
	ID   ID
	Role Role
}

// Domain errors; adapters/rest maps them to statuses and codes.
var (
	ErrNotFound      = errors.New("user not found")
	ErrEmailTaken    = errors.New("email already registered")
	ErrUsernameTaken = errors.New("username already taken")
	ErrForbidden     = errors.New("not allowed")
	ErrLastAdmin     = errors.New("the last active admin cannot be demoted or disabled")
)

// ErrValidation is matched (errors.Is) by every FieldError.
var ErrValidation = errors.New("validation failed")

// FieldError is an invalid input field, reported as a 422 naming the field.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Message) }

// Is makes errors.Is(err, ErrValidation) true.
func (e *FieldError) Is(target error) bool { return target == ErrValidation }

// Package links is the reference feature module: URLs de-duplicated by
// their canonical form, with attribution to the first person who saved one
// and a save per person. Copy its shape (domain types, ports, a service of
// use cases returning domain errors, a contract suite for the ports) for a
// product's own features.
package links

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// Sort orders a list of links.
type Sort string

const (
	// SortNew lists the most recently submitted links first.
	SortNew Sort = "new"
	// SortPopular lists the links with the most saves first.
	SortPopular Sort = "popular"
)

// Roles allowed to remove any link.
const (
	RoleModerator = "moderator"
	RoleAdmin     = "admin"
)

// Pagination bounds (API.md "Conventions").
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxTitleLength bounds a title in characters.
	MaxTitleLength = 300
)

// Link is one canonical URL with its attribution and save count.
type Link struct {
	ID  uuid.UUID
	URL string // canonical form
	// Domain is the host of URL without a leading "www.".
	Domain      string
	Title       string
	SubmittedBy uuid.UUID // the first saver
	SubmittedAt time.Time
	SavesCount  int
	// Submitter is SubmittedBy's public profile (filled by the service).
	Submitter Profile
	// SavedByMe tells whether the caller saves the link (false when anonymous).
	SavedByMe bool
}

// Profile is the public face of a user (API.md PublicUser).
type Profile struct {
	ID          uuid.UUID
	Username    *string
	DisplayName string
	AvatarURL   string
	Bio         string
	CreatedAt   time.Time
}

// Actor is who calls a use case: the zero Actor is anonymous.
type Actor struct {
	UserID uuid.UUID
	Role   string
}

// Authenticated reports whether the actor is a signed-in user.
func (a Actor) Authenticated() bool { return a.UserID != uuid.Nil }

// CanRemoveLinks reports whether the actor may delete anyone's link.
func (a Actor) CanRemoveLinks() bool {
	return a.Authenticated() && (a.Role == RoleModerator || a.Role == RoleAdmin)
}

// Page is one page of a cursor-paginated list; Next is "" on the last page.
type Page struct {
	Items []Link
	Next  string
}

// Domain errors, mapped to HTTP answers by adapters/rest.
var (
	ErrNotFound         = errors.New("link not found")
	ErrUserNotFound     = errors.New("user not found")
	ErrForbidden        = errors.New("only a moderator or an admin may remove a link")
	ErrUnauthenticated  = errors.New("sign in first")
	ErrNotSaved         = errors.New("you do not save this link")
	ErrInvalidCursor    = errors.New("invalid cursor")
	ErrInvalidLimit     = errors.New("limit must be between 1 and 100")
	ErrInvalidTitle     = errors.New("title too long")
	ErrInvalidSortOrder = errors.New("sort must be new or popular")
)

// FieldError is a validation failure of one input field (a 422 answer).
type FieldError struct {
	Field string // as the client sent it: url, title, cursor, limit, sort
	Code  string // invalid_url, invalid, too_long, out_of_range
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

package links

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// NewLink is what Repository.Save stores when the canonical URL is new.
type NewLink struct {
	ID     uuid.UUID
	URL    string // canonical
	Hash   []byte // SHA-256 of URL: the unique key
	Domain string
	Title  string
}

// SaveResult tells what Repository.Save did.
type SaveResult struct {
	Link    Link // without Submitter and SavedByMe
	Created bool // the link is new: saver is its submitter
	Saved   bool // a save was added (false: saver already saved it)
}

// Cursor is the decoded position after the last item of a page.
type Cursor struct {
	Sort  Sort // or "saved" for a user's saves
	Time  time.Time
	Count int
	ID    uuid.UUID
}

// ListQuery selects a page of links.
type ListQuery struct {
	Sort  Sort
	Limit int
	After *Cursor // nil: first page
}

// Saved is one link a user saves, with when they saved it.
type Saved struct {
	Link    Link
	SavedAt time.Time
}

// Repository stores links and saves. Implementations must let the database
// decide de-duplication: two Save calls racing on one new canonical URL
// create one link (unique key on Hash), and each saver gets one save.
type Repository interface {
	// Save adds saver's save of the link whose canonical URL is l.URL,
	// creating the link from l (with saver as submitter) when no link has
	// l.Hash. submitted is the URL as the saver sent it. A title given for
	// an existing link that has none fills it in.
	Save(ctx context.Context, l NewLink, saver uuid.UUID, submitted string, at time.Time) (SaveResult, error)
	// Get returns a link or ErrNotFound.
	Get(ctx context.Context, id uuid.UUID) (Link, error)
	// List returns up to q.Limit links after q.After in q.Sort order:
	// SortNew by (SubmittedAt, ID) descending, SortPopular by
	// (SavesCount, ID) descending.
	List(ctx context.Context, q ListQuery) ([]Link, error)
	// SavedBy returns up to limit links user saves, most recently saved
	// first, ordered by (SavedAt, link ID) descending, after the cursor.
	SavedBy(ctx context.Context, user uuid.UUID, limit int, after *Cursor) ([]Saved, error)
	// SavedAmong returns which of ids user saves.
	SavedAmong(ctx context.Context, user uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]bool, error)
	// Unsave removes user's save: ErrNotFound if the link does not exist,
	// ErrNotSaved if user does not save it. SubmittedBy never changes.
	Unsave(ctx context.Context, id, user uuid.UUID) error
	// Delete removes a link and its saves, or returns ErrNotFound.
	Delete(ctx context.Context, id uuid.UUID) error
}

// Profiles reads public profiles of users; the links module owns this small
// port so it does not depend on the users module's internals.
type Profiles interface {
	// PublicProfiles returns the profiles of the ids that exist, deleted
	// users included (their personal data is erased, the id remains).
	PublicProfiles(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Profile, error)
	// Active reports whether a user exists and is not deleted.
	Active(ctx context.Context, id uuid.UUID) (bool, error)
}

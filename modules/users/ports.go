package users

import "context"

// Repository stores users. Every method sees only accounts that are not
// deleted, except where noted.
type Repository interface {
	// Create inserts u. A taken normalised email or username gives
	// ErrEmailTaken or ErrUsernameTaken (email is checked first).
	Create(ctx context.Context, u User) error
	// ByID, ByEmail and ByUsername find a live (not deleted) account or
	// return ErrNotFound.
	ByID(ctx context.Context, id ID) (User, error)
	ByEmail(ctx context.Context, e Email) (User, error)
	ByUsername(ctx context.Context, u Username) (User, error)
	// Update loads the live account id (locked until the surrounding
	// transaction ends, when there is one), lets fn change it, and saves
	// it with UpdatedAt set. fn's error aborts without saving. A username
	// taken by someone else gives ErrUsernameTaken.
	Update(ctx context.Context, id ID, fn func(*User) error) (User, error)
	// List returns live accounts, newest first, matching q.
	List(ctx context.Context, q Query) ([]User, error)
	// CountActiveAdmins counts live, active admins. Inside a transaction on
	// PostgreSQL it locks their rows, so two concurrent demotions cannot
	// both see "two admins left".
	CountActiveAdmins(ctx context.Context) (int, error)
}

// Query filters and pages the admin list.
type Query struct {
	// Search is matched case-insensitively as a substring of the
	// normalised email, the username and the display name.
	Search string
	Role   Role // "" for any
	// After is the last id of the previous page (keyset pagination on id,
	// which is time-ordered); zero for the first page.
	After ID
	Limit int
}

// Transactor runs fn in one database transaction carried by ctx, so every
// repository fn calls (and the email queue) commits or rolls back together.
// database.DB implements it; the in-memory one simply calls fn.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// SessionControl is what this module needs from the sessions of the auth
// module: disabling a user revokes their sessions, and a role change must
// be seen by their next request.
type SessionControl interface {
	RevokeAllSessions(ctx context.Context, user ID, reason string) error
	UserChanged(ctx context.Context, user ID) error
}

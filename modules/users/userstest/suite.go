// Package userstest is the contract every users.Repository must honour.
// Each adapter's tests call Run with a constructor of an empty repository;
// the same suite runs on the in-memory adapter, SQLite and PostgreSQL.
//
// The contract, as checked below:
//   - Create stores every field; lookups by id, normalised email and
//     normalised username find the account (any case of the email or
//     username); unknown ones are ErrNotFound.
//   - The normalised email and username are unique: ErrEmailTaken (checked
//     first) and ErrUsernameTaken; under concurrency exactly one of many
//     registrations of one address wins.
//   - Update changes what fn changes, keeps id and created_at, sets
//     updated_at, reports ErrUsernameTaken for a username in use, saves
//     nothing when fn fails, and ErrNotFound for an unknown id.
//   - A deleted (erased) account is invisible to every lookup and frees its
//     email and username.
//   - List pages newest first by id with After, filters by role and by a
//     case-insensitive substring of email, username or display name, and
//     leaves deleted accounts out.
//   - CountActiveAdmins counts active, live admins.
package userstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lenticular/lenticular/modules/users"
)

// Run runs the suite. newRepo is called once per subtest.
func Run(t *testing.T, newRepo func(t *testing.T) users.Repository) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, r users.Repository)
	}{
		{"create and find", testCreateFind},
		{"unique email and username", testUnique},
		{"concurrent registration of one address", testConcurrentRegistration},
		{"update", testUpdate},
		{"deleted accounts are invisible and free their names", testDeleted},
		{"list filters and pages", testList},
		{"count active admins", testCountAdmins},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newRepo(t))
		})
	}
}

var base = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// NewUser builds a valid user with email and (optional) username.
func NewUser(t testing.TB, email, username string) users.User {
	t.Helper()
	e, err := users.ParseEmail(email)
	if err != nil {
		t.Fatalf("ParseEmail(%q): %v", email, err)
	}
	u := users.User{ID: users.NewID(), Email: e, Role: users.RoleUser, IsActive: true, PasswordHash: "$argon2id$test",
		CreatedAt: base, UpdatedAt: base}
	if username != "" {
		if u.Username, err = users.ParseUsername(username); err != nil {
			t.Fatalf("ParseUsername(%q): %v", username, err)
		}
	}
	return u
}

func mustCreate(t *testing.T, r users.Repository, u users.User) users.User {
	t.Helper()
	if err := r.Create(context.Background(), u); err != nil {
		t.Fatalf("Create(%s): %v", u.Email, err)
	}
	return u
}

func testCreateFind(t *testing.T, r users.Repository) {
	ctx := context.Background()
	u := NewUser(t, "Ada.Lovelace@Example.COM", "Ada_L")
	verified := base.Add(time.Hour)
	u.DisplayName, u.AvatarURL, u.Bio = "Ada", "https://example.com/a.png", "Analyst"
	u.EmailVerifiedAt, u.LastLoginAt, u.PasswordChangedAt = &verified, &verified, &verified
	u.Metadata = json.RawMessage(`{"theme":"dark"}`)
	u.Role = users.RoleModerator
	mustCreate(t, r, u)

	got, err := r.ByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email.String() != "Ada.Lovelace@Example.COM" || got.Email.Normalized() != "ada.lovelace@example.com" ||
		got.Username.String() != "Ada_L" || got.DisplayName != "Ada" || got.AvatarURL != u.AvatarURL || got.Bio != "Analyst" ||
		got.Role != users.RoleModerator || !got.IsActive || got.PasswordHash != u.PasswordHash ||
		got.EmailVerifiedAt == nil || !got.EmailVerifiedAt.Equal(verified) || got.LastLoginAt == nil ||
		got.PasswordChangedAt == nil || !got.CreatedAt.Equal(base) || got.DeletedAt != nil {
		t.Errorf("ByID returned %+v", got)
	}
	var meta map[string]string
	if err := json.Unmarshal(got.Metadata, &meta); err != nil || meta["theme"] != "dark" {
		t.Errorf("metadata = %s (%v)", got.Metadata, err)
	}
	for _, email := range []string{"ada.lovelace@example.com", " ADA.LOVELACE@EXAMPLE.com "} {
		e, _ := users.ParseEmail(email)
		if got, err := r.ByEmail(ctx, e); err != nil || got.ID != u.ID {
			t.Errorf("ByEmail(%q) = %v, %v", email, got.ID, err)
		}
	}
	name, _ := users.ParseUsername("ada_l")
	if got, err := r.ByUsername(ctx, name); err != nil || got.ID != u.ID {
		t.Errorf("ByUsername = %v, %v", got.ID, err)
	}
	other, _ := users.ParseEmail("nobody@example.com")
	if _, err := r.ByEmail(ctx, other); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("ByEmail(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := r.ByID(ctx, users.NewID()); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("ByID(unknown) = %v, want ErrNotFound", err)
	}
	noName, _ := users.ParseUsername("nobody")
	if _, err := r.ByUsername(ctx, noName); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("ByUsername(unknown) = %v, want ErrNotFound", err)
	}
}

func testUnique(t *testing.T, r users.Repository) {
	ctx := context.Background()
	mustCreate(t, r, NewUser(t, "bob@example.com", "Bobby"))
	cases := []struct {
		email, username string
		want            error
	}{
		{"BOB@Example.com", "", users.ErrEmailTaken},
		{"bob@EXAMPLE.COM", "other", users.ErrEmailTaken},
		{"BOB@example.com", "bobby", users.ErrEmailTaken}, // email is checked first
		{"robert@example.com", "BOBBY", users.ErrUsernameTaken},
	}
	for _, c := range cases {
		if err := r.Create(ctx, NewUser(t, c.email, c.username)); !errors.Is(err, c.want) {
			t.Errorf("Create(%s, %s) = %v, want %v", c.email, c.username, err, c.want)
		}
	}
	// Accounts without a username do not collide on it.
	mustCreate(t, r, NewUser(t, "c1@example.com", ""))
	mustCreate(t, r, NewUser(t, "c2@example.com", ""))
}

func testConcurrentRegistration(t *testing.T, r users.Repository) {
	ctx := context.Background()
	variants := []string{"A@x.io", "a@x.io", "A@X.IO", "a@X.io", " a@x.io "}
	const n = 100
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = r.Create(ctx, NewUser(t, variants[i%len(variants)], ""))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, users.ErrEmailTaken):
			t.Errorf("registration %d: %v, want nil or ErrEmailTaken", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d registrations of a@x.io won, want exactly 1", won)
	}
}

func testUpdate(t *testing.T, r users.Repository) {
	ctx := context.Background()
	u := mustCreate(t, r, NewUser(t, "carol@example.com", "carol"))
	mustCreate(t, r, NewUser(t, "dave@example.com", "dave"))
	// Read first: a repository that keeps copies must not answer this one
	// after the update.
	if _, err := r.ByID(ctx, u.ID); err != nil {
		t.Fatal(err)
	}

	got, err := r.Update(ctx, u.ID, func(x *users.User) error {
		x.DisplayName = "Carol"
		x.Username, _ = users.ParseUsername("Carol_2")
		x.Metadata = json.RawMessage(`{"a":1}`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "Carol" || got.Username.String() != "Carol_2" || got.ID != u.ID || !got.CreatedAt.Equal(base) || !got.UpdatedAt.After(base) {
		t.Errorf("Update returned %+v", got)
	}
	again, _ := r.ByID(ctx, u.ID)
	if again.DisplayName != "Carol" || again.Username.String() != "Carol_2" {
		t.Errorf("Update not stored: %+v", again)
	}
	old, _ := users.ParseUsername("carol")
	if _, err := r.ByUsername(ctx, old); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("the old username still finds the user: %v", err)
	}
	// Removing the username.
	if got, err := r.Update(ctx, u.ID, func(x *users.User) error { x.Username = users.Username{}; return nil }); err != nil || !got.Username.IsZero() {
		t.Errorf("clearing the username: %+v, %v", got.Username, err)
	}
	// Taken username.
	_, err = r.Update(ctx, u.ID, func(x *users.User) error { x.Username, _ = users.ParseUsername("DAVE"); return nil })
	if !errors.Is(err, users.ErrUsernameTaken) {
		t.Errorf("Update to a taken username = %v, want ErrUsernameTaken", err)
	}
	// fn failing saves nothing.
	boom := fmt.Errorf("boom")
	if _, err := r.Update(ctx, u.ID, func(x *users.User) error { x.Bio = "changed"; return boom }); !errors.Is(err, boom) {
		t.Errorf("Update with failing fn = %v", err)
	}
	if x, _ := r.ByID(ctx, u.ID); x.Bio == "changed" {
		t.Error("a failing fn's change was saved")
	}
	if _, err := r.Update(ctx, users.NewID(), func(*users.User) error { return nil }); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("Update(unknown) = %v, want ErrNotFound", err)
	}
}

func testDeleted(t *testing.T, r users.Repository) {
	ctx := context.Background()
	u := mustCreate(t, r, NewUser(t, "erin@example.com", "erin"))
	now := base.Add(time.Hour)
	_, err := r.Update(ctx, u.ID, func(x *users.User) error {
		p := "deleted-" + x.ID.String() + "@deleted.invalid"
		x.Email = users.RestoreEmail(p, p)
		x.Username = users.Username{}
		x.DeletedAt, x.IsActive = &now, false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ByID(ctx, u.ID); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("ByID(deleted) = %v, want ErrNotFound", err)
	}
	if _, err := r.Update(ctx, u.ID, func(*users.User) error { return nil }); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("Update(deleted) = %v, want ErrNotFound", err)
	}
	mustCreate(t, r, NewUser(t, "ERIN@example.com", "Erin"))
	list, err := r.List(ctx, users.Query{Limit: 10})
	if err != nil || len(list) != 1 || list[0].ID == u.ID {
		t.Errorf("List shows %d accounts (%v), want only the new one", len(list), err)
	}
}

func testList(t *testing.T, r users.Repository) {
	ctx := context.Background()
	var ids []users.ID
	for i := range 7 {
		u := NewUser(t, fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("name_%d", i))
		u.DisplayName = fmt.Sprintf("Person %d", i)
		if i%3 == 0 {
			u.Role = users.RoleModerator
		}
		if i == 5 {
			u.DisplayName = "Zoë Findme"
		}
		mustCreate(t, r, u)
		ids = append(ids, u.ID)
	}
	// Pages of 3, newest first, through all 7.
	var seen []users.ID
	var after users.ID
	for range 4 {
		page, err := r.List(ctx, users.Query{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page {
			seen = append(seen, u.ID)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != 7 {
		t.Fatalf("paged through %d accounts, want 7", len(seen))
	}
	for i := range seen {
		if seen[i] != ids[6-i] {
			t.Fatalf("order: position %d is %s, want %s (newest first)", i, seen[i], ids[6-i])
		}
	}
	mods, _ := r.List(ctx, users.Query{Role: users.RoleModerator, Limit: 10})
	if len(mods) != 3 {
		t.Errorf("role filter: %d moderators, want 3", len(mods))
	}
	for _, q := range []string{"findme", "user5@", "name_5"} {
		got, err := r.List(ctx, users.Query{Search: q, Limit: 10})
		if err != nil || len(got) != 1 || got[0].ID != ids[5] {
			t.Errorf("search %q: %d results (%v)", q, len(got), err)
		}
	}
	if got, _ := r.List(ctx, users.Query{Search: "100%_", Limit: 10}); len(got) != 0 {
		t.Errorf("LIKE metacharacters must match literally, got %d", len(got))
	}
}

func testCountAdmins(t *testing.T, r users.Repository) {
	ctx := context.Background()
	for i, st := range []struct {
		role   users.Role
		active bool
	}{{users.RoleAdmin, true}, {users.RoleAdmin, true}, {users.RoleAdmin, false}, {users.RoleModerator, true}} {
		u := NewUser(t, fmt.Sprintf("adm%d@example.com", i), "")
		u.Role, u.IsActive = st.role, st.active
		mustCreate(t, r, u)
	}
	if n, err := r.CountActiveAdmins(ctx); err != nil || n != 2 {
		t.Errorf("CountActiveAdmins = %d, %v; want 2", n, err)
	}
}

// Package linkstest is the contract every links.Repository (with its
// links.Profiles) must honour, checked through the links use cases so each
// adapter is proven to give the service what it relies on. Adapters call
// Run from their tests: memory, SQLite and PostgreSQL.
//
// The contract, as checked below:
//   - one link per canonical URL: other spellings of a known URL add a save
//     to the existing link; the first saver is the submitter forever;
//   - 50 concurrent first saves of one new URL by 50 users make exactly one
//     link with 50 saves, submitted by the one save told it created it;
//   - saves_count follows saves and unsaves; a second save by the same user
//     changes nothing;
//   - lists are ordered newest first (submitted_at, id) or most saved first
//     (saves_count, id) and pages never repeat or skip an item;
//   - a user's saves are listed most recently saved first; an unknown or
//     deleted user is ErrUserNotFound;
//   - saved_by_me is true exactly for the caller's saves;
//   - unsave and delete report ErrNotFound / ErrNotSaved / ErrForbidden.
package linkstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
)

// Harness is one adapter under test.
type Harness struct {
	Repo     links.Repository
	Profiles links.Profiles
	// NewUser creates a live user and returns its id.
	NewUser func(t *testing.T, username, displayName string) uuid.UUID
	// DeleteUser marks a user deleted (personal data erased, id kept).
	DeleteUser func(t *testing.T, id uuid.UUID)
}

// Run runs the suite; newHarness is called once per subtest with an empty
// store. Subtests run in parallel.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"submit creates then adds savers", testSubmit},
		{"spellings of one URL are one link", testSpellings},
		{"concurrent first saves make one link", testConcurrent},
		{"invalid input", testInvalid},
		{"get and by ids", testGet},
		{"list new and popular with cursors", testList},
		{"saved by a user", testSavedBy},
		{"unsave keeps attribution", testUnsave},
		{"delete needs a moderator", testDelete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newHarness(t))
		})
	}
}

// clock returns strictly increasing times, a millisecond apart.
func clock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

func service(h Harness) *links.Service {
	return links.NewService(h.Repo, h.Profiles, links.WithClock(clock()))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func user(t *testing.T, h Harness, name string) links.Actor {
	t.Helper()
	return links.Actor{UserID: h.NewUser(t, name, "User "+name), Role: "user"}
}

func submit(t *testing.T, s *links.Service, a links.Actor, url, title string) (links.Link, bool) {
	t.Helper()
	l, created, err := s.Submit(ctx(t), a, url, title)
	if err != nil {
		t.Fatalf("Submit(%q): %v", url, err)
	}
	return l, created
}

func testSubmit(t *testing.T, h Harness) {
	s := service(h)
	alice, bob := user(t, h, "alice"), user(t, h, "bob")

	l, created := submit(t, s, alice, "https://Example.com/post/?utm_source=x", "A post")
	if !created || l.URL != "https://example.com/post" || l.Domain != "example.com" || l.Title != "A post" {
		t.Fatalf("first submit = %+v, created %v", l, created)
	}
	if l.SubmittedBy != alice.UserID || l.Submitter.ID != alice.UserID || l.Submitter.Username == nil || *l.Submitter.Username != "alice" {
		t.Fatalf("submitter = %v %+v, want alice", l.SubmittedBy, l.Submitter)
	}
	if l.SavesCount != 1 || !l.SavedByMe || l.SubmittedAt.IsZero() || l.ID == uuid.Nil {
		t.Fatalf("first submit = %+v", l)
	}

	again, created := submit(t, s, bob, "https://example.com/post", "Another title")
	if created || again.ID != l.ID || again.SavesCount != 2 || again.SubmittedBy != alice.UserID || again.Title != "A post" {
		t.Fatalf("second saver: %+v created %v", again, created)
	}
	if !again.SubmittedAt.Equal(l.SubmittedAt) {
		t.Fatalf("submitted_at changed: %v -> %v", l.SubmittedAt, again.SubmittedAt)
	}

	same, created := submit(t, s, bob, "https://example.com/post#top", "")
	if created || same.SavesCount != 2 {
		t.Fatalf("a repeated save counted: %+v", same)
	}

	// A link saved without a title takes the first title given later.
	untitled, _ := submit(t, s, alice, "https://example.com/untitled", "  ")
	if untitled.Title != "" {
		t.Fatalf("title = %q, want empty", untitled.Title)
	}
	titled, _ := submit(t, s, bob, "https://example.com/untitled", " Now\ttitled ")
	if titled.Title != "Now titled" || titled.SubmittedBy != alice.UserID {
		t.Fatalf("title fill-in: %+v", titled)
	}
}

func testSpellings(t *testing.T, h Harness) {
	s := service(h)
	spellings := []string{
		"https://bücher.example/a/b/?b=2&a=1",
		"HTTPS://BÜCHER.example:443/a/./b?a=1&b=2&utm_medium=mail#x",
		"https://xn--bcher-kva.example/a/c/../b/?fbclid=123&a=1&b=2",
		"https://xn--bcher-kva.example/%61/b?a=1&b=2",
	}
	var first links.Link
	for i, u := range spellings {
		a := user(t, h, fmt.Sprintf("speller%d", i))
		l, created := submit(t, s, a, u, "")
		if i == 0 {
			first = l
			if !created {
				t.Fatal("first spelling did not create")
			}
			continue
		}
		if created || l.ID != first.ID || l.SavesCount != i+1 {
			t.Fatalf("spelling %q: %+v created %v, want link %v with %d saves", u, l, created, first.ID, i+1)
		}
	}
	if first.URL != "https://xn--bcher-kva.example/a/b?a=1&b=2" {
		t.Fatalf("canonical = %q", first.URL)
	}
}

func testConcurrent(t *testing.T, h Harness) {
	s := service(h)
	const n = 50
	actors := make([]links.Actor, n)
	for i := range actors {
		actors[i] = user(t, h, fmt.Sprintf("racer%02d", i))
	}
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		mu       sync.Mutex
		creators []uuid.UUID
		ids      = map[uuid.UUID]int{}
	)
	for _, a := range actors {
		wg.Go(func() {
			<-start
			l, created, err := s.Submit(ctx(t), a, "https://race.example/new?x=1", "Race")
			if err != nil {
				t.Errorf("Submit: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[l.ID]++
			if created {
				creators = append(creators, a.UserID)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(ids) != 1 {
		t.Fatalf("%d links for one URL: %v", len(ids), ids)
	}
	if len(creators) != 1 {
		t.Fatalf("%d saves were told they created the link, want 1", len(creators))
	}
	var id uuid.UUID
	for k := range ids {
		id = k
	}
	l, err := s.Get(ctx(t), links.Actor{}, id)
	if err != nil {
		t.Fatal(err)
	}
	if l.SavesCount != n || l.SubmittedBy != creators[0] {
		t.Fatalf("after %d saves: saves_count %d, submitted_by %v; want %d and %v", n, l.SavesCount, l.SubmittedBy, n, creators[0])
	}
	// Every racer saves it.
	for _, a := range actors {
		got, err := s.Get(ctx(t), a, id)
		if err != nil || !got.SavedByMe {
			t.Fatalf("racer %v: saved_by_me %v, %v", a.UserID, got.SavedByMe, err)
		}
	}
}

func testInvalid(t *testing.T, h Harness) {
	s := service(h)
	a := user(t, h, "invalid")
	var fe *links.FieldError
	for _, u := range []string{"", "ftp://example.com/", "https://user:pw@example.com/", "not a url"} {
		_, _, err := s.Submit(ctx(t), a, u, "")
		if !errors.As(err, &fe) || fe.Field != "url" || fe.Code != "invalid_url" {
			t.Errorf("Submit(%q) = %v, want url invalid_url", u, err)
		}
	}
	if _, _, err := s.Submit(ctx(t), links.Actor{}, "https://example.com/", ""); !errors.Is(err, links.ErrUnauthenticated) {
		t.Errorf("anonymous Submit = %v", err)
	}
	long := make([]rune, links.MaxTitleLength+1)
	for i := range long {
		long[i] = 'é'
	}
	if _, _, err := s.Submit(ctx(t), a, "https://example.com/", string(long)); !errors.As(err, &fe) || fe.Field != "title" {
		t.Errorf("long title = %v", err)
	}
	for _, c := range []string{"nope", "MXxuZXd8MXx4", "MXxwb3B1bGFyfDF8MDE5MDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw"} {
		if _, err := s.List(ctx(t), links.Actor{}, links.SortNew, 10, c); !errors.As(err, &fe) || fe.Field != "cursor" {
			t.Errorf("List cursor %q = %v, want cursor error", c, err)
		}
	}
	for _, lim := range []int{-1, 101} {
		if _, err := s.List(ctx(t), links.Actor{}, links.SortNew, lim, ""); !errors.As(err, &fe) || fe.Field != "limit" {
			t.Errorf("List limit %d = %v", lim, err)
		}
	}
}

func testGet(t *testing.T, h Harness) {
	s := service(h)
	a, b := user(t, h, "getter"), user(t, h, "other")
	l1, _ := submit(t, s, a, "https://get.example/1", "One")
	l2, _ := submit(t, s, b, "https://get.example/2", "Two")
	if _, err := s.Get(ctx(t), a, uuid.Must(uuid.NewV7())); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("Get unknown = %v", err)
	}
	got, err := s.Get(ctx(t), a, l2.ID)
	if err != nil || got.SavedByMe || got.Title != "Two" || got.Submitter.ID != b.UserID {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	anon, err := s.Get(ctx(t), links.Actor{}, l1.ID)
	if err != nil || anon.SavedByMe {
		t.Fatalf("anonymous Get = %+v, %v", anon, err)
	}
	// Links read elsewhere (search results) learn the actor's saves.
	if mine, err := s.SavedAmong(ctx(t), a, []uuid.UUID{l2.ID, uuid.Must(uuid.NewV7()), l1.ID}); err != nil || len(mine) != 1 || !mine[l1.ID] {
		t.Fatalf("SavedAmong = %v, %v", mine, err)
	}
	if mine, err := s.SavedAmong(ctx(t), links.Actor{}, []uuid.UUID{l1.ID}); err != nil || mine[l1.ID] {
		t.Fatalf("anonymous SavedAmong = %v, %v", mine, err)
	}
	// A deleted submitter still appears by id, with erased data.
	h.DeleteUser(t, b.UserID)
	got, err = s.Get(ctx(t), a, l2.ID)
	if err != nil || got.Submitter.ID != b.UserID {
		t.Fatalf("Get after submitter deleted = %+v, %v", got, err)
	}
}

func collect(t *testing.T, limit int, page func(cursor string) (links.Page, error)) []links.Link {
	t.Helper()
	var all []links.Link
	cursor := ""
	for range 100 {
		p, err := page(cursor)
		if err != nil {
			t.Fatalf("page after %q: %v", cursor, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page of %d items, limit %d", len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		if len(p.Items) != limit {
			t.Fatalf("a page of %d items (limit %d) has a next cursor", len(p.Items), limit)
		}
		cursor = p.Next
	}
	t.Fatal("pagination does not end")
	return nil
}

func testList(t *testing.T, h Harness) {
	s := service(h)
	const n = 7
	actors := make([]links.Actor, 4)
	for i := range actors {
		actors[i] = user(t, h, fmt.Sprintf("lister%d", i))
	}
	created := make([]links.Link, n)
	for i := range n {
		created[i], _ = submit(t, s, actors[0], fmt.Sprintf("https://list.example/%d", i), fmt.Sprintf("Link %d", i))
	}
	// Popularity: link 2 has 4 saves, link 5 has 3, link 0 has 2, others 1.
	for _, extra := range []struct{ link, savers int }{{2, 3}, {5, 2}, {0, 1}} {
		for j := 1; j <= extra.savers; j++ {
			submit(t, s, actors[j], created[extra.link].URL, "")
		}
	}

	newest := collect(t, 3, func(c string) (links.Page, error) { return s.List(ctx(t), actors[1], links.SortNew, 3, c) })
	if len(newest) != n {
		t.Fatalf("new: %d links, want %d", len(newest), n)
	}
	for i, l := range newest {
		if want := created[n-1-i].ID; l.ID != want {
			t.Fatalf("new[%d] = %s, want %s", i, l.Title, created[n-1-i].Title)
		}
		if l.SavedByMe != (l.ID == created[2].ID || l.ID == created[5].ID || l.ID == created[0].ID) {
			t.Fatalf("new[%d] %s saved_by_me = %v for lister1", i, l.Title, l.SavedByMe)
		}
	}

	popular := collect(t, 2, func(c string) (links.Page, error) { return s.List(ctx(t), links.Actor{}, links.SortPopular, 2, c) })
	if len(popular) != n {
		t.Fatalf("popular: %d links, want %d", len(popular), n)
	}
	wantOrder := []int{2, 5, 0, 6, 4, 3, 1} // by saves, then newest id first
	for i, l := range popular {
		if l.ID != created[wantOrder[i]].ID {
			t.Fatalf("popular[%d] = %s (%d saves), want %s", i, l.Title, l.SavesCount, created[wantOrder[i]].Title)
		}
	}
	if popular[0].SavesCount != 4 || popular[1].SavesCount != 3 || popular[2].SavesCount != 2 || popular[6].SavesCount != 1 {
		t.Fatalf("popular counts: %d %d %d ... %d", popular[0].SavesCount, popular[1].SavesCount, popular[2].SavesCount, popular[6].SavesCount)
	}

	// A cursor of one sort is refused by the other.
	p, err := s.List(ctx(t), links.Actor{}, links.SortNew, 2, "")
	if err != nil || p.Next == "" {
		t.Fatalf("first page: %v", err)
	}
	if _, err := s.List(ctx(t), links.Actor{}, links.SortPopular, 2, p.Next); err == nil {
		t.Fatal("a new cursor was accepted for popular")
	}
	// Default limit.
	p, err = s.List(ctx(t), links.Actor{}, "", 0, "")
	if err != nil || len(p.Items) != n || p.Next != "" {
		t.Fatalf("default list: %d items, next %q, %v", len(p.Items), p.Next, err)
	}
}

func testSavedBy(t *testing.T, h Harness) {
	s := service(h)
	a, b := user(t, h, "saver"), user(t, h, "poster")
	var posted []links.Link
	for i := range 5 {
		l, _ := submit(t, s, b, fmt.Sprintf("https://saved.example/%d", i), "")
		posted = append(posted, l)
	}
	// a saves 3, 0, 4 in that order.
	for _, i := range []int{3, 0, 4} {
		submit(t, s, a, posted[i].URL, "")
	}
	got := collect(t, 2, func(c string) (links.Page, error) { return s.SavedBy(ctx(t), links.Actor{}, a.UserID, 2, c) })
	if len(got) != 3 || got[0].ID != posted[4].ID || got[1].ID != posted[0].ID || got[2].ID != posted[3].ID {
		t.Fatalf("saved by a: %v", titles(got))
	}
	if got[0].SubmittedBy != b.UserID {
		t.Fatalf("submitter = %v", got[0].SubmittedBy)
	}
	mine := collect(t, 10, func(c string) (links.Page, error) { return s.SavedBy(ctx(t), b, b.UserID, 10, c) })
	if len(mine) != 5 || !mine[0].SavedByMe {
		t.Fatalf("saved by b: %d", len(mine))
	}
	if _, err := s.SavedBy(ctx(t), links.Actor{}, uuid.Must(uuid.NewV7()), 10, ""); !errors.Is(err, links.ErrUserNotFound) {
		t.Fatalf("unknown user = %v", err)
	}
	h.DeleteUser(t, a.UserID)
	if _, err := s.SavedBy(ctx(t), links.Actor{}, a.UserID, 10, ""); !errors.Is(err, links.ErrUserNotFound) {
		t.Fatalf("deleted user = %v", err)
	}
}

func testUnsave(t *testing.T, h Harness) {
	s := service(h)
	a, b := user(t, h, "first"), user(t, h, "second")
	l, _ := submit(t, s, a, "https://unsave.example/", "")
	submit(t, s, b, l.URL, "")
	if err := s.Unsave(ctx(t), a, l.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx(t), a, l.ID)
	if err != nil || got.SavesCount != 1 || got.SubmittedBy != a.UserID || got.SavedByMe {
		t.Fatalf("after unsave: %+v, %v", got, err)
	}
	if err := s.Unsave(ctx(t), a, l.ID); !errors.Is(err, links.ErrNotSaved) {
		t.Fatalf("second unsave = %v", err)
	}
	if err := s.Unsave(ctx(t), a, uuid.Must(uuid.NewV7())); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("unsave unknown = %v", err)
	}
	if err := s.Unsave(ctx(t), links.Actor{}, l.ID); !errors.Is(err, links.ErrUnauthenticated) {
		t.Fatalf("anonymous unsave = %v", err)
	}
	// The last saver leaves: the link and its attribution stay.
	if err := s.Unsave(ctx(t), b, l.ID); err != nil {
		t.Fatal(err)
	}
	got, err = s.Get(ctx(t), links.Actor{}, l.ID)
	if err != nil || got.SavesCount != 0 || got.SubmittedBy != a.UserID {
		t.Fatalf("after last unsave: %+v, %v", got, err)
	}
	// Saving again counts again; the submitter is still the first.
	again, created := submit(t, s, b, l.URL, "")
	if created || again.SavesCount != 1 || again.SubmittedBy != a.UserID {
		t.Fatalf("save after unsave: %+v created %v", again, created)
	}
}

func testDelete(t *testing.T, h Harness) {
	s := service(h)
	a := user(t, h, "owner")
	mod := links.Actor{UserID: h.NewUser(t, "mod", "Moderator"), Role: links.RoleModerator}
	admin := links.Actor{UserID: h.NewUser(t, "admin", "Admin"), Role: links.RoleAdmin}
	l, _ := submit(t, s, a, "https://delete.example/", "")
	if err := s.Delete(ctx(t), a, l.ID); !errors.Is(err, links.ErrForbidden) {
		t.Fatalf("owner delete = %v, want ErrForbidden (moderators only)", err)
	}
	if err := s.Delete(ctx(t), links.Actor{}, l.ID); !errors.Is(err, links.ErrUnauthenticated) {
		t.Fatalf("anonymous delete = %v", err)
	}
	if err := s.Delete(ctx(t), mod, l.ID); err != nil {
		t.Fatalf("moderator delete: %v", err)
	}
	if _, err := s.Get(ctx(t), a, l.ID); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("Get after delete = %v", err)
	}
	if err := s.Delete(ctx(t), admin, l.ID); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
	p, err := s.SavedBy(ctx(t), links.Actor{}, a.UserID, 10, "")
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("saves after delete: %d, %v", len(p.Items), err)
	}
	// The URL is free again: the next saver submits it anew.
	l2, created := submit(t, s, mod, "https://delete.example/", "")
	if !created || l2.ID == l.ID || l2.SubmittedBy != mod.UserID {
		t.Fatalf("resubmit after delete: %+v created %v", l2, created)
	}
	if err := s.Delete(ctx(t), admin, l2.ID); err != nil {
		t.Fatalf("admin delete: %v", err)
	}
}

func titles(ls []links.Link) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Title + " " + l.URL
	}
	return out
}

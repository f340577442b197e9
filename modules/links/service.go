package links

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Service holds the links use cases.
type Service struct {
	repo     Repository
	profiles Profiles
	now      func() time.Time
	newID    func() (uuid.UUID, error)
}

// Option adjusts a Service (tests use it to fix the clock).
type Option func(*Service)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns the links use cases over their ports.
func NewService(repo Repository, profiles Profiles, opts ...Option) *Service {
	s := &Service{repo: repo, profiles: profiles, now: time.Now, newID: uuid.NewV7}
	for _, o := range opts {
		o(s)
	}
	return s
}

// HashURL is the unique key of a canonical URL.
func HashURL(canonical string) []byte {
	h := sha256.Sum256([]byte(canonical))
	return h[:]
}

// Submit saves a URL for the actor: a new link (created true) when its
// canonical form is unknown, else the existing link with the actor added as
// a saver. The submitter stays the first saver either way.
func (s *Service) Submit(ctx context.Context, actor Actor, rawURL, title string) (Link, bool, error) {
	if !actor.Authenticated() {
		return Link{}, false, ErrUnauthenticated
	}
	canonical, err := Canonicalize(rawURL)
	if err != nil {
		return Link{}, false, &FieldError{Field: "url", Code: "invalid_url", Err: err}
	}
	title = cleanTitle(title)
	if utf8.RuneCountInString(title) > MaxTitleLength {
		return Link{}, false, &FieldError{Field: "title", Code: "too_long", Err: ErrInvalidTitle}
	}
	id, err := s.newID()
	if err != nil {
		return Link{}, false, fmt.Errorf("new link id: %w", err)
	}
	res, err := s.repo.Save(ctx, NewLink{
		ID: id, URL: canonical, Hash: HashURL(canonical), Domain: Host(canonical), Title: title,
	}, actor.UserID, strings.TrimSpace(rawURL), s.now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return Link{}, false, fmt.Errorf("save link: %w", err)
	}
	l := res.Link
	l.SavedByMe = true
	out, err := s.withProfiles(ctx, []Link{l})
	if err != nil {
		return Link{}, false, err
	}
	return out[0], res.Created, nil
}

// Get returns one link as the actor sees it.
func (s *Service) Get(ctx context.Context, actor Actor, id uuid.UUID) (Link, error) {
	l, err := s.repo.Get(ctx, id)
	if err != nil {
		return Link{}, err
	}
	out, err := s.decorate(ctx, actor, []Link{l})
	if err != nil {
		return Link{}, err
	}
	return out[0], nil
}

// List returns a page of every link, newest or most saved first.
func (s *Service) List(ctx context.Context, actor Actor, sort Sort, limit int, cursor string) (Page, error) {
	if sort == "" {
		sort = SortNew
	}
	if sort != SortNew && sort != SortPopular {
		return Page{}, &FieldError{Field: "sort", Code: "invalid", Err: ErrInvalidSortOrder}
	}
	limit, err := checkLimit(limit)
	if err != nil {
		return Page{}, err
	}
	after, err := DecodeCursor(cursor, sort)
	if err != nil {
		return Page{}, err
	}
	items, err := s.repo.List(ctx, ListQuery{Sort: sort, Limit: limit + 1, After: after})
	if err != nil {
		return Page{}, fmt.Errorf("list links: %w", err)
	}
	var next string
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = EncodeCursor(Cursor{Sort: sort, Time: last.SubmittedAt, Count: last.SavesCount, ID: last.ID})
	}
	items, err = s.decorate(ctx, actor, items)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: items, Next: next}, nil
}

// SavedBy returns a page of the links a user saves, most recently saved
// first; ErrUserNotFound when the user does not exist or was deleted.
func (s *Service) SavedBy(ctx context.Context, actor Actor, user uuid.UUID, limit int, cursor string) (Page, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return Page{}, err
	}
	after, err := DecodeCursor(cursor, cursorSaved)
	if err != nil {
		return Page{}, err
	}
	ok, err := s.profiles.Active(ctx, user)
	if err != nil {
		return Page{}, fmt.Errorf("find user: %w", err)
	}
	if !ok {
		return Page{}, ErrUserNotFound
	}
	saved, err := s.repo.SavedBy(ctx, user, limit+1, after)
	if err != nil {
		return Page{}, fmt.Errorf("list saved links: %w", err)
	}
	var next string
	if len(saved) > limit {
		saved = saved[:limit]
		last := saved[limit-1]
		next = EncodeCursor(Cursor{Sort: cursorSaved, Time: last.SavedAt, ID: last.Link.ID})
	}
	items := make([]Link, len(saved))
	for i, sv := range saved {
		items[i] = sv.Link
	}
	items, err = s.decorate(ctx, actor, items)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: items, Next: next}, nil
}

// Unsave removes the actor's save of a link; the attribution stays.
func (s *Service) Unsave(ctx context.Context, actor Actor, id uuid.UUID) error {
	if !actor.Authenticated() {
		return ErrUnauthenticated
	}
	return s.repo.Unsave(ctx, id, actor.UserID)
}

// Delete removes a link and every save of it: moderators and admins only.
func (s *Service) Delete(ctx context.Context, actor Actor, id uuid.UUID) error {
	if !actor.Authenticated() {
		return ErrUnauthenticated
	}
	if !actor.CanRemoveLinks() {
		return ErrForbidden
	}
	return s.repo.Delete(ctx, id)
}

// decorate fills SavedByMe for the actor and each link's Submitter.
func (s *Service) decorate(ctx context.Context, actor Actor, items []Link) ([]Link, error) {
	if len(items) == 0 {
		return []Link{}, nil
	}
	ids := make([]uuid.UUID, len(items))
	for i, l := range items {
		ids[i] = l.ID
	}
	mine, err := s.SavedAmong(ctx, actor, ids)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].SavedByMe = mine[items[i].ID]
	}
	return s.withProfiles(ctx, items)
}

// SavedAmong tells which of ids the actor saves (nil when anonymous). It
// is for links read elsewhere together with their submitters: search
// results come with both from one statement.
func (s *Service) SavedAmong(ctx context.Context, actor Actor, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	if !actor.Authenticated() || len(ids) == 0 {
		return nil, nil
	}
	mine, err := s.repo.SavedAmong(ctx, actor.UserID, ids)
	if err != nil {
		return nil, fmt.Errorf("load saves: %w", err)
	}
	return mine, nil
}

func (s *Service) withProfiles(ctx context.Context, items []Link) ([]Link, error) {
	ids := make([]uuid.UUID, 0, len(items))
	for _, l := range items {
		if !slices.Contains(ids, l.SubmittedBy) {
			ids = append(ids, l.SubmittedBy)
		}
	}
	profiles, err := s.profiles.PublicProfiles(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load submitters: %w", err)
	}
	for i := range items {
		p, ok := profiles[items[i].SubmittedBy]
		if !ok {
			p = Profile{ID: items[i].SubmittedBy} // a user row that is gone entirely
		}
		items[i].Submitter = p
	}
	return items, nil
}

func checkLimit(limit int) (int, error) {
	if limit == 0 {
		return DefaultLimit, nil
	}
	if limit < 1 || limit > MaxLimit {
		return 0, &FieldError{Field: "limit", Code: "out_of_range", Err: ErrInvalidLimit}
	}
	return limit, nil
}

// cleanTitle trims a title and turns control characters and runs of white
// space into single spaces.
func cleanTitle(t string) string {
	t = strings.ToValidUTF8(t, "\uFFFD")
	return strings.Join(strings.FieldsFunc(t, func(r rune) bool {
		return r == ' ' || r < 0x20 || r == 0x7f || r == '\u00a0' || r == '\u2028' || r == '\u2029' || r == '\t'
	}), " ")
}

package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
)

var (
	_ links.Repository = (*Links)(nil)
	_ links.Profiles   = (*Profiles)(nil)
)

// Links is the in-process links.Repository for tests and demos.
type Links struct {
	mu     sync.Mutex
	byID   map[uuid.UUID]*links.Link
	byHash map[string]uuid.UUID
	saves  map[uuid.UUID]map[uuid.UUID]time.Time // link -> saver -> saved at
}

// NewLinks returns an empty store.
func NewLinks() *Links {
	return &Links{
		byID:   map[uuid.UUID]*links.Link{},
		byHash: map[string]uuid.UUID{},
		saves:  map[uuid.UUID]map[uuid.UUID]time.Time{},
	}
}

// Save implements links.Repository.
func (s *Links) Save(ctx context.Context, n links.NewLink, saver uuid.UUID, _ string, at time.Time) (links.SaveResult, error) {
	if err := ctx.Err(); err != nil {
		return links.SaveResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res links.SaveResult
	id, ok := s.byHash[string(n.Hash)]
	if !ok {
		id = n.ID
		s.byID[id] = &links.Link{ID: id, URL: n.URL, Domain: n.Domain, Title: n.Title, SubmittedBy: saver, SubmittedAt: at}
		s.byHash[string(n.Hash)] = id
		s.saves[id] = map[uuid.UUID]time.Time{}
		res.Created = true
	}
	l := s.byID[id]
	if l.Title == "" && n.Title != "" {
		l.Title = n.Title
	}
	if _, saved := s.saves[id][saver]; !saved {
		s.saves[id][saver] = at
		l.SavesCount++
		res.Saved = true
	}
	res.Link = *l
	return res, nil
}

// Get implements links.Repository.
func (s *Links) Get(ctx context.Context, id uuid.UUID) (links.Link, error) {
	if err := ctx.Err(); err != nil {
		return links.Link{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.byID[id]
	if !ok {
		return links.Link{}, links.ErrNotFound
	}
	return *l, nil
}

// List implements links.Repository.
func (s *Links) List(ctx context.Context, q links.ListQuery) ([]links.Link, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	all := make([]links.Link, 0, len(s.byID))
	for _, l := range s.byID {
		all = append(all, *l)
	}
	s.mu.Unlock()
	key := func(l links.Link) int64 {
		if q.Sort == links.SortPopular {
			return int64(l.SavesCount)
		}
		return l.SubmittedAt.UnixMicro()
	}
	cmpDesc := func(a, b links.Link) int {
		if c := cmp.Compare(key(b), key(a)); c != 0 {
			return c
		}
		return slices.Compare(b.ID[:], a.ID[:])
	}
	slices.SortFunc(all, cmpDesc)
	out := make([]links.Link, 0, q.Limit)
	for _, l := range all {
		if q.After != nil {
			after := links.Link{ID: q.After.ID, SavesCount: q.After.Count, SubmittedAt: q.After.Time}
			if cmpDesc(l, after) <= 0 {
				continue
			}
		}
		out = append(out, l)
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// SavedBy implements links.Repository.
func (s *Links) SavedBy(ctx context.Context, user uuid.UUID, limit int, after *links.Cursor) ([]links.Saved, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []links.Saved
	for id, savers := range s.saves {
		if at, ok := savers[user]; ok {
			all = append(all, links.Saved{Link: *s.byID[id], SavedAt: at})
		}
	}
	s.mu.Unlock()
	cmpDesc := func(a, b links.Saved) int {
		if c := b.SavedAt.Compare(a.SavedAt); c != 0 {
			return c
		}
		return slices.Compare(b.Link.ID[:], a.Link.ID[:])
	}
	slices.SortFunc(all, cmpDesc)
	out := make([]links.Saved, 0, limit)
	for _, sv := range all {
		if after != nil && cmpDesc(sv, links.Saved{Link: links.Link{ID: after.ID}, SavedAt: after.Time}) <= 0 {
			continue
		}
		out = append(out, sv)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// SavedAmong implements links.Repository.
func (s *Links) SavedAmong(ctx context.Context, user uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[uuid.UUID]bool{}
	for _, id := range ids {
		if _, ok := s.saves[id][user]; ok {
			out[id] = true
		}
	}
	return out, nil
}

// Unsave implements links.Repository.
func (s *Links) Unsave(ctx context.Context, id, user uuid.UUID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.byID[id]
	if !ok {
		return links.ErrNotFound
	}
	if _, saved := s.saves[id][user]; !saved {
		return links.ErrNotSaved
	}
	delete(s.saves[id], user)
	l.SavesCount--
	return nil
}

// Delete implements links.Repository.
func (s *Links) Delete(ctx context.Context, id uuid.UUID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.byID[id]
	if !ok {
		return links.ErrNotFound
	}
	delete(s.byHash, string(links.HashURL(l.URL)))
	delete(s.byID, id)
	delete(s.saves, id)
	return nil
}

// Profiles is the in-process links.Profiles: tests put the users they need.
type Profiles struct {
	mu      sync.Mutex
	users   map[uuid.UUID]links.Profile
	deleted map[uuid.UUID]bool
}

// NewProfiles returns an empty directory.
func NewProfiles() *Profiles {
	return &Profiles{users: map[uuid.UUID]links.Profile{}, deleted: map[uuid.UUID]bool{}}
}

// Put adds or replaces a user.
func (p *Profiles) Put(u links.Profile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[u.ID] = u
	delete(p.deleted, u.ID)
}

// MarkDeleted erases a user's profile as account deletion does.
func (p *Profiles) MarkDeleted(id uuid.UUID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[id] = links.Profile{ID: id, CreatedAt: p.users[id].CreatedAt}
	p.deleted[id] = true
}

// PublicProfiles implements links.Profiles.
func (p *Profiles) PublicProfiles(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]links.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[uuid.UUID]links.Profile, len(ids))
	for _, id := range ids {
		if u, ok := p.users[id]; ok {
			out[id] = u
		}
	}
	return out, nil
}

// Active implements links.Profiles.
func (p *Profiles) Active(ctx context.Context, id uuid.UUID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.users[id]
	return ok && !p.deleted[id], nil
}

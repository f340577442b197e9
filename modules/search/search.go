// Package search is full-text search over links and typeahead over users.
// The use cases here validate and normalise the query, page the results and
// ask the links module which hits the caller saves. Matching, ranking and
// reading each hit's link and submitter live behind two ports, implemented
// per database (tsvector and pg_trgm on PostgreSQL, FTS5 on SQLite) and
// pinned by one contract suite (searchtest).
package search

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
)

// Query limits (API.md "Search").
const (
	MaxLinkQuery     = 200 // characters
	MaxUserQuery     = 100
	DefaultLimit     = 20
	MaxLinkLimit     = 100
	MaxUserLimit     = 20
	DefaultUserLimit = 10
	// MaxOffset bounds how deep link results can be paged: relevance pages
	// are offsets, and nobody reads result 1,000.
	MaxOffset = 1000
	// MaxTerms bounds how many words of a query are matched.
	MaxTerms = 16
)

// LinkHit is one link matching a query, best first.
type LinkHit struct {
	// Link is the link as stored with its submitter's public profile
	// (Submitter; only its ID when the user row is gone entirely). The
	// adapter reads both with the match, so a page of results costs one
	// statement; SavedByMe is left to the service.
	Link links.Link
	Rank float64
	// Snippet is the matching text with each match between SnippetStart
	// and SnippetStop, not yet escaped.
	Snippet string
}

// Markers adapters put around matched words in LinkHit.Snippet.
const (
	SnippetStart = "\x02"
	SnippetStop  = "\x03"
)

// LinkIndex finds links by the words of their title, URL and domain, with
// English stemming and accent folding, best matches first.
type LinkIndex interface {
	// SearchLinks returns up to limit hits after skipping offset. q is
	// normalised text (Normalize) with at least one term; the adapter
	// must treat it as words, never as query syntax.
	SearchLinks(ctx context.Context, q string, limit, offset int) ([]LinkHit, error)
}

// UserIndex finds live users for typeahead.
type UserIndex interface {
	// SearchUsers returns up to limit live users whose username or display
	// name has a word starting with q (case and accents ignored), or
	// contains q; exact matches first, then prefixes, then substrings.
	SearchUsers(ctx context.Context, q string, limit int) ([]links.Profile, error)
}

// Links tells which hits the actor saves; *links.Service implements it.
type Links interface {
	// SavedAmong returns the ids the actor saves (nil when anonymous).
	SavedAmong(ctx context.Context, actor links.Actor, ids []uuid.UUID) (map[uuid.UUID]bool, error)
}

// Result is one link search result: a hit with SavedByMe set for the
// actor.
type Result = LinkHit

// Page is one page of link results; Next is "" on the last one.
type Page struct {
	Items []Result
	Next  string
}

// Errors of the use cases (422 answers naming the field).
var (
	ErrInvalidQuery  = errors.New("q must be 1 to 200 characters")
	ErrInvalidCursor = errors.New("invalid cursor")
	ErrInvalidLimit  = errors.New("limit out of range")
)

// FieldError is a validation failure of one query parameter.
type FieldError struct {
	Field, Code string
	Err         error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Service holds the search use cases.
type Service struct {
	links LinkIndex
	users UserIndex
	saves Links
}

// NewService returns the search use cases over their ports.
func NewService(li LinkIndex, ui UserIndex, l Links) *Service {
	return &Service{links: li, users: ui, saves: l}
}

// Normalize turns user text into what the indexes receive: valid UTF-8,
// control characters dropped, white space collapsed, trimmed.
func Normalize(q string) string {
	q = strings.ToValidUTF8(q, " ")
	return strings.Join(strings.FieldsFunc(q, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\uFFFD' || unicode.Is(unicode.Cf, r)
	}), " ")
}

// Terms splits normalised text into its words: maximal runs of letters,
// marks and digits, lower-cased, at most MaxTerms of them. Everything else
// (quotes, operators, punctuation) only separates words, so no character
// of user text can become query syntax.
func Terms(q string) []string {
	words := strings.FieldsFunc(q, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
	if len(words) > MaxTerms {
		words = words[:MaxTerms]
	}
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	return words
}

func checkLength(field, q string, max int) error {
	if n := utf8.RuneCountInString(q); n < 1 || n > max {
		return &FieldError{Field: field, Code: "out_of_range", Err: fmt.Errorf("%s must be 1 to %d characters", field, max)}
	}
	return nil
}

// Links searches links for the actor (saved_by_me is the actor's).
func (s *Service) Links(ctx context.Context, actor links.Actor, q string, limit int, cursor string) (Page, error) {
	if err := checkLength("q", q, MaxLinkQuery); err != nil {
		return Page{}, err
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLinkLimit {
		return Page{}, &FieldError{Field: "limit", Code: "out_of_range", Err: ErrInvalidLimit}
	}
	offset, err := decodeOffset(cursor)
	if err != nil {
		return Page{}, err
	}
	norm := Normalize(q)
	if len(Terms(norm)) == 0 || offset >= MaxOffset {
		return Page{Items: []Result{}}, nil
	}
	hits, err := s.links.SearchLinks(ctx, norm, limit+1, offset)
	if err != nil {
		return Page{}, fmt.Errorf("search links: %w", err)
	}
	var next string
	if len(hits) > limit {
		hits = hits[:limit]
		if offset+limit < MaxOffset {
			next = encodeOffset(offset + limit)
		}
	}
	if actor.Authenticated() {
		ids := make([]uuid.UUID, len(hits))
		for i, h := range hits {
			ids[i] = h.Link.ID
		}
		mine, err := s.saves.SavedAmong(ctx, actor, ids)
		if err != nil {
			return Page{}, err
		}
		for i := range hits {
			hits[i].Link.SavedByMe = mine[hits[i].Link.ID]
		}
	}
	if hits == nil {
		hits = []LinkHit{}
	}
	return Page{Items: hits, Next: next}, nil
}

// Users is typeahead over usernames and display names.
func (s *Service) Users(ctx context.Context, q string, limit int) ([]links.Profile, error) {
	if err := checkLength("q", q, MaxUserQuery); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = DefaultUserLimit
	}
	if limit < 1 || limit > MaxUserLimit {
		return nil, &FieldError{Field: "limit", Code: "out_of_range", Err: ErrInvalidLimit}
	}
	norm := Normalize(q)
	if len(Terms(norm)) == 0 {
		return []links.Profile{}, nil
	}
	found, err := s.users.SearchUsers(ctx, norm, limit)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	if found == nil {
		found = []links.Profile{}
	}
	return found, nil
}

func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s1|" + strconv.Itoa(n)))
}

func decodeOffset(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	bad := &FieldError{Field: "cursor", Code: "invalid", Err: ErrInvalidCursor}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) > 20 {
		return 0, bad
	}
	s, ok := strings.CutPrefix(string(raw), "s1|")
	if !ok {
		return 0, bad
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > MaxOffset {
		return 0, bad
	}
	return n, nil
}

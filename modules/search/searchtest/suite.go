// Package searchtest is the contract of the search ports (LinkIndex and
// UserIndex), run against every implementation: PostgreSQL (tsvector,
// pg_trgm) and SQLite (FTS5) give the same answers to these questions.
//
// The contract, as checked below:
//   - English stemming over titles and URLs: "tuning" finds "tune";
//   - accents and case are ignored: "jose" finds "José", "CAFE" finds "Café";
//   - a title match ranks above a match in the URL only; rank decreases;
//   - each hit is the link as the links service reads it: every field,
//     the submitter's public profile (also once the submitter is deleted),
//     the actor's saved_by_me;
//   - link results follow changes: a deleted link is gone, a title filled
//     in later is found; pages of results do not repeat;
//   - user typeahead matches word prefixes of username and display name,
//     ranks exact before prefix before substring, and never returns a
//     deleted user; where the adapter claims it, one typo still matches;
//   - hostile input (quotes, operators, wildcards, SQL, control characters,
//     very long text) never errors, on either index.
package searchtest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/modules/search"
)

// Harness is one implementation under test, over an empty database.
type Harness struct {
	Links search.LinkIndex
	Users search.UserIndex
	// Repo and Profiles back the links service the suite saves links with.
	Repo     links.Repository
	Profiles links.Profiles
	// NewUser creates a live user (username may be "") and returns its id.
	NewUser func(t *testing.T, username, displayName string) uuid.UUID
	// DeleteUser marks a user deleted.
	DeleteUser func(t *testing.T, id uuid.UUID)
	// Typos tells whether the user index finds a name with one wrong letter.
	Typos bool
}

// Run runs the suite; newHarness is called once per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"stemming", testStemming},
		{"accents and case in links", testLinkAccents},
		{"title ranks above url", testRanking},
		{"links follow changes and page", testLinkChanges},
		{"hits are the links as the links service reads them", testHitsHydrated},
		{"users prefix and accents", testUsers},
		{"users ranking", testUserRanking},
		{"users ranking among many of one prefix", testUserRankingCrowd},
		{"users typo", testUserTypo},
		{"hostile input never errors", testHostile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newHarness(t))
		})
	}
}

type fixture struct {
	h     Harness
	links *links.Service
	svc   *search.Service
	actor links.Actor
}

func setup(t *testing.T, h Harness) *fixture {
	var n atomic.Int64
	base := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	ls := links.NewService(h.Repo, h.Profiles, links.WithClock(func() time.Time {
		return base.Add(time.Duration(n.Add(1)) * time.Second)
	}))
	return &fixture{
		h: h, links: ls, svc: search.NewService(h.Links, h.Users, ls),
		actor: links.Actor{UserID: h.NewUser(t, "poster", "Poster"), Role: "user"},
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func (f *fixture) save(t *testing.T, url, title string) links.Link {
	t.Helper()
	l, _, err := f.links.Submit(ctx(t), f.actor, url, title)
	if err != nil {
		t.Fatalf("Submit(%q): %v", url, err)
	}
	return l
}

func (f *fixture) search(t *testing.T, q string) []search.Result {
	t.Helper()
	p, err := f.svc.Links(ctx(t), f.actor, q, 50, "")
	if err != nil {
		t.Fatalf("search links %q: %v", q, err)
	}
	return p.Items
}

func titles(rs []search.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Link.Title
	}
	return out
}

func contains(rs []search.Result, id uuid.UUID) bool {
	for _, r := range rs {
		if r.Link.ID == id {
			return true
		}
	}
	return false
}

func testStemming(t *testing.T, h Harness) {
	f := setup(t, h)
	tune := f.save(t, "https://music.example/guide", "How to tune a guitar")
	url := f.save(t, "https://db.example/posts/tuning-postgres-queries", "Notes")
	f.save(t, "https://other.example/", "Unrelated cooking recipes")
	for _, q := range []string{"tuning", "tuned", "tune", "tunes"} {
		got := f.search(t, q)
		if !contains(got, tune.ID) || !contains(got, url.ID) || len(got) != 2 {
			t.Errorf("%q found %q, want the guitar title and the tuning URL", q, titles(got))
		}
	}
	if got := f.search(t, "guitars tuning"); len(got) != 1 || got[0].Link.ID != tune.ID {
		t.Errorf("every word must match: %q", titles(got))
	}
	if got := f.search(t, "recipe"); len(got) != 1 {
		t.Errorf("recipe: %q", titles(got))
	}
	if got := f.search(t, "postgres"); len(got) != 1 || got[0].Link.ID != url.ID {
		t.Errorf("a word of the URL: %q", titles(got))
	}
	if got := f.search(t, "db"); len(got) != 1 || got[0].Link.ID != url.ID {
		t.Errorf("the domain: %q", titles(got))
	}
	// Snippets mark the match.
	got := f.search(t, "guitar")
	if len(got) != 1 || !strings.Contains(got[0].Snippet, search.SnippetStart) || !strings.Contains(got[0].Snippet, search.SnippetStop) {
		t.Errorf("snippet of %q has no marked match", titles(got))
	}
	if got[0].Rank <= 0 {
		t.Errorf("rank %v, want > 0", got[0].Rank)
	}
}

func testHitsHydrated(t *testing.T, h Harness) {
	f := setup(t, h)
	other := links.Actor{UserID: f.h.NewUser(t, "saver_two", "Saver Two"), Role: "user"}
	mine := f.save(t, "https://hydrate.example/a?id=1", "Hydration of tomatoes")
	theirs, _, err := f.links.Submit(ctx(t), other, "https://hydrate.example/b", "Tomatoes at scale")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.links.Submit(ctx(t), other, mine.URL, ""); err != nil { // a second save
		t.Fatal(err)
	}
	check := func(when string, actor links.Actor) {
		t.Helper()
		p, err := f.svc.Links(ctx(t), actor, "tomatoes", 10, "")
		if err != nil || len(p.Items) != 2 {
			t.Fatalf("%s: %d results, %v", when, len(p.Items), err)
		}
		for _, r := range p.Items {
			want, err := f.links.Get(ctx(t), actor, r.Link.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Link, want) {
				t.Errorf("%s: hit\n%+v\nGet\n%+v", when, r.Link, want)
			}
		}
	}
	check("as the first submitter", f.actor)
	check("anonymous", links.Actor{})
	check("as the other saver", other)
	f.h.DeleteUser(t, other.UserID)
	check("after the submitter is deleted", f.actor)
	if got, _ := f.links.Get(ctx(t), f.actor, theirs.ID); got.Submitter.ID != other.UserID || got.SavesCount != 1 {
		t.Errorf("deleted submitter: %+v", got)
	}
	if got, _ := f.links.Get(ctx(t), f.actor, mine.ID); got.SavesCount != 2 || !got.SavedByMe {
		t.Errorf("saved twice: %+v", got)
	}
}

func testLinkAccents(t *testing.T, h Harness) {
	f := setup(t, h)
	cafe := f.save(t, "https://paris.example/", "Café culture in Montréal")
	for _, q := range []string{"cafe", "CAFÉ", "Cafe", "montreal", "MONTRÉAL"} {
		if got := f.search(t, q); len(got) != 1 || got[0].Link.ID != cafe.ID {
			t.Errorf("%q found %q", q, titles(got))
		}
	}
}

func testRanking(t *testing.T, h Harness) {
	f := setup(t, h)
	inURL := f.save(t, "https://blog.example/kubernetes-operators", "A weekly digest")
	inTitle := f.save(t, "https://docs.example/page", "Kubernetes operators explained")
	f.save(t, "https://x.example/", "Nothing to see")
	got := f.search(t, "kubernetes")
	if len(got) != 2 || got[0].Link.ID != inTitle.ID || got[1].Link.ID != inURL.ID {
		t.Fatalf("kubernetes: %q, want the title match first", titles(got))
	}
	if got[0].Rank < got[1].Rank {
		t.Errorf("ranks %v < %v", got[0].Rank, got[1].Rank)
	}
}

func testLinkChanges(t *testing.T, h Harness) {
	f := setup(t, h)
	var ids []uuid.UUID
	for i := range 7 {
		ids = append(ids, f.save(t, fmt.Sprintf("https://page.example/%d", i), fmt.Sprintf("Gardening tips part %d", i)).ID)
	}
	seen := map[uuid.UUID]bool{}
	cursor := ""
	for range 10 {
		p, err := f.svc.Links(ctx(t), links.Actor{}, "gardening", 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Items {
			if seen[r.Link.ID] {
				t.Fatalf("%s seen twice", r.Link.Title)
			}
			seen[r.Link.ID] = true
			if r.Link.SavedByMe {
				t.Fatalf("anonymous saved_by_me")
			}
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(seen) != 7 {
		t.Fatalf("paged through %d of 7 results", len(seen))
	}
	if got := f.search(t, "gardening"); len(got) != 7 || !got[0].Link.SavedByMe {
		t.Fatalf("%d results, saved_by_me %v", len(got), len(got) > 0 && got[0].Link.SavedByMe)
	}

	mod := links.Actor{UserID: f.h.NewUser(t, "mod", "Mod"), Role: links.RoleModerator}
	if err := f.links.Delete(ctx(t), mod, ids[0]); err != nil {
		t.Fatal(err)
	}
	if got := f.search(t, "gardening"); len(got) != 6 || contains(got, ids[0]) {
		t.Fatalf("after delete: %q", titles(got))
	}
	// A link saved without a title is found by the title given later.
	bare := f.save(t, "https://bare.example/x", "")
	if got := f.search(t, "astronomy"); len(got) != 0 {
		t.Fatalf("astronomy before: %q", titles(got))
	}
	f.save(t, "https://bare.example/x/", "Astronomy for beginners")
	if got := f.search(t, "astronomy"); len(got) != 1 || got[0].Link.ID != bare.ID {
		t.Fatalf("astronomy after the title: %q", titles(got))
	}
	if got := f.search(t, "the"); len(got) != 0 { // stop word only
		t.Errorf("stop word: %q", titles(got))
	}
}

func (f *fixture) users(t *testing.T, q string) []string {
	t.Helper()
	us, err := f.svc.Users(ctx(t), q, 20)
	if err != nil {
		t.Fatalf("search users %q: %v", q, err)
	}
	out := make([]string, len(us))
	for i, u := range us {
		if u.Username != nil {
			out[i] = *u.Username
		} else {
			out[i] = "(" + u.DisplayName + ")"
		}
	}
	return out
}

func has(names []string, want string) bool {
	for _, n := range names {
		if n == want {
			return true
		}
	}
	return false
}

func testUsers(t *testing.T, h Harness) {
	f := setup(t, h)
	f.h.NewUser(t, "jalvarez", "José Álvarez")
	f.h.NewUser(t, "maria_gonzalez", "María González")
	f.h.NewUser(t, "", "Zoë Kravitz")
	gone := f.h.NewUser(t, "josephine", "Josephine Baker")
	f.h.DeleteUser(t, gone)
	for q, want := range map[string]string{
		"jose": "jalvarez", "JOSÉ": "jalvarez", "alv": "jalvarez", "álvarez": "jalvarez", "jalv": "jalvarez",
		"gonz": "maria_gonzalez", "maria": "maria_gonzalez", "MARÍA G": "maria_gonzalez", "maria_g": "maria_gonzalez",
		"zoe": "(Zoë Kravitz)", "krav": "(Zoë Kravitz)",
	} {
		got := f.users(t, q)
		if len(got) == 0 || got[0] != want {
			t.Errorf("%q found %q, want %s first", q, got, want)
		}
	}
	if got := f.users(t, "josephine"); has(got, "josephine") || has(got, "") {
		t.Errorf("a deleted user was found: %q", got)
	}
	if got := f.users(t, "qqq"); len(got) != 0 {
		t.Errorf("qqq found %q", got)
	}
}

func testUserRanking(t *testing.T, h Harness) {
	f := setup(t, h)
	f.h.NewUser(t, "joanna", "Joanna Smith")     // substring
	f.h.NewUser(t, "annabel", "Annabel Lee")     // prefix
	f.h.NewUser(t, "bob", "Ann")                 // exact display name
	f.h.NewUser(t, "xavier", "Xavier Annandale") // word prefix
	f.h.NewUser(t, "ann", "Someone")             // exact username
	got := f.users(t, "ann")
	want := []string{"ann", "bob", "annabel", "xavier", "joanna"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ann: %q, want %q (exact, prefix, word prefix, substring)", got, want)
	}
	us, err := f.svc.Users(ctx(t), "ann", 2)
	if err != nil || len(us) != 2 {
		t.Errorf("limit 2: %d, %v", len(us), err)
	}
}

// Exact matches come first however many longer names share their prefix:
// more users than an adapter might read as candidates start with the text.
func testUserRankingCrowd(t *testing.T, h Harness) {
	f := setup(t, h)
	for i := range 600 {
		f.h.NewUser(t, fmt.Sprintf("anna%03d", i), fmt.Sprintf("Anna %03d", i))
	}
	f.h.NewUser(t, "xavier", "Xavier Annandale")                     // word prefix
	f.h.NewUser(t, "ann", "Someone With A Rather Long Display Name") // exact username
	f.h.NewUser(t, "bob_has_a_long_handle", "Ánn")                   // exact display name, folded
	got := f.users(t, "ann")
	if len(got) != 20 || got[0] != "ann" || got[1] != "bob_has_a_long_handle" {
		t.Fatalf("ann: %q, want ann, bob_has_a_long_handle, then 18 prefix matches", got)
	}
	for _, name := range got[2:] {
		if !strings.HasPrefix(name, "anna") {
			t.Errorf("ann: %q ranked among the prefix matches %q", name, got)
		}
	}
}

func testUserTypo(t *testing.T, h Harness) {
	f := setup(t, h)
	f.h.NewUser(t, "alexandra", "Alexandra Stone")
	f.h.NewUser(t, "bob", "Bob Marley")
	typos := []string{"alexandar", "alexnadra", "alexandr", "aleksandra", "stome"}
	if !h.Typos {
		// API.md promises typo tolerance on PostgreSQL only; elsewhere a
		// typo must still be answered, just without a match.
		for _, q := range typos {
			if _, err := f.svc.Users(ctx(t), q, 10); err != nil {
				t.Errorf("typo %q: %v", q, err)
			}
		}
		return
	}
	for _, q := range typos {
		if got := f.users(t, q); len(got) == 0 || got[0] != "alexandra" {
			t.Errorf("typo %q found %q", q, got)
		}
	}
}

// Hostile is user text that would be syntax to a careless query builder.
var Hostile = []string{
	`"`, `""`, `"unterminated`, `*`, `a*`, `*a`, `:`, `title:foo`, `(`, `)`, `(a OR b)`, `NEAR`,
	`NEAR(a b, 2)`, `a NEAR b`, `AND`, `OR`, `NOT`, `a AND NOT b`, `-a`, `+a`, `a | b`, `a & b`,
	`!a`, `a <-> b`, `a:*`, `'`, `''`, `\`, `\\`, `%`, `_`, `%_%`, `^a`, `{a}`, `[a]`, `a'b`,
	`'; DROP TABLE links; --`, `" OR 1=1 --`, `\x00`, "a\x00b", "\u202e", "\ufeff", "emoji 🎸🎸",
	"日本語のテキスト", "مرحبا", "e\u0301", strings.Repeat("a", 200), strings.Repeat("(\"", 50),
	strings.Repeat("x ", 100), strings.Repeat("NEAR ", 40), " ", "\t\n",
}

func testHostile(t *testing.T, h Harness) {
	f := setup(t, h)
	f.save(t, "https://a.example/", `A "quoted" title: with (parens) and * stars NEAR here`)
	f.h.NewUser(t, "near", `O'Brien "Quote" (Paren)`)
	for _, q := range Hostile {
		if len([]rune(q)) <= search.MaxLinkQuery {
			if _, err := f.svc.Links(ctx(t), links.Actor{}, q, 20, ""); err != nil {
				t.Errorf("links %q: %v", q, err)
			}
		}
		if len([]rune(q)) <= search.MaxUserQuery {
			if _, err := f.svc.Users(ctx(t), q, 20); err != nil {
				t.Errorf("users %q: %v", q, err)
			}
		}
	}
	if got := f.search(t, `"quoted" NEAR (parens)`); len(got) != 1 {
		t.Errorf("operators as words: %q", titles(got))
	}
	if got := f.users(t, `o'brien`); len(got) != 1 {
		t.Errorf("o'brien: %q", got)
	}
}

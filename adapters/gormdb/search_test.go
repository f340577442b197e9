package gormdb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/modules/search"
	"github.com/lenticular/lenticular/modules/search/searchtest"
	"github.com/lenticular/lenticular/platform/database"
)

func TestSearchContract(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			searchtest.Run(t, func(t *testing.T) searchtest.Harness {
				db := migrated(t, d.open)
				s := gormdb.NewSearch(db)
				return searchtest.Harness{
					Links: s, Users: s,
					Repo: gormdb.NewLinks(db), Profiles: gormdb.NewProfiles(db),
					NewUser:    func(t *testing.T, u, name string) uuid.UUID { return insertUser(t, db, u, name) },
					DeleteUser: func(t *testing.T, id uuid.UUID) { eraseUser(t, db, id) },
					Typos:      db.Dialect == database.DialectPostgres,
				}
			})
		})
	}
}

// One-word link searches on PostgreSQL read link_terms instead of ranking
// every match: they must give exactly the page ranking every match gives,
// after inserts, title changes and deletes.
func TestLinkTermsMatchRankingEveryMatch(t *testing.T) {
	t.Parallel()
	db := migrated(t, dialects[1].open)
	ctx := context.Background()
	seeder := gormdb.NewSeeder(db)
	user := gormdb.SeedUser{ID: uuid.Must(uuid.NewV7()), Email: "terms@example.com", Username: "terms", DisplayName: "Terms", CreatedAt: time.Now().UTC()}
	if _, err := seeder.Users(ctx, []gormdb.SeedUser{user}); err != nil {
		t.Fatal(err)
	}
	vocab := []string{"tuning", "tune", "tuned", "postgres", "café", "cafe", "O'Reilly", `back\slash`, "the", "naïve",
		"latency", "cache", "caching", "rust", "go", "2024", "kayak", "it's", "x86", "über"}
	r := rand.New(rand.NewPCG(1, 2))
	words := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = vocab[r.IntN(len(vocab))]
		}
		return strings.Join(ws, " ")
	}
	var ls []gormdb.SeedLink
	for i := range 400 {
		title := words(r.IntN(9))
		path := strings.NewReplacer(" ", "-", "'", "", `\`, "").Replace(words(r.IntN(5)))
		ls = append(ls, gormdb.SeedLink{
			ID:    uuid.Must(uuid.NewV7()),
			URL:   fmt.Sprintf("https://%s.example.com/%s/%d", []string{"tuning", "blog", "cafe"}[i%3], url.PathEscape(path), i),
			Title: title,
			Saves: []gormdb.SeedSave{{User: user.ID, At: time.Now().UTC()}},
		})
	}
	if _, _, err := seeder.Links(ctx, ls); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		if err := db.Gorm.Exec(`UPDATE links SET title = ? WHERE id = ?`, words(4), ls[i].ID).Error; err != nil {
			t.Fatal(err)
		}
	}
	// Only the case changes: the vector stays, the snippets must follow.
	if err := db.Gorm.Exec(`UPDATE links SET title = upper(title) WHERE id IN (?, ?, ?)`, ls[60].ID, ls[61].ID, ls[62].ID).Error; err != nil {
		t.Fatal(err)
	}
	for i := 40; i < 60; i++ {
		if err := db.Gorm.Exec(`DELETE FROM saves WHERE link_id = ?`, ls[i].ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Exec(`DELETE FROM links WHERE id = ?`, ls[i].ID).Error; err != nil {
			t.Fatal(err)
		}
	}
	var stale int64
	if err := db.Gorm.Raw(`SELECT count(*) FROM (
		(SELECT lexeme, rank, link_id FROM link_terms
		 EXCEPT ALL SELECT t.lexeme, ts_rank_cd(l.search_vector, lt_lexeme_query(t.lexeme)), l.id FROM links l, unnest(l.search_vector) t)
		UNION ALL
		(SELECT t.lexeme, ts_rank_cd(l.search_vector, lt_lexeme_query(t.lexeme)), l.id FROM links l, unnest(l.search_vector) t
		 EXCEPT ALL SELECT lexeme, rank, link_id FROM link_terms)) d`).Scan(&stale).Error; err != nil {
		t.Fatal(err)
	}
	if stale != 0 {
		t.Fatalf("link_terms differs from the links' vectors in %d rows", stale)
	}
	// Stored snippets are what ts_headline gives with the options the
	// search statement uses (migration 00014 repeats them in SQL).
	var badSnippets int64
	if err := db.Gorm.Raw(`SELECT count(*) FROM link_terms t JOIN links l ON l.id = t.link_id
		WHERE t.snippet IS DISTINCT FROM CASE WHEN l.title <> '' THEN ts_headline('lt_english', l.title, lt_lexeme_query(t.lexeme), ?) END`,
		gormdb.HeadlineOptions).Scan(&badSnippets).Error; err != nil {
		t.Fatal(err)
	}
	if badSnippets != 0 {
		t.Fatalf("%d stored snippets differ from ts_headline", badSnippets)
	}

	s := gormdb.NewSearch(db)
	compared := 0
	type hit struct {
		ID      uuid.UUID
		Rank    float64
		Snippet string
	}
	for _, q := range append(vocab, "tuning postgres", "the tuning", "https", "example", "com", "nothing") {
		q = search.Normalize(q)
		if len(search.Terms(q)) == 0 {
			continue
		}
		for _, page := range []struct{ limit, offset int }{{21, 0}, {5, 3}, {20, 20}} {
			got, err := s.SearchLinks(ctx, q, page.limit, page.offset)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			var want []hit
			if err := db.Gorm.Raw(`SELECT l.id, ts_rank_cd(l.search_vector, q) AS rank,
					CASE WHEN l.title = '' THEN l.url ELSE ts_headline('lt_english', l.title, q, ?) || ' · ' || l.url END AS snippet
				FROM links l, plainto_tsquery('lt_english', ?) q WHERE l.search_vector @@ q
				ORDER BY rank DESC, l.id DESC LIMIT ? OFFSET ?`, gormdb.HeadlineOptions, strings.Join(search.Terms(q), " "), page.limit, page.offset).Scan(&want).Error; err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%q %+v: %d hits, ranking every match gives %d", q, page, len(got), len(want))
			}
			compared += len(got)
			for i := range got {
				if got[i].Link.ID != want[i].ID || got[i].Rank != want[i].Rank || got[i].Snippet != want[i].Snippet {
					t.Fatalf("%q %+v: hit %d is %v (%v, %q), ranking every match gives %v (%v, %q)", q, page, i,
						got[i].Link.ID, got[i].Rank, got[i].Snippet, want[i].ID, want[i].Rank, want[i].Snippet)
				}
			}
		}
	}
	if compared < 500 {
		t.Fatalf("only %d hits compared", compared)
	}
}

// Typeahead on PostgreSQL reads one-word queries tier by tier
// (user_search_prefixes): it must give the users, in the order, that
// ranking every candidate gives, after renames and deletions.
func TestUserTiersMatchRankingEveryCandidate(t *testing.T) {
	t.Parallel()
	db := migrated(t, dialects[1].open)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	syllables := []string{"ma", "ri", "mar", "ta", "jo", "sé", "Ö", "an", "na", "kim", "li", "ro", "zo", "ë", "ss", "ç"}
	word := func() string {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		return b.String()
	}
	var ids []uuid.UUID
	for i := range 400 {
		username := ""
		if r.IntN(10) > 0 {
			username = word()
			if r.IntN(2) == 0 {
				username += "_" + word()
			}
			username += fmt.Sprint(i)
		}
		display := word()
		for range r.IntN(3) {
			display += " " + word()
		}
		if r.IntN(8) == 0 {
			display = username
		}
		ids = append(ids, insertUser(t, db, username, display))
	}
	for _, id := range ids[:20] {
		if err := db.Gorm.Exec(`UPDATE users SET display_name = ? WHERE id = ?`, word()+" "+word(), id).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids[20:40] {
		eraseUser(t, db, id)
	}

	s := gormdb.NewSearch(db)
	queries := []string{"m", "ma", "jo_", "mar ta", "a b", "%", "_", `\`, "marta", "josé", "JOSE", "rima", "zzz"}
	for _, a := range syllables {
		for _, b := range syllables {
			ab := []rune(a + b)
			queries = append(queries, string(ab), string(ab[:min(3, len(ab))]))
		}
	}
	compared := 0
	for _, q := range queries {
		for _, limit := range []int{1, 3, 10, 20} {
			got, err := s.SearchUsers(ctx, q, limit)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			key := strings.ReplaceAll(q, "_", " ")
			pattern := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(key)
			var want []uuid.UUID
			if err := db.Gorm.Raw(`SELECT u.id FROM users u
				WHERE u.deleted_at IS NULL AND u.search_key LIKE '%' || lower(lt_unaccent(@pattern)) || '%'
				ORDER BY CASE
						WHEN u.search_username = lower(lt_unaccent(@q)) THEN 0
						WHEN u.search_display_name = lower(lt_unaccent(@q)) THEN 1
						WHEN u.search_key LIKE lower(lt_unaccent(@pattern)) || '%' OR u.search_display_name LIKE lower(lt_unaccent(@pattern)) || '%' THEN 2
						WHEN ' ' || u.search_key LIKE '% ' || lower(lt_unaccent(@pattern)) || '%' THEN 3
						ELSE 4
					END, length(u.search_key), u.username_normalized NULLS LAST, u.id
				LIMIT @limit`, map[string]any{"q": q, "pattern": pattern, "limit": limit}).Scan(&want).Error; err != nil {
				t.Fatal(err)
			}
			if len(got) < len(want) {
				t.Fatalf("%q limit %d: %d users, ranking every candidate gives %d", q, limit, len(got), len(want))
			}
			for i, id := range want {
				if got[i].ID != id {
					t.Fatalf("%q limit %d: user %d is %v (%v), ranking every candidate gives %v", q, limit, i, got[i].ID, got[i].DisplayName, id)
				}
			}
			compared += len(want)
		}
	}
	if compared < 2000 {
		t.Fatalf("only %d users compared", compared)
	}
}

// TestExplainSearch: the benchmark's EXPLAIN step runs the adapter's own
// statements on both dialects, and their plans use the search indexes (the
// trigram index only shows on a table with rows).
func TestExplainSearch(t *testing.T) {
	t.Parallel()
	db := migrated(t, dialects[1].open)
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := gormdb.ExplainSearch(ctx, db, &out); err != nil {
		t.Fatal(err)
	}
	plans := out.String()
	for _, want := range []string{"EXECUTE users_q('mar'", "EXECUTE typos_q(", "EXECUTE links_q('tuning'",
		"user_search_prefixes_first_idx", "link_terms_pkey", "links_search_idx"} {
		if !strings.Contains(plans, want) {
			t.Errorf("plans lack %q:\n%s", want, plans)
		}
	}
	if n := strings.Count(plans, "Execution Time"); n != 5 {
		t.Errorf("%d plans, want 5", n)
	}
	out.Reset()
	if err := gormdb.ExplainSearch(ctx, migrated(t, dialects[0].open), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SCAN user_search_words VIRTUAL TABLE INDEX", "SCAN user_search_tri VIRTUAL TABLE INDEX", "SCAN links_fts VIRTUAL TABLE INDEX"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("SQLite plans lack %q:\n%s", want, out.String())
		}
	}
}

package app

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/adapters/rest/openapitest"
	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

// linksClient speaks HTTP to a started app and checks every answer against
// the published OpenAPI document.
type linksClient struct {
	t    *testing.T
	base string
	v    *openapitest.Validator
	db   *database.DB
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (a answer) problemCode() string { s, _ := a.body["code"].(string); return s }

func (a answer) field() string {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	return fmt.Sprint(e["field"], "/", e["code"])
}

func (c *linksClient) do(method, path, token string, body any) answer {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, raw := c.v.Do(c.t, http.DefaultClient, req)
	a := answer{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// raw sends body with the given Content-Type, outside the OpenAPI
// validator (a body that is not JSON is not in the document).
func (c *linksClient) raw(method, path, token, contentType, body string) answer {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: b}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func (c *linksClient) want(a answer, status int, code string) {
	c.t.Helper()
	if a.status != status || (code != "" && a.problemCode() != code) {
		c.t.Fatalf("got %d %q, want %d %q: %s", a.status, a.problemCode(), status, code, a.raw)
	}
}

type account struct {
	id, token string
}

func (c *linksClient) register(username, display string) account {
	c.t.Helper()
	a := c.do("POST", "/v1/auth/register", "", map[string]any{
		"email": username + "@example.com", "password": "correct-horse-battery-" + username,
		"username": username, "display_name": display,
	})
	c.want(a, 201, "")
	user, _ := a.body["user"].(map[string]any)
	return account{id: user["id"].(string), token: a.body["access_token"].(string)}
}

// promote gives a user a role and signs them in again (the role is a
// claim of the access token).
func (c *linksClient) promote(username, role string) account {
	c.t.Helper()
	if err := c.db.Gorm.Exec(`UPDATE users SET role = ? WHERE username_normalized = ?`, role, username).Error; err != nil {
		c.t.Fatal(err)
	}
	a := c.do("POST", "/v1/auth/login", "", map[string]any{"email": username, "password": "correct-horse-battery-" + username})
	c.want(a, 200, "")
	user, _ := a.body["user"].(map[string]any)
	return account{id: user["id"].(string), token: a.body["access_token"].(string)}
}

func startLinksApp(t *testing.T, vars map[string]string) *linksClient {
	t.Helper()
	all := map[string]string{"RATE_LIMIT_AUTH": "1000/m", "RATE_LIMIT_ANON": "10000/m", "RATE_LIMIT_USER": "10000/m"}
	for k, v := range vars {
		all[k] = v
	}
	var db *database.DB
	cheap := fx.Decorate(func(*auth.Hasher) *auth.Hasher {
		return auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	})
	_, base := startApp(t, testConfig(t, all), fx.Populate(&db), cheap)
	u, _ := url.Parse(base)
	v := openapitest.Load(t, httputil.NewSingleHostReverseProxy(u))
	return &linksClient{t: t, base: base, v: v, db: db}
}

func TestLinksEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testLinksEndToEnd(t, startLinksApp(t, nil)) })
	t.Run("postgres", func(t *testing.T) {
		testLinksEndToEnd(t, startLinksApp(t, map[string]string{"DATABASE_URL": testenv.FreshPostgres(t)}))
	})
}

func testLinksEndToEnd(t *testing.T, c *linksClient) {
	alice := c.register("alice", "Alice Liddell")
	bob := c.register("bob", "Bob")
	c.register("carol", "Carol")
	carol := c.promote("carol", "moderator")

	// POST /v1/links
	c.want(c.do("POST", "/v1/links", "", map[string]any{"url": "https://example.com/"}), 401, "authentication_required")
	c.want(c.do("POST", "/v1/links", "not-a-token", map[string]any{"url": "https://example.com/"}), 401, "invalid_token")
	for _, bad := range []string{"ftp://example.com/", "https://user:pw@example.com/", "example.com", "", "   ",
		"https://example.com/" + strings.Repeat("a", 2048), "https://example.com/" + strings.Repeat("a", 9000)} {
		a := c.do("POST", "/v1/links", alice.token, map[string]any{"url": bad})
		c.want(a, 422, "validation_failed")
		if a.field() != "url/invalid_url" {
			t.Fatalf("%q: errors %s", bad, a.raw)
		}
	}
	a := c.do("POST", "/v1/links", alice.token, map[string]any{"url": "https://example.com/", "title": strings.Repeat("t", 301)})
	c.want(a, 422, "validation_failed")
	c.want(c.do("POST", "/v1/links", alice.token, map[string]any{"url": "https://example.com/", "submitted_by": bob.id}), 422, "validation_failed")
	c.want(c.do("POST", "/v1/links", alice.token, map[string]any{"url": "https://example.com/", "saves_count": 100}), 422, "validation_failed")
	c.want(c.do("POST", "/v1/links", alice.token, `{"url":`), 400, "malformed_request")
	c.want(c.do("POST", "/v1/links", alice.token, `{"url": "https://example.com/`+strings.Repeat("a", 1<<20)+`"}`), 413, "payload_too_large")
	c.want(c.raw("POST", "/v1/links", alice.token, "text/plain", `{"url": "https://example.com/"}`), 415, "unsupported_media_type")
	c.want(c.raw("POST", "/v1/links", alice.token, "application/x-www-form-urlencoded", "url=https%3A%2F%2Fexample.com%2F"), 415, "unsupported_media_type")
	c.want(c.do("POST", "/v1/links", alice.token, `{"url": 5}`), 400, "malformed_request")
	if a := c.do("POST", "/v1/links", alice.token, map[string]any{}); a.status != 422 || a.field() != "url/required" {
		t.Fatalf("no url: %d %s", a.status, a.raw)
	}

	created := c.do("POST", "/v1/links", alice.token, map[string]any{
		"url": "HTTPS://Example.COM:443/guide/../tuning-guitars/?utm_source=feed&b=2&a=1#top", "title": "How to tune a guitar",
	})
	c.want(created, 201, "")
	link := created.body
	id := link["id"].(string)
	if link["url"] != "https://example.com/tuning-guitars?a=1&b=2" || link["domain"] != "example.com" ||
		link["saves_count"] != 1.0 || link["saved_by_me"] != true {
		t.Fatalf("created %s", created.raw)
	}
	if sb := link["submitted_by"].(map[string]any); sb["id"] != alice.id || sb["username"] != "alice" || sb["email"] != nil {
		t.Fatalf("submitted_by %v", sb)
	}
	again := c.do("POST", "/v1/links", bob.token, map[string]any{"url": "https://example.com/tuning-guitars?b=2&a=1&fbclid=x"})
	c.want(again, 200, "")
	if again.body["id"] != id || again.body["saves_count"] != 2.0 || again.body["submitted_by"].(map[string]any)["id"] != alice.id {
		t.Fatalf("second save %s", again.raw)
	}
	second := c.do("POST", "/v1/links", bob.token, map[string]any{"url": "https://blog.example.org/posts/postgres-notes", "title": "Database notes"})
	c.want(second, 201, "")
	secondID := second.body["id"].(string)

	// GET /v1/links/{id}
	got := c.do("GET", "/v1/links/"+id, "", nil)
	c.want(got, 200, "")
	if got.body["saved_by_me"] != false {
		t.Fatalf("anonymous saved_by_me: %s", got.raw)
	}
	if got := c.do("GET", "/v1/links/"+id, bob.token, nil); got.body["saved_by_me"] != true {
		t.Fatalf("bob saved_by_me: %s", got.raw)
	}
	if got := c.do("GET", "/v1/links/"+id, carol.token, nil); got.body["saved_by_me"] != false {
		t.Fatalf("carol saved_by_me: %s", got.raw)
	}
	c.want(c.do("GET", "/v1/links/"+uuid.NewString(), "", nil), 404, "not_found")
	c.want(c.do("GET", "/v1/links/not-a-uuid", "", nil), 404, "not_found")

	// GET /v1/links
	list := c.do("GET", "/v1/links?limit=1", alice.token, nil)
	c.want(list, 200, "")
	items := list.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != secondID || list.body["next_cursor"] == nil {
		t.Fatalf("newest first: %s", list.raw)
	}
	next := c.do("GET", "/v1/links?limit=1&cursor="+url.QueryEscape(list.body["next_cursor"].(string)), alice.token, nil)
	c.want(next, 200, "")
	if items := next.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id || next.body["next_cursor"] != nil {
		t.Fatalf("second page: %s", next.raw)
	}
	popular := c.do("GET", "/v1/links?sort=popular", "", nil)
	c.want(popular, 200, "")
	if items := popular.body["items"].([]any); len(items) != 2 || items[0].(map[string]any)["id"] != id {
		t.Fatalf("popular: %s", popular.raw)
	}
	forged := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "sort=old", "cursor=bogus",
		"sort=popular&cursor=" + forged("1|popular|2147483648|"+id),
		"sort=popular&cursor=" + forged("1|popular|-1|"+id),
		"cursor=" + forged("1|new|9223372036854775808|"+id),
	} {
		c.want(c.do("GET", "/v1/links?"+q, "", nil), 422, "validation_failed")
	}
	// The largest values a cursor can carry are answered, not a 500.
	c.want(c.do("GET", "/v1/links?sort=popular&cursor="+forged("1|popular|2147483647|"+id), "", nil), 200, "")
	c.want(c.do("GET", "/v1/links?cursor="+forged("1|new|9223372036854775807|"+id), "", nil), 200, "")
	c.want(c.do("GET", "/v1/users/"+bob.id+"/links?cursor="+forged("1|saved|9223372036854775807|"+id), "", nil), 200, "")
	c.want(c.do("GET", "/v1/links?sort=popular&cursor="+url.QueryEscape(list.body["next_cursor"].(string)), "", nil), 422, "validation_failed")

	// GET /v1/users/{id}/links
	saved := c.do("GET", "/v1/users/"+bob.id+"/links", alice.token, nil)
	c.want(saved, 200, "")
	if items := saved.body["items"].([]any); len(items) != 2 || items[0].(map[string]any)["id"] != secondID ||
		items[1].(map[string]any)["saved_by_me"] != true || items[0].(map[string]any)["saved_by_me"] != false {
		t.Fatalf("bob's saves as alice: %s", saved.raw)
	}
	c.want(c.do("GET", "/v1/users/"+uuid.NewString()+"/links", "", nil), 404, "not_found")
	c.want(c.do("GET", "/v1/users/nope/links", "", nil), 404, "not_found")
	c.want(c.do("GET", "/v1/users/"+bob.id+"/links?limit=500", "", nil), 422, "validation_failed")

	// GET /v1/search/links
	found := c.do("GET", "/v1/search/links?q=tuning", bob.token, nil)
	c.want(found, 200, "")
	hits := found.body["items"].([]any)
	if len(hits) != 1 {
		t.Fatalf("search tuning: %s", found.raw)
	}
	hit := hits[0].(map[string]any)
	if hit["link"].(map[string]any)["id"] != id || hit["link"].(map[string]any)["saved_by_me"] != true ||
		!strings.Contains(hit["snippet"].(string), "<mark>") || hit["rank"].(float64) <= 0 {
		t.Fatalf("hit %s", found.raw)
	}
	if f := c.do("GET", "/v1/search/links?q=postgres+note", "", nil); len(f.body["items"].([]any)) != 1 {
		t.Fatalf("search postgres note: %s", f.raw)
	}
	for _, q := range []string{`"`, `*`, `NEAR(a b)`, `title:x`, `'; DROP TABLE links; --`, `(`, `%_\`} {
		c.want(c.do("GET", "/v1/search/links?q="+url.QueryEscape(q), "", nil), 200, "")
		c.want(c.do("GET", "/v1/search/users?q="+url.QueryEscape(q), "", nil), 200, "")
	}
	c.want(c.do("GET", "/v1/search/links", "", nil), 422, "validation_failed")
	c.want(c.do("GET", "/v1/search/links?q=", "", nil), 422, "validation_failed")
	c.want(c.do("GET", "/v1/search/links?q="+strings.Repeat("a", 201), "", nil), 422, "validation_failed")
	c.want(c.do("GET", "/v1/search/links?q=a&limit=101", "", nil), 422, "validation_failed")
	c.want(c.do("GET", "/v1/search/links?q=a&cursor=bogus", "", nil), 422, "validation_failed")

	// GET /v1/search/users
	users := c.do("GET", "/v1/search/users?q=ALI", "", nil)
	c.want(users, 200, "")
	if items := users.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != alice.id || items[0].(map[string]any)["email"] != nil {
		t.Fatalf("users ALI: %s", users.raw)
	}
	if u := c.do("GET", "/v1/search/users?q=liddell", "", nil); len(u.body["items"].([]any)) != 1 {
		t.Fatalf("users liddell: %s", u.raw)
	}
	c.want(c.do("GET", "/v1/search/users", "", nil), 422, "validation_failed")
	c.want(c.do("GET", "/v1/search/users?q=a&limit=21", "", nil), 422, "validation_failed")
	c.want(c.do("GET", "/v1/search/users?q="+strings.Repeat("a", 101), "", nil), 422, "validation_failed")

	// DELETE /v1/links/{id}/save
	c.want(c.do("DELETE", "/v1/links/"+id+"/save", "", nil), 401, "authentication_required")
	c.want(c.do("DELETE", "/v1/links/"+id+"/save", bob.token, nil), 204, "")
	c.want(c.do("DELETE", "/v1/links/"+id+"/save", bob.token, nil), 404, "not_found")
	c.want(c.do("DELETE", "/v1/links/"+uuid.NewString()+"/save", bob.token, nil), 404, "not_found")
	if got := c.do("GET", "/v1/links/"+id, bob.token, nil); got.body["saves_count"] != 1.0 || got.body["saved_by_me"] != false ||
		got.body["submitted_by"].(map[string]any)["id"] != alice.id {
		t.Fatalf("after unsave: %s", got.raw)
	}

	// DELETE /v1/links/{id}
	c.want(c.do("DELETE", "/v1/links/"+id, "", nil), 401, "authentication_required")
	c.want(c.do("DELETE", "/v1/links/"+id, alice.token, nil), 403, "forbidden")
	c.want(c.do("DELETE", "/v1/links/"+id, carol.token, nil), 204, "")
	c.want(c.do("DELETE", "/v1/links/"+id, carol.token, nil), 404, "not_found")
	c.want(c.do("GET", "/v1/links/"+id, "", nil), 404, "not_found")
	if f := c.do("GET", "/v1/search/links?q=tuning", "", nil); len(f.body["items"].([]any)) != 0 {
		t.Fatalf("deleted link still found: %s", f.raw)
	}
	c.want(c.do("PATCH", "/v1/links/"+id, carol.token, map[string]any{}), 405, "method_not_allowed")
}

// Fifty people saving one new URL at once over HTTP: one link, fifty
// saves, one 201.
func TestLinksConcurrentSubmitEndToEnd(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{}
			if name == "postgres" {
				vars["DATABASE_URL"] = testenv.FreshPostgres(t)
			}
			c := startLinksApp(t, vars)
			const n = 50
			accounts := make([]account, n)
			for i := range accounts {
				accounts[i] = c.register(fmt.Sprintf("racer%02d", i), "Racer")
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				created []string
				ids     = map[string]bool{}
			)
			start := make(chan struct{})
			for _, a := range accounts {
				wg.Go(func() {
					<-start
					r := c.do("POST", "/v1/links", a.token, map[string]any{"url": "https://race.example/same"})
					mu.Lock()
					defer mu.Unlock()
					ids[fmt.Sprint(r.body["id"])] = true
					if r.status == 201 {
						created = append(created, a.id)
					} else if r.status != 200 {
						t.Errorf("status %d: %s", r.status, r.raw)
					}
				})
			}
			close(start)
			wg.Wait()
			if len(ids) != 1 || len(created) != 1 {
				t.Fatalf("%d link ids, %d creations; want 1 and 1", len(ids), len(created))
			}
			for id := range ids {
				got := c.do("GET", "/v1/links/"+id, "", nil)
				if got.body["saves_count"] != float64(n) || got.body["submitted_by"].(map[string]any)["id"] != created[0] {
					t.Fatalf("after the race: %s (creator %s)", got.raw, created[0])
				}
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"
)

// password of every user loadgen registers: long and not a common one.
const password = "loadgen-Vq7#tide-harbour-2048"

// The traffic model: what a consumer link-sharing app's clients send, as a
// share of requests. docs/capacity.md explains the reasoning.
type routeShare struct {
	Route string  `json:"route"`
	Share float64 `json:"share"`
	Why   string  `json:"why"`
}

func trafficModel() []routeShare {
	return []routeShare{
		{"GET /v1/users/me", 0.25, "every app start and screen refresh"},
		{"GET /v1/links", 0.25, "the home feed (new or popular), signed in for saved_by_me"},
		{"GET /v1/users/{id}/links", 0.05, "a profile's saved links"},
		{"GET /v1/links/{id}", 0.05, "one link opened"},
		{"GET /v1/search/links", 0.10, "full-text search"},
		{"GET /v1/search/users", 0.05, "typeahead while typing a name"},
		{"POST /v1/links", 0.10, "saving a link (30% of them already known: the de-duplication path)"},
		{"POST /v1/auth/refresh", 0.10, "an access token lives 15 minutes; active clients refresh"},
		{"POST /v1/auth/login", 0.03, "a sign-in on a new device (Argon2id)"},
		{"POST /v1/auth/register", 0.02, "a new account (Argon2id, a verification email queued)"},
	}
}

var words = strings.Fields(`tuning engine garden river harbour lantern copper meadow silver
orbit canvas signal ember falcon glacier harvest island jasmine kernel ledger marble nectar
oasis pepper quartz raven saddle timber umbrella velvet willow yonder zephyr anchor beacon
cobalt dynamo eclipse fjord gravity horizon indigo jungle kettle lagoon mosaic nomad
opal prism quiver rocket sierra tundra utopia vertex walnut xenon yogurt zenith`)

var names = strings.Fields(`Ada Alan Grace Linus Barbara Edsger Donald Margaret Ken Dennis
Frances John Radia Leslie Tim Guido Bjarne Rob Robert Niklaus Sophie Hedy Annie Katherine`)

// client speaks the API for seeding.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 30 * time.Second}}
}

func (c *client) do(ctx context.Context, method, path, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return res.StatusCode, json.Unmarshal(b, out)
	}
	return res.StatusCode, nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	User         struct {
		ID string `json:"id"`
	} `json:"user"`
}

type seedUser struct {
	id, email, username, access string
}

// state is what the traffic draws on: seeded users with live access tokens,
// refresh tokens to rotate, links that exist.
type state struct {
	run      string
	users    []seedUser
	linkIDs  []string
	linkURLs []string
	refresh  chan string // each refresh token is used once; answers feed new ones
	nextID   atomic.Int64
}

// seed registers users and saves links through the API, several at a time.
func seed(ctx context.Context, c *client, nUsers, nLinks int, seedVal int64) (*state, error) {
	st := &state{run: randomHex(3), refresh: make(chan string, nUsers*4)}
	st.users = make([]seedUser, nUsers)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range nUsers {
		g.Go(func() error {
			u := seedUser{
				email:    fmt.Sprintf("seed-%s-%d@example.com", st.run, i),
				username: fmt.Sprintf("%s_%s%d", strings.ToLower(names[i%len(names)]), st.run, i),
			}
			var tr tokenResponse
			_, err := c.do(gctx, "POST", "/v1/auth/register", "", map[string]string{
				"email": u.email, "password": password, "username": u.username,
				"display_name": names[i%len(names)] + " " + strings.ToUpper(words[i%len(words)][:1]) + words[i%len(words)][1:],
			}, &tr)
			if err != nil {
				return err
			}
			u.id, u.access = tr.User.ID, tr.AccessToken
			st.users[i] = u
			st.refresh <- tr.RefreshToken
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seedVal), 1))
	type job struct{ url, title, token string }
	jobs := make([]job, nLinks)
	for i := range jobs {
		jobs[i] = job{
			url:   fmt.Sprintf("https://%s-%d.example.org/%s/%s", words[rng.IntN(len(words))], i%50, words[rng.IntN(len(words))], randomPath(rng, i)),
			title: title(rng),
			token: st.users[rng.IntN(nUsers)].access,
		}
	}
	ids := make([]string, nLinks)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, j := range jobs {
		g.Go(func() error {
			var l struct {
				ID string `json:"id"`
			}
			if _, err := c.do(gctx, "POST", "/v1/links", j.token, map[string]string{"url": j.url, "title": j.title}, &l); err != nil {
				return err
			}
			ids[i] = l.ID
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	st.linkIDs = ids
	for _, j := range jobs {
		st.linkURLs = append(st.linkURLs, j.url)
	}
	return st, nil
}

func randomPath(rng *rand.Rand, i int) string {
	return fmt.Sprintf("%s-%d", words[rng.IntN(len(words))], i)
}

func title(rng *rand.Rand) string {
	n := 3 + rng.IntN(5)
	w := make([]string, n)
	for i := range w {
		w[i] = words[rng.IntN(len(words))]
	}
	w[0] = strings.ToUpper(w[0][:1]) + w[0][1:]
	return strings.Join(w, " ")
}

// traffic turns the model into vegeta targets. vegeta calls the targeter
// from many workers at once, so everything here is safe for concurrent use.
type traffic struct {
	st    *state
	base  string
	mu    sync.Mutex
	rng   *rand.Rand
	cum   []float64
	model []routeShare
	http  *http.Client // shared by every step, so its idle connections can be closed
}

func newTraffic(st *state, base string, seedVal int64) *traffic {
	t := &traffic{st: st, base: base, rng: rand.New(rand.NewPCG(uint64(seedVal), 2)), model: trafficModel()}
	t.http = &http.Client{
		Timeout: 10 * time.Second,
		// Redirects are answers too (vegeta counts 3xx as success); none is expected.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 256,
			MaxConnsPerHost:     0,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	sum := 0.0
	for _, r := range t.model {
		sum += r.Share
		t.cum = append(t.cum, sum)
	}
	return t
}

func (t *traffic) closeIdle() { t.http.CloseIdleConnections() }

var jsonHeader = http.Header{"Content-Type": []string{"application/json"}}

func bearer(tok string) http.Header {
	return http.Header{"Authorization": []string{"Bearer " + tok}, "Content-Type": []string{"application/json"}}
}

// next picks one request of the model.
func (t *traffic) next(tgt *vegeta.Target) error {
	t.mu.Lock()
	p := t.rng.Float64() * t.cum[len(t.cum)-1]
	u := t.st.users[t.rng.IntN(len(t.st.users))]
	li := t.rng.IntN(len(t.st.linkIDs))
	link, linkURL := t.st.linkIDs[li], t.st.linkURLs[li]
	other := t.st.users[t.rng.IntN(len(t.st.users))]
	word := words[t.rng.IntN(len(words))]
	sort := "new"
	if t.rng.IntN(2) == 0 {
		sort = "popular"
	}
	known := t.rng.IntN(10) < 3
	t.mu.Unlock()

	route := t.model[len(t.model)-1].Route
	for i, c := range t.cum {
		if p < c {
			route = t.model[i].Route
			break
		}
	}
	*tgt = vegeta.Target{Header: bearer(u.access)}
	switch route {
	case "GET /v1/users/me":
		tgt.Method, tgt.URL = "GET", t.base+"/v1/users/me"
	case "GET /v1/links":
		tgt.Method, tgt.URL = "GET", t.base+"/v1/links?sort="+sort+"&limit=20"
	case "GET /v1/users/{id}/links":
		tgt.Method, tgt.URL = "GET", t.base+"/v1/users/"+other.id+"/links?limit=20"
	case "GET /v1/links/{id}":
		tgt.Method, tgt.URL = "GET", t.base+"/v1/links/"+link
	case "GET /v1/search/links":
		tgt.Method, tgt.URL = "GET", t.base+"/v1/search/links?q="+url.QueryEscape(word)+"&limit=20"
	case "GET /v1/search/users":
		prefix := other.username[:min(len(other.username), 3)]
		tgt.Method, tgt.URL = "GET", t.base+"/v1/search/users?q="+url.QueryEscape(prefix)+"&limit=10"
	case "POST /v1/links":
		target := fmt.Sprintf("https://%s.example.net/new/%d", word, t.st.nextID.Add(1))
		if known { // the de-duplication path: the caller becomes one more saver
			target = linkURL
		}
		tgt.Method, tgt.URL = "POST", t.base+"/v1/links"
		tgt.Body, _ = json.Marshal(map[string]string{"url": target, "title": word + " " + sort})
	case "POST /v1/auth/refresh":
		select {
		case rt := <-t.st.refresh:
			tgt.Method, tgt.URL, tgt.Header = "POST", t.base+"/v1/auth/refresh", jsonHeader
			tgt.Body, _ = json.Marshal(map[string]string{"refresh_token": rt})
		default: // every refresh token is in flight: read instead
			tgt.Method, tgt.URL = "GET", t.base+"/v1/users/me"
		}
	case "POST /v1/auth/login":
		tgt.Method, tgt.URL, tgt.Header = "POST", t.base+"/v1/auth/login", jsonHeader
		tgt.Body, _ = json.Marshal(map[string]string{"email": u.email, "password": password})
	case "POST /v1/auth/register":
		n := t.st.nextID.Add(1)
		tgt.Method, tgt.URL, tgt.Header = "POST", t.base+"/v1/auth/register", jsonHeader
		tgt.Body, _ = json.Marshal(map[string]string{
			"email": fmt.Sprintf("new-%s-%d@example.com", t.st.run, n), "password": password,
		})
	}
	return nil
}

// observe feeds the refresh tokens of successful sign-ins and refreshes back
// into the pool, so refreshes keep rotating real sessions.
func (t *traffic) observe(r *vegeta.Result) {
	if r.Code < 200 || r.Code >= 300 || r.Method != "POST" || !strings.Contains(r.URL, "/v1/auth/") {
		return
	}
	var tr tokenResponse
	if json.Unmarshal(r.Body, &tr) == nil && tr.RefreshToken != "" {
		select {
		case t.st.refresh <- tr.RefreshToken:
		default:
		}
	}
}

// routeOf maps a result back to its route template.
func routeOf(method, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return method + " ?"
	}
	p := u.Path
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(parts) == 3 && parts[1] == "links" && method == "GET":
		p = "/v1/links/{id}"
	case len(parts) == 4 && parts[1] == "users" && parts[3] == "links":
		p = "/v1/users/{id}/links"
	}
	return method + " " + p
}

package app

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/lenticular/lenticular/platform/testenv"
)

// Paging over HTTP (a user's saves, link search), typeahead's tiers over
// HTTP, an admin's delete, and the saves of a deleted account.
func TestLinksPagingEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testLinksPaging(t, startLinksApp(t, nil)) })
	t.Run("postgres", func(t *testing.T) {
		testLinksPaging(t, startLinksApp(t, map[string]string{"DATABASE_URL": testenv.FreshPostgres(t)}))
	})
}

// pages follows next_cursor from path (which has a query) and returns the
// ids of every page's items in order, and the number of pages.
func (c *linksClient) pages(path, token string, id func(item map[string]any) string) ([]string, int) {
	c.t.Helper()
	var ids []string
	cursor, n := "", 0
	for {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		a := c.do("GET", p, token, nil)
		c.want(a, 200, "")
		for _, it := range a.body["items"].([]any) {
			ids = append(ids, id(it.(map[string]any)))
		}
		n++
		next, _ := a.body["next_cursor"].(string)
		if next == "" || n > 10 {
			return ids, n
		}
		cursor = next
	}
}

func testLinksPaging(t *testing.T, c *linksClient) {
	erin := c.register("erin", "Erin Paging")
	c.register("dave", "Dave")
	dave := c.promote("dave", "admin")
	var created []string
	for i := range 5 {
		a := c.do("POST", "/v1/links", erin.token, map[string]any{
			"url": fmt.Sprintf("https://paging.example/part-%d", i), "title": fmt.Sprintf("Paging guide, part %d", i),
		})
		c.want(a, 201, "")
		created = append(created, a.body["id"].(string))
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)

	linkID := func(it map[string]any) string { return it["id"].(string) }
	saved, n := c.pages("/v1/users/"+erin.id+"/links?limit=2", "", linkID)
	if !slices.Equal(saved, newestFirst) || n != 3 {
		t.Fatalf("erin's saves over %d pages: %v, want %v over 3", n, saved, newestFirst)
	}

	var ranks []float64
	hits, n := c.pages("/v1/search/links?q=paging&limit=2", "", func(it map[string]any) string {
		ranks = append(ranks, it["rank"].(float64))
		return it["link"].(map[string]any)["id"].(string)
	})
	sorted := slices.Clone(hits)
	slices.Sort(sorted)
	want := slices.Clone(created)
	slices.Sort(want)
	if !slices.Equal(sorted, want) || n != 3 {
		t.Fatalf("search paging over %d pages: %v, want each of %v once over 3", n, hits, created)
	}
	if !slices.IsSortedFunc(ranks, func(a, b float64) int { return cmp.Compare(b, a) }) {
		t.Errorf("ranks across pages not in decreasing order: %v", ranks)
	}

	c.register("pag", "Someone Else")
	c.register("paging_fan", "Fan")
	var names []string
	users := c.do("GET", "/v1/search/users?q=pag", "", nil)
	c.want(users, 200, "")
	for _, u := range users.body["items"].([]any) {
		names = append(names, u.(map[string]any)["username"].(string))
	}
	if !slices.Equal(names, []string{"pag", "paging_fan", "erin"}) {
		t.Errorf("typeahead pag: %v, want exact, prefix, word prefix", names)
	}

	c.want(c.do("DELETE", "/v1/links/"+created[0], erin.token, nil), 403, "forbidden")
	c.want(c.do("DELETE", "/v1/links/"+created[0], dave.token, nil), 204, "")
	c.want(c.do("GET", "/v1/links/"+created[0], "", nil), 404, "not_found")

	c.want(c.do("DELETE", "/v1/users/me", erin.token, map[string]any{"password": "correct-horse-battery-erin"}), 204, "")
	c.want(c.do("GET", "/v1/users/"+erin.id+"/links", "", nil), 404, "not_found")
	if a := c.do("GET", "/v1/links/"+created[1], "", nil); a.status != 200 || a.body["saves_count"] != 1.0 {
		t.Errorf("a deleted account's link: %d %s", a.status, a.raw)
	}
}

package rest

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lenticular/lenticular/modules/search"
)

// Search handlers (API.md "Search").

// LinkSearchResult is one link matching a query.
type LinkSearchResult struct {
	Link    Link    `json:"link"`
	Rank    float64 `json:"rank" doc:"Relevance: higher is better; comparable within one answer only" example:"0.6"`
	Snippet string  `json:"snippet" doc:"Matching text, HTML-escaped, with each match inside <mark></mark>" example:"How to <mark>tune</mark> a guitar"`
}

// LinkSearchList is a page of link search results.
type LinkSearchList struct {
	Items      []LinkSearchResult `json:"items" nullable:"false"`
	NextCursor *string            `json:"next_cursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page" example:"eyJyIjowLjYsImlkIjoiMDE5MjdiMWUifQ"`
}

// UserSearchList is the typeahead answer: one page, best first.
type UserSearchList struct {
	Items      []PublicUser `json:"items" nullable:"false"`
	NextCursor *string      `json:"next_cursor" nullable:"true" doc:"Always null: typeahead has one page"`
}

type searchLinksInput struct {
	Q      string `query:"q" required:"true" minLength:"1" maxLength:"200" doc:"Plain text; never query syntax" example:"tuning postgres"`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Page size" example:"20"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page" example:"eyJyIjowLjYsImlkIjoiMDE5MjdiMWUifQ"`
}

type searchUsersInput struct {
	Q     string `query:"q" required:"true" minLength:"1" maxLength:"100" doc:"The start of a word of a username or display name" example:"ada"`
	Limit int    `query:"limit" minimum:"1" maximum:"20" default:"10" doc:"Number of users (one page only)" example:"10"`
}

type searchLinksOutput struct{ Body LinkSearchList }

type searchUsersOutput struct{ Body UserSearchList }

// SearchRoutes serves the search endpoints.
type SearchRoutes struct {
	svc  *search.Service
	auth Authenticator
}

// NewSearchRoutes returns the search handlers over the use cases; auth
// (may be nil) identifies a signed-in caller for saved_by_me.
func NewSearchRoutes(svc *search.Service, auth Authenticator) *SearchRoutes {
	return &SearchRoutes{svc: svc, auth: auth}
}

func searchError(err error) error {
	var fe *search.FieldError
	if errors.As(err, &fe) {
		return fieldProblem(fe.Field, fe.Code, fe.Err.Error())
	}
	return linkError(err)
}

// snippetHTML escapes a snippet and turns the index's match markers into
// <mark> tags, in one pass.
func snippetHTML(s string) string {
	return snippetReplacer.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// snippetReplacer escapes what html.EscapeString escapes and replaces the
// markers, built once: building it cost more than using it, on every
// result of every search.
var snippetReplacer = strings.NewReplacer(
	`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;",
	search.SnippetStart, "<mark>", search.SnippetStop, "</mark>",
)

// Register implements Routes.
func (h *SearchRoutes) Register(api *API) {
	Register(api, huma.Operation{
		OperationID: "searchLinks", Method: http.MethodGet, Path: "/v1/search/links", Tags: []string{"Search"},
		Summary: "Search links",
		Description: "Full-text search over titles, URLs and domains with English stemming (tuning finds tune), " +
			"accents and case ignored; every word must match; best first, cursor-paginated. q is plain text, never query syntax: any input is safe. " +
			"No sign-in needed; with a valid access token saved_by_me reflects the caller.",
		Middlewares: optionalAuth(h.auth),
	}, func(ctx context.Context, in *searchLinksInput) (*searchLinksOutput, error) {
		p, err := h.svc.Links(ctx, actor(ctx), in.Q, in.Limit, in.Cursor)
		if err != nil {
			return nil, searchError(err)
		}
		out := LinkSearchList{Items: make([]LinkSearchResult, len(p.Items))}
		for i, r := range p.Items {
			out.Items[i] = LinkSearchResult{Link: linkBody(r.Link), Rank: r.Rank, Snippet: snippetHTML(r.Snippet)}
		}
		if p.Next != "" {
			out.NextCursor = &p.Next
		}
		return &searchLinksOutput{Body: out}, nil
	})

	Register(api, huma.Operation{
		OperationID: "searchUsers", Method: http.MethodGet, Path: "/v1/search/users", Tags: []string{"Search"},
		Summary: "Find users (typeahead)",
		Description: "Users whose username or display name has a word starting with q, or contains q; case and accents ignored; " +
			"exact matches first, then prefixes, then substrings. On PostgreSQL one wrong letter still matches. One page of at most limit users. No sign-in needed.",
	}, func(ctx context.Context, in *searchUsersInput) (*searchUsersOutput, error) {
		users, err := h.svc.Users(ctx, in.Q, in.Limit)
		if err != nil {
			return nil, searchError(err)
		}
		out := UserSearchList{Items: make([]PublicUser, len(users))}
		for i, u := range users {
			out.Items[i] = publicUser(u)
		}
		return &searchUsersOutput{Body: out}, nil
	})
	nullExample(api, http.MethodGet, "/v1/search/users", "next_cursor")
}

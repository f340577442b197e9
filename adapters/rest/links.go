package rest

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
)

// Links handlers (API.md "Links"): parse and validate, call one use case of
// links.Service, write one answer. Ownership and role rules live in the
// module; the error rows below are the only HTTP knowledge of its errors.
var _ = mapErrors(
	domainError{links.ErrNotFound, http.StatusNotFound, "not_found"},
	domainError{links.ErrUserNotFound, http.StatusNotFound, "not_found"},
	domainError{links.ErrNotSaved, http.StatusNotFound, "not_found"},
	domainError{links.ErrForbidden, http.StatusForbidden, "forbidden"},
)

// PublicUser is a user as anyone may see them (API.md "Users"): never an
// email.
type PublicUser struct {
	ID          string    `json:"id" format:"uuid" example:"01927b1e-7c4a-7cc2-9a4e-2f1d5c3b9a10"`
	Username    *string   `json:"username" nullable:"true" example:"ada_l"`
	DisplayName string    `json:"display_name" example:"Ada Lovelace"`
	AvatarURL   string    `json:"avatar_url" example:"https://example.com/ada.png"`
	Bio         string    `json:"bio" example:"Analyst of engines."`
	CreatedAt   time.Time `json:"created_at" example:"2026-01-02T03:04:05Z"`
}

func publicUser(p links.Profile) PublicUser {
	return PublicUser{
		ID: p.ID.String(), Username: p.Username, DisplayName: p.DisplayName,
		AvatarURL: p.AvatarURL, Bio: p.Bio, CreatedAt: p.CreatedAt.UTC(),
	}
}

// Link is one de-duplicated URL (API.md "Links").
type Link struct {
	ID          string     `json:"id" format:"uuid" example:"01927b1e-9d3f-7a01-8c55-0b6f2e4d1a22"`
	URL         string     `json:"url" doc:"Canonical form of the URL" example:"https://example.com/post"`
	Domain      string     `json:"domain" doc:"Host without a leading www." example:"example.com"`
	Title       string     `json:"title" example:"An interesting post"`
	SubmittedBy PublicUser `json:"submitted_by" doc:"The first person who saved the link"`
	SubmittedAt time.Time  `json:"submitted_at" example:"2026-01-02T03:04:05Z"`
	SavesCount  int        `json:"saves_count" minimum:"0" example:"3"`
	SavedByMe   bool       `json:"saved_by_me" doc:"Whether the caller saves it (false when anonymous)" example:"true"`
}

func linkBody(l links.Link) Link {
	return Link{
		ID: l.ID.String(), URL: l.URL, Domain: l.Domain, Title: l.Title,
		SubmittedBy: publicUser(l.Submitter), SubmittedAt: l.SubmittedAt.UTC(),
		SavesCount: l.SavesCount, SavedByMe: l.SavedByMe,
	}
}

// LinkList is a page of links.
type LinkList struct {
	Items      []Link  `json:"items" nullable:"false"`
	NextCursor *string `json:"next_cursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page" example:"eyJrIjoiMjAyNi0wMS0wMlQwMzowNDowNVoiLCJpZCI6IjAxOTI3YjFlIn0"`
}

func linkList(p links.Page) LinkList {
	out := LinkList{Items: make([]Link, len(p.Items))}
	for i, l := range p.Items {
		out.Items[i] = linkBody(l)
	}
	if p.Next != "" {
		out.NextCursor = &p.Next
	}
	return out
}

type submitLinkInput struct {
	Body struct {
		URL   string `json:"url" doc:"http or https URL, at most 2048 characters (any other string is 422 invalid_url)" example:"https://example.com/post?utm_source=feed"`
		Title string `json:"title,omitempty" maxLength:"300" doc:"Optional; a link saved without one takes the first title given later" example:"An interesting post"`
	}
}

type linkOutput struct {
	Status int
	Body   Link
}

type listLinksInput struct {
	Sort   string `query:"sort" enum:"new,popular" default:"new" doc:"new: most recently submitted first; popular: most saved first" example:"popular"`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Page size" example:"20"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page" example:"eyJrIjoiMjAyNi0wMS0wMlQwMzowNDowNVoiLCJpZCI6IjAxOTI3YjFlIn0"`
}

type linkListOutput struct{ Body LinkList }

type linkIDInput struct {
	ID string `path:"id" maxLength:"64" doc:"Link id" example:"01927b1e-9d3f-7a01-8c55-0b6f2e4d1a22"`
}

type userLinksInput struct {
	ID     string `path:"id" maxLength:"64" doc:"User id" example:"01927b1e-7c4a-7cc2-9a4e-2f1d5c3b9a10"`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Page size" example:"20"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page" example:"eyJrIjoiMjAyNi0wMS0wMlQwMzowNDowNVoiLCJpZCI6IjAxOTI3YjFlIn0"`
}

type noContent struct{}

// LinkRoutes serves the links endpoints.
type LinkRoutes struct {
	svc  *links.Service
	auth Authenticator
}

// NewLinkRoutes returns the links handlers over the use cases. auth (may
// be nil) identifies the caller of the public operations, so that
// saved_by_me is true for a signed-in caller's saves.
func NewLinkRoutes(svc *links.Service, auth Authenticator) *LinkRoutes {
	return &LinkRoutes{svc: svc, auth: auth}
}

// optionalAuth is the middleware of public operations that answer more to
// a signed-in caller: a valid access token (Bearer or cookie; these are
// safe methods, so no CSRF check) sets the principal; no token, or one that
// is not valid, leaves the request anonymous instead of refusing it.
func optionalAuth(a Authenticator) huma.Middlewares {
	if a == nil {
		return nil
	}
	return huma.Middlewares{func(hctx huma.Context, next func(huma.Context)) {
		r := humagin.Unwrap(hctx).Request
		tok, _, present := credentials(r)
		if !present || tok == "" {
			next(hctx)
			return
		}
		p, err := a.Authenticate(hctx.Context(), tok)
		if err != nil {
			next(hctx)
			return
		}
		ctx := withPrincipal(hctx.Context(), Principal{UserID: p.UserID.String(), SessionID: p.SessionID.String(), Role: string(p.Role)})
		next(huma.WithContext(hctx, ctx))
	}}
}

// actor is the caller as the links module sees it: the zero Actor when
// the request is anonymous.
func actor(ctx context.Context) links.Actor {
	p, ok := CurrentUser(ctx)
	if !ok {
		return links.Actor{}
	}
	id, err := uuid.Parse(p.UserID)
	if err != nil {
		return links.Actor{}
	}
	return links.Actor{UserID: id, Role: p.Role}
}

// linkError turns the module's validation and authentication errors into
// their problems; anything else goes to the error table.
func linkError(err error) error {
	var lf *links.FieldError
	if errors.As(err, &lf) {
		return fieldProblem(lf.Field, lf.Code, lf.Err.Error())
	}
	if errors.Is(err, links.ErrUnauthenticated) {
		return NewProblem(http.StatusUnauthorized, "authentication_required", "sign in to use this resource").
			WithHeader("WWW-Authenticate", "Bearer")
	}
	return err
}

func fieldProblem(field, code, msg string) *Problem {
	p := NewProblem(http.StatusUnprocessableEntity, "validation_failed", "the request has invalid fields")
	p.Errors = []FieldError{{Field: field, Code: code, Message: msg}}
	return p
}

// parseID reads a path id; an id that is not a UUID names nothing: 404.
func parseID(s string, notFound error) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, notFound
	}
	return id, nil
}

// Register implements Routes.
func (h *LinkRoutes) Register(api *API) {
	Register(api, huma.Operation{
		OperationID: "submitLink", Method: http.MethodPost, Path: "/v1/links", Tags: []string{"Links"},
		Summary: "Save a URL",
		Description: "Saves the URL for the caller. 201 with a new link when its canonical form is unknown; " +
			"200 with the existing link otherwise (the caller is added as a saver, submitted_by stays the first submitter). " +
			"422 with field url, code invalid_url, for anything but an http(s) URL of at most 2048 characters with a host and no credentials.",
		DefaultStatus: http.StatusCreated,
		Security:      AuthRequired,
	}, func(ctx context.Context, in *submitLinkInput) (*linkOutput, error) {
		l, created, err := h.svc.Submit(ctx, actor(ctx), in.Body.URL, in.Body.Title)
		if err != nil {
			return nil, linkError(err)
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return &linkOutput{Status: status, Body: linkBody(l)}, nil
	})
	// The same operation answers 200 for a known URL: document it as the 201.
	if item := api.OpenAPI().Paths["/v1/links"]; item != nil && item.Post != nil {
		if created := item.Post.Responses["201"]; created != nil {
			existing := *created
			existing.Description = "The URL was already known: the existing link, now saved by the caller too"
			item.Post.Responses["200"] = &existing
		}
	}

	Register(api, huma.Operation{
		OperationID: "listLinks", Method: http.MethodGet, Path: "/v1/links", Tags: []string{"Links"},
		Summary: "List links",
		Description: "Every link, newest first (sort=new) or most saved first (sort=popular), cursor-paginated (limit, cursor, next_cursor). " +
			"No sign-in needed; with a valid access token saved_by_me tells whether the caller saves each link.",
		Middlewares: optionalAuth(h.auth),
	}, func(ctx context.Context, in *listLinksInput) (*linkListOutput, error) {
		p, err := h.svc.List(ctx, actor(ctx), links.Sort(in.Sort), in.Limit, in.Cursor)
		if err != nil {
			return nil, linkError(err)
		}
		return &linkListOutput{Body: linkList(p)}, nil
	})

	Register(api, huma.Operation{
		OperationID: "getLink", Method: http.MethodGet, Path: "/v1/links/{id}", Tags: []string{"Links"},
		Summary:     "Get a link",
		Description: "One link with its first submitter and save count; 404 not_found for an unknown id. No sign-in needed; with a valid access token saved_by_me tells whether the caller saves it.",
		Metadata:    Codes(http.StatusNotFound, "not_found"),
		Middlewares: optionalAuth(h.auth),
	}, func(ctx context.Context, in *linkIDInput) (*linkOutput, error) {
		id, err := parseID(in.ID, links.ErrNotFound)
		if err != nil {
			return nil, err
		}
		l, err := h.svc.Get(ctx, actor(ctx), id)
		if err != nil {
			return nil, linkError(err)
		}
		return &linkOutput{Status: http.StatusOK, Body: linkBody(l)}, nil
	})

	Register(api, huma.Operation{
		OperationID: "unsaveLink", Method: http.MethodDelete, Path: "/v1/links/{id}/save", Tags: []string{"Links"},
		Summary:       "Stop saving a link",
		Description:   "The caller no longer saves the link; the attribution stays. 404 when the link does not exist or the caller does not save it.",
		DefaultStatus: http.StatusNoContent,
		Security:      AuthRequired,
		Metadata:      Codes(http.StatusNotFound, "not_found"),
	}, func(ctx context.Context, in *linkIDInput) (*noContent, error) {
		id, err := parseID(in.ID, links.ErrNotFound)
		if err != nil {
			return nil, err
		}
		if err := h.svc.Unsave(ctx, actor(ctx), id); err != nil {
			return nil, linkError(err)
		}
		return &noContent{}, nil
	})

	Register(api, huma.Operation{
		OperationID: "deleteLink", Method: http.MethodDelete, Path: "/v1/links/{id}", Tags: []string{"Links"},
		Summary:       "Remove a link (moderators and admins)",
		Description:   "Removes the link and every save of it. 403 for anyone but a moderator or an admin.",
		DefaultStatus: http.StatusNoContent,
		Security:      AuthRequired,
		Metadata:      MergeMetadata(RequireRole(links.RoleModerator, links.RoleAdmin), Codes(http.StatusNotFound, "not_found")),
	}, func(ctx context.Context, in *linkIDInput) (*noContent, error) {
		id, err := parseID(in.ID, links.ErrNotFound)
		if err != nil {
			return nil, err
		}
		if err := h.svc.Delete(ctx, actor(ctx), id); err != nil {
			return nil, linkError(err)
		}
		return &noContent{}, nil
	})

	Register(api, huma.Operation{
		OperationID: "listUserLinks", Method: http.MethodGet, Path: "/v1/users/{id}/links", Tags: []string{"Links"},
		Summary: "Links a user saves",
		Description: "The links the user saves, most recently saved first, cursor-paginated. 404 not_found for an unknown or deleted user. " +
			"No sign-in needed; with a valid access token saved_by_me reflects the caller.",
		Metadata:    Codes(http.StatusNotFound, "not_found"),
		Middlewares: optionalAuth(h.auth),
	}, func(ctx context.Context, in *userLinksInput) (*linkListOutput, error) {
		id, err := parseID(in.ID, links.ErrUserNotFound)
		if err != nil {
			return nil, err
		}
		p, err := h.svc.SavedBy(ctx, actor(ctx), id, in.Limit, in.Cursor)
		if err != nil {
			return nil, linkError(err)
		}
		return &linkListOutput{Body: linkList(p)}, nil
	})
}

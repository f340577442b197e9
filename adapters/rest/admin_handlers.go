package rest

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lenticular/lenticular/modules/users"
)

// AdminUser is PrivateUser plus the account status.
type AdminUser struct {
	PrivateUser
	IsActive bool `json:"is_active" doc:"false for a disabled account" example:"true"`
}

type adminListInput struct {
	Q      string `query:"q" maxLength:"200" doc:"Case-insensitive substring of email, username or display name" example:"ada"`
	Role   string `query:"role" enum:"user,moderator,admin" doc:"Only accounts with this role" example:"moderator"`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"Page size" example:"20"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page" example:"MDE5MjdiMWUtN2M0YS03Y2MyLTlhNGUtMmYxZDVjM2I5YTEw"`
}

type adminListOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Items      []AdminUser `json:"items"`
		NextCursor *string     `json:"next_cursor" nullable:"true" doc:"Pass as cursor for the next page; null on the last page" example:"MDE5MjdiMWUtN2M0YS03Y2MyLTlhNGUtMmYxZDVjM2I5YTEw"`
	}
}

type adminUpdateInput struct {
	ID   string `path:"id" format:"uuid" doc:"User id" example:"01927b1e-7c4a-7cc2-9a4e-2f1d5c3b9a10"`
	Body struct {
		Role     *string `json:"role,omitempty" enum:"user,moderator,admin" doc:"New role" example:"moderator"`
		IsActive *bool   `json:"is_active,omitempty" doc:"false disables the account and revokes all of its sessions" example:"false"`
	}
}

type adminUserOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         AdminUser
}

func adminUser(u users.User) AdminUser {
	return AdminUser{PrivateUser: privateUser(u), IsActive: u.IsActive}
}

func encodeCursor(id users.ID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id.String()))
}

func decodeCursor(s string) (users.ID, error) {
	bad := NewProblem(http.StatusUnprocessableEntity, "validation_failed", "the request has invalid fields")
	bad.Errors = []FieldError{{Field: "cursor", Code: "invalid", Message: "cursor is not one this server issued"}}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return users.ID{}, bad
	}
	id, err := users.ParseID(string(raw))
	if err != nil {
		return users.ID{}, bad
	}
	return id, nil
}

func (a *AccountRoutes) registerAdmin(api *API) {
	tags := []string{"admin"}
	Register(api, a.op(huma.Operation{
		OperationID: "admin-list-users", Method: http.MethodGet, Path: "/v1/admin/users", Summary: "List accounts (admin)",
		Description: "Every account (PrivateUser plus is_active), filtered by q and role, cursor-paginated. Admins only: 403 forbidden for other roles.",
		Security:    AuthRequired, Metadata: RequireRole(string(users.RoleAdmin)), Tags: tags,
	}, false), func(ctx context.Context, in *adminListInput) (*adminListOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		q := users.Query{Search: in.Q, Role: users.Role(in.Role), Limit: in.Limit}
		if in.Cursor != "" {
			if q.After, err = decodeCursor(in.Cursor); err != nil {
				return nil, err
			}
		}
		list, next, err := a.Users.List(ctx, p.Actor(), q)
		if err != nil {
			return nil, err
		}
		out := &adminListOutput{CacheControl: "no-store"}
		out.Body.Items = make([]AdminUser, len(list))
		for i, u := range list {
			out.Body.Items[i] = adminUser(u)
		}
		if next != nil {
			c := encodeCursor(*next)
			out.Body.NextCursor = &c
		}
		return out, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "admin-update-user", Method: http.MethodPatch, Path: "/v1/admin/users/{id}", Summary: "Change a user's role or status (admin)",
		Description: "Changes the role and/or the active flag of an account. Admins only: 403 forbidden for other roles. " +
			"Disabling a user revokes all of their sessions. The last active admin cannot be demoted or disabled (409 last_admin).",
		Security: AuthRequired, Tags: tags,
		Metadata: MergeMetadata(RequireRole(string(users.RoleAdmin)),
			Codes(http.StatusNotFound, "not_found"), Codes(http.StatusConflict, "last_admin")),
	}, false), func(ctx context.Context, in *adminUpdateInput) (*adminUserOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		id, err := users.ParseID(in.ID)
		if err != nil {
			return nil, err
		}
		patch := users.AdminPatch{IsActive: in.Body.IsActive}
		if in.Body.Role != nil {
			r, err := users.ParseRole(*in.Body.Role)
			if err != nil {
				return nil, accountProblem(err)
			}
			patch.Role = &r
		}
		u, err := a.Users.AdminUpdate(ctx, p.Actor(), id, patch)
		if err != nil {
			return nil, accountProblem(err)
		}
		return &adminUserOutput{CacheControl: "no-store", Body: adminUser(u)}, nil
	})
}

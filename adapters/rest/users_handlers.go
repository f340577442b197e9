package rest

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/lenticular/lenticular/modules/users"
)

// accountPublicUser is an account as the PublicUser schema (declared with
// the links handlers, which embed it in every Link).
func accountPublicUser(u users.User) PublicUser {
	p := PublicUser{ID: u.ID.String(), DisplayName: u.DisplayName, AvatarURL: u.AvatarURL, Bio: u.Bio, CreatedAt: u.CreatedAt.UTC()}
	if !u.Username.IsZero() {
		n := u.Username.String()
		p.Username = &n
	}
	return p
}

type privateUserOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         PrivateUser
}

type publicUserOutput struct {
	Body PublicUser
}

type updateMeInput struct {
	Body struct {
		Username    *string        `json:"username,omitempty" nullable:"true" maxLength:"30" doc:"An empty string removes the username"`
		DisplayName *string        `json:"display_name,omitempty" maxLength:"400"`
		AvatarURL   *string        `json:"avatar_url,omitempty" maxLength:"2048"`
		Bio         *string        `json:"bio,omitempty" maxLength:"4000"`
		Metadata    map[string]any `json:"metadata,omitempty" doc:"A JSON object of at most 16 KiB; replaces the stored one"`
	}
}

type deleteMeInput struct {
	Body struct {
		Password string `json:"password" maxLength:"1024"`
	}
}

type userIDInput struct {
	ID string `path:"id" format:"uuid"`
}

func (a *AccountRoutes) registerUsers(api *API) {
	tags := []string{"users"}
	Register(api, a.op(huma.Operation{
		OperationID: "get-me", Method: http.MethodGet, Path: "/v1/users/me", Summary: "My account",
		Security: AuthRequired, Tags: tags,
	}, false), func(ctx context.Context, _ *struct{}) (*privateUserOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		u, err := a.Users.Me(ctx, p.UserID)
		if err != nil {
			return nil, err
		}
		return &privateUserOutput{CacheControl: "no-store", Body: privateUser(u)}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "update-me", Method: http.MethodPatch, Path: "/v1/users/me", Summary: "Edit my profile",
		Security: AuthRequired, Tags: tags, Errors: []int{http.StatusConflict},
	}, false), func(ctx context.Context, in *updateMeInput) (*privateUserOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		patch := usersPatch(in)
		u, err := a.Users.UpdateProfile(ctx, p.UserID, patch)
		if err != nil {
			return nil, accountProblem(err)
		}
		return &privateUserOutput{CacheControl: "no-store", Body: privateUser(u)}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "delete-me", Method: http.MethodDelete, Path: "/v1/users/me", Summary: "Delete my account",
		Description:   "Erases personal data, frees the email and username, revokes every session.",
		DefaultStatus: http.StatusNoContent, Security: AuthRequired, Tags: tags, Errors: []int{http.StatusConflict},
	}, false), func(ctx context.Context, in *deleteMeInput) (*emptyOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		if err := a.Auth.DeleteAccount(ctx, p, in.Body.Password); err != nil {
			return nil, accountProblem(err)
		}
		return &emptyOutput{CacheControl: "no-store", SetCookie: a.clearCookies()}, nil
	})

	Register(api, huma.Operation{
		OperationID: "get-user", Method: http.MethodGet, Path: "/v1/users/{id}", Summary: "A user's public profile",
		Tags: tags, Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *userIDInput) (*publicUserOutput, error) {
		id, err := users.ParseID(in.ID)
		if err != nil {
			return nil, err
		}
		u, err := a.Users.Public(ctx, id)
		if err != nil {
			return nil, err
		}
		return &publicUserOutput{Body: accountPublicUser(u)}, nil
	})
}

func usersPatch(in *updateMeInput) users.ProfilePatch {
	b := in.Body
	p := users.ProfilePatch{DisplayName: b.DisplayName, AvatarURL: b.AvatarURL, Bio: b.Bio}
	if b.Username != nil {
		p.UsernameSet = true
		if *b.Username != "" {
			p.Username = b.Username
		}
	}
	if b.Metadata != nil {
		p.Metadata, _ = json.Marshal(b.Metadata)
	}
	return p
}

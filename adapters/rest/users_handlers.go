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
		Username    *string        `json:"username,omitempty" nullable:"true" maxLength:"30" doc:"3 to 30 ASCII letters, digits or underscores, unique case-insensitively; an empty string removes the username" example:"ada_l"`
		DisplayName *string        `json:"display_name,omitempty" maxLength:"400" doc:"At most 100 characters" example:"Ada Lovelace"`
		AvatarURL   *string        `json:"avatar_url,omitempty" maxLength:"2048" doc:"An http or https URL, or empty" example:"https://example.com/ada.png"`
		Bio         *string        `json:"bio,omitempty" maxLength:"4000" example:"Analyst of engines."`
		Metadata    map[string]any `json:"metadata,omitempty" doc:"A JSON object of at most 16 KiB; replaces the stored one" example:"{\"theme\":\"dark\"}"`
	}
}

type deleteMeInput struct {
	Body struct {
		Password string `json:"password" maxLength:"1024" doc:"The account's current password" example:"correct horse battery staple"`
	}
}

type userIDInput struct {
	ID string `path:"id" format:"uuid" doc:"User id" example:"01927b1e-7c4a-7cc2-9a4e-2f1d5c3b9a10"`
}

func (a *AccountRoutes) registerUsers(api *API) {
	tags := []string{"users"}
	Register(api, a.op(huma.Operation{
		OperationID: "get-me", Method: http.MethodGet, Path: "/v1/users/me", Summary: "My account",
		Description: "The caller's own account, email and role included (PrivateUser).",
		Security:    AuthRequired, Tags: tags,
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
		Description: "Changes the fields sent and leaves the others. Only username, display_name, avatar_url, bio and metadata may be sent: " +
			"any other field (role, email, id, email_verified...) is 422 validation_failed. A username someone else has is 409 username_taken.",
		Security: AuthRequired, Tags: tags,
		Metadata: Codes(http.StatusConflict, "username_taken"),
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
		Description: "Checks the password (422, field password, code incorrect), then deactivates the account: erases personal data, frees the email and username, " +
			"revokes every session and clears the cookies. The last active admin cannot delete their account (409 last_admin).",
		DefaultStatus: http.StatusNoContent, Security: AuthRequired, Tags: tags,
		Metadata: Codes(http.StatusConflict, "last_admin"),
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
		Description: "The public profile (never the email) of an active user; 404 not_found for an unknown, disabled or deleted user. No sign-in needed.",
		Tags:        tags,
		Metadata:    Codes(http.StatusNotFound, "not_found"),
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

package rest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/users"
)

// The account errors of API.md "Authentication" and "Users".
var _ = mapErrors(
	domainError{users.ErrNotFound, http.StatusNotFound, "not_found"},
	domainError{users.ErrEmailTaken, http.StatusConflict, "email_taken"},
	domainError{users.ErrUsernameTaken, http.StatusConflict, "username_taken"},
	domainError{users.ErrForbidden, http.StatusForbidden, "forbidden"},
	domainError{users.ErrLastAdmin, http.StatusConflict, "last_admin"},
	domainError{auth.ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials"},
	domainError{auth.ErrAccountDisabled, http.StatusForbidden, "account_disabled"},
	domainError{auth.ErrInvalidRefreshToken, http.StatusUnauthorized, "invalid_refresh_token"},
	domainError{auth.ErrRefreshTokenReused, http.StatusUnauthorized, "refresh_token_reused"},
	domainError{auth.ErrSessionNotFound, http.StatusNotFound, "not_found"},
	domainError{auth.ErrActionTokenInvalid, http.StatusBadRequest, "invalid_token"},
	domainError{auth.ErrSessionRevoked, http.StatusUnauthorized, "session_revoked"},
	domainError{auth.ErrInvalidToken, http.StatusUnauthorized, "invalid_token"},
)

// accountProblem turns the errors that carry more than a status (an invalid
// field, a locked account) into their problem; others go to the table.
func accountProblem(err error) error {
	var fe *users.FieldError
	if errors.As(err, &fe) {
		p := NewProblem(http.StatusUnprocessableEntity, "validation_failed", "the request has invalid fields")
		p.Errors = []FieldError{{Field: fe.Field, Code: fe.Code, Message: fe.Message}}
		return p
	}
	var le *auth.LockedError
	if errors.As(err, &le) {
		return NewProblem(http.StatusTooManyRequests, "rate_limited", "too many failed sign-ins for this account; retry later").
			WithHeader("Retry-After", seconds(le.RetryAfter))
	}
	return err
}

// AccountSettings are the HTTP-side settings of the account routes.
type AccountSettings struct {
	AccessTTL    time.Duration
	RefreshTTL   time.Duration
	CookieSecure bool
	CookieDomain string
	// AuthLimit is RATE_LIMIT_AUTH, per client IP on register, login,
	// refresh, forgot and reset.
	AuthLimit ratelimit.Limit
}

// AccountRoutes are the handlers of API.md "Authentication" and "Users".
type AccountRoutes struct {
	Auth     *auth.Service
	Users    *users.Service
	Settings AccountSettings
	Limiter  ratelimit.Limiter
	Fallback ratelimit.Limiter
	Log      *slog.Logger
}

var _ Routes = (*AccountRoutes)(nil)

// noStore keeps every answer of an account operation, errors included, out
// of caches.
func noStore(ctx huma.Context, next func(huma.Context)) {
	ctx.SetHeader("Cache-Control", "no-store")
	next(ctx)
}

// authLimit is RATE_LIMIT_AUTH per client IP.
func (a *AccountRoutes) authLimit(ctx huma.Context, next func(huma.Context)) {
	c := humagin.Unwrap(ctx)
	ip := Info(c.Request.Context()).ClientIP.String()
	if !enforce(c, a.Limiter, a.Fallback, "auth:ip:"+ip, a.Settings.AuthLimit, "auth", a.Log) {
		return
	}
	next(ctx)
}

func (a *AccountRoutes) op(op huma.Operation, limited bool) huma.Operation {
	op.Middlewares = append(op.Middlewares, noStore)
	if limited {
		op.Middlewares = append(op.Middlewares, a.authLimit)
		op.Errors = append(op.Errors, http.StatusTooManyRequests)
	}
	if op.Tags == nil {
		op.Tags = []string{"auth"}
	}
	return op
}

// PrivateUser is the owner's view of an account.
type PrivateUser struct {
	ID            string         `json:"id" format:"uuid" example:"01927b1e-7c4a-7cc2-9a4e-2f1d5c3b9a10"`
	Email         string         `json:"email" format:"email" doc:"As entered; compared case-insensitively" example:"Ada@Example.com"`
	EmailVerified bool           `json:"email_verified" doc:"Whether the address was confirmed with the emailed link" example:"true"`
	Username      *string        `json:"username" nullable:"true" doc:"Unique case-insensitively; null when not set" example:"ada_l"`
	DisplayName   string         `json:"display_name" example:"Ada Lovelace"`
	AvatarURL     string         `json:"avatar_url" example:"https://example.com/ada.png"`
	Bio           string         `json:"bio" example:"Analyst of engines."`
	Role          string         `json:"role" enum:"user,moderator,admin" example:"user"`
	Metadata      map[string]any `json:"metadata" doc:"Free JSON object set by the client (at most 16 KiB)" example:"{\"theme\":\"dark\"}"`
	CreatedAt     time.Time      `json:"created_at" example:"2026-01-02T03:04:05Z"`
	UpdatedAt     time.Time      `json:"updated_at" example:"2026-01-03T10:00:00Z"`
	LastLoginAt   *time.Time     `json:"last_login_at" nullable:"true" doc:"null until the first sign-in" example:"2026-01-03T09:59:00Z"`
}

func privateUser(u users.User) PrivateUser {
	p := PrivateUser{
		ID: u.ID.String(), Email: u.Email.String(), EmailVerified: u.EmailVerifiedAt != nil,
		DisplayName: u.DisplayName, AvatarURL: u.AvatarURL, Bio: u.Bio, Role: string(u.Role),
		Metadata: map[string]any{}, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
	if !u.Username.IsZero() {
		n := u.Username.String()
		p.Username = &n
	}
	if len(u.Metadata) > 0 {
		_ = json.Unmarshal(u.Metadata, &p.Metadata)
	}
	if u.LastLoginAt != nil {
		t := u.LastLoginAt.UTC()
		p.LastLoginAt = &t
	}
	return p
}

// TokenResponse is the answer of register, login and refresh. In cookie
// mode only expires_in and user are present.
type TokenResponse struct {
	AccessToken  string      `json:"access_token,omitempty" doc:"JWT for Authorization: Bearer; absent in cookie mode" example:"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMTkyN2IxZS03YzRhIn0.c2lnbmF0dXJl"`
	RefreshToken string      `json:"refresh_token,omitempty" doc:"Opaque, single use: each refresh returns a new one; absent in cookie mode" example:"bG9uZy1yYW5kb20tb3BhcXVlLXJlZnJlc2gtdG9rZW4tMzItYnl0ZXM"`
	TokenType    string      `json:"token_type,omitempty" enum:"Bearer" doc:"Absent in cookie mode" example:"Bearer"`
	ExpiresIn    int         `json:"expires_in" example:"900" doc:"Seconds until the access token expires"`
	User         PrivateUser `json:"user"`
}

type tokenOutput struct {
	CacheControl string        `header:"Cache-Control"`
	SetCookie    []http.Cookie `header:"Set-Cookie"`
	Body         TokenResponse
}

func (a *AccountRoutes) tokens(pair auth.TokenPair, cookieMode bool) *tokenOutput {
	out := &tokenOutput{CacheControl: "no-store"}
	out.Body = TokenResponse{ExpiresIn: int(pair.ExpiresIn / time.Second), User: privateUser(pair.User)}
	if cookieMode {
		out.SetCookie = a.sessionCookies(pair)
		return out
	}
	out.Body.AccessToken, out.Body.RefreshToken, out.Body.TokenType = pair.AccessToken, pair.RefreshToken, "Bearer"
	return out
}

func (a *AccountRoutes) cookie(name, value, path string, maxAge int, httpOnly bool, same http.SameSite) http.Cookie {
	return http.Cookie{Name: name, Value: value, Path: path, Domain: a.Settings.CookieDomain, MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: a.Settings.CookieSecure, SameSite: same}
}

// sessionCookies are lt_access, lt_refresh and a fresh lt_csrf.
func (a *AccountRoutes) sessionCookies(pair auth.TokenPair) []http.Cookie {
	refresh := int(a.Settings.RefreshTTL / time.Second)
	return []http.Cookie{
		a.cookie(AccessCookie, pair.AccessToken, "/", int(a.Settings.AccessTTL/time.Second), true, http.SameSiteLaxMode),
		a.cookie(RefreshCookie, pair.RefreshToken, "/v1/auth", refresh, true, http.SameSiteStrictMode),
		a.cookie(CSRFCookie, rand.Text()+rand.Text(), "/", refresh, false, http.SameSiteLaxMode),
	}
}

// clearCookies expires the three cookies (same Path and Domain, Max-Age=0).
func (a *AccountRoutes) clearCookies() []http.Cookie {
	return []http.Cookie{
		a.cookie(AccessCookie, "", "/", -1, true, http.SameSiteLaxMode),
		a.cookie(RefreshCookie, "", "/v1/auth", -1, true, http.SameSiteStrictMode),
		a.cookie(CSRFCookie, "", "/", -1, false, http.SameSiteLaxMode),
	}
}

func client(ctx context.Context) auth.Client {
	ri := Info(ctx)
	c := auth.Client{}
	if ri.ClientIP.IsValid() {
		c.IP = ri.ClientIP.String()
	}
	if r := requestOf(ctx); r != nil {
		c.UserAgent = r.UserAgent()
	}
	return c
}

type requestKey struct{}

// requestOf returns the *http.Request stored by withRequest.
func requestOf(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}

// withRequest gives account handlers the raw request (user agent,
// cookies) through the context huma passes them.
func withRequest(ctx huma.Context, next func(huma.Context)) {
	r := humagin.Unwrap(ctx).Request
	next(huma.WithContext(ctx, context.WithValue(ctx.Context(), requestKey{}, r)))
}

// principal returns the caller of an authenticated operation.
func principal(ctx context.Context) (auth.Principal, error) {
	p, ok := authPrincipal(ctx)
	if !ok {
		return auth.Principal{}, NewProblem(http.StatusUnauthorized, "authentication_required", "sign in to use this resource")
	}
	return p, nil
}

type registerInput struct {
	Transport string `header:"X-Token-Transport" enum:"cookie,body" doc:"cookie: set the lt_access, lt_refresh and lt_csrf cookies instead of returning the tokens in the body" example:"cookie"`
	Body      struct {
		Email       string  `json:"email" maxLength:"320" doc:"Any case; compared case-insensitively" example:"ada@example.com"`
		Password    string  `json:"password" maxLength:"1024" doc:"10 to 128 characters, not a common password, not the email or username" example:"correct horse battery staple"`
		Username    *string `json:"username,omitempty" maxLength:"30" doc:"Optional: 3 to 30 ASCII letters, digits or underscores" example:"ada_l"`
		DisplayName *string `json:"display_name,omitempty" maxLength:"400" doc:"Optional; at most 100 characters" example:"Ada Lovelace"`
	}
}

type loginInput struct {
	Transport string `header:"X-Token-Transport" enum:"cookie,body" doc:"cookie: set the lt_access, lt_refresh and lt_csrf cookies instead of returning the tokens in the body" example:"cookie"`
	Body      struct {
		Email    string `json:"email" maxLength:"320" doc:"The account's email, or its username" example:"ada@example.com"`
		Password string `json:"password" maxLength:"1024" example:"correct horse battery staple"`
	}
}

type refreshInput struct {
	Transport string `header:"X-Token-Transport" enum:"cookie,body" doc:"cookie: set the lt_access, lt_refresh and lt_csrf cookies instead of returning the tokens in the body" example:"cookie"`
	CSRF      string `header:"X-CSRF-Token" doc:"Cookie mode: the value of the lt_csrf cookie" example:"Q2hvb3NlIGEgc3Ryb25nIHJhbmRvbSB2YWx1ZQ"`
	Cookie    string `cookie:"lt_refresh" doc:"Cookie mode: the refresh token cookie, used when the body has no refresh_token" example:"bG9uZy1yYW5kb20tb3BhcXVlLXJlZnJlc2gtdG9rZW4tMzItYnl0ZXM"`
	Body      *struct {
		RefreshToken string `json:"refresh_token,omitempty" maxLength:"256" doc:"Omit in cookie mode: the lt_refresh cookie is used" example:"bG9uZy1yYW5kb20tb3BhcXVlLXJlZnJlc2gtdG9rZW4tMzItYnl0ZXM"`
	} `required:"false"`
}

type emptyOutput struct {
	CacheControl string        `header:"Cache-Control"`
	SetCookie    []http.Cookie `header:"Set-Cookie"`
}

type sessionItem struct {
	ID         string    `json:"id" format:"uuid" example:"01927b1f-0a11-7b3c-8d2e-5f6a7b8c9d0e"`
	Current    bool      `json:"current" doc:"Whether this is the session of the token making the request" example:"true"`
	UserAgent  string    `json:"user_agent" doc:"User-Agent of the sign-in" example:"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"`
	IP         string    `json:"ip" doc:"Client IP of the sign-in" example:"203.0.113.7"`
	CreatedAt  time.Time `json:"created_at" example:"2026-01-02T03:04:05Z"`
	LastUsedAt time.Time `json:"last_used_at" doc:"Last refresh of the session" example:"2026-01-03T10:00:00Z"`
}

type sessionsOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Items      []sessionItem `json:"items"`
		NextCursor *string       `json:"next_cursor" nullable:"true" doc:"Always null: every active session is on one page"`
	}
}

type sessionIDInput struct {
	ID string `path:"id" format:"uuid" doc:"Session id, from GET /v1/auth/sessions" example:"01927b1f-0a11-7b3c-8d2e-5f6a7b8c9d0e"`
}

type changePasswordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" maxLength:"1024" example:"correct horse battery staple"`
		NewPassword     string `json:"new_password" maxLength:"1024" doc:"10 to 128 characters, not a common password, not the email or username" example:"a different long passphrase"`
	}
}

type forgotInput struct {
	Body struct {
		Email string `json:"email" maxLength:"320" doc:"The account's address (any case)" example:"ada@example.com"`
	}
}

type resetInput struct {
	Body struct {
		Token       string `json:"token" maxLength:"256" doc:"The token of the emailed reset link" example:"dGhlLXJlc2V0LXRva2VuLWZyb20tdGhlLWVtYWls"`
		NewPassword string `json:"new_password" maxLength:"1024" doc:"10 to 128 characters, not a common password, not the email or username" example:"a different long passphrase"`
	}
}

type verifyInput struct {
	Body struct {
		Token string `json:"token" maxLength:"256" doc:"The token of the emailed verification link" example:"dGhlLXZlcmlmaWNhdGlvbi10b2tlbi1mcm9tLWVtYWls"`
	}
}

// Register adds the routes of API.md "Authentication" and "Users".
func (a *AccountRoutes) Register(api *API) {
	a.registerAuth(api)
	a.registerUsers(api)
	a.registerAdmin(api)
}

func (a *AccountRoutes) registerAuth(api *API) {
	Register(api, a.op(huma.Operation{
		OperationID: "register", Method: http.MethodPost, Path: "/v1/auth/register", Summary: "Create an account",
		Description: "Creates the account, signs it in (a new session) and emails a verification link. " +
			"Tokens come back in the body, or with `X-Token-Transport: cookie` as the lt_access, lt_refresh and lt_csrf cookies (the body then has only expires_in and user). " +
			"Rate limited per client IP by RATE_LIMIT_AUTH (default 20/m) on top of the general limit.",
		DefaultStatus: http.StatusCreated,
		Metadata:      Codes(http.StatusConflict, "email_taken", "username_taken"),
		Middlewares:   huma.Middlewares{withRequest},
	}, true), func(ctx context.Context, in *registerInput) (*tokenOutput, error) {
		pair, err := a.Auth.Register(ctx, auth.Registration{
			Email: in.Body.Email, Password: in.Body.Password, Username: in.Body.Username, DisplayName: in.Body.DisplayName,
		}, client(ctx))
		if err != nil {
			return nil, accountProblem(err)
		}
		return a.tokens(pair, in.Transport == "cookie"), nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "login", Method: http.MethodPost, Path: "/v1/auth/login", Summary: "Sign in",
		Description: "Checks the email (or username) and password and starts a session. The same 401 invalid_credentials answers an unknown account and a wrong password. " +
			"Tokens come back in the body, or with `X-Token-Transport: cookie` as cookies. " +
			"Rate limited per client IP by RATE_LIMIT_AUTH (default 20/m) on top of the general limit. Failed sign-ins are also limited per account (RATE_LIMIT_LOGIN_FAILURES, default 10/15m): 429 rate_limited with Retry-After.",
		Metadata: MergeMetadata(
			Codes(http.StatusUnauthorized, "invalid_credentials"),
			Codes(http.StatusForbidden, "account_disabled"),
		),
		Middlewares: huma.Middlewares{withRequest},
	}, true), func(ctx context.Context, in *loginInput) (*tokenOutput, error) {
		pair, err := a.Auth.Login(ctx, in.Body.Email, in.Body.Password, client(ctx))
		if err != nil {
			return nil, accountProblem(err)
		}
		return a.tokens(pair, in.Transport == "cookie"), nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "refresh", Method: http.MethodPost, Path: "/v1/auth/refresh", Summary: "Rotate the refresh token",
		Description: "Send the refresh token in the body, or (cookie mode) no body with the lt_refresh cookie and X-CSRF-Token equal to the lt_csrf cookie (else 403 csrf_failed); " +
			"cookie mode sets all three cookies again. Every use rotates the refresh token. " +
			"A token re-presented within REFRESH_REUSE_GRACE of its rotation gets a fresh pair for the same session; after it, the session is revoked (401 refresh_token_reused). " +
			"Rate limited per client IP by RATE_LIMIT_AUTH (default 20/m) on top of the general limit.",
		Metadata: MergeMetadata(
			Codes(http.StatusUnauthorized, "invalid_refresh_token", "refresh_token_reused"),
			Codes(http.StatusForbidden, "csrf_failed"),
		),
		Middlewares: huma.Middlewares{withRequest},
	}, true), func(ctx context.Context, in *refreshInput) (*tokenOutput, error) {
		raw, cookieMode := "", in.Transport == "cookie"
		if in.Body != nil {
			raw = in.Body.RefreshToken
		}
		if raw == "" && in.Cookie != "" {
			if !csrfOK(requestOf(ctx)) {
				a.Log.WarnContext(ctx, "security event", "event", "csrf_failed")
				return nil, NewProblem(http.StatusForbidden, "csrf_failed", "send the X-CSRF-Token header equal to the lt_csrf cookie")
			}
			raw, cookieMode = in.Cookie, true
		}
		if raw == "" {
			return nil, NewProblem(http.StatusUnauthorized, "invalid_refresh_token", "no refresh token")
		}
		pair, err := a.Auth.Refresh(ctx, raw, client(ctx))
		if err != nil {
			return nil, accountProblem(err)
		}
		return a.tokens(pair, cookieMode), nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "logout", Method: http.MethodPost, Path: "/v1/auth/logout", Summary: "Sign out of this session",
		Description: "Revokes the caller's session: its access tokens answer 401 session_revoked from now on, on every instance, and its refresh token is dead. " +
			"Clears the three cookies of the cookie transport.",
		DefaultStatus: http.StatusNoContent, Security: AuthRequired,
	}, false), func(ctx context.Context, _ *struct{}) (*emptyOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		if err := a.Auth.Logout(ctx, p); err != nil {
			return nil, err
		}
		return &emptyOutput{CacheControl: "no-store", SetCookie: a.clearCookies()}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "logout-all", Method: http.MethodPost, Path: "/v1/auth/logout-all", Summary: "Sign out of every session",
		Description:   "Revokes every session of the caller, this one included, and clears the cookies of the cookie transport.",
		DefaultStatus: http.StatusNoContent, Security: AuthRequired,
	}, false), func(ctx context.Context, _ *struct{}) (*emptyOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		if err := a.Auth.LogoutAll(ctx, p); err != nil {
			return nil, err
		}
		return &emptyOutput{CacheControl: "no-store", SetCookie: a.clearCookies()}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "list-sessions", Method: http.MethodGet, Path: "/v1/auth/sessions", Summary: "List my active sessions",
		Description: "The caller's sessions that are neither revoked nor expired, on one page; `current` marks the one making the request.",
		Security:    AuthRequired,
	}, false), func(ctx context.Context, _ *struct{}) (*sessionsOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		list, err := a.Auth.Sessions(ctx, p)
		if err != nil {
			return nil, err
		}
		out := &sessionsOutput{CacheControl: "no-store"}
		out.Body.Items = make([]sessionItem, len(list))
		for i, s := range list {
			out.Body.Items[i] = sessionItem{ID: s.ID.String(), Current: s.ID == p.SessionID, UserAgent: s.UserAgent,
				IP: s.IP, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC()}
		}
		return out, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "revoke-session", Method: http.MethodDelete, Path: "/v1/auth/sessions/{id}", Summary: "Sign out one of my sessions",
		Description:   "Revokes one of the caller's sessions. 404 not_found for an unknown id and for another user's session alike.",
		DefaultStatus: http.StatusNoContent, Security: AuthRequired,
		Metadata: Codes(http.StatusNotFound, "not_found"),
	}, false), func(ctx context.Context, in *sessionIDInput) (*emptyOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		id, err := uuid.Parse(in.ID)
		if err != nil {
			return nil, auth.ErrSessionNotFound
		}
		if err := a.Auth.RevokeSession(ctx, p, id); err != nil {
			return nil, err
		}
		return &emptyOutput{CacheControl: "no-store"}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "change-password", Method: http.MethodPost, Path: "/v1/auth/password/change", Summary: "Change my password",
		Description:   "Checks the current password (422, field current_password, code incorrect) and sets the new one. Every other session is revoked; the account's address is told.",
		DefaultStatus: http.StatusNoContent, Security: AuthRequired,
	}, false), func(ctx context.Context, in *changePasswordInput) (*emptyOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		if err := a.Auth.ChangePassword(ctx, p, in.Body.CurrentPassword, in.Body.NewPassword); err != nil {
			return nil, accountProblem(err)
		}
		return &emptyOutput{CacheControl: "no-store"}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "forgot-password", Method: http.MethodPost, Path: "/v1/auth/password/forgot", Summary: "Email a password reset link",
		Description: "Always 202, in the same time, whether or not the account exists. When it does, a reset link valid for one hour is emailed to the address stored on the account, at most once per address per minute. " +
			"Rate limited per client IP by RATE_LIMIT_AUTH (default 20/m) on top of the general limit.",
		DefaultStatus: http.StatusAccepted,
	}, true), func(ctx context.Context, in *forgotInput) (*emptyOutput, error) {
		if err := a.Auth.ForgotPassword(ctx, in.Body.Email); err != nil {
			return nil, accountProblem(err)
		}
		return &emptyOutput{CacheControl: "no-store"}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "reset-password", Method: http.MethodPost, Path: "/v1/auth/password/reset", Summary: "Set a new password with a reset token",
		Description: "Sets the password with the token of an emailed reset link (single use, one hour; otherwise 400 invalid_token) and revokes every session of the account. " +
			"Rate limited per client IP by RATE_LIMIT_AUTH (default 20/m) on top of the general limit.",
		DefaultStatus: http.StatusNoContent,
		Metadata:      Codes(http.StatusBadRequest, "invalid_token"),
	}, true), func(ctx context.Context, in *resetInput) (*emptyOutput, error) {
		if err := a.Auth.ResetPassword(ctx, in.Body.Token, in.Body.NewPassword); err != nil {
			return nil, accountProblem(err)
		}
		return &emptyOutput{CacheControl: "no-store"}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "verify-email", Method: http.MethodPost, Path: "/v1/auth/email/verify", Summary: "Confirm my email address",
		Description:   "Marks the address verified (email_verified becomes true) with the token of the emailed verification link; an unknown, used or expired token is 400 invalid_token. No sign-in needed.",
		DefaultStatus: http.StatusNoContent,
		Metadata:      Codes(http.StatusBadRequest, "invalid_token"),
	}, false), func(ctx context.Context, in *verifyInput) (*emptyOutput, error) {
		if err := a.Auth.VerifyEmail(ctx, in.Body.Token); err != nil {
			return nil, accountProblem(err)
		}
		return &emptyOutput{CacheControl: "no-store"}, nil
	})

	Register(api, a.op(huma.Operation{
		OperationID: "resend-verification", Method: http.MethodPost, Path: "/v1/auth/email/resend", Summary: "Send the verification email again",
		Description:   "Emails a new verification link unless the address is already verified; at most one email per account per minute, later calls still answer 202.",
		DefaultStatus: http.StatusAccepted, Security: AuthRequired,
	}, false), func(ctx context.Context, _ *struct{}) (*emptyOutput, error) {
		p, err := principal(ctx)
		if err != nil {
			return nil, err
		}
		if err := a.Auth.ResendVerification(ctx, p); err != nil {
			return nil, err
		}
		return &emptyOutput{CacheControl: "no-store"}, nil
	})
	nullExample(api, http.MethodGet, "/v1/auth/sessions", "next_cursor")
}

// trimmed keeps handler code free of nil checks on optional strings.
func trimmed(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

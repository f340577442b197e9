package rest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

const goodPW = "correct horse battery"

func expect(t *testing.T, what string, res *http.Response, m map[string]any, status int, wantCode string) {
	t.Helper()
	if res.StatusCode != status || code(m) != wantCode {
		t.Fatalf("%s = %d %q, want %d %q (%v)", what, res.StatusCode, code(m), status, wantCode, m)
	}
}

func TestRegisterEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	res, m := h.call(nil, "POST", "/v1/auth/register", map[string]any{"email": "New.User@Example.COM", "password": goodPW, "username": "New_User", "display_name": "New"})
	expect(t, "register", res, m, 201, "")
	if res.Header.Get("Cache-Control") != "no-store" || m["token_type"] != "Bearer" || m["expires_in"] != float64(900) {
		t.Fatalf("register answer: %v %v", res.Header, m)
	}
	u := m["user"].(map[string]any)
	if u["email"] != "New.User@Example.COM" || u["username"] != "New_User" || u["email_verified"] != false || u["role"] != "user" {
		t.Fatalf("user = %v", u)
	}
	if mail, ok := h.outbox.Last("New.User@Example.COM", "verify_email"); !ok || mail.Data["token"] == "" {
		t.Fatal("no verification email queued")
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		fields string
	}{
		{"email taken in another case", map[string]any{"email": "new.user@example.com", "password": goodPW}, 409, "email_taken", ""},
		{"username taken in another case", map[string]any{"email": "b@example.com", "password": goodPW, "username": "NEW_USER"}, 409, "username_taken", ""},
		{"short password", map[string]any{"email": "c@example.com", "password": "short"}, 422, "validation_failed", "password:password_too_short"},
		{"long password", map[string]any{"email": "c@example.com", "password": strings.Repeat("x", 129)}, 422, "validation_failed", "password:password_too_long"},
		{"common password", map[string]any{"email": "c@example.com", "password": "iloveyou123"}, 422, "validation_failed", "password:password_too_common"},
		{"password is the email", map[string]any{"email": "c.d.e.f@example.com", "password": "C.D.E.F@example.com"}, 422, "validation_failed", "password:password_too_similar"},
		{"invalid email", map[string]any{"email": "not-an-email", "password": goodPW}, 422, "validation_failed", "email:invalid"},
		{"read-only field", map[string]any{"email": "d@example.com", "password": goodPW, "role": "admin"}, 422, "validation_failed", "role:unknown_field"},
		{"missing password", map[string]any{"email": "d@example.com"}, 422, "validation_failed", "password:required"},
		{"wrong type", map[string]any{"email": 5, "password": goodPW}, 400, "malformed_request", ""},
	}
	for _, c := range cases {
		res, m := h.call(nil, "POST", "/v1/auth/register", c.body)
		expect(t, c.name, res, m, c.status, c.code)
		if c.fields != "" && fieldCodes(m) != c.fields {
			t.Errorf("%s: errors %q, want %q", c.name, fieldCodes(m), c.fields)
		}
	}
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/auth/register", strings.NewReader("{"))
	req.Header.Set("Content-Type", "application/json")
	if res, _ := h.v.Do(t, nil, req); res.StatusCode != 400 {
		t.Errorf("malformed JSON = %d", res.StatusCode)
	}
}

func TestLoginEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{vars: map[string]string{"RATE_LIMIT_LOGIN_FAILURES": "3/15m"}})
	h.register("login@example.com", goodPW, map[string]any{"username": "login_name"})
	for _, ident := range []string{"login@example.com", "LOGIN@Example.com", "Login_Name"} {
		res, m := h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": ident, "password": goodPW})
		expect(t, "login as "+ident, res, m, 200, "")
		if res.Header.Get("Cache-Control") != "no-store" || m["access_token"] == nil {
			t.Fatalf("login answer %v %v", res.Header, m)
		}
	}
	res, wrong := h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": "login@example.com", "password": "wrong password!"})
	expect(t, "wrong password", res, wrong, 401, "invalid_credentials")
	res, unknown := h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": "wrong password!"})
	expect(t, "unknown user", res, unknown, 401, "invalid_credentials")
	if wrong["detail"] != unknown["detail"] || wrong["title"] != unknown["title"] {
		t.Errorf("unknown user and wrong password answer differently: %v / %v", wrong, unknown)
	}
	// Two more failures fill the bucket of 3: the next attempt is refused before the password is checked.
	h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": "login@example.com", "password": "wrong password!"})
	h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": "login@example.com", "password": "wrong password!"})
	res, m := h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": "Login@Example.com", "password": goodPW})
	expect(t, "locked account", res, m, 429, "rate_limited")
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Disabled account: 403 account_disabled with the right password only.
	_, _, u := h.register("disabled@example.com", goodPW, nil)
	_, _, admin := h.register("admin@example.com", goodPW, nil)
	h.makeAdmin(admin["id"].(string))
	adminTok, _ := h.login("admin@example.com", goodPW)
	res, m = h.call(nil, "PATCH", "/v1/admin/users/"+u["id"].(string), map[string]any{"is_active": false}, bearer(adminTok)...)
	expect(t, "disable", res, m, 200, "")
	res, m = h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": "disabled@example.com", "password": goodPW})
	expect(t, "disabled login", res, m, 403, "account_disabled")
	if len(h.logs.events("login_failed")) == 0 || len(h.logs.events("login_succeeded")) == 0 {
		t.Error("login events not logged")
	}
	if strings.Contains(h.logs.all(), goodPW) || strings.Contains(h.logs.all(), "wrong password!") {
		t.Fatal("a password reached the logs")
	}
}

func TestRefreshEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{reuseGrace: 10 * time.Second})
	_, r0, _ := h.register("refresh@example.com", goodPW, nil)
	res, m := h.call(nil, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": r0})
	expect(t, "refresh", res, m, 200, "")
	r1 := m["refresh_token"].(string)
	if r1 == r0 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("refresh did not rotate")
	}
	// Inside the grace: a fresh pair, the session lives.
	res, m = h.call(nil, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": r0})
	expect(t, "re-presented inside the grace", res, m, 200, "")
	// After the grace: the session is revoked.
	h.clock.Advance(11 * time.Second)
	res, m = h.call(nil, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": r0})
	expect(t, "reuse after the grace", res, m, 401, "refresh_token_reused")
	res, m = h.call(nil, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": r1})
	expect(t, "child of a reused token", res, m, 401, "invalid_refresh_token")
	res, m = h.call(nil, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": "ltr_nothing"})
	expect(t, "unknown token", res, m, 401, "invalid_refresh_token")
	res, m = h.call(nil, "POST", "/v1/auth/refresh", nil)
	expect(t, "no token", res, m, 401, "invalid_refresh_token")
	if len(h.logs.events("refresh_token_reused")) != 1 {
		t.Error("refresh_token_reused not logged once")
	}
}

func TestSessionEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a1, _, _ := h.register("sess@example.com", goodPW, nil)
	a2, r2 := h.login("sess@example.com", goodPW)
	other, _, _ := h.register("other@example.com", goodPW, nil)

	res, m := h.call(nil, "GET", "/v1/auth/sessions", nil)
	expect(t, "no token", res, m, 401, "authentication_required")
	res, m = h.call(nil, "GET", "/v1/auth/sessions", nil, bearer(a1)...)
	expect(t, "list", res, m, 200, "")
	items := m["items"].([]any)
	if len(items) != 2 || m["next_cursor"] != nil {
		t.Fatalf("sessions = %v", m)
	}
	var otherSession, mine string
	for _, it := range items {
		s := it.(map[string]any)
		if s["current"] == true {
			mine = s["id"].(string)
		} else {
			otherSession = s["id"].(string)
		}
	}
	_, om := h.call(nil, "GET", "/v1/auth/sessions", nil, bearer(other)...)
	foreign := om["items"].([]any)[0].(map[string]any)["id"].(string)
	res, m = h.call(nil, "DELETE", "/v1/auth/sessions/"+foreign, nil, bearer(a1)...)
	expect(t, "another user's session", res, m, 404, "not_found")
	res, m = h.call(nil, "DELETE", "/v1/auth/sessions/"+uuid.NewString(), nil, bearer(a1)...)
	expect(t, "unknown session", res, m, 404, "not_found")
	res, m = h.call(nil, "DELETE", "/v1/auth/sessions/"+otherSession, nil, bearer(a1)...)
	expect(t, "revoke my other session", res, m, 204, "")
	res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(a2)...)
	expect(t, "revoked session's token", res, m, 401, "session_revoked")
	res, m = h.call(nil, "POST", "/v1/auth/refresh", map[string]any{"refresh_token": r2})
	expect(t, "revoked session's refresh", res, m, 401, "invalid_refresh_token")
	_ = mine

	res, m = h.call(nil, "POST", "/v1/auth/logout", nil, bearer(a1)...)
	expect(t, "logout", res, m, 204, "")
	res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(a1)...)
	expect(t, "after logout", res, m, 401, "session_revoked")
	if res.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
	}

	b1, _ := h.login("sess@example.com", goodPW)
	b2, _ := h.login("sess@example.com", goodPW)
	res, m = h.call(nil, "POST", "/v1/auth/logout-all", nil, bearer(b1)...)
	expect(t, "logout-all", res, m, 204, "")
	for _, tok := range []string{b1, b2} {
		res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(tok)...)
		expect(t, "after logout-all", res, m, 401, "session_revoked")
	}
	res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(other)...)
	expect(t, "other user's session survives", res, m, 200, "")
	if len(h.logs.events("session_revoked")) < 3 {
		t.Error("session_revoked events missing")
	}
}

func TestPasswordEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a1, _, _ := h.register("Pw.User@Example.com", goodPW, nil)
	a2, _ := h.login("pw.user@example.com", goodPW)

	res, m := h.call(nil, "POST", "/v1/auth/password/change", map[string]any{"current_password": "nope nope nope", "new_password": "another good one"}, bearer(a1)...)
	expect(t, "wrong current", res, m, 422, "validation_failed")
	if fieldCodes(m) != "current_password:incorrect" {
		t.Errorf("fields = %s", fieldCodes(m))
	}
	res, m = h.call(nil, "POST", "/v1/auth/password/change", map[string]any{"current_password": goodPW, "new_password": "another good one"}, bearer(a1)...)
	expect(t, "change", res, m, 204, "")
	res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(a2)...)
	expect(t, "other session after change", res, m, 401, "session_revoked")
	res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(a1)...)
	expect(t, "own session after change", res, m, 200, "")
	if _, ok := h.outbox.Last("Pw.User@Example.com", "password_changed"); !ok {
		t.Error("no password_changed notice")
	}

	for _, email := range []string{"PW.USER@example.com", "nobody@example.com", "pw.user@example.com"} {
		res, m = h.call(nil, "POST", "/v1/auth/password/forgot", map[string]any{"email": email})
		expect(t, "forgot "+email, res, m, 202, "")
	}
	resets := 0
	var token string
	for _, e := range h.outbox.Emails() {
		if e.Template == "reset_password" {
			resets++
			token = e.Data["token"]
			if e.To != "Pw.User@Example.com" {
				t.Errorf("reset sent to %q", e.To)
			}
		}
	}
	if resets != 1 {
		t.Fatalf("%d reset emails, want 1", resets)
	}
	res, m = h.call(nil, "POST", "/v1/auth/password/reset", map[string]any{"token": "bogus", "new_password": "fresh secret 42"})
	expect(t, "bad reset token", res, m, 400, "invalid_token")
	res, m = h.call(nil, "POST", "/v1/auth/password/reset", map[string]any{"token": token, "new_password": "fresh secret 42"})
	expect(t, "reset", res, m, 204, "")
	res, m = h.call(nil, "POST", "/v1/auth/password/reset", map[string]any{"token": token, "new_password": "fresh secret 43"})
	expect(t, "reset token reused", res, m, 400, "invalid_token")
	res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(a1)...)
	expect(t, "sessions after reset", res, m, 401, "session_revoked")
	h.login("pw.user@example.com", "fresh secret 42")
	for _, ev := range []string{"password_changed", "password_reset_requested", "password_reset_completed"} {
		if len(h.logs.events(ev)) == 0 {
			t.Errorf("%s not logged", ev)
		}
	}
	if strings.Contains(h.logs.all(), token) {
		t.Fatal("a reset token reached the logs")
	}
}

func TestEmailVerificationEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, _, _ := h.register("verify@example.com", goodPW, nil)
	mail, _ := h.outbox.Last("verify@example.com", "verify_email")
	res, m := h.call(nil, "POST", "/v1/auth/email/resend", nil, bearer(a)...)
	expect(t, "resend", res, m, 202, "")
	res, m = h.call(nil, "POST", "/v1/auth/email/verify", map[string]any{"token": "bogus"})
	expect(t, "bad token", res, m, 400, "invalid_token")
	res, m = h.call(nil, "POST", "/v1/auth/email/verify", map[string]any{"token": mail.Data["token"]})
	expect(t, "verify", res, m, 204, "")
	_, me := h.call(nil, "GET", "/v1/users/me", nil, bearer(a)...)
	if me["email_verified"] != true {
		t.Fatalf("email_verified = %v", me["email_verified"])
	}
	res, m = h.call(nil, "POST", "/v1/auth/email/verify", map[string]any{"token": mail.Data["token"]})
	expect(t, "verify twice", res, m, 400, "invalid_token")
}

func TestUsersEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	a, _, u := h.register("me@example.com", goodPW, map[string]any{"username": "Me_Myself"})
	h.register("taken@example.com", goodPW, map[string]any{"username": "taken_one"})

	res, m := h.call(nil, "PATCH", "/v1/users/me", map[string]any{"display_name": "Me", "bio": "hello", "avatar_url": "https://example.com/me.png", "metadata": map[string]any{"theme": "dark"}}, bearer(a)...)
	expect(t, "patch", res, m, 200, "")
	if m["display_name"] != "Me" || m["bio"] != "hello" || m["metadata"].(map[string]any)["theme"] != "dark" {
		t.Fatalf("patched = %v", m)
	}
	res, m = h.call(nil, "PATCH", "/v1/users/me", map[string]any{"username": "TAKEN_ONE"}, bearer(a)...)
	expect(t, "taken username", res, m, 409, "username_taken")
	for _, field := range []string{"role", "email", "id", "email_verified"} {
		res, m = h.call(nil, "PATCH", "/v1/users/me", map[string]any{field: "x"}, bearer(a)...)
		expect(t, "read-only "+field, res, m, 422, "validation_failed")
		if !strings.Contains(fieldCodes(m), field+":") {
			t.Errorf("422 for %s does not name it: %v", field, m)
		}
	}
	res, m = h.call(nil, "PATCH", "/v1/users/me", map[string]any{"avatar_url": "ftp://x"}, bearer(a)...)
	expect(t, "bad avatar", res, m, 422, "validation_failed")

	res, m = h.call(nil, "GET", "/v1/users/"+u["id"].(string), nil)
	expect(t, "public profile", res, m, 200, "")
	if _, hasEmail := m["email"]; hasEmail || m["username"] != "Me_Myself" {
		t.Fatalf("public profile = %v", m)
	}
	res, m = h.call(nil, "GET", "/v1/users/"+uuid.NewString(), nil)
	expect(t, "unknown user", res, m, 404, "not_found")

	res, m = h.call(nil, "DELETE", "/v1/users/me", map[string]any{"password": "wrong password!"}, bearer(a)...)
	expect(t, "delete with wrong password", res, m, 422, "validation_failed")
	if fieldCodes(m) != "password:incorrect" {
		t.Errorf("fields = %s", fieldCodes(m))
	}
	res, m = h.call(nil, "DELETE", "/v1/users/me", map[string]any{"password": goodPW}, bearer(a)...)
	expect(t, "delete", res, m, 204, "")
	res, m = h.call(nil, "GET", "/v1/users/"+u["id"].(string), nil)
	expect(t, "deleted user", res, m, 404, "not_found")
	res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(a)...)
	expect(t, "deleted user's token", res, m, 401, "invalid_token")
	h.register("ME@example.com", goodPW, map[string]any{"username": "me_myself"})
}

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	_, _, admin := h.register("root@example.com", goodPW, map[string]any{"display_name": "Root"})
	h.makeAdmin(admin["id"].(string))
	adminTok, _ := h.login("root@example.com", goodPW)
	userTok, _, user := h.register("plain@example.com", goodPW, nil)
	for i := range 4 {
		h.register("member"+string(rune('a'+i))+"@example.com", goodPW, map[string]any{"display_name": "Member"})
	}

	res, m := h.call(nil, "GET", "/v1/admin/users", nil, bearer(userTok)...)
	expect(t, "list as user", res, m, 403, "forbidden")
	if len(h.logs.events("permission_denied")) == 0 {
		t.Error("permission_denied not logged")
	}
	res, m = h.call(nil, "GET", "/v1/admin/users?limit=3", nil, bearer(adminTok)...)
	expect(t, "list page 1", res, m, 200, "")
	if len(m["items"].([]any)) != 3 || m["next_cursor"] == nil {
		t.Fatalf("page 1 = %v", m)
	}
	if _, ok := m["items"].([]any)[0].(map[string]any)["is_active"]; !ok {
		t.Error("admin list items lack is_active")
	}
	res, m = h.call(nil, "GET", "/v1/admin/users?limit=3&cursor="+m["next_cursor"].(string), nil, bearer(adminTok)...)
	expect(t, "list page 2", res, m, 200, "")
	if len(m["items"].([]any)) != 3 || m["next_cursor"] != nil {
		t.Fatalf("page 2 = %v", m)
	}
	res, m = h.call(nil, "GET", "/v1/admin/users?q=MEMBER", nil, bearer(adminTok)...)
	if len(m["items"].([]any)) != 4 {
		t.Errorf("q=MEMBER found %d", len(m["items"].([]any)))
	}
	res, m = h.call(nil, "GET", "/v1/admin/users?role=admin", nil, bearer(adminTok)...)
	if len(m["items"].([]any)) != 1 {
		t.Errorf("role=admin found %d", len(m["items"].([]any)))
	}
	res, m = h.call(nil, "GET", "/v1/admin/users?limit=101", nil, bearer(adminTok)...)
	expect(t, "limit out of range", res, m, 422, "validation_failed")
	res, m = h.call(nil, "GET", "/v1/admin/users?cursor=bogus", nil, bearer(adminTok)...)
	expect(t, "bad cursor", res, m, 422, "validation_failed")

	res, m = h.call(nil, "PATCH", "/v1/admin/users/"+admin["id"].(string), map[string]any{"role": "user"}, bearer(adminTok)...)
	expect(t, "demote the last admin", res, m, 409, "last_admin")
	res, m = h.call(nil, "PATCH", "/v1/admin/users/"+admin["id"].(string), map[string]any{"is_active": false}, bearer(adminTok)...)
	expect(t, "disable the last admin", res, m, 409, "last_admin")
	res, m = h.call(nil, "PATCH", "/v1/admin/users/"+uuid.NewString(), map[string]any{"is_active": false}, bearer(adminTok)...)
	expect(t, "unknown user", res, m, 404, "not_found")
	res, m = h.call(nil, "PATCH", "/v1/admin/users/"+user["id"].(string), map[string]any{"role": "root"}, bearer(adminTok)...)
	expect(t, "bad role", res, m, 422, "validation_failed")
	res, m = h.call(nil, "PATCH", "/v1/admin/users/"+user["id"].(string), map[string]any{"role": "moderator"}, bearer(userTok)...)
	expect(t, "patch as user", res, m, 403, "forbidden")
	res, m = h.call(nil, "PATCH", "/v1/admin/users/"+user["id"].(string), map[string]any{"role": "moderator"}, bearer(adminTok)...)
	expect(t, "promote", res, m, 200, "")
	if m["role"] != "moderator" || m["is_active"] != true {
		t.Fatalf("promoted = %v", m)
	}
	_, me := h.call(nil, "GET", "/v1/users/me", nil, bearer(userTok)...)
	if me["role"] != "moderator" {
		t.Errorf("role after promotion = %v", me["role"])
	}
	res, m = h.call(nil, "PATCH", "/v1/admin/users/"+user["id"].(string), map[string]any{"is_active": false}, bearer(adminTok)...)
	expect(t, "disable", res, m, 200, "")
	res, m = h.call(nil, "GET", "/v1/users/me", nil, bearer(userTok)...)
	expect(t, "disabled user's token", res, m, 401, "invalid_token")
}

// JWT attacks through the whole chain: every one is 401 invalid_token with
// WWW-Authenticate.
func TestJWTAttacks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	access, refresh, u := h.register("victim@example.com", goodPW, nil)
	parts := strings.Split(access, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"role":"user"`), []byte(`"role":"admin"`), 1)) + "." + parts[2]
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(access, claims); err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range claims {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims, hdr map[string]any) string {
		tok := jwt.NewWithClaims(m, c)
		for k, v := range hdr {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	key := []byte(accountsSecret)
	attacks := map[string]string{
		"alg none":              sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims, nil),
		"HS512 with the secret": sign(jwt.SigningMethodHS512, key, claims, nil),
		"tampered payload":      tampered,
		"wrong iss":             sign(jwt.SigningMethodHS256, key, with("iss", "someone-else"), nil),
		"wrong aud":             sign(jwt.SigningMethodHS256, key, with("aud", "another-api"), nil),
		"expired":               sign(jwt.SigningMethodHS256, key, with("exp", time.Now().Add(-time.Minute).Unix()), nil),
		"refresh token":         refresh,
		"unknown kid":           sign(jwt.SigningMethodHS256, key, claims, map[string]any{"kid": "k1"}),
		"jku header":            sign(jwt.SigningMethodHS256, key, claims, map[string]any{"jku": "https://attacker.example/jwks.json"}),
		"x5u header":            sign(jwt.SigningMethodHS256, key, claims, map[string]any{"x5u": "https://attacker.example/cert.pem"}),
		"jwk header":            sign(jwt.SigningMethodHS256, key, claims, map[string]any{"jwk": map[string]any{"kty": "oct", "k": "AAAA"}}),
		"another user's sid":    sign(jwt.SigningMethodHS256, key, with("sid", uuid.NewString()), nil),
		"bad signature":         parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")),
	}
	for name, tok := range attacks {
		res, m := h.call(nil, "GET", "/v1/users/me", nil, bearer(tok)...)
		if res.StatusCode != 401 || code(m) != "invalid_token" || res.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Errorf("%s: %d %q %q", name, res.StatusCode, code(m), res.Header.Get("WWW-Authenticate"))
		}
	}
	res, m := h.call(nil, "GET", "/v1/users/me", nil, "Authorization", "Basic dXNlcjpwYXNz")
	expect(t, "basic auth", res, m, 401, "invalid_token")
	res, m = h.call(nil, "GET", "/v1/users/me", nil)
	expect(t, "no token", res, m, 401, "authentication_required")
	if len(h.logs.events("token_invalid")) < len(attacks) {
		t.Errorf("token_invalid logged %d times", len(h.logs.events("token_invalid")))
	}
	_ = u
}

func TestCookieTransportAndCSRF(t *testing.T) {
	t.Parallel()
	// Secure cookies as configured by default: check the attributes.
	hs := newHarness(t, harnessOpts{vars: map[string]string{"COOKIE_DOMAIN": "example.test"}})
	res, m := hs.call(nil, "POST", "/v1/auth/register", map[string]any{"email": "c@example.com", "password": goodPW}, "X-Token-Transport", "cookie")
	expect(t, "cookie register", res, m, 201, "")
	if _, ok := m["access_token"]; ok || m["refresh_token"] != nil || m["expires_in"] == nil || m["user"] == nil {
		t.Fatalf("cookie-mode body = %v", m)
	}
	want := map[string][]string{
		"lt_access":  {"Path=/", "Domain=example.test", "HttpOnly", "Secure", "SameSite=Lax"},
		"lt_refresh": {"Path=/v1/auth", "Domain=example.test", "HttpOnly", "Secure", "SameSite=Strict"},
		"lt_csrf":    {"Path=/", "Domain=example.test", "Secure", "SameSite=Lax"},
	}
	for _, sc := range res.Header.Values("Set-Cookie") {
		name := sc[:strings.IndexByte(sc, '=')]
		for _, attr := range want[name] {
			if !strings.Contains(sc, attr) {
				t.Errorf("%s lacks %s: %s", name, attr, sc)
			}
		}
		if name == "lt_csrf" && strings.Contains(sc, "HttpOnly") {
			t.Error("lt_csrf must be readable by scripts")
		}
		delete(want, name)
	}
	if len(want) != 0 {
		t.Fatalf("cookies not set: %v", want)
	}

	// A browser on plain HTTP (COOKIE_SECURE=false) through the whole flow.
	h := newHarness(t, harnessOpts{vars: map[string]string{"COOKIE_SECURE": "false"}})
	browser := h.jarClient()
	res, m = h.call(browser, "POST", "/v1/auth/register", map[string]any{"email": "b@example.com", "password": goodPW}, "X-Token-Transport", "cookie")
	expect(t, "register", res, m, 201, "")
	res, m = h.call(browser, "GET", "/v1/users/me", nil)
	expect(t, "GET with the cookie", res, m, 200, "")
	csrf := cookieValue(browser, h, "lt_csrf")
	if csrf == "" {
		t.Fatal("no lt_csrf cookie")
	}
	res, m = h.call(browser, "PATCH", "/v1/users/me", map[string]any{"bio": "x"})
	expect(t, "unsafe method without CSRF header", res, m, 403, "csrf_failed")
	res, m = h.call(browser, "PATCH", "/v1/users/me", map[string]any{"bio": "x"}, "X-CSRF-Token", "wrong")
	expect(t, "wrong CSRF header", res, m, 403, "csrf_failed")
	res, m = h.call(browser, "PATCH", "/v1/users/me", map[string]any{"bio": "x"}, "X-CSRF-Token", csrf)
	expect(t, "with CSRF header", res, m, 200, "")

	res, m = h.call(browser, "POST", "/v1/auth/refresh", nil)
	expect(t, "cookie refresh without CSRF", res, m, 403, "csrf_failed")
	res, m = h.call(browser, "POST", "/v1/auth/refresh", nil, "X-CSRF-Token", csrf)
	expect(t, "cookie refresh", res, m, 200, "")
	if len(res.Header.Values("Set-Cookie")) != 3 || m["access_token"] != nil {
		t.Fatalf("refresh in cookie mode: %v %v", res.Header.Values("Set-Cookie"), m)
	}
	newCSRF := cookieValue(browser, h, "lt_csrf")

	res, m = h.call(browser, "POST", "/v1/auth/logout", nil)
	expect(t, "logout without CSRF", res, m, 403, "csrf_failed")
	res, m = h.call(browser, "POST", "/v1/auth/logout", nil, "X-CSRF-Token", newCSRF)
	expect(t, "logout", res, m, 204, "")
	cleared := 0
	for _, sc := range res.Header.Values("Set-Cookie") {
		if strings.Contains(sc, "Max-Age=0") {
			cleared++
		}
	}
	if cleared != 3 {
		t.Errorf("logout cleared %d cookies: %v", cleared, res.Header.Values("Set-Cookie"))
	}
	res, m = h.call(browser, "GET", "/v1/users/me", nil)
	expect(t, "after logout", res, m, 401, "authentication_required")
	if len(h.logs.events("csrf_failed")) < 3 {
		t.Error("csrf_failed not logged")
	}
}

func TestAuthRateLimitPerIP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{vars: map[string]string{"RATE_LIMIT_AUTH": "3/m"}})
	for i := range 3 {
		res, m := h.call(nil, "POST", "/v1/auth/password/forgot", map[string]any{"email": "x@example.com"})
		expect(t, "forgot", res, m, 202, "")
		_ = i
	}
	res, m := h.call(nil, "POST", "/v1/auth/login", map[string]any{"email": "x@example.com", "password": goodPW})
	expect(t, "fourth auth request", res, m, 429, "rate_limited")
	if res.Header.Get("Retry-After") == "" || res.Header.Get("RateLimit-Limit") != "3" {
		t.Errorf("429 headers: %v", res.Header)
	}
	// Other routes are not counted against RATE_LIMIT_AUTH.
	res, m = h.call(nil, "GET", "/v1/users/"+uuid.NewString(), nil)
	expect(t, "public route", res, m, 404, "not_found")
	if len(h.logs.events("rate_limited")) == 0 {
		t.Error("rate_limited not logged")
	}
	_ = context.Background
}

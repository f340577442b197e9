package memory_test

// Use-case tests of the users and auth modules on the in-memory adapters
// (the modules may not import adapters, so their use cases are exercised
// here, next to the fakes).

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/adapters/memory"
	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/users"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type world struct {
	auth   *auth.Service
	users  *users.Service
	repo   *memory.Users
	outbox *memory.Outbox
	clock  *clock
	logs   *syncBuf
	access *auth.Tokens
}

func newWorld(t *testing.T) *world {
	t.Helper()
	c := &clock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	logs := &syncBuf{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	repo := memory.NewUsers()
	access, err := auth.NewTokens(auth.TokenConfig{Secret: []byte("0123456789abcdef0123456789abcdef"), Issuer: "i", Audience: "a", TTL: 15 * time.Minute}, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	outbox := memory.NewOutbox()
	svc := auth.NewService(auth.Deps{
		Users: repo, Sessions: memory.NewSessions(repo), Tokens: memory.NewActionTokens(), Cache: memory.NewSessionCache(),
		Tx: memory.Tx{}, Mail: outbox, Limiter: memory.NewLimiter(), Access: access, Log: log, Now: c.Now,
		Hasher: auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}),
	}, auth.Config{ReuseGrace: 10 * time.Second, ForgotMinDuration: time.Millisecond,
		LoginFailures: ratelimit.Limit{Rate: 3, Period: 15 * time.Minute}})
	return &world{auth: svc, users: users.NewService(repo, memory.Tx{}, svc, log), repo: repo, outbox: outbox, clock: c, logs: logs, access: access}
}

const pw = "correct horse battery"

func (w *world) register(t *testing.T, email string) auth.TokenPair {
	t.Helper()
	p, err := w.auth.Register(context.Background(), auth.Registration{Email: email, Password: pw}, auth.Client{IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatalf("Register(%s): %v", email, err)
	}
	return p
}

func (w *world) principal(t *testing.T, p auth.TokenPair) auth.Principal {
	t.Helper()
	pr, err := w.auth.Authenticate(context.Background(), p.AccessToken)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return pr
}

func fieldCode(err error) string {
	var fe *users.FieldError
	if errors.As(err, &fe) {
		return fe.Field + ":" + fe.Code
	}
	return ""
}

func TestRegisterRules(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	cases := []struct {
		name    string
		reg     auth.Registration
		wantErr error
		field   string
	}{
		{"ok", auth.Registration{Email: "ok@example.com", Password: pw}, nil, ""},
		{"ok with username", auth.Registration{Email: "ok2@example.com", Password: pw, Username: str("Ok_Two"), DisplayName: str(" Ok ")}, nil, ""},
		{"email taken in another case", auth.Registration{Email: "TAKEN@Example.com", Password: pw}, users.ErrEmailTaken, ""},
		{"username taken in another case", auth.Registration{Email: "new@example.com", Password: pw, Username: str("TAKEN_name")}, users.ErrUsernameTaken, ""},
		{"bad email", auth.Registration{Email: "nope", Password: pw}, users.ErrValidation, "email:invalid"},
		{"bad username", auth.Registration{Email: "u@example.com", Password: pw, Username: str("a-b")}, users.ErrValidation, "username:invalid"},
		{"short password", auth.Registration{Email: "s@example.com", Password: "short"}, users.ErrValidation, "password:password_too_short"},
		{"long password", auth.Registration{Email: "l@example.com", Password: strings.Repeat("p", 129)}, users.ErrValidation, "password:password_too_long"},
		{"common password", auth.Registration{Email: "c@example.com", Password: "1q2w3e4r5t"}, users.ErrValidation, "password:password_too_common"},
		{"password is the email", auth.Registration{Email: "same.person@example.com", Password: "Same.Person@Example.com"}, users.ErrValidation, "password:password_too_similar"},
		{"password is the local part", auth.Registration{Email: "longlocalpart@example.com", Password: "LongLocalPart"}, users.ErrValidation, "password:password_too_similar"},
		{"password is the username", auth.Registration{Email: "un@example.com", Password: "my_username1", Username: str("My_Username1")}, users.ErrValidation, "password:password_too_similar"},
	}
	w := newWorld(t)
	if _, err := w.auth.Register(context.Background(), auth.Registration{Email: "taken@example.com", Password: pw, Username: str("taken_name")}, auth.Client{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pair, err := w.auth.Register(context.Background(), c.reg, auth.Client{})
			if !errors.Is(err, c.wantErr) || fieldCode(err) != c.field {
				t.Fatalf("Register = %v (%s), want %v (%s)", err, fieldCode(err), c.wantErr, c.field)
			}
			if err != nil {
				return
			}
			if pair.AccessToken == "" || !strings.HasPrefix(pair.RefreshToken, auth.RefreshTokenPrefix) || len(pair.RefreshToken) < 4+43 {
				t.Errorf("tokens: %q %q", pair.AccessToken, pair.RefreshToken)
			}
			if !strings.HasPrefix(pair.User.PasswordHash, "$argon2id$") || pair.User.EmailVerifiedAt != nil || pair.User.Role != users.RoleUser {
				t.Errorf("user: %+v", pair.User)
			}
			mail, ok := w.outbox.Last(c.reg.Email, "verify_email")
			if !ok || len(mail.Data["token"]) < 43 {
				t.Errorf("no verification email with a token: %+v", mail)
			}
		})
	}
}

func TestLoginRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.register(t, "Login.User@Example.com")
	name := "login_user"
	if _, err := w.users.UpdateProfile(ctx, w.mustFind(t, "login.user@example.com").ID, users.ProfilePatch{UsernameSet: true, Username: &name}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ident, password string
		want            error
	}{
		{"login.user@example.com", pw, nil},
		{"  LOGIN.USER@EXAMPLE.COM ", pw, nil},
		{"LOGIN_USER", pw, nil},
		{"login.user@example.com", "wrong password!", auth.ErrInvalidCredentials},
		{"nobody@example.com", pw, auth.ErrInvalidCredentials},
		{"no such user", pw, auth.ErrInvalidCredentials},
	}
	for _, c := range cases {
		_, err := w.auth.Login(ctx, c.ident, c.password, auth.Client{})
		if !errors.Is(err, c.want) {
			t.Errorf("Login(%q, %q) = %v, want %v", c.ident, c.password, err, c.want)
		}
	}
	if strings.Contains(w.logs.String(), "wrong password!") || strings.Contains(w.logs.String(), pw) {
		t.Fatal("a password reached the log")
	}
	if !strings.Contains(w.logs.String(), `"event":"login_failed"`) || !strings.Contains(w.logs.String(), `"event":"login_succeeded"`) {
		t.Error("login events not logged")
	}
}

func (w *world) mustFind(t *testing.T, email string) users.User {
	t.Helper()
	e, _ := users.ParseEmail(email)
	u, err := w.repo.ByEmail(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLoginFailuresLockTheAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.register(t, "victim@example.com")
	// Rate 3 per 15 min: three wrong attempts, then locked even for the right password.
	for range 3 {
		if _, err := w.auth.Login(ctx, "victim@example.com", "wrong password!", auth.Client{}); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("wrong password = %v", err)
		}
	}
	_, err := w.auth.Login(ctx, "VICTIM@example.com", pw, auth.Client{})
	var le *auth.LockedError
	if !errors.As(err, &le) || le.RetryAfter <= 0 {
		t.Fatalf("fourth attempt = %v, want LockedError", err)
	}
	// Unknown accounts are limited the same way (no enumeration through the lock).
	for range 3 {
		_, _ = w.auth.Login(ctx, "ghost@example.com", "whatever pass", auth.Client{})
	}
	if _, err := w.auth.Login(ctx, "ghost@example.com", "whatever pass", auth.Client{}); !errors.As(err, &le) {
		t.Fatalf("unknown account not limited: %v", err)
	}
	// A success empties the bucket.
	w2 := newWorld(t)
	w2.register(t, "ok@example.com")
	for range 5 {
		_, _ = w2.auth.Login(ctx, "ok@example.com", "wrong password!", auth.Client{})
		if _, err := w2.auth.Login(ctx, "ok@example.com", pw, auth.Client{}); err != nil && !errors.As(err, &le) {
			t.Fatalf("login = %v", err)
		}
	}
}

func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	u := w.register(t, "django@example.com").User
	// A hash imported from Django (made by Django 3.2's PBKDF2 hasher; see modules/auth/testdata).
	const django = "pbkdf2_sha256$1000$mVbTeyKEksS8Vx264cbJwX$Mn0slmSifeM+gqvBDRJtgqdpp+43sZF5n5e52taGLE8="
	if _, err := w.repo.Update(ctx, u.ID, func(x *users.User) error { x.PasswordHash = django; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := w.auth.Login(ctx, "django@example.com", "correct horse battery staple", auth.Client{}); err != nil {
		t.Fatalf("login with a Django hash: %v", err)
	}
	after := w.mustFind(t, "django@example.com")
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$") {
		t.Fatalf("hash not upgraded: %s", after.PasswordHash)
	}
	if _, err := w.auth.Login(ctx, "django@example.com", "correct horse battery staple", auth.Client{}); err != nil {
		t.Fatalf("login after rehash: %v", err)
	}
}

func TestRefreshRotationGraceAndReuse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name    string
		wait    time.Duration
		wantErr error
	}{
		{"re-presented inside the grace gets a fresh pair", 5 * time.Second, nil},
		{"re-presented after the grace revokes the session", 11 * time.Second, auth.ErrRefreshTokenReused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			p0 := w.register(t, "r@example.com")
			p1, err := w.auth.Refresh(ctx, p0.RefreshToken, auth.Client{})
			if err != nil || p1.RefreshToken == p0.RefreshToken || p1.SessionID != p0.SessionID {
				t.Fatalf("first refresh = %+v, %v", p1, err)
			}
			w.clock.Advance(c.wait)
			p2, err := w.auth.Refresh(ctx, p0.RefreshToken, auth.Client{})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("re-presenting = %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil {
				if p2.RefreshToken == p1.RefreshToken || p2.SessionID != p0.SessionID {
					t.Fatalf("grace answer %+v", p2)
				}
				// Both children stay usable: the session lives on.
				if _, err := w.auth.Refresh(ctx, p1.RefreshToken, auth.Client{}); err != nil {
					t.Fatalf("first child after grace answer: %v", err)
				}
				if _, err := w.auth.Authenticate(ctx, p2.AccessToken); err != nil {
					t.Fatalf("grace access token: %v", err)
				}
				return
			}
			// Reuse after the grace killed the session: its tokens are dead.
			if _, err := w.auth.Refresh(ctx, p1.RefreshToken, auth.Client{}); !errors.Is(err, auth.ErrInvalidRefreshToken) {
				t.Errorf("child after reuse = %v, want ErrInvalidRefreshToken", err)
			}
			if _, err := w.auth.Authenticate(ctx, p1.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
				t.Errorf("access token after reuse = %v, want ErrSessionRevoked", err)
			}
			if !strings.Contains(w.logs.String(), `"event":"refresh_token_reused"`) {
				t.Error("refresh_token_reused not logged")
			}
		})
	}
}

func TestRefreshRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	p := w.register(t, "x@example.com")
	for _, tok := range []string{"", "garbage", auth.RefreshTokenPrefix + "unknown", p.AccessToken} {
		if _, err := w.auth.Refresh(ctx, tok, auth.Client{}); !errors.Is(err, auth.ErrInvalidRefreshToken) {
			t.Errorf("Refresh(%.12q) = %v", tok, err)
		}
	}
	w.clock.Advance(31 * 24 * time.Hour)
	if _, err := w.auth.Refresh(ctx, p.RefreshToken, auth.Client{}); !errors.Is(err, auth.ErrInvalidRefreshToken) {
		t.Errorf("expired refresh token = %v", err)
	}
}

func TestLogoutAndSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	a := w.register(t, "s@example.com")
	b, err := w.auth.Login(ctx, "s@example.com", pw, auth.Client{UserAgent: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	other := w.register(t, "other@example.com")
	pa := w.principal(t, a)
	list, err := w.auth.Sessions(ctx, pa)
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions = %d, %v", len(list), err)
	}
	// Another user's session: not found, exactly like an unknown one.
	if err := w.auth.RevokeSession(ctx, pa, other.SessionID); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("revoking another user's session = %v", err)
	}
	if err := w.auth.RevokeSession(ctx, pa, uuid.New()); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Fatalf("revoking an unknown session = %v", err)
	}
	if _, err := w.auth.Authenticate(ctx, other.AccessToken); err != nil {
		t.Fatalf("other user's session harmed: %v", err)
	}
	if err := w.auth.RevokeSession(ctx, pa, b.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.auth.Authenticate(ctx, b.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
		t.Fatalf("revoked session's token = %v", err)
	}
	if err := w.auth.Logout(ctx, pa); err != nil {
		t.Fatal(err)
	}
	if _, err := w.auth.Authenticate(ctx, a.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
		t.Fatalf("logged-out token = %v", err)
	}
	if _, err := w.auth.Refresh(ctx, a.RefreshToken, auth.Client{}); !errors.Is(err, auth.ErrInvalidRefreshToken) {
		t.Fatalf("logged-out refresh token = %v", err)
	}
	c1, _ := w.auth.Login(ctx, "s@example.com", pw, auth.Client{})
	c2, _ := w.auth.Login(ctx, "s@example.com", pw, auth.Client{})
	if err := w.auth.LogoutAll(ctx, w.principal(t, c1)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []auth.TokenPair{c1, c2} {
		if _, err := w.auth.Authenticate(ctx, p.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
			t.Errorf("after logout-all: %v", err)
		}
	}
}

func TestPasswordChangeResetAndVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	a := w.register(t, "Pat@Example.com")
	b, _ := w.auth.Login(ctx, "pat@example.com", pw, auth.Client{})
	pa := w.principal(t, a)

	if err := w.auth.ChangePassword(ctx, pa, "not my password", "new password 123"); fieldCode(err) != "current_password:incorrect" {
		t.Fatalf("wrong current password = %v", err)
	}
	if err := w.auth.ChangePassword(ctx, pa, pw, "password123"); fieldCode(err) != "new_password:password_too_common" {
		t.Fatalf("common new password = %v", err)
	}
	if err := w.auth.ChangePassword(ctx, pa, pw, "new password 123"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.auth.Authenticate(ctx, a.AccessToken); err != nil {
		t.Errorf("the caller's session must survive a change: %v", err)
	}
	if _, err := w.auth.Authenticate(ctx, b.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
		t.Errorf("other session after change = %v", err)
	}
	if _, ok := w.outbox.Last("Pat@Example.com", "password_changed"); !ok {
		t.Error("no password_changed notice to the stored address")
	}

	// Forgot: the email goes to the stored address, once a minute.
	if err := w.auth.ForgotPassword(ctx, "  PAT@example.COM "); err != nil {
		t.Fatal(err)
	}
	if err := w.auth.ForgotPassword(ctx, "pat@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := w.auth.ForgotPassword(ctx, "nobody@example.com"); err != nil {
		t.Fatalf("unknown address must answer the same: %v", err)
	}
	n := 0
	var token string
	for _, e := range w.outbox.Emails() {
		if e.Template == "reset_password" {
			n++
			token = e.Data["token"]
			if e.To != "Pat@Example.com" {
				t.Errorf("reset sent to %q, not the stored address", e.To)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d reset emails, want 1 (one per address per minute)", n)
	}
	if err := w.auth.ResetPassword(ctx, token, "short"); fieldCode(err) != "new_password:password_too_short" {
		t.Fatalf("weak reset = %v", err)
	}
	if err := w.auth.ResetPassword(ctx, token, "brand new secret 9"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if err := w.auth.ResetPassword(ctx, token, "brand new secret 10"); !errors.Is(err, auth.ErrActionTokenInvalid) {
		t.Fatalf("second use of a reset token = %v", err)
	}
	if _, err := w.auth.Authenticate(ctx, a.AccessToken); !errors.Is(err, auth.ErrSessionRevoked) {
		t.Errorf("sessions after reset = %v", err)
	}
	if _, err := w.auth.Login(ctx, "pat@example.com", "brand new secret 9", auth.Client{}); err != nil {
		t.Fatalf("login with reset password: %v", err)
	}
	// Expired reset tokens are refused.
	w.clock.Advance(2 * time.Minute)
	_ = w.auth.ForgotPassword(ctx, "pat@example.com")
	e, _ := w.outbox.Last("Pat@Example.com", "reset_password")
	w.clock.Advance(61 * time.Minute)
	if err := w.auth.ResetPassword(ctx, e.Data["token"], "another secret 77"); !errors.Is(err, auth.ErrActionTokenInvalid) {
		t.Errorf("expired reset token = %v", err)
	}

	// Verification.
	v := w.register(t, "verify@example.com")
	mail, _ := w.outbox.Last("verify@example.com", "verify_email")
	if err := w.auth.VerifyEmail(ctx, "bogus"); !errors.Is(err, auth.ErrActionTokenInvalid) {
		t.Errorf("bogus verify token = %v", err)
	}
	if err := w.auth.VerifyEmail(ctx, mail.Data["token"]); err != nil {
		t.Fatal(err)
	}
	if u := w.mustFind(t, "verify@example.com"); u.EmailVerifiedAt == nil {
		t.Error("email not verified")
	}
	if err := w.auth.VerifyEmail(ctx, mail.Data["token"]); !errors.Is(err, auth.ErrActionTokenInvalid) {
		t.Errorf("second verify = %v", err)
	}
	before := len(w.outbox.Emails())
	if err := w.auth.ResendVerification(ctx, w.principal(t, v)); err != nil || len(w.outbox.Emails()) != before {
		t.Errorf("resend for a verified address sent mail: %v", err)
	}
}

func TestAdminRulesAndOwnership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	admin := w.register(t, "admin@example.com")
	if _, err := w.repo.Update(ctx, admin.User.ID, func(u *users.User) error { u.Role = users.RoleAdmin; return nil }); err != nil {
		t.Fatal(err)
	}
	userPair := w.register(t, "user@example.com")
	pAdmin, pUser := w.principal(t, admin), w.principal(t, userPair)
	if pAdmin.Role != users.RoleAdmin {
		t.Fatalf("principal role = %s", pAdmin.Role)
	}
	admin2 := users.RoleAdmin
	off, on := false, true
	cases := []struct {
		name  string
		actor users.Actor
		id    users.ID
		patch users.AdminPatch
		want  error
	}{
		{"a user may not", pUser.Actor(), userPair.User.ID, users.AdminPatch{Role: &admin2}, users.ErrForbidden},
		{"last admin cannot be disabled", pAdmin.Actor(), admin.User.ID, users.AdminPatch{IsActive: &off}, users.ErrLastAdmin},
		{"last admin cannot be demoted", pAdmin.Actor(), admin.User.ID, users.AdminPatch{Role: ptr(users.RoleUser)}, users.ErrLastAdmin},
		{"unknown user", pAdmin.Actor(), users.NewID(), users.AdminPatch{IsActive: &on}, users.ErrNotFound},
		{"promote", pAdmin.Actor(), userPair.User.ID, users.AdminPatch{Role: &admin2}, nil},
		{"now the first admin may step down", pAdmin.Actor(), admin.User.ID, users.AdminPatch{Role: ptr(users.RoleModerator)}, nil},
	}
	for _, c := range cases {
		if _, err := w.users.AdminUpdate(ctx, c.actor, c.id, c.patch); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// The role change is seen by the next request without a new login.
	if p, err := w.auth.Authenticate(ctx, admin.AccessToken); err != nil || p.Role != users.RoleModerator {
		t.Errorf("after demotion: %+v, %v", p, err)
	}
	// Disabling revokes the sessions: the token is invalid, refresh and login refused.
	target := w.register(t, "target@example.com")
	newAdmin := w.principal(t, userPair)
	if _, err := w.users.AdminUpdate(ctx, newAdmin.Actor(), target.User.ID, users.AdminPatch{IsActive: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.auth.Authenticate(ctx, target.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("disabled user's token = %v, want ErrInvalidToken", err)
	}
	if _, err := w.auth.Refresh(ctx, target.RefreshToken, auth.Client{}); !errors.Is(err, auth.ErrInvalidRefreshToken) {
		t.Errorf("disabled user's refresh = %v", err)
	}
	if _, err := w.auth.Login(ctx, "target@example.com", pw, auth.Client{}); !errors.Is(err, auth.ErrAccountDisabled) {
		t.Errorf("disabled user's login = %v", err)
	}
	if _, err := w.auth.Login(ctx, "target@example.com", "wrong password!", auth.Client{}); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("disabled user's wrong password must not reveal the status: %v", err)
	}
	// Admin list: only for admins, filtered and paged.
	if _, _, err := w.users.List(ctx, pUser.Actor(), users.Query{}); !errors.Is(err, users.ErrForbidden) && pUser.Role != users.RoleAdmin {
		t.Errorf("List by a non-admin = %v", err)
	}
	page, next, err := w.users.List(ctx, newAdmin.Actor(), users.Query{Limit: 2})
	if err != nil || len(page) != 2 || next == nil {
		t.Fatalf("List page 1 = %d, %v, %v", len(page), next, err)
	}
	rest, next2, _ := w.users.List(ctx, newAdmin.Actor(), users.Query{Limit: 2, After: *next})
	if len(rest) != 1 || next2 != nil {
		t.Errorf("List page 2 = %d, next %v", len(rest), next2)
	}
	if strings.Contains(w.logs.String(), `"event":"permission_denied"`) == false {
		t.Error("permission_denied not logged")
	}
}

func ptr[T any](v T) *T { return &v }

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	name := "Del_Me"
	p := w.register(t, "Del@Example.com")
	pr := w.principal(t, p)
	if _, err := w.users.UpdateProfile(ctx, pr.UserID, users.ProfilePatch{UsernameSet: true, Username: &name, Bio: ptr("about me")}); err != nil {
		t.Fatal(err)
	}
	if err := w.auth.DeleteAccount(ctx, pr, "wrong password!"); fieldCode(err) != "password:incorrect" {
		t.Fatalf("wrong password = %v", err)
	}
	if err := w.auth.DeleteAccount(ctx, pr, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := w.users.Public(ctx, pr.UserID); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("deleted user visible: %v", err)
	}
	if _, err := w.auth.Authenticate(ctx, p.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("deleted user's token = %v, want ErrInvalidToken", err)
	}
	// Email and username are free again.
	again, err := w.auth.Register(ctx, auth.Registration{Email: "del@example.com", Password: pw, Username: ptr("del_me")}, auth.Client{})
	if err != nil || again.User.ID == pr.UserID {
		t.Fatalf("re-register = %v", err)
	}
}

func TestProfileUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	p := w.register(t, "prof@example.com")
	w.register(t, "other@example.com")
	o := w.mustFind(t, "other@example.com")
	if _, err := w.users.UpdateProfile(ctx, o.ID, users.ProfilePatch{UsernameSet: true, Username: ptr("Taken1")}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		patch users.ProfilePatch
		want  error
		field string
	}{
		{"display name", users.ProfilePatch{DisplayName: ptr("Prof")}, nil, ""},
		{"username taken", users.ProfilePatch{UsernameSet: true, Username: ptr("TAKEN1")}, users.ErrUsernameTaken, ""},
		{"bad avatar", users.ProfilePatch{AvatarURL: ptr("javascript:alert(1)")}, users.ErrValidation, "avatar_url:invalid"},
		{"metadata not an object", users.ProfilePatch{Metadata: []byte(`[1]`)}, users.ErrValidation, "metadata:invalid"},
		{"metadata too big", users.ProfilePatch{Metadata: []byte(`{"a":"` + strings.Repeat("x", 17000) + `"}`)}, users.ErrValidation, "metadata:too_long"},
		{"bio too long", users.ProfilePatch{Bio: ptr(strings.Repeat("b", 1001))}, users.ErrValidation, "bio:too_long"},
		{"metadata", users.ProfilePatch{Metadata: []byte(`{"theme": "dark"}`)}, nil, ""},
	}
	for _, c := range cases {
		_, err := w.users.UpdateProfile(ctx, p.User.ID, c.patch)
		if !errors.Is(err, c.want) || fieldCode(err) != c.field {
			t.Errorf("%s: %v (%s), want %v (%s)", c.name, err, fieldCode(err), c.want, c.field)
		}
	}
	u, _ := w.users.Me(ctx, p.User.ID)
	if u.DisplayName != "Prof" || string(u.Metadata) != `{"theme":"dark"}` {
		t.Errorf("profile = %+v", u)
	}
}

package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminCreate(t *testing.T) {
	t.Setenv("APP_ENV", "test")
	t.Setenv("JWT_SECRET", "0123456789abcdef0123456789abcdef")
	t.Setenv("DATA_DIR", filepath.Join(t.TempDir(), "data"))
	t.Setenv("DATABASE_URL", "")
	t.Setenv("REDIS_URL", "")
	create := func(email, password string) (string, error) {
		stdin = strings.NewReader(password)
		t.Cleanup(func() { stdin = nil })
		var out, errOut bytes.Buffer
		err := run([]string{"admin", "create", "--email", email}, &out, &errOut)
		return out.String(), err
	}
	cases := []struct {
		email, password, want string
		ok                    bool
	}{
		{"root@example.com", "short\n", "password_too_short", false},
		{"root@example.com", "password1234\n", "password_too_common", false},
		{"root@example.com", "", "no password", false},
		{"not-an-email", "a strong admin password\n", "email", false},
		{"Root@Example.com", "a strong admin password\n", "created admin Root@Example.com", true},
		{"root@example.com", "another strong password\n", "already exists", false},
	}
	for _, c := range cases {
		out, err := create(c.email, c.password)
		switch {
		case c.ok && (err != nil || !strings.Contains(out, c.want)):
			t.Errorf("admin create %s: %q, %v", c.email, out, err)
		case !c.ok && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("admin create %s with %q: %v, want an error about %s", c.email, c.password, err, c.want)
		}
	}
	if err := run([]string{"admin", "delete"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || exitCode(err) != 2 {
		t.Errorf("unknown admin subcommand = %v", err)
	}
}

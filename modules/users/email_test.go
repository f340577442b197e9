package users_test

import (
	"errors"
	"testing"

	"github.com/lenticular/lenticular/modules/users"
)

func TestParseEmail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, display, normalized string
	}{
		{"alice@example.com", "alice@example.com", "alice@example.com"},
		{"  Alice@Example.COM ", "Alice@Example.COM", "alice@example.com"},
		{"ALICE@EXAMPLE.COM", "ALICE@EXAMPLE.COM", "alice@example.com"},
		{"Jose\u0301@example.com", "José@example.com", "josé@example.com"}, // NFC
		{"user@Bücher.Example", "user@Bücher.Example", "user@xn--bcher-kva.example"},
		{"user@xn--bcher-kva.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example"},
		{"first.last+tag@sub.example.org", "first.last+tag@sub.example.org", "first.last+tag@sub.example.org"},
		{"u@example.com.", "u@example.com.", "u@example.com"},
	}
	for _, c := range cases {
		e, err := users.ParseEmail(c.in)
		if err != nil {
			t.Errorf("ParseEmail(%q): %v", c.in, err)
			continue
		}
		if e.String() != c.display || e.Normalized() != c.normalized {
			t.Errorf("ParseEmail(%q) = %q / %q, want %q / %q", c.in, e.String(), e.Normalized(), c.display, c.normalized)
		}
	}
	a, _ := users.ParseEmail("Alice@Example.COM")
	b, _ := users.ParseEmail("alice@example.com")
	if !a.Equal(b) {
		t.Error("Alice@Example.COM and alice@example.com must be one account")
	}
	for _, bad := range []string{"", "   ", "plain", "@example.com", "a@", "a@b@c.com", "a b@example.com", "a@localhost",
		"a@exa mple.com", ".a@example.com", "a..b@example.com", "a@-example-.com", "a@" + string(make([]byte, 300))} {
		_, err := users.ParseEmail(bad)
		var fe *users.FieldError
		if !errors.As(err, &fe) || fe.Field != "email" || !errors.Is(err, users.ErrValidation) {
			t.Errorf("ParseEmail(%q) = %v, want a FieldError on email", bad, err)
		}
	}
}

func TestParseUsername(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"abc", "U_Abc", "a1_b2_c3", "x234567890123456789012345678901"[:30]} {
		u, err := users.ParseUsername(ok)
		if err != nil || u.String() != ok {
			t.Errorf("ParseUsername(%q) = %v, %v", ok, u, err)
		}
	}
	for _, bad := range []string{"", "ab", "x234567890123456789012345678901", "has space", "dash-ed", "dót", "a.b"} {
		if _, err := users.ParseUsername(bad); !errors.Is(err, users.ErrValidation) {
			t.Errorf("ParseUsername(%q) = %v, want a validation error", bad, err)
		}
	}
	a, _ := users.ParseUsername("U_Abc")
	b, _ := users.ParseUsername("u_abc")
	if !a.Equal(b) || a.Normalized() != "u_abc" {
		t.Error("U_Abc and u_abc must be the same username")
	}
}

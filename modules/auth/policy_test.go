package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/users"
)

func TestCommonListIsEmbedded(t *testing.T) {
	t.Parallel()
	if n := auth.CommonPasswordCount(); n < 10000 {
		t.Fatalf("common password list has %d entries, want >= 10,000", n)
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	email, _ := users.ParseEmail("Grace.Hopper@Example.com")
	name, _ := users.ParseUsername("Admiral_G")
	cases := []struct {
		pw, code string
	}{
		{"short", "password_too_short"},
		{"123456789", "password_too_short"},
		{"ｐａｓｓ", "password_too_short"},
		{strings.Repeat("x", 129), "password_too_long"},
		{strings.Repeat("é", 128), ""},
		{"1234567890", "password_too_common"},
		{"QWERTYUIOP", "password_too_common"}, // case-insensitive
		{"ｑｗｅｒｔｙｕｉｏｐ", "password_too_common"}, // NFKC
		{"grace.hopper@example.com", "password_too_similar"},
		{"GRACE.HOPPER", "password_too_similar"},
		{"admiral_g!", ""},
		{"ADMIRAL_G0", ""},
		{"correct horse battery staple", ""},
	}
	for _, c := range cases {
		err := auth.CheckPassword("password", c.pw, email, name)
		var fe *users.FieldError
		switch {
		case c.code == "" && err != nil:
			t.Errorf("CheckPassword(%q) = %v, want nil", c.pw, err)
		case c.code != "" && (!errors.As(err, &fe) || fe.Code != c.code || fe.Field != "password"):
			t.Errorf("CheckPassword(%q) = %v, want %s", c.pw, err, c.code)
		}
	}
	if err := auth.CheckPassword("password", "Admiral_G1", email, name); err != nil {
		t.Errorf("near-username password refused: %v", err)
	}
	if err := auth.CheckPassword("password", "admiral_g", users.Email{}, name); err == nil {
		t.Error("password equal to the username (9 chars) accepted")
	}
	long, _ := users.ParseUsername("Admiral_Grace")
	if err := auth.CheckPassword("password", "admiral_grace", email, long); err == nil || !strings.Contains(err.Error(), "username") {
		t.Errorf("password equal to the username = %v", err)
	}
}

package auth

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/lenticular/lenticular/modules/users"
)

// Password length bounds, in characters after NFKC normalisation.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 128
)

//go:embed passwords/common.txt
var commonList string

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

func commonPasswords() map[string]struct{} {
	commonOnce.Do(func() {
		lines := strings.Split(commonList, "\n")
		common = make(map[string]struct{}, len(lines))
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				common[strings.ToLower(norm.NFKC.String(l))] = struct{}{}
			}
		}
	})
	return common
}

// CommonPasswordCount is the size of the embedded list (for tests and docs).
func CommonPasswordCount() int { return len(commonPasswords()) }

// NormalizePassword is the form that is hashed: NFKC, never truncated.
func NormalizePassword(pw string) string { return norm.NFKC.String(pw) }

// CheckPassword applies the password policy of API.md to a new password for
// the account with email and username (zero Username for none). field names
// the request field reported in the error.
func CheckPassword(field, pw string, email users.Email, username users.Username) error {
	fail := func(code, msg string) error {
		return &users.FieldError{Field: field, Code: code, Message: msg}
	}
	if !utf8.ValidString(pw) {
		return fail("invalid", "password is not valid UTF-8")
	}
	n := NormalizePassword(pw)
	switch l := utf8.RuneCountInString(n); {
	case l < MinPasswordLength:
		return fail("password_too_short", "password must be at least 10 characters")
	case l > MaxPasswordLength:
		return fail("password_too_long", "password must be at most 128 characters")
	}
	folded := strings.ToLower(n)
	if _, ok := commonPasswords()[folded]; ok {
		return fail("password_too_common", "this password is too common; choose another")
	}
	if !email.IsZero() {
		e := strings.ToLower(norm.NFKC.String(email.Normalized()))
		if folded == e || folded == strings.ToLower(norm.NFKC.String(email.LocalPart())) ||
			folded == strings.ToLower(norm.NFKC.String(email.String())) {
			return fail("password_too_similar", "password must not be your email address")
		}
	}
	if !username.IsZero() && folded == username.Normalized() {
		return fail("password_too_similar", "password must not be your username")
	}
	return nil
}

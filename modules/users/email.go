package users

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Email is an address as entered (trimmed) together with its normalised
// form: Unicode NFC, local part lower-cased, domain converted to ASCII
// (IDNA) and lower-cased. Two Emails are the same account when their
// normalised forms are equal.
type Email struct {
	address    string
	normalized string
}

// MaxEmailLength is the longest address accepted (RFC 5321 path limit).
const MaxEmailLength = 254

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.StrictDomainName(true))

// ParseEmail validates and normalises an address.
func ParseEmail(s string) (Email, error) {
	addr := strings.TrimSpace(s)
	bad := func(msg string) (Email, error) {
		return Email{}, &FieldError{Field: "email", Code: "invalid", Message: msg}
	}
	if addr == "" {
		return bad("email is required")
	}
	if !utf8.ValidString(addr) || utf8.RuneCountInString(addr) > MaxEmailLength {
		return bad("email is too long or not valid UTF-8")
	}
	addr = norm.NFC.String(addr)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 || strings.Count(addr, "@") != 1 {
		return bad("email must look like name@example.com")
	}
	local, domain := addr[:at], addr[at+1:]
	if len(local) > 64 || strings.ContainsFunc(local, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == '"' || r == '\\' || r == ','
	}) {
		return bad("email has an invalid local part")
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return bad("email has an invalid local part")
	}
	ascii, err := idnaProfile.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil || !strings.Contains(ascii, ".") || len(ascii) > 253 {
		return bad("email has an invalid domain")
	}
	return Email{address: addr, normalized: strings.ToLower(local) + "@" + strings.ToLower(ascii)}, nil
}

// String is the address as entered (trimmed, NFC): used for display and sending.
func (e Email) String() string { return e.address }

// Normalized is the comparison form, unique per account.
func (e Email) Normalized() string { return e.normalized }

// LocalPart is the normalised part before the '@'.
func (e Email) LocalPart() string {
	return e.normalized[:strings.LastIndexByte(e.normalized, '@')]
}

// Equal reports whether e and o are the same account's address.
func (e Email) Equal(o Email) bool { return e.normalized == o.normalized }

// IsZero reports whether e is the zero value.
func (e Email) IsZero() bool { return e.normalized == "" }

// RestoreEmail rebuilds an Email from its stored columns without checking
// them again (adapters loading rows).
func RestoreEmail(address, normalized string) Email {
	return Email{address: address, normalized: normalized}
}

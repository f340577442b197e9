package users

import "strings"

// Username is an optional public handle: 3 to 30 ASCII letters, digits or
// underscores, kept as entered and unique case-insensitively.
type Username struct {
	name string
}

// ParseUsername validates a username.
func ParseUsername(s string) (Username, error) {
	if len(s) < 3 || len(s) > 30 {
		return Username{}, &FieldError{Field: "username", Code: "invalid", Message: "username must be 3 to 30 characters"}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return Username{}, &FieldError{Field: "username", Code: "invalid", Message: "username may contain only ASCII letters, digits and underscores"}
		}
	}
	return Username{name: s}, nil
}

// RestoreUsername rebuilds a stored username ("" for none).
func RestoreUsername(s string) Username { return Username{name: s} }

// String is the username as entered.
func (u Username) String() string { return u.name }

// Normalized is the comparison form.
func (u Username) Normalized() string { return strings.ToLower(u.name) }

// IsZero reports whether there is no username.
func (u Username) IsZero() bool { return u.name == "" }

// Equal compares case-insensitively.
func (u Username) Equal(o Username) bool { return u.Normalized() == o.Normalized() }

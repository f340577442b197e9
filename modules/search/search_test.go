package search

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"  tuning  ", "tuning"},
		{"a\tb\nc\r\nd", "a b c d"},
		{"a\x00b", "a b"},
		{"bad\xffutf8", "bad utf8"},
		{"zero\u200bwidth", "zero width"},
		{"right\u202eto left", "right to left"},
		{"José Álvarez", "José Álvarez"},
		{`"quotes" NEAR(a*)`, `"quotes" NEAR(a*)`},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTerms(t *testing.T) {
	t.Parallel()
	many := strings.Repeat("w ", MaxTerms+5)
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Tuning PostgreSQL", []string{"tuning", "postgresql"}},
		{`"NEAR"(a* OR b:c) -d`, []string{"near", "a", "or", "b", "c", "d"}},
		{"José's café-au-lait", []string{"josé", "s", "café", "au", "lait"}},
		{"'; DROP TABLE links; --", []string{"drop", "table", "links"}},
		{"%_\\", nil},
		{"v2 4k", []string{"v2", "4k"}},
		{many, slices.Repeat([]string{"w"}, MaxTerms)},
	} {
		if got := Terms(Normalize(tc.in)); !slices.Equal(got, tc.want) {
			t.Errorf("Terms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOffsetCursor(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 20, MaxOffset} {
		if got, err := decodeOffset(encodeOffset(n)); err != nil || got != n {
			t.Errorf("offset %d: decoded %d, %v", n, got, err)
		}
	}
	if got, err := decodeOffset(""); got != 0 || err != nil {
		t.Errorf("no cursor: %d, %v", got, err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{"bogus!", enc("s1|0"), enc("s1|-5"), enc("s1|1001"), enc("s2|20"), enc("s1|x"),
		enc("s1|99999999999999999999"), enc("1|new|5|x")} {
		_, err := decodeOffset(bad)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "cursor" || !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("decodeOffset(%q) = %v; want a cursor field error", bad, err)
		}
	}
}

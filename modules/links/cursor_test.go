package links

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	id := uuid.Must(uuid.NewV7())
	at := time.Date(2026, 11, 27, 6, 30, 0, 123456000, time.UTC)
	for _, c := range []Cursor{
		{Sort: SortNew, Time: at, ID: id},
		{Sort: cursorSaved, Time: at, ID: id},
		{Sort: SortPopular, Count: 0, ID: id},
		{Sort: SortPopular, Count: math.MaxInt32, ID: id},
	} {
		got, err := DecodeCursor(EncodeCursor(c), c.Sort)
		if err != nil || got == nil || *got != c {
			t.Errorf("%+v: decoded %+v, %v", c, got, err)
		}
	}
	if got, err := DecodeCursor("", SortNew); got != nil || err != nil {
		t.Errorf("empty cursor: %+v, %v; want none", got, err)
	}
}

// Every cursor a client could forge is a 422 on field cursor, never a
// value the database cannot take.
func TestDecodeCursorRejects(t *testing.T) {
	t.Parallel()
	id := uuid.NewString()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name, cursor string
		sort         Sort
	}{
		{"not base64", "%%%", SortNew},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte("1|new|1|" + id)), SortNew},
		{"other sort", enc("1|popular|3|" + id), SortNew},
		{"other version", enc("2|new|3|" + id), SortNew},
		{"too few parts", enc("1|new|3"), SortNew},
		{"too many parts", enc("1|new|3|" + id + "|x"), SortNew},
		{"bad id", enc("1|new|3|nope"), SortNew},
		{"negative time", enc("1|new|-1|" + id), SortNew},
		{"time not a number", enc("1|new|soon|" + id), SortNew},
		{"time beyond int64", enc("1|new|9223372036854775808|" + id), SortNew},
		{"count beyond int32", enc("1|popular|" + strconv.Itoa(math.MaxInt32+1) + "|" + id), SortPopular},
		{"negative count", enc("1|popular|-5|" + id), SortPopular},
		{"too long", enc("1|new|1|" + id + string(make([]byte, 200))), SortNew},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeCursor(tc.cursor, tc.sort)
			var fe *FieldError
			if c != nil || !errors.As(err, &fe) || fe.Field != "cursor" || !errors.Is(err, ErrInvalidCursor) {
				t.Errorf("DecodeCursor = %+v, %v; want a cursor field error", c, err)
			}
		})
	}
}

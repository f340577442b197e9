package links

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// cursorSaved is the Sort of a cursor over one user's saves.
const cursorSaved Sort = "saved"

// EncodeCursor makes an opaque cursor: clients pass it back unchanged.
func EncodeCursor(c Cursor) string {
	var key string
	switch c.Sort {
	case SortPopular:
		key = strconv.Itoa(c.Count)
	default:
		key = strconv.FormatInt(c.Time.UnixMicro(), 10)
	}
	raw := "1|" + string(c.Sort) + "|" + key + "|" + c.ID.String()
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a cursor made by EncodeCursor for the given sort.
func DecodeCursor(s string, sort Sort) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := &FieldError{Field: "cursor", Code: "invalid", Err: ErrInvalidCursor}
	if len(s) > 200 {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 || parts[0] != "1" || Sort(parts[1]) != sort {
		return nil, bad
	}
	id, err := uuid.Parse(parts[3])
	if err != nil {
		return nil, bad
	}
	n, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || n < 0 {
		return nil, bad
	}
	c := &Cursor{Sort: sort, ID: id}
	if sort == SortPopular {
		if n > math.MaxInt32 { // saves_count is a 32-bit integer on PostgreSQL
			return nil, bad
		}
		c.Count = int(n)
	} else {
		c.Time = time.UnixMicro(n).UTC()
	}
	return c, nil
}

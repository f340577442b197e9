package gormdb

import (
	"context"
	"database/sql"

	"github.com/lenticular/lenticular/platform/database"
)

// queryRows runs a read statement through GORM, so the query log and
// tracing see it, and hands each row to scan. It is for reads on the hot
// paths (search): Raw(...).Scan renders the whole statement with its
// arguments for gorm's trace recorder on every call and fills structs by
// reflection, together a fifth of the server's time per search request.
func queryRows(ctx context.Context, db *database.DB, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := db.Conn(ctx).Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanProfile reads the columns of profileColumns.
func scanProfile(rows *sql.Rows) (profileRow, error) {
	var (
		p        profileRow
		username sql.NullString
	)
	if err := rows.Scan(&p.ID, &username, &p.DisplayName, &p.AvatarURL, &p.Bio, &p.CreatedAt); err != nil {
		return p, err
	}
	if username.Valid {
		p.Username = &username.String
	}
	return p, nil
}

// profilesOf collects the rows of a statement returning profileColumns.
func profilesOf(ctx context.Context, db *database.DB, query string, args ...any) ([]profileRow, error) {
	var out []profileRow
	err := queryRows(ctx, db, query, args, func(rows *sql.Rows) error {
		p, err := scanProfile(rows)
		out = append(out, p)
		return err
	})
	return out, err
}

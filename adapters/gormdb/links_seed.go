package gormdb

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/platform/database"
)

// Seeder inserts generated demo and benchmark data (lenticular seed)
// straight into the tables, in batches, idempotently: a row that already
// exists (same user id or email, same link URL, same save) is left alone.
type Seeder struct{ db *database.DB }

// NewSeeder returns the seeding port over db.
func NewSeeder(db *database.DB) *Seeder { return &Seeder{db: db} }

// SeedUser is a generated account. It has no password (password_hash ""):
// seeded users cannot sign in, they exist to be found and to save links.
type SeedUser struct {
	ID          uuid.UUID
	Email       string // already normalised
	Username    string // unique case-insensitively
	DisplayName string
	Bio         string
	CreatedAt   time.Time
}

// SeedSave is one save of a seeded link.
type SeedSave struct {
	User uuid.UUID
	At   time.Time
}

// SeedLink is a generated link; Saves[0] is its submitter.
type SeedLink struct {
	ID    uuid.UUID
	URL   string // canonical
	Title string
	Saves []SeedSave
}

// Users inserts the users that do not exist yet and returns how many it
// inserted.
func (s *Seeder) Users(ctx context.Context, us []SeedUser) (int, error) {
	if len(us) == 0 {
		return 0, nil
	}
	var inserted int64
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		var b strings.Builder
		b.WriteString(`INSERT INTO users (id, email, email_normalized, username, username_normalized, display_name, bio, created_at, updated_at) VALUES `)
		args := make([]any, 0, len(us)*9)
		for i, u := range us {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			at := dbTime(s.db, u.CreatedAt)
			args = append(args, u.ID, u.Email, u.Email, u.Username, strings.ToLower(u.Username), u.DisplayName, u.Bio, at, at)
		}
		b.WriteString(" ON CONFLICT DO NOTHING")
		res := s.db.Conn(ctx).Exec(b.String(), args...)
		inserted = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("seed users: %w", err)
	}
	return int(inserted), nil
}

// Links inserts the links whose URL is not known yet with their saves, and
// the saves missing from links that exist, then sets saves_count of every
// link of the batch from its saves. It returns how many links it inserted
// and how many it skipped because none of their savers exists.
//
// A seeded user is not there when a real account already held its e-mail
// address or username (Users left it out): its saves are left out, and the
// first remaining saver becomes the submitter.
func (s *Seeder) Links(ctx context.Context, ls []SeedLink) (inserted, skipped int, err error) {
	if len(ls) == 0 {
		return 0, 0, nil
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		tx := s.db.Conn(ctx)
		var lookupErr error
		if ls, skipped, lookupErr = s.withExistingSavers(ctx, ls); lookupErr != nil || len(ls) == 0 {
			return lookupErr
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO links (id, url, url_hash, domain, title, submitted_by, submitted_at, saves_count) VALUES `)
		args := make([]any, 0, len(ls)*8)
		for i, l := range ls {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, 0)")
			args = append(args, l.ID, l.URL, links.HashURL(l.URL), links.Host(l.URL), l.Title, l.Saves[0].User, dbTime(s.db, l.Saves[0].At))
		}
		b.WriteString(" ON CONFLICT DO NOTHING")
		res := tx.Exec(b.String(), args...)
		if res.Error != nil {
			return res.Error
		}
		inserted = int(res.RowsAffected)

		// Saves go to the link that holds the URL, whoever inserted it.
		row, cols, tail := "(decode(?, 'hex'), ?::uuid, ?, ?::timestamptz)",
			"AS v (url_hash, user_id, url, saved_at)", ""
		if s.db.Dialect == database.DialectSQLite {
			// SQLite names VALUES columns column1..column4, and a SELECT
			// feeding an upsert needs a WHERE clause.
			row, cols, tail = "(unhex(?), ?, ?, ?)", "AS v", " WHERE true"
		}
		sel := "SELECT l.id, v.user_id, v.url, v.saved_at"
		join := "JOIN links l ON l.url_hash = v.url_hash"
		if s.db.Dialect == database.DialectSQLite {
			sel = "SELECT l.id, v.column2, v.column3, v.column4"
			join = "JOIN links l ON l.url_hash = v.column1"
		}
		var b2 strings.Builder
		b2.WriteString(`INSERT INTO saves (link_id, user_id, submitted_url, saved_at) ` + sel + ` FROM (VALUES `)
		args = args[:0]
		n := 0
		for _, l := range ls {
			for _, sv := range l.Saves {
				if n > 0 {
					b2.WriteString(", ")
				}
				b2.WriteString(row)
				// Hex: GORM would expand a []byte argument here.
				args = append(args, hex.EncodeToString(links.HashURL(l.URL)), sv.User, l.URL, dbTime(s.db, sv.At))
				n++
			}
		}
		b2.WriteString(") " + cols + " " + join + tail + " ON CONFLICT DO NOTHING")
		if err := tx.Exec(b2.String(), args...).Error; err != nil {
			return err
		}
		hashes := make([][]byte, len(ls))
		for i, l := range ls {
			hashes[i] = links.HashURL(l.URL)
		}
		return tx.Exec(`UPDATE links SET saves_count = (SELECT count(*) FROM saves WHERE saves.link_id = links.id) WHERE url_hash IN ?`, hashes).Error
	})
	if err != nil {
		return 0, 0, fmt.Errorf("seed links: %w", err)
	}
	return inserted, skipped, nil
}

// withExistingSavers drops the saves of users that do not exist from ls,
// and the links left with no save.
func (s *Seeder) withExistingSavers(ctx context.Context, ls []SeedLink) ([]SeedLink, int, error) {
	ids := make([]uuid.UUID, 0, len(ls))
	for _, l := range ls {
		for _, sv := range l.Saves {
			ids = append(ids, sv.User)
		}
	}
	var found []uuid.UUID
	if err := s.db.Conn(ctx).Raw(`SELECT id FROM users WHERE id IN ?`, ids).Scan(&found).Error; err != nil {
		return nil, 0, err
	}
	exists := make(map[uuid.UUID]bool, len(found))
	for _, id := range found {
		exists[id] = true
	}
	out := make([]SeedLink, 0, len(ls))
	for _, l := range ls {
		saves := make([]SeedSave, 0, len(l.Saves))
		for _, sv := range l.Saves {
			if exists[sv.User] {
				saves = append(saves, sv)
			}
		}
		if len(saves) > 0 {
			l.Saves = saves
			out = append(out, l)
		}
	}
	return out, len(ls) - len(out), nil
}

// Analyze refreshes the planner's statistics after a bulk load, so the
// first queries already choose the search indexes. On PostgreSQL it also
// vacuums, which moves the GIN indexes' pending lists (fastupdate) into
// the indexes: with thousands of pending entries the planner rightly
// prefers sequential scans.
func (s *Seeder) Analyze(ctx context.Context) error {
	stmt := "ANALYZE"
	if s.db.Dialect == database.DialectPostgres {
		stmt = "VACUUM ANALYZE"
	}
	if err := s.db.Conn(ctx).Exec(stmt).Error; err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

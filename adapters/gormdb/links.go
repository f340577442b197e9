package gormdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/platform/database"
)

var (
	_ links.Repository = (*Links)(nil)
	_ links.Profiles   = (*Profiles)(nil)
)

// Links is the links.Repository on PostgreSQL and SQLite.
type Links struct{ db *database.DB }

// NewLinks returns the repository over db.
func NewLinks(db *database.DB) *Links { return &Links{db: db} }

const linkColumns = "id, url, domain, title, submitted_by, submitted_at, saves_count"

type linkRow struct {
	ID          uuid.UUID
	URL         string
	Domain      string
	Title       string
	SubmittedBy uuid.UUID
	SubmittedAt time.Time
	SavesCount  int
}

func (r linkRow) link() links.Link {
	return links.Link{
		ID: r.ID, URL: r.URL, Domain: r.Domain, Title: r.Title,
		SubmittedBy: r.SubmittedBy, SubmittedAt: r.SubmittedAt.UTC(), SavesCount: r.SavesCount,
	}
}

// sqliteTime is how times are stored on SQLite: fixed-width UTC text, so
// that comparing and sorting the text compares the times.
const sqliteTime = "2006-01-02 15:04:05.000000"

// dbTime is a time as a query parameter of db's dialect.
func dbTime(db *database.DB, t time.Time) any {
	if db.Dialect == database.DialectSQLite {
		return t.UTC().Format(sqliteTime)
	}
	return t.UTC()
}

// Save implements links.Repository. The unique key on url_hash decides
// which of several concurrent first saves creates the link: the others'
// INSERT ... ON CONFLICT DO NOTHING waits for it and then finds its row.
func (r *Links) Save(ctx context.Context, n links.NewLink, saver uuid.UUID, submitted string, at time.Time) (links.SaveResult, error) {
	var res links.SaveResult
	err := r.db.InTx(ctx, func(ctx context.Context) error {
		tx := r.db.Conn(ctx)
		var id uuid.UUID
		for attempt := 0; ; attempt++ {
			var ids []uuid.UUID
			if err := tx.Raw(`INSERT INTO links (id, url, url_hash, domain, title, submitted_by, submitted_at, saves_count)
				VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (url_hash) DO NOTHING RETURNING id`,
				n.ID, n.URL, n.Hash, n.Domain, n.Title, saver, dbTime(r.db, at)).Scan(&ids).Error; err != nil {
				return fmt.Errorf("insert link: %w", err)
			}
			if len(ids) == 1 {
				id, res.Created = ids[0], true
				break
			}
			if err := tx.Raw(`SELECT id FROM links WHERE url_hash = ?`+keyShare(r.db), n.Hash).Scan(&ids).Error; err != nil {
				return fmt.Errorf("find link: %w", err)
			}
			if len(ids) == 1 {
				id = ids[0]
				break
			}
			if attempt == 2 { // deleted between our insert and our read, three times
				return errors.New("link deleted while being saved")
			}
		}
		ins := tx.Exec(`INSERT INTO saves (link_id, user_id, submitted_url, saved_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (link_id, user_id) DO NOTHING`, id, saver, submitted, dbTime(r.db, at))
		if ins.Error != nil {
			return fmt.Errorf("insert save: %w", ins.Error)
		}
		res.Saved = ins.RowsAffected == 1
		var rows []linkRow
		if err := tx.Raw(`UPDATE links SET saves_count = saves_count + ?,
				title = CASE WHEN title = '' THEN ? ELSE title END
			WHERE id = ? RETURNING `+linkColumns, ins.RowsAffected, n.Title, id).Scan(&rows).Error; err != nil {
			return fmt.Errorf("count save: %w", err)
		}
		if len(rows) != 1 {
			return errors.New("link vanished while being saved")
		}
		res.Link = rows[0].link()
		return nil
	})
	return res, err
}

// keyShare locks the link found by Save against deletion until the save is
// committed. Without it a moderator's DELETE committed between that read
// and the save's INSERT made the INSERT fail on its foreign key; with it
// the DELETE waits and removes the link with the new save, or commits
// first and Save's read finds nothing and creates the link anew. SQLite
// needs no lock: its transactions take the write lock when they begin.
func keyShare(db *database.DB) string {
	if db.Dialect == database.DialectPostgres {
		return " FOR KEY SHARE"
	}
	return ""
}

// Get implements links.Repository.
func (r *Links) Get(ctx context.Context, id uuid.UUID) (links.Link, error) {
	var rows []linkRow
	if err := r.db.Conn(ctx).Raw(`SELECT `+linkColumns+` FROM links WHERE id = ?`, id).Scan(&rows).Error; err != nil {
		return links.Link{}, fmt.Errorf("get link: %w", err)
	}
	if len(rows) == 0 {
		return links.Link{}, links.ErrNotFound
	}
	return rows[0].link(), nil
}

// List implements links.Repository: both orders are index scans
// (links_new_idx, links_popular_idx) from the cursor's position.
func (r *Links) List(ctx context.Context, q links.ListQuery) ([]links.Link, error) {
	order, key := "submitted_at DESC, id DESC", "submitted_at"
	var after any
	if q.After != nil {
		after = dbTime(r.db, q.After.Time)
	}
	if q.Sort == links.SortPopular {
		order, key = "saves_count DESC, id DESC", "saves_count"
		if q.After != nil {
			after = q.After.Count
		}
	}
	var rows []linkRow
	var err error
	if q.After == nil {
		err = r.db.Conn(ctx).Raw(`SELECT `+linkColumns+` FROM links ORDER BY `+order+` LIMIT ?`, q.Limit).Scan(&rows).Error
	} else {
		err = r.db.Conn(ctx).Raw(`SELECT `+linkColumns+` FROM links WHERE (`+key+`, id) < (?, ?) ORDER BY `+order+` LIMIT ?`,
			after, q.After.ID, q.Limit).Scan(&rows).Error
	}
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	return toLinks(rows), nil
}

type savedRow struct {
	ID          uuid.UUID
	URL         string
	Domain      string
	Title       string
	SubmittedBy uuid.UUID
	SubmittedAt time.Time
	SavesCount  int
	SavedAt     time.Time
}

// SavedBy implements links.Repository (an index scan of saves_user_idx).
func (r *Links) SavedBy(ctx context.Context, user uuid.UUID, limit int, after *links.Cursor) ([]links.Saved, error) {
	const cols = `l.id, l.url, l.domain, l.title, l.submitted_by, l.submitted_at, l.saves_count, s.saved_at`
	var rows []savedRow
	var err error
	if after == nil {
		err = r.db.Conn(ctx).Raw(`SELECT `+cols+` FROM saves s JOIN links l ON l.id = s.link_id
			WHERE s.user_id = ? ORDER BY s.saved_at DESC, s.link_id DESC LIMIT ?`, user, limit).Scan(&rows).Error
	} else {
		err = r.db.Conn(ctx).Raw(`SELECT `+cols+` FROM saves s JOIN links l ON l.id = s.link_id
			WHERE s.user_id = ? AND (s.saved_at, s.link_id) < (?, ?) ORDER BY s.saved_at DESC, s.link_id DESC LIMIT ?`,
			user, dbTime(r.db, after.Time), after.ID, limit).Scan(&rows).Error
	}
	if err != nil {
		return nil, fmt.Errorf("list saves: %w", err)
	}
	out := make([]links.Saved, len(rows))
	for i, row := range rows {
		l := linkRow{row.ID, row.URL, row.Domain, row.Title, row.SubmittedBy, row.SubmittedAt, row.SavesCount}
		out[i] = links.Saved{Link: l.link(), SavedAt: row.SavedAt.UTC()}
	}
	return out, nil
}

// SavedAmong implements links.Repository.
func (r *Links) SavedAmong(ctx context.Context, user uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	out := map[uuid.UUID]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var found []uuid.UUID
	if err := r.db.Conn(ctx).Raw(`SELECT link_id FROM saves WHERE user_id = ? AND link_id `+inIDs(r.db), user, idsArg(r.db, ids)).Scan(&found).Error; err != nil {
		return nil, fmt.Errorf("load saves: %w", err)
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// Unsave implements links.Repository.
func (r *Links) Unsave(ctx context.Context, id, user uuid.UUID) error {
	return r.db.InTx(ctx, func(ctx context.Context) error {
		tx := r.db.Conn(ctx)
		del := tx.Exec(`DELETE FROM saves WHERE link_id = ? AND user_id = ?`, id, user)
		if del.Error != nil {
			return fmt.Errorf("delete save: %w", del.Error)
		}
		if del.RowsAffected == 0 {
			var n int64
			if err := tx.Raw(`SELECT count(*) FROM links WHERE id = ?`, id).Scan(&n).Error; err != nil {
				return fmt.Errorf("find link: %w", err)
			}
			if n == 0 {
				return links.ErrNotFound
			}
			return links.ErrNotSaved
		}
		if err := tx.Exec(`UPDATE links SET saves_count = saves_count - 1 WHERE id = ?`, id).Error; err != nil {
			return fmt.Errorf("count unsave: %w", err)
		}
		return nil
	})
}

// Delete implements links.Repository; the saves go with the link (ON
// DELETE CASCADE).
func (r *Links) Delete(ctx context.Context, id uuid.UUID) error {
	del := r.db.Conn(ctx).Exec(`DELETE FROM links WHERE id = ?`, id)
	if del.Error != nil {
		return fmt.Errorf("delete link: %w", del.Error)
	}
	if del.RowsAffected == 0 {
		return links.ErrNotFound
	}
	return nil
}

func toLinks(rows []linkRow) []links.Link {
	out := make([]links.Link, len(rows))
	for i, row := range rows {
		out[i] = row.link()
	}
	return out
}

// Profiles is links.Profiles read from the users table.
type Profiles struct{ db *database.DB }

// NewProfiles returns the profile reader over db.
func NewProfiles(db *database.DB) *Profiles { return &Profiles{db: db} }

type profileRow struct {
	ID          uuid.UUID
	Username    *string
	DisplayName string
	AvatarURL   string
	Bio         string
	CreatedAt   time.Time
}

func (p profileRow) profile() links.Profile {
	return links.Profile{ID: p.ID, Username: p.Username, DisplayName: p.DisplayName, AvatarURL: p.AvatarURL, Bio: p.Bio, CreatedAt: p.CreatedAt.UTC()}
}

const profileColumns = `id, username, COALESCE(display_name, '') AS display_name, COALESCE(avatar_url, '') AS avatar_url, COALESCE(bio, '') AS bio, created_at`

// PublicProfiles implements links.Profiles.
func (p *Profiles) PublicProfiles(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]links.Profile, error) {
	out := make(map[uuid.UUID]links.Profile, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := profilesOf(ctx, p.db, `SELECT `+profileColumns+` FROM users WHERE id `+inIDs(p.db), idsArg(p.db, ids))
	if err != nil {
		return nil, fmt.Errorf("load profiles: %w", err)
	}
	for _, row := range rows {
		out[row.ID] = row.profile()
	}
	return out, nil
}

// Active implements links.Profiles.
func (p *Profiles) Active(ctx context.Context, id uuid.UUID) (bool, error) {
	var n int64
	if err := p.db.Conn(ctx).Raw(`SELECT count(*) FROM users WHERE id = ? AND deleted_at IS NULL`, id).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("find user: %w", err)
	}
	return n > 0, nil
}

// uuidArray writes ids as the text of a PostgreSQL uuid[] ("{a,b}"). GORM
// expands a slice argument into one parameter per element, each a
// driver.Valuer that pgx encodes on its own, and every list length is
// another statement to prepare; a page of links loads its submitters and
// the caller's saves that way on every request. One text parameter cast
// on the server costs a fraction of that.
func uuidArray(ids []uuid.UUID) string {
	b := make([]byte, 0, 2+len(ids)*37)
	b = append(b, '{')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, id.String()...)
	}
	return string(append(b, '}'))
}

// inIDs is the membership test for idsArg: one array parameter on
// PostgreSQL, a list on SQLite.
func inIDs(db *database.DB) string {
	if db.Dialect == database.DialectPostgres {
		return "= ANY(CAST(CAST(? AS text) AS uuid[]))"
	}
	return "IN ?"
}

func idsArg(db *database.DB, ids []uuid.UUID) any {
	if db.Dialect == database.DialectPostgres {
		return uuidArray(ids)
	}
	return ids
}

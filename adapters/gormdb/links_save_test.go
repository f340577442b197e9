package gormdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/platform/database"
)

func newLink(canonical, title string) links.NewLink {
	return links.NewLink{
		ID: uuid.Must(uuid.NewV7()), URL: canonical, Hash: links.HashURL(canonical),
		Domain: links.Host(canonical), Title: title,
	}
}

// Each save keeps the URL as its saver sent it; the link keeps the
// canonical form.
func TestLinksSaveKeepsSubmittedURL(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := migrated(t, d.open)
			repo := gormdb.NewLinks(db)
			ctx := context.Background()
			alice, bob := insertUser(t, db, "alice", "Alice"), insertUser(t, db, "bob", "Bob")
			n := newLink("https://example.com/a?x=1", "A")
			submitted := map[uuid.UUID]string{
				alice: "HTTPS://Example.com/a/?x=1&utm_source=feed",
				bob:   "https://example.com:443/a?x=1#top",
			}
			var id uuid.UUID
			for _, u := range []uuid.UUID{alice, bob} {
				res, err := repo.Save(ctx, n, u, submitted[u], time.Now())
				if err != nil {
					t.Fatal(err)
				}
				id = res.Link.ID
			}
			var rows []struct {
				UserID       uuid.UUID
				SubmittedURL string
			}
			if err := db.Gorm.Raw(`SELECT user_id, submitted_url FROM saves WHERE link_id = ?`, id).Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 {
				t.Fatalf("%d saves, want 2", len(rows))
			}
			for _, r := range rows {
				if r.SubmittedURL != submitted[r.UserID] {
					t.Errorf("save of %v: submitted_url %q, want %q", r.UserID, r.SubmittedURL, submitted[r.UserID])
				}
			}
			var url string
			if err := db.Gorm.Raw(`SELECT url FROM links WHERE id = ?`, id).Scan(&url).Error; err != nil || url != n.URL {
				t.Errorf("link url %q (%v), want %q", url, err, n.URL)
			}
		})
	}
}

// A moderator deletes a link while someone saves its URL again: the save
// must not fail on the link's foreign key (it was a 500). A trigger on
// saves holds Save for a moment between finding the link and inserting the
// save, and the DELETE is run in that moment. SQLite serialises the two
// transactions, so the race cannot happen there.
func TestLinksSaveRacingDelete(t *testing.T) {
	t.Parallel()
	db := migrated(t, dialects[1].open)
	if db.Dialect != database.DialectPostgres {
		t.Fatal("want PostgreSQL")
	}
	repo := gormdb.NewLinks(db)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice, bob := insertUser(t, db, "alice", "Alice"), insertUser(t, db, "bob", "Bob")
	n := newLink("https://example.com/contested", "Contested")
	first, err := repo.Save(ctx, n, alice, n.URL, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec(`CREATE FUNCTION slow_save() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$;
		CREATE TRIGGER slow_save BEFORE INSERT ON saves FOR EACH ROW EXECUTE FUNCTION slow_save()`).Error; err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := repo.Save(ctx, n, bob, n.URL, time.Now())
		done <- err
	}()
	// Wait until Save is in the trigger, between finding the link and
	// inserting its save.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var n int64
		if err := db.Gorm.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Save never reached the trigger")
		}
	}
	if err := db.Gorm.WithContext(ctx).Exec(`DELETE FROM links WHERE id = ?`, first.Link.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("save racing a delete: %v", err)
	}
	// The delete waited for the save and then removed the link with it.
	var left int64
	if err := db.Gorm.Raw(`SELECT count(*) FROM saves WHERE link_id = ?`, first.Link.ID).Scan(&left).Error; err != nil || left != 0 {
		t.Errorf("saves left after the delete: %d (%v)", left, err)
	}
}

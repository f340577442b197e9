package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

// seedEnv points the command at a fresh database of the dialect (an empty
// DATA_DIR, and a fresh PostgreSQL database for "postgres") and returns
// the data directory.
func seedEnv(t *testing.T, dialect string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("APP_ENV", "development")
	t.Setenv("DATA_DIR", dir)
	t.Setenv("DATABASE_URL", "")
	if dialect == "postgres" {
		t.Setenv("DATABASE_URL", testenv.FreshPostgres(t))
	}
	return dir
}

func TestSeedIsIdempotent(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dir := seedEnv(t, dialect)
			seedRun := func(args ...string) string {
				t.Helper()
				var stdout, stderr bytes.Buffer
				if err := run(append([]string{"seed"}, args...), &stdout, &stderr); err != nil {
					t.Fatalf("seed %v: %v\n%s", args, err, stderr.String())
				}
				if !strings.Contains(stderr.String(), "links: ") {
					t.Errorf("no progress on stderr: %q", stderr.String())
				}
				return stdout.String()
			}
			out := seedRun("--users", "40", "--links", "300")
			if !strings.Contains(out, "users: 40 inserted") || !strings.Contains(out, "links: 300 inserted") {
				t.Fatalf("first run: %s", out)
			}
			out = seedRun("--users", "40", "--links", "300")
			if !strings.Contains(out, "users: 0 inserted, 40 already there") || !strings.Contains(out, "links: 0 inserted, 300 already there") {
				t.Fatalf("second run: %s", out)
			}
			out = seedRun("--users", "50", "--links", "350")
			if !strings.Contains(out, "users: 10 inserted") || !strings.Contains(out, "links: 50 inserted") {
				t.Fatalf("larger run: %s", out)
			}

			db, err := database.Open(context.Background(), database.Options{URL: databaseURL(t), DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var counts struct{ Users, Links, Saves, Bad int64 }
			db.Gorm.Raw(`SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM links) AS links,
				(SELECT count(*) FROM saves) AS saves,
				(SELECT count(*) FROM links WHERE saves_count <> (SELECT count(*) FROM saves WHERE link_id = links.id)) AS bad`).Scan(&counts)
			if counts.Users != 50 || counts.Links != 350 || counts.Saves < 350 || counts.Bad != 0 {
				t.Fatalf("counts %+v", counts)
			}
			var first struct {
				SubmittedBy string
				URL         string
			}
			db.Gorm.Raw(`SELECT l.submitted_by, l.url FROM links l LIMIT 1`).Scan(&first)
			if c, err := links.Canonicalize(first.URL); err != nil || c != first.URL {
				t.Fatalf("seeded URL %q is not canonical", first.URL)
			}
		})
	}
}

func databaseURL(t *testing.T) string {
	t.Helper()
	return os.Getenv("DATABASE_URL")
}

// Real accounts holding seeded usernames: those seeded users are left out,
// their saves too, and the run still completes with consistent counts.
func TestSeedAroundTakenUsernames(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dir := seedEnv(t, dialect)
			var stdout, stderr bytes.Buffer
			if err := run([]string{"migrate", "up"}, &stdout, &stderr); err != nil {
				t.Fatalf("migrate: %v\n%s", err, stderr.String())
			}
			db, err := database.Open(context.Background(), database.Options{URL: databaseURL(t), DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			taken := []int{0, 1, 2}
			for _, i := range taken {
				u := seedUser(i)
				id := uuid.Must(uuid.NewV7())
				if err := db.Gorm.Exec(`INSERT INTO users (id, email, email_normalized, username, username_normalized, display_name, created_at)
					VALUES (?, ?, ?, ?, ?, 'Real', ?)`, id, id.String()+"@real.example", id.String()+"@real.example",
					u.Username, strings.ToLower(u.Username), time.Now().UTC()).Error; err != nil {
					t.Fatal(err)
				}
			}

			stdout.Reset()
			if err := run([]string{"seed", "--users", "4", "--links", "300"}, &stdout, &stderr); err != nil {
				t.Fatalf("seed: %v\n%s", err, stderr.String())
			}
			out := stdout.String()
			var inserted, there, skipped int
			at := strings.Index(out, "links: ")
			if at < 0 {
				t.Fatalf("no links line in %q", out)
			}
			if _, err := fmt.Sscanf(out[at:], "links: %d inserted, %d already there, %d skipped", &inserted, &there, &skipped); err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if !strings.Contains(out, "users: 1 inserted, 3 already there") || inserted == 0 || skipped == 0 || there != 0 || inserted+skipped != 300 {
				t.Fatalf("output %q", out)
			}
			var counts struct{ Links, Taken, Bad int64 }
			err = db.Gorm.Raw(`SELECT (SELECT count(*) FROM links) AS links,
				(SELECT count(*) FROM saves s JOIN users u ON u.id = s.user_id WHERE u.display_name = 'Real') AS taken,
				(SELECT count(*) FROM links WHERE saves_count <> (SELECT count(*) FROM saves WHERE link_id = links.id)) AS bad`).Scan(&counts).Error
			if err != nil {
				t.Fatal(err)
			}
			if counts.Links != int64(inserted) || counts.Taken != 0 || counts.Bad != 0 {
				t.Fatalf("counts %+v after %q", counts, out)
			}
		})
	}
}

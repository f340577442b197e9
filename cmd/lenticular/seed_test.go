package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

func TestSeedIsIdempotent(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("APP_ENV", "development")
			t.Setenv("DATA_DIR", dir)
			t.Setenv("DATABASE_URL", "")
			if dialect == "postgres" {
				t.Setenv("DATABASE_URL", testenv.FreshPostgres(t))
			}
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

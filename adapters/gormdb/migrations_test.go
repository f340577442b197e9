package gormdb

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Both dialects must carry the same migrations: same numbers, same names,
// each with an Up and a Down section (see migrations/README.md).
func TestMigrationFilesMatchAcrossDialects(t *testing.T) {
	t.Parallel()
	name := regexp.MustCompile(`^\d{5}_[a-z0-9_]+\.sql$`)
	list := func(dir string) []string {
		entries, err := fs.ReadDir(migrationFiles, dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			if !name.MatchString(e.Name()) {
				t.Errorf("%s/%s: want NNNNN_snake_name.sql", dir, e.Name())
			}
			body, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
			if err != nil {
				t.Fatal(err)
			}
			for _, marker := range []string{"-- +goose Up", "-- +goose Down"} {
				if !strings.Contains(string(body), marker) {
					t.Errorf("%s/%s: missing %q", dir, e.Name(), marker)
				}
			}
			names = append(names, e.Name())
		}
		return names
	}
	pg, lite := list("migrations/postgres"), list("migrations/sqlite")
	if !slices.Equal(pg, lite) {
		t.Errorf("migrations differ between dialects:\npostgres: %v\nsqlite:   %v", pg, lite)
	}
	for i, n := range pg {
		if want := fmt.Sprintf("%05d_", i+1); !strings.HasPrefix(n, want) {
			t.Errorf("migration %d is %s: versions must be consecutive from 00001", i+1, n)
		}
	}
}

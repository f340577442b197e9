package mail

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFileSenderWritesParseableEML(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "mail", "out")
	s, err := NewFileSender(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() || info.Mode().Perm()&^0o750 != 0 {
		t.Fatalf("directory: %v, mode %v", err, info.Mode())
	}

	m := testMessage("job-31")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want 1 (no temporary file left)", len(entries))
	}
	name := entries[0].Name()
	if !strings.HasSuffix(name, "-job-31.eml") {
		t.Errorf("file name %q does not end in -job-31.eml", name)
	}
	stamp, _, _ := strings.Cut(name, "-")
	if _, err := time.Parse(fileTimeLayout, stamp); err != nil {
		t.Errorf("file name %q does not start with a time: %v", name, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	checkSameMessage(t, parseEML(t, raw), m)
}

func TestFileSenderNamesSortByTime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := NewFileSender(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A clock that stands still, then goes back: order must still hold.
	base := time.Date(2026, 11, 26, 22, 15, 3, 0, time.UTC)
	clock := []time.Time{base, base, base.Add(-time.Second), base.Add(time.Millisecond), base.Add(time.Hour)}
	s.now = func() time.Time { t := clock[0]; clock = clock[1:]; return t }

	// IDs chosen so their own order differs from the sending order.
	ids := []string{"z", "y", "", "x", "a b/../c"}
	for _, id := range ids {
		if err := s.Send(context.Background(), testMessage(id)); err != nil {
			t.Fatalf("Send(%q): %v", id, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != len(ids) {
		t.Fatalf("files %v, want %d", names, len(ids))
	}
	// os.ReadDir sorts by name: sending order must survive.
	for i, id := range []string{"-z.eml", "-y.eml", "", "-x.eml", "-ab.c.eml"} {
		if id != "" && !strings.HasSuffix(names[i], id) {
			t.Errorf("file %d is %q, want the one ending %q (names %v)", i, names[i], id, names)
		}
	}
	if !slices.IsSorted(names) || names[0] != "20261126T221503.000000000Z-z.eml" {
		t.Errorf("names = %v", names)
	}
	for _, n := range names {
		if strings.ContainsAny(strings.TrimSuffix(n, ".eml"), "/ ") {
			t.Errorf("unsafe file name %q", n)
		}
	}
}

func TestFileSenderBadMessageWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := NewFileSender(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("x")
	m.From = "nobody"
	if err := s.Send(context.Background(), m); !isPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("directory holds %d entries", len(entries))
	}
}

func TestNewFileSenderRejectsUnusableDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", filepath.Join(file, "sub")} {
		if _, err := NewFileSender(dir); err == nil {
			t.Errorf("NewFileSender(%q) succeeded", dir)
		}
	}
}

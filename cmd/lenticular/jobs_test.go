package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJobsAndMailCommands(t *testing.T) {
	t.Setenv("DATA_DIR", t.TempDir())
	list := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(list, []byte("email,name\nada@example.com,Ada\nADA@EXAMPLE.COM,Ada again\nnot-an-address,X\ngrace@example.org,Grace\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	batch := []string{"mail", "batch", "--template", "announcement", "--to", list, "--data", "subject=News", "--data", "body=Hello"}
	steps := []struct {
		name     string
		args     []string
		exit     int
		stdout   string
		errMatch string
	}{
		{name: "jobs before migrating", args: []string{"jobs", "list"}, exit: 1, errMatch: "run lenticular migrate up"},
		{name: "migrate", args: []string{"migrate", "up"}, stdout: "applied river"},
		{name: "jobs without list", args: []string{"jobs"}, exit: 2, errMatch: "usage: lenticular jobs list"},
		{name: "jobs bad state", args: []string{"jobs", "list", "--state", "bogus"}, exit: 1, errMatch: `unknown state "bogus"`},
		{name: "jobs bad limit", args: []string{"jobs", "list", "--limit", "0"}, exit: 2, errMatch: "--limit"},
		{name: "no jobs yet", args: []string{"jobs", "list"}, stdout: "(no jobs)"},
		{name: "mail without batch", args: []string{"mail"}, exit: 2, errMatch: "usage: lenticular mail batch"},
		{name: "batch without --to", args: []string{"mail", "batch", "--template", "announcement"}, exit: 2, errMatch: "usage: lenticular mail batch"},
		{name: "batch bad --data", args: []string{"mail", "batch", "--template", "announcement", "--to", list, "--data", "oops"}, exit: 2, errMatch: "key=value"},
		{name: "batch unknown template", args: []string{"mail", "batch", "--template", "nope", "--to", list}, exit: 1, errMatch: `unknown template "nope"`},
		{name: "batch missing file", args: []string{"mail", "batch", "--template", "announcement", "--to", list + ".missing"}, exit: 1, errMatch: "--to:"},
		{name: "batch missing template data", args: []string{"mail", "batch", "--template", "announcement", "--to", list}, exit: 1, errMatch: "subject"},
		{name: "batch", args: batch, stdout: "queued 2, skipped 1 duplicates, 1 invalid"},
		{name: "batch again", args: batch, stdout: "queued 0, skipped 3 duplicates, 1 invalid"},
		{name: "jobs listed", args: []string{"jobs", "list", "--state", "available"}, stdout: "send_email  available"},
		{name: "no failed jobs", args: []string{"jobs", "list", "--state", "failed"}, stdout: "(no jobs)"},
		{name: "worker takes no arguments", args: []string{"worker", "now"}, exit: 2, errMatch: "worker takes no arguments"},
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		err := run(s.args, &stdout, &stderr)
		code := 0
		if err != nil {
			code = exitCode(err)
		}
		if code != s.exit {
			t.Fatalf("%s: exit %d, want %d (err %v, stderr %s)", s.name, code, s.exit, err, stderr.String())
		}
		if s.stdout != "" && !strings.Contains(stdout.String(), s.stdout) {
			t.Errorf("%s: stdout %q lacks %q", s.name, stdout.String(), s.stdout)
		}
		if s.errMatch != "" {
			if err == nil || !strings.Contains(err.Error(), s.errMatch) {
				t.Errorf("%s: error %v lacks %q", s.name, err, s.errMatch)
			} else if strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error must be one line: %q", s.name, err)
			}
		}
	}
}

func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	p := &progressBar{w: &out}
	p.update(500, 2000)
	p.update(1000, 2000) // within 100 ms of the last draw: skipped
	p.update(2000, 2000) // the last one is always drawn
	p.done()
	want := "\r[=======>                      ] 500/2000  25%" +
		"\r[==============================] 2000/2000 100%\n"
	if out.String() != want {
		t.Errorf("progress output\n%q\nwant\n%q", out.String(), want)
	}
}

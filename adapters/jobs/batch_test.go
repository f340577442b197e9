package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lenticular/lenticular/modules/notify"
)

func TestParseRecipients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		want        []string
		wantData    []map[string]string
		duplicates  int
		invalidLine []int
	}{
		{
			name: "one address per line",
			in: "ada@example.com\n\n  # a comment\nGrace Hopper <grace@example.org>\r\n" +
				"ADA@Example.com\nnot-an-address\nbob@localhost\nalice@.example.com\ncarol@example.com.\n" +
				"dave@exa..mple.com\n  eve@example.com  \n",
			want:        []string{"ada@example.com", "grace@example.org", "eve@example.com"},
			duplicates:  1,
			invalidLine: []int{6, 7, 8, 9, 10},
		},
		{
			name: "CSV with a header",
			in: "\xef\xbb\xbfName,Email,city\n" +
				"Ada,ada@example.com,London\n" +
				`"Hopper, Grace", grace@example.org ,Arlington` + "\n" +
				"Dup,ADA@EXAMPLE.COM,Paris\n" +
				"Bad,nope,Nowhere\n" +
				"Short\n",
			want: []string{"ada@example.com", "grace@example.org"},
			wantData: []map[string]string{
				{"Name": "Ada", "city": "London"},
				{"Name": "Hopper, Grace", "city": "Arlington"},
			},
			duplicates:  1,
			invalidLine: []int{5, 6},
		},
		{
			name:        "single email column",
			in:          "email\nada@example.com\n\nx@y\n",
			want:        []string{"ada@example.com"},
			wantData:    []map[string]string{nil},
			invalidLine: []int{4},
		},
		{
			name: "commas without an email header are lines",
			in:   "ada@example.com, grace@example.org\n",
			// Two addresses on one line is not one address.
			invalidLine: []int{1},
		},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseRecipients([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, rc := range r.List {
				got = append(got, rc.Email)
				if tt.wantData != nil && fmt.Sprint(rc.Data) != fmt.Sprint(tt.wantData[i]) {
					t.Errorf("data of %s = %v, want %v", rc.Email, rc.Data, tt.wantData[i])
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("recipients = %v, want %v", got, tt.want)
			}
			if r.Duplicates != tt.duplicates {
				t.Errorf("duplicates = %d, want %d", r.Duplicates, tt.duplicates)
			}
			var lines []int
			for _, inv := range r.Invalid {
				lines = append(lines, inv.Line)
			}
			if fmt.Sprint(lines) != fmt.Sprint(tt.invalidLine) {
				t.Errorf("invalid lines = %v, want %v", lines, tt.invalidLine)
			}
		})
	}
}

func TestBatchID(t *testing.T) {
	t.Parallel()
	a := BatchID([]byte("ada@example.com\n"), "welcome")
	if a != BatchID([]byte("ada@example.com\n"), "welcome") {
		t.Error("BatchID is not stable")
	}
	if a == BatchID([]byte("ada@example.com\n"), "digest") || a == BatchID([]byte("grace@example.com\n"), "welcome") {
		t.Error("BatchID ignores the template or the file")
	}
	if got := BatchKey("b1", "Ada@Example.COM"); got != "batch:b1:ada@example.com" {
		t.Errorf("BatchKey = %q", got)
	}
}

// A 10,000-line file with case-variant duplicates and bad lines queues one
// job per distinct valid address, and running it again queues nothing.
func TestEnqueueBatch(t *testing.T) {
	t.Parallel()
	const (
		unique     = 9_000
		duplicates = 600
		invalid    = 400
	)
	var b strings.Builder
	for i := range unique {
		fmt.Fprintf(&b, "user%d@example.com\n", i)
		switch {
		case i < duplicates:
			fmt.Fprintf(&b, "User%d@EXAMPLE.com\n", i) // the same person
		case i < duplicates+invalid:
			fmt.Fprintf(&b, []string{"user%d@@example.com\n", "user%d at example.com\n", "user%d@localhost\n", "<user%d@\n"}[i%4], i)
		}
	}
	content := []byte(b.String())

	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			if testing.Short() && d.name == "postgres" {
				t.Skip("SQLite covers it in -short")
			}
			tdb := d.open(t)
			j := newJobs(t, tdb, nil, testOptions(tdb))
			ctx := context.Background()
			r, err := ParseRecipients(content)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.List) != unique || r.Duplicates != duplicates || len(r.Invalid) != invalid {
				t.Fatalf("parsed %d recipients, %d duplicates, %d invalid; want %d, %d, %d",
					len(r.List), r.Duplicates, len(r.Invalid), unique, duplicates, invalid)
			}
			batch := Batch{ID: BatchID(content, "newsletter"), Template: "newsletter", Recipients: r.List,
				Data: map[string]string{"issue": "42"}}
			var progress []int
			batch.Progress = func(done, total int) {
				if total != unique {
					t.Errorf("progress total = %d", total)
				}
				progress = append(progress, done)
			}
			began := time.Now()
			res, err := j.EnqueueBatch(ctx, batch)
			t.Logf("first run: %s", time.Since(began))
			if err != nil {
				t.Fatal(err)
			}
			if res.Queued != unique || res.AlreadyQueued != 0 {
				t.Fatalf("first run = %+v, want %d queued", res, unique)
			}
			if len(progress) != (unique+499)/500 || progress[len(progress)-1] != unique {
				t.Errorf("progress = %v, want one call per 500 ending at %d", progress, unique)
			}
			if n := countJobs(t, tdb); n != unique {
				t.Fatalf("river_job rows = %d, want %d", n, unique)
			}

			batch.Progress = nil
			began = time.Now()
			res, err = j.EnqueueBatch(ctx, batch)
			t.Logf("re-run: %s", time.Since(began))
			if err != nil {
				t.Fatal(err)
			}
			if res.Queued != 0 || res.AlreadyQueued != unique {
				t.Fatalf("re-run = %+v, want 0 queued and %d already queued", res, unique)
			}
			if n := countJobs(t, tdb); n != unique {
				t.Fatalf("river_job rows after re-run = %d, want %d", n, unique)
			}
			list, err := j.List(ctx, "available", 1)
			if err != nil || len(list) != 1 {
				t.Fatalf("List = %v, %v", list, err)
			}
			row, err := j.client.JobGet(ctx, list[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			var args notify.Email
			if err := json.Unmarshal(row.EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			if args.Template != "newsletter" || args.Data["issue"] != "42" || args.Key != BatchKey(batch.ID, args.To) {
				t.Errorf("job args = %s", row.EncodedArgs)
			}
		})
	}
}

func countJobs(t *testing.T, tdb *testDB) int {
	t.Helper()
	var n int
	if err := tdb.SQL.QueryRow("SELECT COUNT(*) FROM river_job").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

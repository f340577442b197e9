package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/lenticular/lenticular/modules/notify"
)

// TestQueue is the contract of the job queue, run on every dialect.
func TestQueue(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			queueSuite(t, d.open)
		})
	}
}

func queueSuite(t *testing.T, open func(testing.TB) *testDB) {
	ctx := context.Background()

	t.Run("rollback leaves no job, commit runs it exactly once", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		if _, err := tdb.SQL.Exec("CREATE TABLE accounts (email TEXT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		fake := &fakeDeliverer{}
		j := newJobs(t, tdb, fake, testOptions(tdb))
		boom := errors.New("boom")
		signUp := func(to string, fail bool) error {
			return tdb.InTx(ctx, func(ctx context.Context) error {
				if err := tdb.Conn(ctx).Exec("INSERT INTO accounts (email) VALUES (?)", to).Error; err != nil {
					return err
				}
				if err := j.Enqueue(ctx, email(to)); err != nil {
					return err
				}
				if fail {
					return boom
				}
				return nil
			})
		}

		if err := signUp("rolled@example.com", true); !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if list := jobsOf(t, j); len(list) != 0 {
			t.Fatalf("jobs after rollback = %+v, want none", list)
		}

		if err := signUp("ada@example.com", false); err != nil {
			t.Fatal(err)
		}
		job := onlyJob(t, j)
		if job.Kind != KindSendEmail {
			t.Errorf("kind = %q, want %q", job.Kind, KindSendEmail)
		}
		waitState(t, j, job.ID, "completed")
		time.Sleep(200 * time.Millisecond) // room for a wrong second run
		calls := fake.Calls()
		if len(calls) != 1 {
			t.Fatalf("Deliver called %d times, want 1: %+v", len(calls), calls)
		}
		if got := calls[0].Email; got.To != "ada@example.com" || got.Template != "welcome" || got.Data["name"] != "Ada" {
			t.Errorf("delivered %+v", got)
		}
		if want := messageID(job.ID, job.CreatedAt); calls[0].MessageID != want {
			t.Errorf("message id = %q, want %q", calls[0].MessageID, want)
		}
		if fake.count("rolled@example.com") != 0 {
			t.Error("the rolled-back email was delivered")
		}
		if n := sentRows(t, tdb.DB); n != 1 {
			t.Errorf("sent_emails rows = %d, want 1", n)
		}
	})

	t.Run("a failing delivery is retried", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		fake := &fakeDeliverer{fn: func(_ context.Context, _ notify.Email, n int) error {
			if n <= 2 {
				return fmt.Errorf("attempt %d: %w", n, errFlaky)
			}
			return nil
		}}
		j := newJobs(t, tdb, fake, testOptions(tdb))
		if err := j.Enqueue(ctx, email("flaky@example.com")); err != nil {
			t.Fatal(err)
		}
		job := waitState(t, j, onlyJob(t, j).ID, "completed")
		if job.Attempt != 3 || job.Errors != 2 {
			t.Errorf("attempt %d with %d errors, want attempt 3 after 2 errors", job.Attempt, job.Errors)
		}
		if n := fake.count("flaky@example.com"); n != 3 {
			t.Errorf("Deliver called %d times, want 3", n)
		}
		if ids := uniqueMessageIDs(fake.Calls()); len(ids) != 1 {
			t.Errorf("message ids across retries = %v, want one", ids)
		}
	})

	t.Run("a failure waits as retryable, with backoff", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		fake := &fakeDeliverer{fn: func(context.Context, notify.Email, int) error { return errFlaky }}
		o := testOptions(tdb)
		o.RetryPolicy = slowRetry{} // River schedules retries due within 5 s as available
		j := newJobs(t, tdb, fake, o)
		if err := j.Enqueue(ctx, email("later@example.com")); err != nil {
			t.Fatal(err)
		}
		id := onlyJob(t, j).ID
		job := waitState(t, j, id, "retryable")
		if job.Attempt != 1 || !strings.Contains(job.LastError, errFlaky.Error()) {
			t.Errorf("retryable job = %+v, want attempt 1 with the provider's error", job)
		}
		row, err := j.client.JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if wait := time.Until(row.ScheduledAt); wait < 30*time.Second {
			t.Errorf("next attempt in %s, want a backoff", wait)
		}
		if list, err := j.List(ctx, "retryable", 10); err != nil || len(list) != 1 {
			t.Errorf("List(retryable) = %+v, %v", list, err)
		}
	})

	t.Run("a delivery that always fails is discarded after MaxAttempts", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		fake := &fakeDeliverer{fn: func(context.Context, notify.Email, int) error { return errFlaky }}
		j := newJobs(t, tdb, fake, testOptions(tdb))
		if err := j.Enqueue(ctx, email("down@example.com")); err != nil {
			t.Fatal(err)
		}
		job := waitState(t, j, onlyJob(t, j).ID, "discarded")
		if job.Attempt != 3 || job.Errors != 3 {
			t.Errorf("discarded after attempt %d with %d errors, want 3 and 3", job.Attempt, job.Errors)
		}
		time.Sleep(200 * time.Millisecond)
		if n := fake.count("down@example.com"); n != 3 {
			t.Errorf("Deliver called %d times, want MaxAttempts = 3", n)
		}
		failed, err := j.List(ctx, "failed", 10)
		if err != nil || len(failed) != 1 || failed[0].ID != job.ID || !strings.Contains(failed[0].LastError, errFlaky.Error()) {
			t.Errorf("List(failed) = %+v, %v; want the discarded job with its error", failed, err)
		}
		if n := sentRows(t, tdb.DB); n != 0 {
			t.Errorf("sent_emails rows = %d, want 0", n)
		}
	})

	t.Run("a permanent failure cancels the job at once", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		fake := &fakeDeliverer{fn: func(context.Context, notify.Email, int) error {
			return fmt.Errorf("550 no such mailbox: %w", notify.ErrPermanent)
		}}
		j := newJobs(t, tdb, fake, testOptions(tdb))
		if err := j.Enqueue(ctx, email("nobody@example.com")); err != nil {
			t.Fatal(err)
		}
		job := waitState(t, j, onlyJob(t, j).ID, "cancelled")
		time.Sleep(200 * time.Millisecond)
		if n := fake.count("nobody@example.com"); n != 1 {
			t.Errorf("Deliver called %d times, want 1", n)
		}
		if job.Attempt != 1 || !strings.Contains(job.LastError, "550 no such mailbox") {
			t.Errorf("cancelled job = %+v, want attempt 1 with the provider's answer", job)
		}
		if failed, err := j.List(ctx, "failed", 10); err != nil || len(failed) != 1 {
			t.Errorf("List(failed) = %+v, %v", failed, err)
		}
	})

	t.Run("an email with a Key is queued once", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		ins := newJobs(t, tdb, nil, testOptions(tdb)) // insert-only: nothing runs yet
		e := email("key@example.com")
		e.Key = "welcome:42"
		for range 3 {
			if err := ins.Enqueue(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := tdb.InTx(ctx, func(ctx context.Context) error { return ins.Enqueue(ctx, e) }); err != nil {
			t.Fatal(err)
		}
		other := e
		other.To, other.Key, other.Data = "grace@example.com", "welcome:43", map[string]string{"name": "Grace"}
		if err := ins.Enqueue(ctx, other); err != nil {
			t.Fatal(err)
		}
		changed := e
		changed.Data = map[string]string{"name": "changed"} // same Key, other data: still the same email
		if err := ins.Enqueue(ctx, changed); err != nil {
			t.Fatal(err)
		}
		if list := jobsOf(t, ins); len(list) != 2 {
			t.Fatalf("jobs = %d, want 2 (one per Key)", len(list))
		}
		n, err := ins.EnqueueMany(ctx, []notify.Email{e, other})
		if err != nil || n != 0 {
			t.Fatalf("EnqueueMany of known keys = %d, %v; want 0", n, err)
		}

		// Once worked, the Key still blocks a new job...
		fake := &fakeDeliverer{}
		w := newJobs(t, tdb, fake, testOptions(tdb))
		for _, job := range jobsOf(t, w) {
			waitState(t, w, job.ID, "completed")
		}
		if err := ins.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
		if list := jobsOf(t, w); len(list) != 2 {
			t.Fatalf("jobs after completion = %d, want 2", len(list))
		}
		// ...and after River cleaned the finished jobs away, sent_emails
		// still keeps the email from going out twice.
		if _, err := tdb.SQL.Exec("DELETE FROM river_job"); err != nil {
			t.Fatal(err)
		}
		if err := ins.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
		waitState(t, w, onlyJob(t, w).ID, "completed")
		if n := fake.count("key@example.com"); n != 1 {
			t.Errorf("Deliver called %d times for one Key, want 1", n)
		}
	})

	t.Run("a job run again after its send was recorded sends nothing", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		fake := &fakeDeliverer{}
		j := newJobs(t, tdb, fake, testOptions(tdb))
		if err := j.Enqueue(ctx, email("once@example.com")); err != nil {
			t.Fatal(err)
		}
		id := onlyJob(t, j).ID
		waitState(t, j, id, "completed")
		// Make River run it again, as a rescue or a manual retry would.
		if _, err := j.client.JobRetry(ctx, id); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the job to run again", func() (bool, error) {
			row, err := j.client.JobGet(ctx, id)
			return err == nil && row.State == rivertype.JobStateCompleted && row.Attempt == 2, err
		})
		if n := fake.count("once@example.com"); n != 1 {
			t.Errorf("Deliver called %d times, want 1", n)
		}
	})

	t.Run("no email is lost between commit and send", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		// The process that commits dies before any worker sees the job.
		ins, err := New(tdb.DB, nil, testOptions(tdb))
		if err != nil {
			t.Fatal(err)
		}
		if err := tdb.InTx(ctx, func(ctx context.Context) error { return ins.Enqueue(ctx, email("kept@example.com")) }); err != nil {
			t.Fatal(err)
		}
		ins.Close()
		// Another process starts later and delivers it.
		fake := &fakeDeliverer{}
		w := newJobs(t, tdb, fake, testOptions(tdb))
		waitState(t, w, onlyJob(t, w).ID, "completed")
		if n := fake.count("kept@example.com"); n != 1 {
			t.Errorf("Deliver called %d times, want 1", n)
		}
	})

	t.Run("enqueue validates the email", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		j := newJobs(t, tdb, nil, testOptions(tdb))
		for _, e := range []notify.Email{{Template: "welcome"}, {To: "a@example.com"}, {To: " ", Template: "x"}} {
			if err := j.Enqueue(ctx, e); err == nil {
				t.Errorf("Enqueue(%+v) succeeded", e)
			}
		}
	})

	t.Run("list filters by state", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		j := newJobs(t, tdb, nil, testOptions(tdb))
		for i := range 3 {
			if err := j.Enqueue(ctx, email(fmt.Sprintf("u%d@example.com", i))); err != nil {
				t.Fatal(err)
			}
		}
		all, err := j.List(ctx, "", 0)
		if err != nil || len(all) != 3 {
			t.Fatalf("List() = %d jobs, %v; want 3", len(all), err)
		}
		if all[0].ID < all[2].ID {
			t.Error("List is not newest first")
		}
		if got, err := j.List(ctx, "available", 2); err != nil || len(got) != 2 || got[0].State != "available" {
			t.Errorf("List(available, 2) = %+v, %v", got, err)
		}
		if got, err := j.List(ctx, "failed", 10); err != nil || len(got) != 0 {
			t.Errorf("List(failed) = %+v, %v", got, err)
		}
		for _, bad := range []struct {
			state string
			limit int
		}{{"broken", 10}, {"available", -1}, {"available", MaxListLimit + 1}} {
			if _, err := j.List(ctx, bad.state, bad.limit); err == nil {
				t.Errorf("List(%q, %d) succeeded", bad.state, bad.limit)
			}
		}
	})
}

// slowRetry retries after a minute: long enough to see the job wait.
type slowRetry struct{}

func (slowRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Minute) }

func uniqueMessageIDs(calls []call) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range calls {
		if !seen[c.MessageID] {
			seen[c.MessageID] = true
			out = append(out, c.MessageID)
		}
	}
	return out
}

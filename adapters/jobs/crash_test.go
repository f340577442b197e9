package jobs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/lenticular/lenticular/modules/notify"
	"github.com/lenticular/lenticular/platform/database"
)

// TestCrashSafety shows that a job interrupted mid-delivery, by a shutdown
// or by the process dying, is delivered by the next worker.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			crashSuite(t, d.open)
		})
	}
}

func crashSuite(t *testing.T, open func(testing.TB) *testDB) {
	ctx := context.Background()

	t.Run("a job cancelled by shutdown runs again after restart", func(t *testing.T) {
		t.Parallel()
		tdb := open(t)
		stuck := &fakeDeliverer{
			started: make(chan call, 1),
			fn: func(ctx context.Context, _ notify.Email, _ int) error {
				<-ctx.Done() // an SMTP server that never answers
				return ctx.Err()
			},
		}
		o := testOptions(tdb)
		o.SoftStopTimeout = 300 * time.Millisecond
		first, err := New(tdb.DB, stuck, o)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		if err := first.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := first.Enqueue(ctx, email("restart@example.com")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-stuck.started:
		case <-time.After(10 * time.Second):
			t.Fatal("the job never started")
		}
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		began := time.Now()
		if err := first.Stop(stopCtx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if took := time.Since(began); took < o.SoftStopTimeout || took > 5*time.Second {
			t.Errorf("Stop took %s, want the soft stop timeout (%s) and then a prompt cancel", took, o.SoftStopTimeout)
		}
		job := onlyJob(t, first)
		if job.State != "available" {
			t.Fatalf("after shutdown the job is %s, want available", job.State)
		}

		fake := &fakeDeliverer{}
		second := newJobs(t, tdb, fake, testOptions(tdb))
		waitState(t, second, job.ID, "completed")
		if n := fake.count("restart@example.com"); n != 1 {
			t.Errorf("after restart Deliver called %d times, want 1", n)
		}
	})

	t.Run("a job whose worker process was killed runs again after restart", func(t *testing.T) {
		t.Parallel()
		if testing.Short() {
			t.Skip("starts a worker process")
		}
		tdb := open(t)
		ins, err := New(tdb.DB, nil, testOptions(tdb))
		if err != nil {
			t.Fatal(err)
		}
		if err := ins.Enqueue(ctx, email("killed@example.com")); err != nil {
			t.Fatal(err)
		}
		id := onlyJob(t, ins).ID

		// A worker in another process takes the job and is killed (SIGKILL)
		// while delivering it: nothing gets recorded, the job stays running.
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$")
		cmd.Env = append(os.Environ(), "JOBS_TEST_WORKER=1", "JOBS_TEST_URL="+tdb.url, "JOBS_TEST_DIR="+tdb.dataDir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		started := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if line := sc.Text(); strings.HasPrefix(line, "started ") {
					started <- line
				}
			}
		}()
		select {
		case line := <-started:
			if line != fmt.Sprintf("started %d", id) {
				t.Fatalf("worker process said %q, want started %d", line, id)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the worker process never started the job")
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		killedAt := time.Now()
		if job := onlyJob(t, ins); job.State != "running" {
			t.Fatalf("after the kill the job is %s, want running", job.State)
		}

		// The next worker's rescuer finds the job stuck (running for longer
		// than RescueStuckJobsAfter) and it is delivered.
		o := testOptions(tdb)
		o.JobTimeout, o.RescueStuckJobsAfter = 500*time.Millisecond, time.Second
		time.Sleep(time.Until(killedAt.Add(o.RescueStuckJobsAfter + 100*time.Millisecond)))
		fake := &fakeDeliverer{}
		w := newJobs(t, tdb, fake, o)
		job := waitState(t, w, id, "completed")
		if n := fake.count("killed@example.com"); n != 1 {
			t.Errorf("after the rescue Deliver called %d times, want 1", n)
		}
		if job.Errors != 1 || !strings.Contains(job.LastError, "Stuck job rescued") {
			t.Errorf("rescued job = %+v, want one rescue error", job)
		}
	})
}

// TestWorkerProcess is the worker that the kill test starts in a process of
// its own; it does nothing in a normal run.
func TestWorkerProcess(t *testing.T) {
	if os.Getenv("JOBS_TEST_WORKER") != "1" {
		return // not a skip: CI counts skips as failures
	}
	url, dir := os.Getenv("JOBS_TEST_URL"), os.Getenv("JOBS_TEST_DIR")
	db, err := database.Open(context.Background(), database.Options{URL: url, DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker process:", err)
		os.Exit(1)
	}
	hang := &fakeDeliverer{fn: func(context.Context, notify.Email, int) error { select {} }}
	o := testOptions(&testDB{url: url})
	o.Tune = func(c *river.Config) {
		c.TestOnly = true
		// The killed process must not hold River's leadership: a new leader
		// would wait for its lease to expire (about 15 s) before rescuing.
		c.LeaderElectionDisabled = true
	}
	j, err := New(db, &announcer{next: hang}, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker process:", err)
		os.Exit(1)
	}
	if err := j.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "worker process:", err)
		os.Exit(1)
	}
	select {} // until killed
}

// announcer prints the job id on standard output before delivering.
type announcer struct{ next Deliverer }

func (a *announcer) Deliver(ctx context.Context, e notify.Email, messageID string) error {
	id, _, _ := strings.Cut(strings.TrimPrefix(messageID, "job-"), ".")
	fmt.Printf("started %s\n", id)
	return a.next.Deliver(ctx, e, messageID)
}

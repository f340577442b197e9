package jobs

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lenticular/lenticular/modules/notify"
)

// BenchmarkEnqueue measures queueing one email (one insert, its own
// transaction), and a batch chunk of 500 in one transaction.
func BenchmarkEnqueue(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			tdb := d.open(b)
			j := newJobs(b, tdb, nil, testOptions(tdb))
			ctx := context.Background()
			i := 0
			for b.Loop() {
				i++
				if err := j.Enqueue(ctx, email(fmt.Sprintf("u%d@example.com", i))); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
		b.Run(d.name+"/many500", func(b *testing.B) {
			tdb := d.open(b)
			j := newJobs(b, tdb, nil, testOptions(tdb))
			ctx := context.Background()
			emails := make([]notify.Email, 500)
			n := 0
			for b.Loop() {
				for k := range emails {
					n++
					emails[k] = email(fmt.Sprintf("u%d@example.com", n))
				}
				if _, err := j.EnqueueMany(ctx, emails); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

// BenchmarkLatency measures the time from Enqueue returning to the worker
// starting the job, with River's default fetch settings (FetchCooldown
// 100 ms, FetchPollInterval 1 s). On PostgreSQL the insert's NOTIFY reaches
// the worker's LISTEN connection; on SQLite River polls a notification table
// every 50 ms. Jobs are queued one at a time, 150 ms apart (longer than
// FetchCooldown, which also throttles insert notifications), the way
// transactional emails arrive; a job queued sooner after the previous one
// is picked up by the next fetch instead, at most FetchCooldown later when
// the queue is busy or FetchPollInterval when idle.
func BenchmarkLatency(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			tdb := d.open(b)
			o := testOptions(tdb)
			o.FetchCooldown, o.FetchPollInterval = 0, 0 // River's defaults
			fake := &fakeDeliverer{started: make(chan call, 1)}
			j := newJobs(b, tdb, fake, o)
			ctx := context.Background()
			time.Sleep(500 * time.Millisecond) // let the listener settle
			var lat []time.Duration
			i := 0
			for b.Loop() {
				i++
				b.StopTimer()
				time.Sleep(150 * time.Millisecond)
				b.StartTimer()
				if err := j.Enqueue(ctx, email(fmt.Sprintf("u%d@example.com", i))); err != nil {
					b.Fatal(err)
				}
				queued := time.Now()
				select {
				case c := <-fake.started:
					lat = append(lat, c.At.Sub(queued))
				case <-time.After(10 * time.Second):
					b.Fatal("job not started within 10s")
				}
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.9), "p90-ms")
			b.ReportMetric(pct(1), "max-ms")
		})
	}
}

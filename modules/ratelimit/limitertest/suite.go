// Package limitertest is the contract every ratelimit.Limiter must honour.
// Each adapter's tests call Run with a constructor; an adapter that passes is
// interchangeable with the others, which is what lets the embedded mode run
// in-process and production run on Redis without the product noticing.
//
// The contract, as checked below:
//   - GCRA with burst = Rate: a fresh key admits exactly Rate events at once,
//     then one more every Period/Rate; idle time never banks more than Rate.
//   - Remaining counts down Rate-1, ..., 0 over a burst; a refusal reports
//     Remaining 0, 0 < RetryAfter <= Period/Rate and 0 < ResetAfter <= Period.
//   - A refused event is not counted: retrying does not push RetryAfter out.
//   - Keys are independent, each with whatever Limit its caller passes.
//   - Reset makes the next event see a full bucket; resetting an unknown key
//     is not an error.
//   - Concurrent Allow calls on one key admit exactly Rate events in total.
//   - A Limit with Rate or Period not positive fails with ErrInvalidLimit.
//   - A context that is already done makes Allow and Reset return an error
//     wrapping ctx.Err() without touching the key. This binds the in-process
//     adapter too, although it never blocks: callers get the same answer
//     whichever adapter is wired in.
//
// Only the refill test sleeps, and it asserts only what waiting can cause
// (after RetryAfter an event is admitted, after ResetAfter the bucket is
// full). The other tests use periods of a minute or more, so a slow or
// loaded machine cannot change their answers. Every subtest uses a key with
// a random suffix so state left in Redis by an earlier run cannot interfere.
package limitertest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenticular/lenticular/modules/ratelimit"
)

// fuzz absorbs rounding in durations: redis_rate computes in float seconds
// since 2017, which is exact to about a microsecond, not a nanosecond.
const fuzz = time.Millisecond

// Run runs the contract suite. newLimiter is called once per subtest and may
// register cleanups on the t it is given; subtests run in parallel.
func Run(t *testing.T, newLimiter func(t *testing.T) ratelimit.Limiter) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, l ratelimit.Limiter)
	}{
		{"burst admits exactly Rate and Remaining counts down", testBurst},
		{"refused events are not counted", testRefusalNotCounted},
		{"keys are independent", testKeysIndependent},
		{"different limits on different keys", testDifferentLimits},
		{"reset clears the key", testReset},
		{"bucket refills over time", testRefill},
		{"concurrent allow admits exactly Rate", testConcurrent},
		{"invalid limit is an error", testInvalidLimit},
		{"done context is an error and counts nothing", testDoneContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newLimiter(t))
		})
	}
}

// uniqueKey names a key after the test plus a random suffix.
func uniqueKey(t *testing.T, label string) string {
	t.Helper()
	name := strings.NewReplacer(" ", "_", "/", ".").Replace(t.Name())
	return "test:" + name + ":" + label + ":" + rand.Text()
}

func allow(t *testing.T, l ratelimit.Limiter, key string, limit ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := l.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("Allow(%q, %+v): %v", key, limit, err)
	}
	return r
}

// interval is the GCRA emission interval: one event per Period/Rate.
func interval(limit ratelimit.Limit) time.Duration {
	return limit.Period / time.Duration(limit.Rate)
}

// expectAllowed checks the i-th (0-based) event of a burst on a fresh bucket.
func expectAllowed(t *testing.T, r ratelimit.Result, limit ratelimit.Limit, i int) {
	t.Helper()
	want := limit.Rate - 1 - i
	if !r.Allowed || r.Limit != limit.Rate || r.Remaining != want || r.RetryAfter != 0 {
		t.Fatalf("event %d of %d/%s: got %+v, want Allowed, Limit %d, Remaining %d, RetryAfter 0",
			i+1, limit.Rate, limit.Period, r, limit.Rate, want)
	}
	if r.ResetAfter <= 0 || r.ResetAfter > limit.Period+fuzz {
		t.Fatalf("event %d of %d/%s: ResetAfter %s, want in (0, %s]", i+1, limit.Rate, limit.Period, r.ResetAfter, limit.Period)
	}
}

// expectRefused checks a refusal and returns it.
func expectRefused(t *testing.T, r ratelimit.Result, limit ratelimit.Limit) ratelimit.Result {
	t.Helper()
	if r.Allowed || r.Limit != limit.Rate || r.Remaining != 0 {
		t.Fatalf("%d/%s: got %+v, want refused with Limit %d, Remaining 0", limit.Rate, limit.Period, r, limit.Rate)
	}
	if r.RetryAfter <= 0 || r.RetryAfter > interval(limit)+fuzz {
		t.Fatalf("%d/%s: RetryAfter %s, want in (0, %s]", limit.Rate, limit.Period, r.RetryAfter, interval(limit))
	}
	if r.ResetAfter <= 0 || r.ResetAfter > limit.Period+fuzz {
		t.Fatalf("%d/%s: ResetAfter %s, want in (0, %s]", limit.Rate, limit.Period, r.ResetAfter, limit.Period)
	}
	return r
}

// burst spends a fresh bucket and checks the refusal that follows.
func burst(t *testing.T, l ratelimit.Limiter, key string, limit ratelimit.Limit) ratelimit.Result {
	t.Helper()
	for i := range limit.Rate {
		expectAllowed(t, allow(t, l, key, limit), limit, i)
	}
	return expectRefused(t, allow(t, l, key, limit), limit)
}

func testBurst(t *testing.T, l ratelimit.Limiter) {
	for _, limit := range []ratelimit.Limit{
		{Rate: 1, Period: time.Minute},
		{Rate: 3, Period: time.Minute},
		{Rate: 7, Period: time.Minute}, // Period/Rate is not a whole number of nanoseconds
		{Rate: 20, Period: time.Minute},
		{Rate: 10, Period: 15 * time.Minute},
		{Rate: 100, Period: time.Hour},
		{Rate: 1200, Period: time.Hour}, // large enough for batches when leased
	} {
		t.Run(fmt.Sprintf("%d per %s", limit.Rate, limit.Period), func(t *testing.T) {
			refused := burst(t, l, uniqueKey(t, "k"), limit)
			// The whole burst took far less than one interval, so the
			// bucket is empty: it is full again only after about Period.
			if refused.ResetAfter < limit.Period-interval(limit) {
				t.Fatalf("ResetAfter %s after a burst of %d, want about %s", refused.ResetAfter, limit.Rate, limit.Period)
			}
		})
	}
}

func testRefusalNotCounted(t *testing.T, l ratelimit.Limiter) {
	limit := ratelimit.Limit{Rate: 2, Period: time.Minute}
	key := uniqueKey(t, "k")
	first := burst(t, l, key, limit)
	for range 5 {
		again := expectRefused(t, allow(t, l, key, limit), limit)
		if again.RetryAfter > first.RetryAfter || again.ResetAfter > first.ResetAfter {
			t.Fatalf("retrying while refused pushed the wait out: first %+v, then %+v", first, again)
		}
	}
}

func testKeysIndependent(t *testing.T, l ratelimit.Limiter) {
	limit := ratelimit.Limit{Rate: 2, Period: time.Minute}
	a := uniqueKey(t, "a")
	burst(t, l, a, limit)
	// Keys that share a prefix with the spent one, or extend it, are untouched.
	for _, other := range []string{a + "x", a + ":b", a[:len(a)-1], uniqueKey(t, "b")} {
		expectAllowed(t, allow(t, l, other, limit), limit, 0)
	}
	expectRefused(t, allow(t, l, a, limit), limit)
}

func testDifferentLimits(t *testing.T, l ratelimit.Limiter) {
	type bucket struct {
		key     string
		limit   ratelimit.Limit
		allowed int
	}
	buckets := []*bucket{
		{key: uniqueKey(t, "one-per-hour"), limit: ratelimit.Limit{Rate: 1, Period: time.Hour}},
		{key: uniqueKey(t, "two-per-minute"), limit: ratelimit.Limit{Rate: 2, Period: time.Minute}},
		{key: uniqueKey(t, "five-per-minute"), limit: ratelimit.Limit{Rate: 5, Period: time.Minute}},
		{key: uniqueKey(t, "ten-per-15m"), limit: ratelimit.Limit{Rate: 10, Period: 15 * time.Minute}},
	}
	// Interleave the keys so that any cross-talk would show.
	for range 12 {
		for _, b := range buckets {
			r := allow(t, l, b.key, b.limit)
			if r.Limit != b.limit.Rate {
				t.Fatalf("%s: Limit %d, want %d", b.key, r.Limit, b.limit.Rate)
			}
			if r.Allowed {
				b.allowed++
			}
		}
	}
	for _, b := range buckets {
		if b.allowed != b.limit.Rate {
			t.Errorf("%s: admitted %d of 12, want %d", b.key, b.allowed, b.limit.Rate)
		}
	}
}

func testReset(t *testing.T, l ratelimit.Limiter) {
	ctx := context.Background()
	limit := ratelimit.Limit{Rate: 3, Period: time.Hour}
	key := uniqueKey(t, "k")
	burst(t, l, key, limit)
	if err := l.Reset(ctx, key); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	burst(t, l, key, limit) // a full bucket again, and only one

	// A partly used key resets to full as well.
	allow(t, l, key+"partial", limit)
	if err := l.Reset(ctx, key+"partial"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	expectAllowed(t, allow(t, l, key+"partial", limit), limit, 0)

	for _, unknown := range []string{uniqueKey(t, "never-used"), key + "partial"} {
		if err := l.Reset(ctx, unknown); err != nil {
			t.Fatalf("Reset of an unused key: %v", err)
		}
		if err := l.Reset(ctx, unknown); err != nil {
			t.Fatalf("second Reset of the same key: %v", err)
		}
	}
}

func testRefill(t *testing.T, l ratelimit.Limiter) {
	// One event per 500ms: large enough that a burst of a few calls finishes
	// well inside one interval even on a loaded machine under -race.
	limit := ratelimit.Limit{Rate: 2, Period: time.Second}
	const slack = 100 * time.Millisecond
	key := uniqueKey(t, "k")

	refused := burst(t, l, key, limit)
	time.Sleep(refused.RetryAfter + slack)
	r := allow(t, l, key, limit)
	if !r.Allowed {
		t.Fatalf("refused %s after a RetryAfter of %s: %+v", refused.RetryAfter+slack, refused.RetryAfter, r)
	}

	// Idle for a whole Period past ResetAfter: the bucket is full again, and
	// holds Rate events, not more; idle time is not banked.
	time.Sleep(r.ResetAfter + limit.Period)
	burst(t, l, key, limit)
}

func testConcurrent(t *testing.T, l ratelimit.Limiter) {
	for _, c := range []struct {
		goroutines int
		limit      ratelimit.Limit
	}{
		{50, ratelimit.Limit{Rate: 10, Period: time.Minute}},
		{400, ratelimit.Limit{Rate: 300, Period: time.Hour}}, // large enough for batches when leased
	} {
		t.Run(fmt.Sprintf("%d per %s", c.limit.Rate, c.limit.Period), func(t *testing.T) {
			testConcurrentLimit(t, l, c.goroutines, c.limit)
		})
	}
}

func testConcurrentLimit(t *testing.T, l ratelimit.Limiter, goroutines int, limit ratelimit.Limit) {
	key := uniqueKey(t, "k")

	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		remaining []int
		refused   int
		errs      []error
		start     = make(chan struct{})
	)
	for range goroutines {
		wg.Go(func() {
			<-start
			r, err := l.Allow(context.Background(), key, limit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case r.Allowed:
				remaining = append(remaining, r.Remaining)
			default:
				refused++
			}
		})
	}
	close(start)
	wg.Wait()

	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Allow: %v", err)
	}
	if len(remaining) != limit.Rate || refused != goroutines-limit.Rate {
		t.Fatalf("admitted %d and refused %d of %d, want %d and %d",
			len(remaining), refused, goroutines, limit.Rate, goroutines-limit.Rate)
	}
	// Each admitted event saw its own count: Remaining 9, 8, ..., 0 once each.
	slices.Sort(remaining)
	for i, got := range remaining {
		if got != i {
			t.Fatalf("Remaining of the admitted events %v, want each of 0..%d once", remaining, limit.Rate-1)
		}
	}
}

func testInvalidLimit(t *testing.T, l ratelimit.Limiter) {
	for _, limit := range []ratelimit.Limit{
		{},
		{Rate: 0, Period: time.Minute},
		{Rate: -1, Period: time.Minute},
		{Rate: 10, Period: 0},
		{Rate: 10, Period: -time.Second},
	} {
		_, err := l.Allow(context.Background(), uniqueKey(t, "k"), limit)
		if !errors.Is(err, ratelimit.ErrInvalidLimit) {
			t.Errorf("Allow with %+v: error %v, want ErrInvalidLimit", limit, err)
		}
	}
}

func testDoneContext(t *testing.T, l ratelimit.Limiter) {
	limit := ratelimit.Limit{Rate: 3, Period: time.Hour}
	key := uniqueKey(t, "k")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := l.Allow(cancelled, key, limit); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with a cancelled context: error %v, want context.Canceled", err)
	}
	expectAllowed(t, allow(t, l, key, limit), limit, 0) // the failed call counted nothing

	if err := l.Reset(cancelled, key); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reset with a cancelled context: error %v, want context.Canceled", err)
	}
	expectAllowed(t, allow(t, l, key, limit), limit, 1) // and reset nothing

	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	if _, err := l.Allow(expired, key, limit); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Allow with an expired context: error %v, want context.DeadlineExceeded", err)
	}
	expectAllowed(t, allow(t, l, key, limit), limit, 2)
}

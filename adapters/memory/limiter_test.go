package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lenticular/lenticular/modules/ratelimit"
	"github.com/lenticular/lenticular/modules/ratelimit/limitertest"
)

func TestLimiterContract(t *testing.T) {
	t.Parallel()
	limitertest.Run(t, func(*testing.T) ratelimit.Limiter { return NewLimiter() })
}

func TestLimiterEvictsIdleKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter()
	l.now = func() time.Time { return clock }
	l.nextSweep = clock.Add(l.sweepEvery)

	perSecond := ratelimit.Limit{Rate: 1, Period: time.Second}
	perDay := ratelimit.Limit{Rate: 1, Period: 24 * time.Hour}
	mustAllow := func(key string, limit ratelimit.Limit) ratelimit.Result {
		t.Helper()
		r, err := l.Allow(ctx, key, limit)
		if err != nil {
			t.Fatalf("Allow(%q): %v", key, err)
		}
		return r
	}
	keys := func() int {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.tat)
	}

	for i := range 1000 {
		mustAllow(fmt.Sprintf("idle-%d", i), perSecond)
	}
	mustAllow("busy", perDay)
	if got := keys(); got != 1001 {
		t.Fatalf("%d keys before any sweep, want 1001", got)
	}

	// Idle for longer than their period but not yet time to sweep: kept.
	clock = clock.Add(l.sweepEvery / 2)
	mustAllow("trigger", perSecond)
	if got := keys(); got != 1002 {
		t.Fatalf("%d keys before sweepEvery passed, want 1002 (no sweep yet)", got)
	}

	// Past sweepEvery: every key whose bucket is full again goes.
	clock = clock.Add(l.sweepEvery)
	mustAllow("trigger", perSecond)
	if got := keys(); got != 2 {
		t.Fatalf("%d keys after a sweep, want 2 (busy and trigger)", got)
	}
	if r := mustAllow("busy", perDay); r.Allowed {
		t.Fatalf("a key still inside its period was evicted: %+v", r)
	}
	if r := mustAllow("idle-0", perSecond); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("an evicted key must answer like a fresh one: %+v", r)
	}
}

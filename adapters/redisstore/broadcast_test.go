package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/lenticular/lenticular/adapters/redisstore"
	"github.com/lenticular/lenticular/modules/auth"
	"github.com/lenticular/lenticular/modules/auth/authtest"
	"github.com/lenticular/lenticular/modules/users"
)

// instance is one server's view: its own Redis client (so its pub/sub
// connection can be killed alone), Broadcast and near session cache.
type instance struct {
	rdb   *redis.Client
	name  string
	bus   *redisstore.Broadcast
	cache *redisstore.SessionCache
}

// channel isolates a test's instances from every other test's: a
// subscriber elsewhere on the server would be counted by PUBLISH.
func channel() string { return "lt:test:inv:" + rand.Text() }

func newInstance(t *testing.T, o redisstore.BroadcastOptions) *instance {
	t.Helper()
	if o.Channel == "" {
		t.Fatal("give each test its own channel")
	}
	base := newRedis(t)
	opts := *base.Options()
	name := "lt-test-" + strings.ToLower(rand.Text()[:10])
	opts.ClientName = name
	rdb := redis.NewClient(&opts)
	t.Cleanup(func() { _ = rdb.Close() })
	bus := redisstore.NewBroadcast(rdb, slog.New(slog.NewTextHandler(io.Discard, nil)), o)
	in := &instance{rdb: rdb, name: name, bus: bus, cache: redisstore.NewNearSessionCache(rdb, bus, time.Minute)}
	bus.Start()
	t.Cleanup(bus.Stop)
	waitFor(t, "subscription", bus.Healthy)
	return in
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// killPubSub closes the instance's subscription from the server side, as a
// Redis restart or a network cut would.
func (in *instance) killPubSub(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	list, err := in.rdb.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.SplitSeq(list, "\n") {
		if !strings.Contains(line, " name="+in.name+" ") || !strings.Contains(line, " flags=P ") {
			continue
		}
		for f := range strings.FieldsSeq(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				if err := in.rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
					t.Fatal(err)
				}
				killed++
			}
		}
	}
	if killed == 0 {
		t.Fatalf("no subscription of %s in CLIENT LIST:\n%s", in.name, list)
	}
}

func active(uid users.ID) auth.SessionState {
	return auth.SessionState{Status: auth.StatusActive, UserID: uid, Role: users.RoleUser}
}

func TestNearSessionCacheContract(t *testing.T) {
	t.Parallel()
	newRedis(t)
	authtest.RunCache(t, func(t *testing.T) auth.SessionCache {
		return newInstance(t, redisstore.BroadcastOptions{Channel: channel()}).cache
	})
}

// A revocation written through one instance is what every other instance
// answers the moment Set returns, although they serve sessions from their
// in-process copies.
func TestNearSessionCacheAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := redisstore.BroadcastOptions{Channel: channel()}
	a, b := newInstance(t, o), newInstance(t, o)
	sid, uid := uuid.New(), users.ID(uuid.New())
	if err := b.cache.Fill(ctx, sid, active(uid), time.Minute); err != nil {
		t.Fatal(err)
	}
	if st, ok, err := a.cache.Get(ctx, sid); err != nil || !ok || st.Status != auth.StatusActive {
		t.Fatalf("a.Get = %+v %v %v", st, ok, err)
	}
	// a now answers without Redis: delete the key behind its back.
	if err := a.rdb.Del(ctx, "lt:sess:"+sid.String()).Err(); err != nil {
		t.Fatal(err)
	}
	if st, ok, _ := a.cache.Get(ctx, sid); !ok || st.Status != auth.StatusActive {
		t.Fatalf("a did not answer from its in-process copy: %+v %v", st, ok)
	}

	if err := b.cache.Set(ctx, sid, auth.SessionState{Status: auth.StatusRevoked}, time.Minute); err != nil {
		t.Fatalf("b.Set: %v", err)
	}
	if st, ok, err := a.cache.Get(ctx, sid); err != nil || !ok || st.Status != auth.StatusRevoked {
		t.Fatalf("right after b revoked, a.Get = %+v %v %v; want revoked", st, ok, err)
	}

	if err := a.cache.Fill(ctx, sid, active(uid), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.cache.Delete(ctx, sid); err != nil {
		t.Fatalf("b.Delete: %v", err)
	}
	if _, ok, err := a.cache.Get(ctx, sid); err != nil || ok {
		t.Fatalf("after b deleted, a.Get found = %v (%v); want a miss", ok, err)
	}
}

// Readers racing writers never keep a value older than the last write that
// returned: the generation check refuses to store a value read before an
// invalidation that overtook it.
func TestNearSessionCacheReadersRacingWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := redisstore.BroadcastOptions{Channel: channel()}
	a, b := newInstance(t, o), newInstance(t, o)
	sid := uuid.New()
	roles := []users.Role{users.RoleUser, users.RoleModerator, users.RoleAdmin}
	uid := users.ID(uuid.New())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					_, _, _ = a.cache.Get(ctx, sid)
				}
			}
		})
	}
	for i := range 200 {
		want := auth.SessionState{Status: auth.StatusActive, UserID: uid, Role: roles[i%len(roles)]}
		if err := b.cache.Set(ctx, sid, want, time.Minute); err != nil {
			t.Fatalf("Set %d: %v", i, err)
		}
		if got, ok, err := a.cache.Get(ctx, sid); err != nil || !ok || got != want {
			close(stop)
			wg.Wait()
			t.Fatalf("write %d: a.Get = %+v %v %v, want %+v", i, got, ok, err, want)
		}
	}
	close(stop)
	wg.Wait()
}

// Without a live subscription an instance may miss invalidations, so it
// stops answering from its copies until it has subscribed again.
func TestNearSessionCacheLostSubscription(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newInstance(t, redisstore.BroadcastOptions{PingEvery: 200 * time.Millisecond, Channel: channel()})
	sid, uid := uuid.New(), users.ID(uuid.New())
	if err := a.cache.Fill(ctx, sid, active(uid), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.cache.Get(ctx, sid); !ok {
		t.Fatal("miss after Fill")
	}
	a.killPubSub(t)
	waitFor(t, "the loss to be noticed", func() bool { return !a.bus.Healthy() })
	// A revocation published while a was deaf: only Redis has it.
	if err := a.rdb.Set(ctx, "lt:sess:"+sid.String(), "r", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resubscription", a.bus.Healthy)
	if st, ok, err := a.cache.Get(ctx, sid); err != nil || !ok || st.Status != auth.StatusRevoked {
		t.Fatalf("after resubscribing a.Get = %+v %v %v; its old copy must be gone", st, ok, err)
	}
}

// An instance that subscribes but never confirms (stalled, partitioned)
// makes Invalidate report it instead of pretending the write is seen.
func TestBroadcastUnconfirmed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := redisstore.BroadcastOptions{AckTimeout: 100 * time.Millisecond, Channel: channel()}
	a := newInstance(t, o)
	deaf := newRedis(t).Subscribe(ctx, o.Channel)
	t.Cleanup(func() { _ = deaf.Close() })
	if _, err := deaf.Receive(ctx); err != nil { // the subscription confirmation
		t.Fatal(err)
	}
	err := a.bus.Invalidate(ctx, "s:"+uuid.NewString())
	if !errors.Is(err, redisstore.ErrUnconfirmed) {
		t.Fatalf("Invalidate with a silent subscriber = %v, want ErrUnconfirmed", err)
	}
}

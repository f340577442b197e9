package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/adapters/redisstore"
	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/modules/users/userstest"
	"github.com/lenticular/lenticular/platform/database"
	"github.com/lenticular/lenticular/platform/testenv"
)

// The accounts near cache keeps the users.Repository contract over the real
// store (transactions, row locks), with its copies in play: each subtest
// runs on a fresh PostgreSQL database behind a live Broadcast.
func TestUserCacheContract(t *testing.T) {
	t.Parallel()
	rurl := testenv.RedisURL(t)
	userstest.Run(t, func(t *testing.T) users.Repository {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		db, err := database.Open(ctx, database.Options{URL: testenv.FreshPostgres(t), MaxOpenConns: 10, MaxIdleConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		m, err := gormdb.NewMigrator(db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		opts, err := redis.ParseURL(rurl)
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opts)
		t.Cleanup(func() { _ = rdb.Close() })
		bus := redisstore.NewBroadcast(rdb, slog.New(slog.DiscardHandler), redisstore.BroadcastOptions{Channel: "lt:test:usercache:" + t.Name()})
		bus.Start()
		t.Cleanup(bus.Stop)
		for deadline := time.Now().Add(10 * time.Second); !bus.Healthy(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no subscription")
			}
		}
		return redisstore.NewUserCache(gormdb.NewUsers(db), bus, 100, time.Minute)
	})
}

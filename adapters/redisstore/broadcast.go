package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// DefaultChannel carries "<origin> <seq> <key> [<key>...]": every instance
// drops those keys from its in-process caches and acknowledges on the
// origin's own channel, <channel>:ack:<origin>, with "<seq>". Pub/sub
// channels are shared by every database number of a Redis server.
const DefaultChannel = "lt:inv"

// ErrUnconfirmed is returned by Broadcast.Invalidate when some instance did
// not confirm in time; its in-process copy may be served until it expires.
var ErrUnconfirmed = errors.New("invalidation not confirmed by every instance")

// Broadcast lets in-process caches (near caches) in front of Redis and the
// database stay exact across instances.
//
// Redis pub/sub delivers at most once and says nothing about when a
// subscriber acted on a message, so on its own it would leave a window in
// which another instance still accepts a revoked session. Invalidate
// therefore waits until every subscriber PUBLISH counted has acknowledged,
// and an instance whose subscription is not confirmed live (starting,
// reconnecting, or silent for a ping interval) serves nothing from its near
// caches. Together: once Invalidate returns nil, no instance answers from a
// stale copy.
type Broadcast struct {
	rdb        redis.UniversalClient
	log        *slog.Logger
	id         string
	ackTimeout time.Duration
	pingEvery  time.Duration
	channel    string

	seq     atomic.Uint64
	healthy atomic.Bool

	mu      sync.Mutex
	waiters map[uint64]chan struct{}
	caches  []invalidatable

	stop context.CancelFunc
	done chan struct{}
	ps   *redis.PubSub // guarded by mu; closed by Stop to end a blocked receive
}

// invalidatable is a near cache: drop one key, or everything when the
// subscription was lost (messages may have been missed).
type invalidatable interface {
	invalidate(key string)
	invalidateAll()
}

// BroadcastOptions tunes a Broadcast; zero values take the defaults.
type BroadcastOptions struct {
	// AckTimeout bounds how long Invalidate waits for confirmations
	// (default 1s).
	AckTimeout time.Duration
	// PingEvery is how often an idle subscription is checked; an instance
	// stops serving its near caches when a ping goes unanswered this long
	// (default 2s).
	PingEvery time.Duration
	// Channel is the pub/sub channel (default DefaultChannel); instances
	// that share data must share it.
	Channel string
}

// NewBroadcast returns a Broadcast on rdb; Start subscribes.
func NewBroadcast(rdb redis.UniversalClient, log *slog.Logger, o BroadcastOptions) *Broadcast {
	if o.AckTimeout <= 0 {
		o.AckTimeout = time.Second
	}
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if o.PingEvery <= 0 {
		o.PingEvery = 2 * time.Second
	}
	return &Broadcast{
		rdb: rdb, log: log, id: uuid.NewString(), ackTimeout: o.AckTimeout, pingEvery: o.PingEvery,
		channel: o.Channel,
		waiters: map[uint64]chan struct{}{},
	}
}

// Healthy reports whether this instance receives invalidations now, so its
// near caches may answer.
func (b *Broadcast) Healthy() bool { return b.healthy.Load() }

func (b *Broadcast) register(c invalidatable) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.caches = append(b.caches, c)
}

// Start subscribes and keeps the subscription alive until Stop.
func (b *Broadcast) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	b.stop, b.done = cancel, make(chan struct{})
	go b.run(ctx)
}

// Stop ends the subscription; near caches stop answering.
func (b *Broadcast) Stop() {
	if b.stop == nil {
		return
	}
	b.stop()
	b.mu.Lock()
	if b.ps != nil {
		_ = b.ps.Close()
	}
	b.mu.Unlock()
	<-b.done
	b.lost()
}

// Invalidate drops keys from every instance's near caches (this one's at
// once) and waits for every subscriber to confirm. Call it after the new
// value is durable (written to Redis, or committed).
func (b *Broadcast) Invalidate(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	b.mu.Lock()
	for _, c := range b.caches {
		for _, k := range keys {
			c.invalidate(k)
		}
	}
	seq := b.seq.Add(1)
	acks := make(chan struct{}, 1024) // one per instance; more than this many instances would time out
	b.waiters[seq] = acks
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiters, seq)
		b.mu.Unlock()
	}()

	msg := b.id + " " + strconv.FormatUint(seq, 10) + " " + strings.Join(keys, " ")
	n, err := b.rdb.Publish(ctx, b.channel, msg).Result()
	if err != nil {
		return fmt.Errorf("publish invalidation: %w", err)
	}
	timer := time.NewTimer(b.ackTimeout)
	defer timer.Stop()
	for got := int64(0); got < n; got++ {
		select {
		case <-acks:
		case <-timer.C:
			return fmt.Errorf("%w: %d of %d confirmed within %s", ErrUnconfirmed, got, n, b.ackTimeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (b *Broadcast) run(ctx context.Context) {
	defer close(b.done)
	ackChannel := b.ackChannel(b.id)
	subscribe := func() *redis.PubSub {
		ps := b.rdb.Subscribe(ctx, b.channel, ackChannel)
		b.mu.Lock()
		b.ps = ps
		b.mu.Unlock()
		return ps
	}
	ps := subscribe()
	defer func() { _ = ps.Close() }()
	pingPending := false
	backoff := 50 * time.Millisecond
	for {
		m, err := ps.ReceiveTimeout(ctx, b.pingEvery)
		if ctx.Err() != nil {
			return
		}
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout():
			if pingPending {
				// A silent connection (half-open TCP) may be losing
				// messages: stop trusting the caches and start afresh.
				b.lost()
				_ = ps.Close()
				ps = subscribe()
				pingPending = false
				continue
			}
			if err := ps.Ping(ctx); err == nil {
				pingPending = true
			}
			continue
		case err != nil:
			// go-redis reconnects and subscribes again on the next
			// receive; the confirmation below makes the caches usable.
			if b.healthy.Load() {
				b.log.Warn("invalidation subscription lost; near caches off until it is back", "error", err)
			}
			b.lost()
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		pingPending = false
		switch m := m.(type) {
		case *redis.Subscription:
			// Both channels confirmed: every message from now on arrives.
			if m.Kind == "subscribe" && m.Count == 2 {
				b.lost() // anything cached before may have missed a message
				b.healthy.Store(true)
			}
		case *redis.Message:
			if m.Channel == ackChannel {
				b.acked(m.Payload)
			} else {
				b.received(ctx, m.Payload)
			}
		}
	}
}

func (b *Broadcast) ackChannel(instance string) string { return b.channel + ":ack:" + instance }

// lost turns the near caches off and empties them.
func (b *Broadcast) lost() {
	b.healthy.Store(false)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.caches {
		c.invalidateAll()
	}
}

func (b *Broadcast) received(ctx context.Context, payload string) {
	fields := strings.Fields(payload)
	if len(fields) < 3 {
		b.log.Warn("malformed invalidation message ignored", "payload", payload)
		return
	}
	b.mu.Lock()
	for _, c := range b.caches {
		for _, k := range fields[2:] {
			c.invalidate(k)
		}
	}
	b.mu.Unlock()
	origin, seq := fields[0], fields[1]
	go func() {
		if err := b.rdb.Publish(ctx, b.ackChannel(origin), seq).Err(); err != nil && ctx.Err() == nil {
			b.log.Warn("acknowledge invalidation", "error", err)
		}
	}()
}

func (b *Broadcast) acked(payload string) {
	seq, err := strconv.ParseUint(payload, 10, 64)
	if err != nil {
		return
	}
	b.mu.Lock()
	ch := b.waiters[seq]
	b.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

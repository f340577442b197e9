package auth_test

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenticular/lenticular/modules/auth"
)

var cheap = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// The vectors were made by Django's own hashers (testdata/django_hashes.py).
func TestVerifyDjangoHashes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/django_hashes.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Django  string
		Vectors []struct{ Algorithm, Password, Encoded string }
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	h := auth.NewHasher(cheap)
	ctx := context.Background()
	for _, v := range file.Vectors {
		seen[v.Algorithm] = true
		t.Run(v.Algorithm+"/"+v.Password[:min(len(v.Password), 12)], func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(ctx, v.Password, v.Encoded)
			if err != nil || !ok || !rehash {
				t.Errorf("Verify(right password) = %v, rehash %v, %v; want true, true", ok, rehash, err)
			}
			ok, _, err = h.Verify(ctx, v.Password+"x", v.Encoded)
			if err != nil || ok {
				t.Errorf("Verify(wrong password) = %v, %v", ok, err)
			}
		})
	}
	for _, a := range []string{"pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "bcrypt_plain"} {
		if !seen[a] {
			t.Errorf("no %s vector", a)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := auth.NewHasher(cheap)
	enc, err := h.Hash(ctx, "ｐａｓｓｗｏｒｄ-wide-123") // full-width: NFKC folds it
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not an Argon2id PHC string with the parameters", enc)
	}
	for pw, want := range map[string]bool{"ｐａｓｓｗｏｒｄ-wide-123": true, "password-wide-123": true, "password-wide-124": false} {
		ok, rehash, err := h.Verify(ctx, pw, enc)
		if err != nil || ok != want || rehash {
			t.Errorf("Verify(%q) = %v, rehash %v, %v; want %v, false", pw, ok, rehash, err, want)
		}
	}
	// Parameters changed: the old hash still verifies and asks for a rehash.
	stronger := auth.NewHasher(auth.Argon2Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if ok, rehash, err := stronger.Verify(ctx, "password-wide-123", enc); !ok || !rehash || err != nil {
		t.Errorf("Verify with new parameters = %v, rehash %v, %v", ok, rehash, err)
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "md5$abc$def", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"} {
		if ok, _, err := h.Verify(ctx, "x", bad); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

// The OWASP parameters themselves, once: m=19 MiB, t=2, p=1.
func TestRealArgon2Parameters(t *testing.T) {
	t.Parallel()
	h := auth.NewHasher(auth.Argon2Params{})
	start := time.Now()
	enc, err := h.Hash(context.Background(), "a real password 123")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not use m=19456,t=2,p=1", enc)
	}
	if ok, rehash, err := h.Verify(context.Background(), "a real password 123", enc); !ok || rehash || err != nil {
		t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
	}
	t.Logf("hash + verify with OWASP parameters: %s", time.Since(start))
}

// At most GOMAXPROCS hashes run at once, however many callers there are.
func TestHashingPoolIsBounded(t *testing.T) {
	t.Parallel()
	h := auth.NewHasher(auth.Argon2Params{Memory: 4096, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if h.Capacity() != runtime.GOMAXPROCS(0) {
		t.Fatalf("pool of %d, want GOMAXPROCS = %d", h.Capacity(), runtime.GOMAXPROCS(0))
	}
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if b := int64(h.Busy()); b > peak.Load() {
				peak.Store(b)
			}
			runtime.Gosched()
		}
	}()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _, _ = h.Hash(context.Background(), "pool password 123") })
	}
	wg.Wait()
	close(done)
	if p := peak.Load(); p < 1 || p > int64(h.Capacity()) {
		t.Fatalf("peak concurrent hashes %d, want 1..%d", p, h.Capacity())
	}
	// A caller waiting for a slot gives up when its context ends.
	blocker := auth.NewHasher(cheap)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var hold sync.WaitGroup
	for range blocker.Capacity() {
		hold.Go(func() { _, _, _ = blocker.Verify(context.Background(), "x", slowHash) })
	}
	for blocker.Busy() < blocker.Capacity() {
		runtime.Gosched()
	}
	if _, err := blocker.Hash(ctx, "waiting password"); err == nil {
		t.Error("Hash with a full pool and an expiring context succeeded")
	}
	hold.Wait()
}

// slowHash is a bcrypt hash at cost 12: verifying it keeps a slot busy
// for a few hundred milliseconds.
const slowHash = "$2b$12$abcdefghijklmnopqrstuu5f9y8l1QxYlq0m5n3F3hq8nK0k8nR5C"

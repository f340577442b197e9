package auth

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are the Argon2id cost parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultArgon2 is OWASP's recommended Argon2id configuration:
// m=19 MiB, t=2, p=1.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on imported hashes, so a corrupt or hostile row cannot make one
// verification take gigabytes or minutes.
const (
	maxImportedArgon2Memory = 256 * 1024 // KiB
	maxImportedArgon2Time   = 16
	maxImportedPBKDF2Iter   = 10_000_000
)

// ErrUnknownHashFormat is returned for a stored hash no verifier knows.
var ErrUnknownHashFormat = errors.New("unknown password hash format")

// Hasher hashes new passwords with Argon2id (PHC string) and verifies
// Argon2id, Django (pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt_sha256,
// bcrypt) and plain bcrypt hashes. Every hash or verification runs through a
// pool of at most GOMAXPROCS slots, so a burst of logins queues instead of
// allocating Argon2's memory once per request.
type Hasher struct {
	params Argon2Params
	slots  chan struct{}

	dummyOnce sync.Once
	dummy     string
}

// NewHasher returns a Hasher with p (DefaultArgon2 when zero) and a pool of
// GOMAXPROCS slots.
func NewHasher(p Argon2Params) *Hasher {
	if p == (Argon2Params{}) {
		p = DefaultArgon2
	}
	return &Hasher{params: p, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// Busy is how many hashes run right now (never more than Capacity).
func (h *Hasher) Busy() int { return len(h.slots) }

// Capacity is the size of the pool: GOMAXPROCS when the Hasher was made.
func (h *Hasher) Capacity() int { return cap(h.slots) }

// Params returns the parameters new hashes use.
func (h *Hasher) Params() Argon2Params { return h.params }

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the Argon2id PHC string of the NFKC form of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hash(NormalizePassword(pw))
}

func (h *Hasher) hash(pw string) (string, error) {
	p := h.params
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against encoded. rehash is true when the password
// matched but encoded is not an Argon2id hash with the current parameters.
// A malformed or unknown hash is an error, never a match.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	if strings.HasPrefix(encoded, "$argon2id$") {
		p, salt, key, err := parseArgon2(encoded[1:])
		if err != nil {
			return false, false, err
		}
		ok := argon2Equal(NormalizePassword(pw), p, salt, key)
		cur := h.params
		current := p.Memory == cur.Memory && p.Time == cur.Time && p.Threads == cur.Threads &&
			p.KeyLen == cur.KeyLen && p.SaltLen >= 16
		return ok, ok && !current, nil
	}
	// Imported hashes were made from the password exactly as typed; a
	// client that normalises differently still gets in with the NFKC form.
	ok, err = verifyLegacy(pw, encoded)
	if err == nil && !ok {
		if n := NormalizePassword(pw); n != pw {
			ok, err = verifyLegacy(n, encoded)
		}
	}
	return ok, ok, err
}

// Burn spends one Argon2id verification on nothing, so a login for an
// unknown account takes as long as one for a known account.
func (h *Hasher) Burn(ctx context.Context, pw string) {
	h.dummyOnce.Do(func() {
		h.dummy, _ = h.hash("lenticular-dummy-password")
	})
	_, _, _ = h.Verify(ctx, pw, h.dummy)
}

func argon2Equal(pw string, p Argon2Params, salt, key []byte) bool {
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1
}

// parseArgon2 reads "argon2id$v=19$m=..,t=..,p=..$salt$hash" (PHC, with or
// without base64 padding).
func parseArgon2(s string) (Argon2Params, []byte, []byte, error) {
	bad := fmt.Errorf("%w: malformed argon2id hash", ErrUnknownHashFormat)
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "argon2id" || parts[1] != "v=19" {
		return Argon2Params{}, nil, nil, bad
	}
	var p Argon2Params
	for kv := range strings.SplitSeq(parts[2], ",") {
		k, v, found := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !found || err != nil {
			return Argon2Params{}, nil, nil, bad
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return Argon2Params{}, nil, nil, bad
			}
			p.Threads = uint8(n)
		default:
			return Argon2Params{}, nil, nil, bad
		}
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > maxImportedArgon2Memory || p.Time > maxImportedArgon2Time {
		return Argon2Params{}, nil, nil, bad
	}
	salt, err1 := decodeB64(parts[3])
	key, err2 := decodeB64(parts[4])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return Argon2Params{}, nil, nil, bad
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

func decodeB64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// verifyLegacy checks Django's formats and plain bcrypt.
func verifyLegacy(pw, encoded string) (bool, error) {
	algo, rest, found := strings.Cut(encoded, "$")
	switch {
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return bcryptEqual([]byte(pw), encoded)
	case !found:
		return false, ErrUnknownHashFormat
	case algo == "pbkdf2_sha256":
		return pbkdf2Equal(sha256.New, pw, rest)
	case algo == "pbkdf2_sha1":
		return pbkdf2Equal(sha1.New, pw, rest)
	case algo == "argon2":
		p, salt, key, err := parseArgon2(rest)
		if err != nil {
			return false, err
		}
		return argon2Equal(pw, p, salt, key), nil
	case algo == "bcrypt_sha256":
		// Django hashes the password with SHA-256 first (hex digest), which
		// lifts bcrypt's 72-byte limit.
		sum := sha256.Sum256([]byte(pw))
		return bcryptEqual([]byte(hex.EncodeToString(sum[:])), rest)
	case algo == "bcrypt":
		return bcryptEqual([]byte(pw), rest)
	}
	return false, ErrUnknownHashFormat
}

func bcryptEqual(pw []byte, encoded string) (bool, error) {
	if len(pw) > 72 {
		pw = pw[:72] // what bcrypt always did with longer input
	}
	err := bcrypt.CompareHashAndPassword([]byte(encoded), pw)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: %v", ErrUnknownHashFormat, err)
}

// pbkdf2Equal checks Django's "iterations$salt$base64(hash)".
func pbkdf2Equal(h func() hash.Hash, pw, rest string) (bool, error) {
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return false, fmt.Errorf("%w: malformed pbkdf2 hash", ErrUnknownHashFormat)
	}
	iter, err := strconv.Atoi(parts[0])
	want, err2 := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || err2 != nil || iter <= 0 || iter > maxImportedPBKDF2Iter || len(want) == 0 {
		return false, fmt.Errorf("%w: malformed pbkdf2 hash", ErrUnknownHashFormat)
	}
	got, err := pbkdf2.Key(h, pw, []byte(parts[1]), iter, len(want))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

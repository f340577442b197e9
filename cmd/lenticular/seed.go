package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/term"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/platform/config"
	"github.com/lenticular/lenticular/platform/database"
)

// runSeedCmd is `lenticular seed --users N --links M`: realistic demo and
// benchmark data, generated deterministically from each row's index, so a
// second run inserts nothing and a larger run adds only the new rows.
func runSeedCmd(args []string, cfg *config.Config, log *slog.Logger, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nUsers := fs.Int("users", 100, "users to have (seeded users have no password and cannot sign in)")
	nLinks := fs.Int("links", 1000, "links to have, each saved by 1 to 50 seeded users")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("seed takes no arguments, got %q", fs.Args())}
	}
	if *nUsers < 1 || *nUsers > 10_000_000 || *nLinks < 0 || *nLinks > 100_000_000 {
		return usageError{"usage: lenticular seed --users N (>= 1) --links M (>= 0)"}
	}
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{
		URL: cfg.DatabaseURL.Reveal(), DataDir: cfg.DataDir,
		MaxOpenConns: 2, MaxIdleConns: 1, StatementTimeout: 10 * time.Minute, Logger: log,
	})
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := gormdb.NewMigrator(db)
	if err != nil {
		return err
	}
	if cfg.MigrateOnStart() {
		if _, err := m.Up(ctx); err != nil {
			return err
		}
	} else if n, err := m.Pending(ctx); err != nil || n > 0 {
		if err == nil {
			err = fmt.Errorf("%d pending migrations: run lenticular migrate up first", n)
		}
		return err
	}
	return seed(ctx, gormdb.NewSeeder(db), *nUsers, *nLinks, newProgress(stderr), stdout)
}

func seed(ctx context.Context, s *gormdb.Seeder, nUsers, nLinks int, p *progress, out io.Writer) error {
	start := time.Now()
	p.start("users", nUsers)
	added := 0
	batch := make([]gormdb.SeedUser, 0, 1000)
	for i := range nUsers {
		batch = append(batch, seedUser(i))
		if len(batch) == cap(batch) || i == nUsers-1 {
			n, err := s.Users(ctx, batch)
			if err != nil {
				return err
			}
			added += n
			batch = batch[:0]
			p.set(i + 1)
		}
	}
	p.done()
	fmt.Fprintf(out, "users: %d inserted, %d already there\n", added, nUsers-added)

	p.start("links", nLinks)
	added = 0
	skipped := 0
	lb := make([]gormdb.SeedLink, 0, 1000)
	saves := 0
	for j := range nLinks {
		l := seedLink(j, nUsers)
		lb = append(lb, l)
		saves += len(l.Saves)
		if len(lb) == cap(lb) || saves >= 8000 || j == nLinks-1 {
			n, skip, err := s.Links(ctx, lb)
			if err != nil {
				return err
			}
			added += n
			skipped += skip
			lb, saves = lb[:0], 0
			p.set(j + 1)
		}
	}
	p.done()
	if err := s.Analyze(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "links: %d inserted, %d already there", added, nLinks-added-skipped)
	if skipped > 0 {
		// Their seeded savers' e-mail addresses or usernames belong to real accounts.
		fmt.Fprintf(out, ", %d skipped (no seeded saver)", skipped)
	}
	fmt.Fprintf(out, " (%s)\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// seedEpoch is when the seeded world begins; rows are spread after it.
var seedEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// seedID is a UUIDv7 made from a time and a key: the same row always gets
// the same id, and ids sort by time like real ones.
func seedID(at time.Time, key string) uuid.UUID {
	var id uuid.UUID
	h := sha256.Sum256([]byte(key))
	copy(id[:], h[:])
	ms := uint64(at.UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(id[0:6], ts[2:8])
	id[6] = 0x70 | id[6]&0x0f
	id[8] = 0x80 | id[8]&0x3f
	return id
}

func rng(kind string, i int) *rand.Rand {
	h := sha256.Sum256([]byte(kind + strconv.Itoa(i)))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

var (
	firstNames = []string{"José", "María", "Zoë", "Ada", "Grace", "Alan", "Linus", "Margaret", "Søren", "Åsa",
		"Łukasz", "Chloé", "François", "Núria", "Björn", "Renée", "Mónica", "Ingrid", "Kenji", "Aiko", "Priya",
		"Arjun", "Fatima", "Omar", "Chen", "Wei", "Olga", "Dmitri", "Amara", "Kwame", "Lucía", "Mateo", "Sofía",
		"Noah", "Emma", "Liam", "Olivia", "Hannah", "Jonas", "Leila", "Yusuf", "Elif", "Mehmet", "Anaïs", "Théo",
		"Siobhán", "Niamh", "Eoin", "Zoltán", "Réka", "Tomás", "Inês", "João", "Gabriel", "Camille", "Ana",
		"Petra", "Jiří", "Ilse", "Max", "Sam", "Alex", "Robin", "Kim", "Ryo", "Mei", "Tariq", "Nadia"}
	lastNames = []string{"Álvarez", "González", "Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Kierkegaard",
		"Lindqvist", "Kowalski", "Dubois", "Lefèvre", "Puig", "Björk", "Müller", "Schäfer", "Nakamura", "Tanaka",
		"Sharma", "Patel", "Haddad", "Rahman", "Li", "Wang", "Ivanova", "Petrov", "Okafor", "Mensah", "Fernández",
		"García", "Martínez", "Smith", "Johnson", "Brown", "Weiß", "Jensen", "Nielsen", "Yılmaz", "Demir", "Moreau",
		"Ó Súilleabháin", "Kovács", "Nagy", "Silva", "Gonçalves", "Costa", "Novák", "Dvořák", "Bauer", "Fischer",
		"Rossi", "Bianchi", "Kim", "Park", "Nguyen", "Tran", "Cohen", "Levi", "Andersen", "Larsen"}
	bios = []string{"", "", "Backend engineer.", "Reads too many papers.", "Databases, distributed systems, coffee.",
		"Writing about the web since 2009.", "Product designer who codes.", "Open source maintainer.",
		"SRE. Pager on, opinions off.", "Curious about everything.", "Teacher and tinkerer."}

	techs = []string{"PostgreSQL", "SQLite", "Go", "Rust", "Kubernetes", "Redis", "Linux", "Python", "TypeScript",
		"React", "WebAssembly", "Terraform", "Docker", "Kafka", "Elasticsearch", "GraphQL", "gRPC", "Nginx",
		"Prometheus", "Grafana", "OpenTelemetry", "Django", "Rails", "Erlang", "Elixir", "Haskell", "Zig", "Java",
		"Kotlin", "Swift", "Svelte", "Vue", "Deno", "Node.js", "ClickHouse", "DuckDB", "MySQL", "MongoDB",
		"Cassandra", "etcd", "Envoy", "Istio", "Nix", "Bazel", "Git", "Vim", "Emacs", "LLVM", "CUDA", "Spark"}
	nouns = []string{"performance", "indexes", "queries", "latency", "caching", "migrations", "testing", "security",
		"authentication", "observability", "logging", "deployments", "containers", "schedulers", "compilers",
		"memory", "garbage collection", "concurrency", "transactions", "replication", "backups", "sharding",
		"search", "typeahead", "full-text search", "rate limiting", "queues", "workflows", "monitoring",
		"incident response", "on-call", "code review", "refactoring", "type systems", "error handling", "APIs",
		"pagination", "webhooks", "feature flags", "A/B tests", "benchmarks", "profiling", "tracing", "storage",
		"file systems", "networking", "TLS", "DNS", "load balancing", "autoscaling", "cost", "accessibility",
		"design systems", "onboarding", "documentation", "hiring", "remote work", "burnout", "estimates", "roadmaps",
		"guitars", "sourdough", "espresso", "gardening", "cycling", "chess", "photography", "astronomy", "typography",
		"keyboards", "urban planning", "trains", "history", "mathematics", "physics", "music theory"}
	adjs = []string{"fast", "slow", "reliable", "boring", "practical", "modern", "simple", "scalable", "resilient",
		"secure", "cheap", "tiny", "large", "distributed", "embedded", "incremental", "lazy", "eventual",
		"predictable", "pragmatic", "hidden", "surprising", "underrated", "forgotten"}
	verbs = []string{"tune", "debug", "scale", "test", "design", "measure", "speed up", "migrate", "replace",
		"secure", "monitor", "simplify", "rewrite", "benchmark", "profile", "cache", "index", "ship", "learn", "teach"}
	gerunds = []string{"tuning", "debugging", "scaling", "testing", "designing", "measuring", "migrating",
		"rewriting", "benchmarking", "profiling", "caching", "indexing", "shipping", "running", "building"}
	companies = []string{"a startup", "a bank", "scale", "a small team", "a newsroom", "a hospital", "a game studio", "an airline"}
	domains   = func() []string {
		var ds []string
		for _, base := range []string{"blog", "engineering", "notes", "dev", "www", "news", "docs", "journal"} {
			for _, name := range []string{"acme", "example", "lattice", "northwind", "contoso", "fabrikam", "initech",
				"globex", "umbrella", "hooli", "piedpiper", "vandelay", "wonka", "tyrell", "cyberdyne", "soylent",
				"oceanic", "stark", "wayne", "aperture"} {
				for _, tld := range []string{"com", "dev", "io"} {
					ds = append(ds, base+"."+name+"."+tld)
				}
			}
		}
		return ds
	}()
)

func seedUser(i int) gormdb.SeedUser {
	r := rng("user", i)
	first, last := pick(r, firstNames), pick(r, lastNames)
	at := seedEpoch.Add(time.Duration(i) * time.Minute)
	username := asciiName(first) + "_" + asciiName(last)
	if len(username) > 24 {
		username = username[:24]
	}
	username += "_" + strconv.FormatInt(int64(i), 36)
	return gormdb.SeedUser{
		ID:          seedID(at, "user"+strconv.Itoa(i)),
		Email:       "seed-" + strconv.Itoa(i) + "@seed.example.com",
		Username:    username,
		DisplayName: first + " " + last,
		Bio:         pick(r, bios),
		CreatedAt:   at,
	}
}

// asciiName folds a name to lower-case ASCII letters for a username.
func asciiName(s string) string {
	fold := strings.NewReplacer("á", "a", "à", "a", "â", "a", "ä", "a", "å", "a", "ã", "a", "é", "e", "è", "e",
		"ê", "e", "ë", "e", "í", "i", "ï", "i", "ı", "i", "ó", "o", "ô", "o", "ö", "o", "ø", "o", "õ", "o", "ú", "u",
		"ü", "u", "ñ", "n", "ç", "c", "ł", "l", "ş", "s", "ß", "ss", "ř", "r", "ě", "e", "š", "s", "ž", "z", "ğ", "g")
	var b strings.Builder
	for _, c := range fold.Replace(strings.ToLower(s)) {
		if c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func seedTitle(r *rand.Rand) string {
	t, n, n2, a := pick(r, techs), pick(r, nouns), pick(r, nouns), pick(r, adjs)
	switch r.IntN(8) {
	case 0:
		return fmt.Sprintf("How to %s %s in %s", pick(r, verbs), n, t)
	case 1:
		return fmt.Sprintf("%s %s: %s %s in practice", t, n, a, n2)
	case 2:
		return fmt.Sprintf("Why %s %s matters more than %s", a, n, n2)
	case 3:
		return fmt.Sprintf("%d lessons from %s %s at %s", 3+r.IntN(12), pick(r, gerunds), n, pick(r, companies))
	case 4:
		return fmt.Sprintf("A %s guide to %s with %s", a, n, t)
	case 5:
		return fmt.Sprintf("%s %s with %s and %s", titleCase(pick(r, gerunds)), n, t, pick(r, techs))
	case 6:
		return fmt.Sprintf("The %s cost of %s", a, n)
	default:
		return fmt.Sprintf("%s is %s: notes on %s", t, a, n)
	}
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func seedLink(j, nUsers int) gormdb.SeedLink {
	r := rng("link", j)
	title := seedTitle(r)
	at := seedEpoch.Add(time.Duration(j) * 30 * time.Second)
	raw := fmt.Sprintf("https://%s/%d/%s-%s", pick(r, domains), 2015+r.IntN(11), slug(title), strconv.FormatInt(int64(j), 36))
	url, err := links.Canonicalize(raw)
	if err != nil {
		panic(fmt.Sprintf("seed generated an invalid URL %q: %v", raw, err))
	}
	// Saves follow a long tail: most links have one or two, a few many.
	n := 1 + int(r.ExpFloat64()*1.5)
	if r.IntN(50) == 0 {
		n += r.IntN(40)
	}
	n = min(n, 50, nUsers)
	seen := make(map[int]bool, n)
	saves := make([]gormdb.SeedSave, 0, n)
	for len(saves) < n {
		u := r.IntN(nUsers)
		if seen[u] {
			continue
		}
		seen[u] = true
		saveAt := at
		if len(saves) > 0 {
			saveAt = at.Add(time.Duration(1+r.IntN(72*60)) * time.Minute)
		}
		saves = append(saves, gormdb.SeedSave{User: seedUser(u).ID, At: saveAt})
	}
	if r.IntN(20) == 0 {
		title = "" // some links are saved without a title
	}
	return gormdb.SeedLink{ID: seedID(at, "link"+strconv.Itoa(j)), URL: url, Title: title, Saves: saves}
}

// progress draws a bar on a terminal and a line per tenth elsewhere.
type progress struct {
	w          io.Writer
	tty        bool
	what       string
	total      int
	lastTenth  int
	lastRedraw time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *progress) start(what string, total int) {
	p.what, p.total, p.lastTenth = what, total, -1
	p.set(0)
}

func (p *progress) set(n int) {
	if p.total == 0 {
		return
	}
	frac := float64(n) / float64(p.total)
	if p.tty {
		if n != p.total && time.Since(p.lastRedraw) < 100*time.Millisecond {
			return
		}
		p.lastRedraw = time.Now()
		const width = 30
		filled := int(frac * width)
		fmt.Fprintf(p.w, "\r%-6s [%s%s] %3.0f%% %d/%d", p.what, strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100, n, p.total)
		return
	}
	if tenth := int(frac * 10); tenth != p.lastTenth {
		p.lastTenth = tenth
		fmt.Fprintf(p.w, "%s: %d/%d\n", p.what, n, p.total)
	}
}

func (p *progress) done() {
	if p.tty && p.total > 0 {
		fmt.Fprintln(p.w)
	}
}

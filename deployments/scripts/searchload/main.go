// Command searchload measures the search endpoints of a running server: a
// fixed number of connections each sending requests back to back for a
// while, over a rotating list of queries; it prints throughput and latency
// percentiles per endpoint. Used by search-bench.sh.
//
//	go run ./deployments/scripts/searchload -base http://127.0.0.1:8080 -c 16 -d 20s
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "server base URL")
	conns := flag.Int("c", 16, "concurrent connections")
	dur := flag.Duration("d", 20*time.Second, "duration per endpoint")
	users := flag.String("users", "mar,jos,ali,ann,kim,lee,sof,dub,nak,gar,pet,ivo,hop,tur,zoe,ols,lar,ros,sil,wan", "comma-separated typeahead queries (3 letters)")
	words := flag.String("words", "postgresql,caching,tuning,latency,kubernetes,guitars,sourdough,replication,observability,typography", "comma-separated link queries (one word)")
	only := flag.String("only", "", "measure only this endpoint (users or links)")
	flag.Parse()

	failed := false
	for _, ep := range []struct {
		key, name, path string
		qs              []string
	}{
		{"users", "GET /v1/search/users?q=<3 letters>", "/v1/search/users?limit=10&q=", strings.Split(*users, ",")},
		{"links", "GET /v1/search/links?q=<word>", "/v1/search/links?limit=20&q=", strings.Split(*words, ",")},
	} {
		if *only != "" && *only != ep.key {
			continue
		}
		if !run(ep.name, *base+ep.path, ep.qs, *conns, *dur) {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func run(name, prefix string, qs []string, conns int, dur time.Duration) bool {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 10 * time.Second}
	// Warm up: every query once.
	for _, q := range qs {
		if res, err := client.Get(prefix + url.QueryEscape(q)); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(dur)
	for w := range conns {
		wg.Go(func() {
			var local []time.Duration
			bad := 0
			for i := w; time.Now().Before(deadline); i++ {
				q := qs[i%len(qs)]
				t0 := time.Now()
				res, err := client.Get(prefix + url.QueryEscape(q))
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				local = append(local, time.Since(t0))
				if res.StatusCode != http.StatusOK {
					bad++
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	fmt.Printf("%-36s c=%d n=%d rps=%.0f p50=%s p95=%s p99=%s max=%s errors=%d\n", name, conns, len(latencies),
		float64(len(latencies))/dur.Seconds(), pct(0.50).Round(10*time.Microsecond), pct(0.95).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond), errs)
	return errs == 0
}

// Command ratelat sends GET requests to one URL at a constant rate (open
// loop: a slow answer does not slow the sender down, unlike wrk's closed
// loop) and prints the rate, success ratio and latency quantiles, so the
// latency an endpoint adds can be read apart from the queueing of a
// saturated machine.
//
//	ratelat -url http://127.0.0.1:8080/healthz -rate 5000 -d 10s -H 'Authorization: Bearer ...'
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	url := flag.String("url", "", "URL to GET (loopback)")
	rate := flag.Int("rate", 1000, "requests per second")
	dur := flag.Duration("d", 10*time.Second, "duration")
	var hs headers
	flag.Var(&hs, "H", "header 'Name: value' (repeatable)")
	flag.Parse()
	if !strings.HasPrefix(*url, "http://127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "ratelat: -url must be http://127.0.0.1:PORT/...")
		os.Exit(2)
	}
	h := http.Header{}
	for _, v := range hs {
		name, value, ok := strings.Cut(v, ":")
		if !ok {
			fmt.Fprintf(os.Stderr, "ratelat: header %q is not 'Name: value'\n", v)
			os.Exit(2)
		}
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: *url, Header: h})
	// At most 64 workers, each with its own keep-alive connection: the
	// same 64 connections as the closed-loop step.
	attacker := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Workers(64), vegeta.MaxWorkers(64), vegeta.Connections(64))
	var m vegeta.Metrics
	for res := range attacker.Attack(targeter, vegeta.Rate{Freq: *rate, Per: time.Second}, *dur, "ratelat") {
		m.Add(res)
	}
	m.Close()
	fmt.Printf("rate %.0f/s, success %.2f%%, p50 %s, p90 %s, p99 %s, max %s\n", m.Rate, 100*m.Success,
		m.Latencies.P50.Round(time.Microsecond), m.Latencies.P90.Round(time.Microsecond),
		m.Latencies.P99.Round(time.Microsecond), m.Latencies.Max.Round(time.Microsecond))
}

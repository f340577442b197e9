package rest

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// ReadinessCheck is one dependency /readyz reports on. A nil Check reports
// "disabled" (for example Redis in embedded mode).
//
// A check is required unless Optional is set: a failing required check makes
// /readyz answer 503 (the load balancer takes the instance out); a failing
// optional one is reported as "failing" with status "degraded" and a 200,
// because the service still answers correctly without it (Redis: the rate
// limits fall back to the in-process limiter and session checks to the
// database). Taking every instance out because a cache is down would turn a
// degraded service into an outage.
type ReadinessCheck struct {
	Name     string
	Check    func(context.Context) error
	Optional bool
}

// readyTimeout bounds each check so a hung dependency turns /readyz red
// quickly instead of hanging the platform's probe.
const readyTimeout = 1500 * time.Millisecond

type statusBody struct {
	Status string `json:"status" example:"ok"`
}

type healthOutput struct{ Body statusBody }

type readyBody struct {
	Status string            `json:"status" enum:"ok,degraded" example:"ok"`
	Checks map[string]string `json:"checks" doc:"Each dependency: ok, failing or disabled" example:"{\"database\":\"ok\",\"redis\":\"disabled\",\"migrations\":\"ok\"}"`
}

type readyOutput struct{ Body readyBody }

func registerOperations(api *API, checks []ReadinessCheck, draining func() bool) {
	Register(api, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Tags: []string{"Operations"},
		Summary:     "Liveness",
		Description: "200 while the process runs; touches no dependency.",
	}, func(context.Context, *struct{}) (*healthOutput, error) {
		return &healthOutput{Body: statusBody{Status: "ok"}}, nil
	})
	Register(api, huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz", Tags: []string{"Operations"},
		Summary:     "Readiness",
		Description: "200 with status `ok` when the database, Redis (when configured) and migrations are ok; 200 with status `degraded` when only Redis fails (rate limits and session checks fall back to the instance and the database); 503 naming the failing check when the database or migrations fail, and 503 while the instance is shutting down.",
		Metadata:    Codes(http.StatusServiceUnavailable, "not_ready"),
	}, func(ctx context.Context, _ *struct{}) (*readyOutput, error) {
		results, ok, degraded := runChecks(ctx, checks)
		if draining != nil && draining() {
			p := NewProblem(http.StatusServiceUnavailable, "not_ready", "shutting down")
			p.Checks = results
			return nil, p
		}
		if !ok {
			p := NewProblem(http.StatusServiceUnavailable, "not_ready", "a dependency is failing: see checks")
			p.Checks = results
			return nil, p
		}
		status := "ok"
		if degraded {
			status = "degraded"
		}
		return &readyOutput{Body: readyBody{Status: status, Checks: results}}, nil
	})
}

// runChecks runs every check at once so one slow dependency does not add
// its timeout to the others'. ok is false when a required check fails;
// degraded is true when only optional ones do.
func runChecks(ctx context.Context, checks []ReadinessCheck) (results map[string]string, ok, degraded bool) {
	results = make(map[string]string, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok = true
	for _, c := range checks {
		if c.Check == nil {
			mu.Lock()
			results[c.Name] = "disabled"
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, readyTimeout)
			defer cancel()
			err := c.Check(cctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				results[c.Name] = "failing"
				if c.Optional {
					degraded = true
				} else {
					ok = false
				}
				return
			}
			results[c.Name] = "ok"
		})
	}
	wg.Wait()
	return results, ok, degraded && ok
}

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
type ReadinessCheck struct {
	Name  string
	Check func(context.Context) error
}

// readyTimeout bounds each check so a hung dependency turns /readyz red
// quickly instead of hanging the platform's probe.
const readyTimeout = 1500 * time.Millisecond

type statusBody struct {
	Status string `json:"status" example:"ok"`
}

type healthOutput struct{ Body statusBody }

type readyBody struct {
	Status string            `json:"status" example:"ok"`
	Checks map[string]string `json:"checks" example:"{\"database\":\"ok\",\"redis\":\"disabled\",\"migrations\":\"ok\"}"`
}

type readyOutput struct{ Body readyBody }

func registerOperations(api *API, checks []ReadinessCheck) {
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
		Description: "200 when the database, Redis (when configured) and migrations are ok; 503 naming the failing check otherwise.",
		Errors:      []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*readyOutput, error) {
		results, ok := runChecks(ctx, checks)
		if !ok {
			p := NewProblem(http.StatusServiceUnavailable, "not_ready", "a dependency is failing: see checks")
			p.Checks = results
			return nil, p
		}
		return &readyOutput{Body: readyBody{Status: "ok", Checks: results}}, nil
	})
}

// runChecks runs every check at once so one slow dependency does not add
// its timeout to the others'.
func runChecks(ctx context.Context, checks []ReadinessCheck) (map[string]string, bool) {
	results := make(map[string]string, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok := true
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
				ok = false
				return
			}
			results[c.Name] = "ok"
		})
	}
	wg.Wait()
	return results, ok
}

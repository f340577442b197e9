package observability

import (
	"strings"
	"testing"
)

func TestSumMetrics(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 11
# TYPE lenticular_http_requests_total counter
lenticular_http_requests_total{method="GET",route="/healthz",status="200"} 3
lenticular_http_requests_total{method="GET",route="unmatched",status="404"} 2
# TYPE lenticular_http_request_duration_seconds histogram
lenticular_http_request_duration_seconds_bucket{le="+Inf"} 5
lenticular_http_request_duration_seconds_sum 0.5
lenticular_http_request_duration_seconds_count 5
`
	got, err := SumMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if got["go_goroutines"] != 11 || got["lenticular_http_requests_total"] != 5 {
		t.Errorf("sums %v", got)
	}
	if _, err := SumMetrics(strings.NewReader("not { metrics")); err == nil {
		t.Error("garbage must be an error")
	}
}

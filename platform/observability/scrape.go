package observability

import (
	"fmt"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// SumMetrics parses a /metrics answer (Prometheus text format) and returns,
// per metric family, the sum of its gauge, counter and untyped samples over
// all label sets. The load harness and the fault tests read resource figures
// (goroutines, pool, open files) with it.
func SumMetrics(r io.Reader) (map[string]float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	sums := make(map[string]float64, len(families))
	for name, f := range families {
		for _, m := range f.GetMetric() {
			sums[name] += sampleValue(f.GetType(), m)
		}
	}
	return sums, nil
}

func sampleValue(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue()
	}
	return 0
}

package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"baixa"
)

// Metrics is baixa's Prometheus registry.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	movements *prometheus.CounterVec
}

// NewMetrics registers baixa's metrics. jobs, when set, is asked for the
// number of jobs in each state at every scrape.
func NewMetrics(jobs func(ctx context.Context) (map[string]int64, error)) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baixa_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baixa_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		movements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baixa_movements_total", Help: "Movements settled, by provider and result.",
		}, []string{"provider", "result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.movements,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if jobs != nil {
		m.reg.MustRegister(&jobCollector{jobs: jobs, desc: prometheus.NewDesc("baixa_jobs", "Queued jobs by state.", []string{"state"}, nil)})
	}
	return m
}

// Settled counts settled movements.
func (m *Metrics) Settled(provider string, c baixa.Counts) {
	for _, r := range []struct {
		result baixa.MovementResult
		n      int64
	}{{baixa.ResultApplied, c.Applied}, {baixa.ResultDuplicate, c.Duplicate}, {baixa.ResultUnmatched, c.Unmatched}, {baixa.ResultConflict, c.Conflict}} {
		if r.n > 0 {
			m.movements.WithLabelValues(provider, string(r.result)).Add(float64(r.n))
		}
	}
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts requests by the mux's route pattern (never the raw path,
// which would explode the label set).
func (m *Metrics) instrument(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		_, route := mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.code)).Inc()
		m.latency.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
	})
}

type jobCollector struct {
	jobs func(ctx context.Context) (map[string]int64, error)
	desc *prometheus.Desc
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.jobs(ctx)
	if err != nil {
		return
	}
	for _, state := range []string{"available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded", "pending"} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[state]), state)
	}
}

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
	attempts  *prometheus.CounterVec
	attemptT  prometheus.Histogram
	delivered prometheus.Histogram
	disabled  prometheus.Counter
	callbacks *prometheus.CounterVec
	jobFails  *prometheus.CounterVec
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
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baixa_webhook_attempts_total", Help: "Webhook delivery attempts by result (success, http_error, timeout, network_error, blocked).",
	}, []string{"result"})
	m.attemptT = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "baixa_webhook_attempt_duration_seconds", Help: "Time of one webhook request.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
	m.delivered = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "baixa_webhook_delivery_latency_seconds", Help: "Time from an event's commit to its delivery's 2xx, retries included.",
		Buckets: []float64{.005, .01, .015, .025, .05, .1, .25, .5, 1, 5, 30, 300, 1800, 7200, 36000, 172800},
	})
	m.disabled = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "baixa_webhook_endpoints_auto_disabled_total", Help: "Endpoints disabled by failures or a 410.",
	})
	m.callbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baixa_callbacks_total", Help: "Provider callbacks by provider and result (stored, duplicate, unauthorized, disabled, invalid).",
	}, []string{"provider", "result"})
	m.jobFails = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baixa_job_failures_total", Help: "Failed job attempts by kind; a job failing again and again is stuck work (see the ERROR log).",
	}, []string{"kind"})
	m.reg.MustRegister(m.requests, m.latency, m.movements, m.attempts, m.attemptT, m.delivered, m.disabled, m.callbacks, m.jobFails,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if jobs != nil {
		m.reg.MustRegister(&jobCollector{jobs: jobs, desc: prometheus.NewDesc("baixa_jobs", "Queued jobs by state.", []string{"state"}, nil)})
	}
	return m
}

// WebhookStats reports, at each scrape, pending deliveries by endpoint and
// the number of disabled endpoints.
type WebhookStats func(ctx context.Context) (pending map[string]int64, disabled int64, err error)

// WatchWebhooks adds the webhook gauges, read from stats at each scrape.
func (m *Metrics) WatchWebhooks(stats WebhookStats) {
	m.reg.MustRegister(&webhookCollector{stats: stats,
		pending:  prometheus.NewDesc("baixa_webhook_pending_deliveries", "Deliveries not yet succeeded nor dead, by endpoint.", []string{"endpoint"}, nil),
		disabled: prometheus.NewDesc("baixa_webhook_endpoints_disabled", "Endpoints disabled now.", nil, nil),
	})
}

// Attempted counts a webhook attempt (webhook.Observer).
func (m *Metrics) Attempted(result string, took time.Duration) {
	m.attempts.WithLabelValues(result).Inc()
	m.attemptT.Observe(took.Seconds())
}

// Delivered observes an event's commit-to-2xx time (webhook.Observer).
func (m *Metrics) Delivered(latency time.Duration) { m.delivered.Observe(latency.Seconds()) }

// EndpointDisabled counts an endpoint disabled by its failures (webhook.Observer).
func (m *Metrics) EndpointDisabled() { m.disabled.Inc() }

type webhookCollector struct {
	stats             WebhookStats
	pending, disabled *prometheus.Desc
}

func (c *webhookCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.pending; ch <- c.disabled }

func (c *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pending, disabled, err := c.stats(ctx)
	if err != nil {
		return
	}
	for ep, n := range pending {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n), ep)
	}
	ch <- prometheus.MustNewConstMetric(c.disabled, prometheus.GaugeValue, float64(disabled))
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

// WatchConnections adds the connection gauges, read from list at each
// scrape: each client certificate's expiry, and whether the last run failed.
func (m *Metrics) WatchConnections(list func(ctx context.Context) ([]*baixa.Connection, error)) {
	m.reg.MustRegister(&connectionCollector{list: list,
		expiry: prometheus.NewDesc("baixa_connection_certificate_expiry_timestamp_seconds",
			"When the connection's client certificate expires (Unix time); alert 30 days ahead.", []string{"connection", "provider"}, nil),
		failing: prometheus.NewDesc("baixa_connection_failing", "1 when the connection's last fetch failed (see last_error).",
			[]string{"connection", "provider"}, nil),
	})
}

type connectionCollector struct {
	list            func(ctx context.Context) ([]*baixa.Connection, error)
	expiry, failing *prometheus.Desc
}

func (c *connectionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.expiry; ch <- c.failing }

func (c *connectionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cs, err := c.list(ctx)
	if err != nil {
		return
	}
	for _, conn := range cs {
		if !conn.CertificateExpiresAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.expiry, prometheus.GaugeValue, float64(conn.CertificateExpiresAt.Unix()), conn.ID, conn.Provider)
		}
		failing := 0.0
		if conn.LastError != "" {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(c.failing, prometheus.GaugeValue, failing, conn.ID, conn.Provider)
	}
}

// JobFailed counts a failed job attempt (queue.Config.Failed).
func (m *Metrics) JobFailed(kind string, _ int, _ error) { m.jobFails.WithLabelValues(kind).Inc() }

// Callback counts a provider callback by its result.
func (m *Metrics) Callback(provider, result string) {
	m.callbacks.WithLabelValues(provider, result).Inc()
}

package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"baixa"
)

// Store is what delivering needs from storage.
type Store interface {
	FindEndpointByID(ctx context.Context, id string) (*baixa.Endpoint, error)
	// ClaimDeliveries leases up to limit of the endpoint's due deliveries
	// (for an ordered endpoint, a charge's earliest pending one only), and
	// returns them with the JSON of their events by event id.
	ClaimDeliveries(ctx context.Context, ep *baixa.Endpoint, now time.Time, lease time.Duration, limit int) ([]*baixa.Delivery, map[string][]byte, error)
	// RecordAttempts stores attempts, their deliveries' new state and the
	// endpoint's health; it reports whether that disabled the endpoint, and
	// whether more of its deliveries are due.
	RecordAttempts(ctx context.Context, ep *baixa.Endpoint, outs []baixa.DeliveryOutcome, h baixa.EndpointHealth) (disabled, more bool, err error)
	// DueEndpoints lists enabled endpoints with due, unleased deliveries.
	DueEndpoints(ctx context.Context, now time.Time) ([]string, error)
	// DeliveryJobDone says that this process's delivery job for an endpoint
	// ended, so that the next event enqueues another.
	DeliveryJobDone(endpointID string)
	// ProbeFailing makes one waiting delivery of each failing endpoint due
	// now, when nothing of it is due within quiet (a probe of whether it
	// came back); it returns the endpoints probed.
	ProbeFailing(ctx context.Context, now time.Time, quiet time.Duration) ([]string, error)
}

// Observer hears about attempts (metrics).
type Observer interface {
	// Attempted counts an attempt by result: success, http_error, timeout,
	// network_error, blocked.
	Attempted(result string, took time.Duration)
	// Delivered observes the time from an event's commit to its 2xx.
	Delivered(latency time.Duration)
	// EndpointDisabled counts an endpoint disabled by failures or a 410.
	EndpointDisabled()
}

// Deliverer sends due deliveries, one drain at a time per endpoint in this
// process, and records every attempt. It is started by the queue's job
// for an endpoint (Drain), by a commit in this process (Kicks), and by its
// own sweep for retries that come due and leases that ran out (Run).
//
// # Why a scheduler beside River
//
// Deliveries are rows of their own (store: deliveries), not River jobs, and
// the unit of work is an endpoint, not a delivery:
//
//   - Order per endpoint. An ordered endpoint gets a charge's events in
//     sequence: a later one waits while an earlier one is in flight or
//     waiting for its retry. The claim (ClaimDeliveries) picks only a
//     charge's earliest pending delivery; a job per delivery could not see
//     its siblings.
//   - Batching. One drain claims up to a batch of due deliveries, sends them
//     within the endpoint's concurrency and rate limits, and records the
//     attempts and the endpoint's health in one transaction. A job per
//     delivery would insert, lock and complete a job row per event, and
//     record each attempt alone: the cost per payment that matters most.
//   - Retries far ahead. A retry 10 h away is a timestamp on its delivery
//     (next_attempt_at), found by the sweep when it comes due; a scheduled
//     job per waiting delivery would fill the job table during an outage.
//
// River still carries what must survive a crash and reach another
// instance: an event's commit enqueues one job per endpoint (unique while
// one waits or runs), whose worker calls Drain. Kicks are the fast path in
// the process that committed; the sweep is the safety net for retries and
// for leases left by a process that died.
//
// Time comes from one clock, Now, everywhere: schedules, leases, lingering,
// the endpoint cache and the probe.
type Deliverer struct {
	Store  Store
	Client *http.Client // NewClient
	// Schedule is the wait before each retry (DefaultSchedule); Jitter
	// spreads each wait by ±that fraction (0.2).
	Schedule []time.Duration
	Jitter   float64
	// RetryAfterMax clamps a 429 or 503 answer's Retry-After (1 h); it is
	// at least 1 s.
	RetryAfterMax time.Duration
	// DisableAfter disables an endpoint whose attempts have all failed for
	// this long (5 days; negative: never).
	DisableAfter time.Duration
	// Sweep is how often Run looks for due retries (1 s).
	Sweep time.Duration
	// ProbeEvery is how often Run tries one waiting delivery of each
	// endpoint whose attempts all fail, ahead of its retry (15 s; negative:
	// never). The first success brings every waiting delivery forward, so
	// an ERP that comes back is drained within about this long rather than
	// at its next scheduled retry.
	ProbeEvery time.Duration
	// LeaseMargin is added to the time a claimed batch may take before
	// another drain may take its deliveries over (30 s).
	LeaseMargin time.Duration
	// Linger is how long a drain that starts soon after the endpoint's last
	// one ended waits for more events, so that a steady stream is sent and
	// recorded in batches rather than one transaction per event (15 ms; a
	// negative value: never). An endpoint that was quiet is served at once.
	Linger    time.Duration
	UserAgent string
	Observer  Observer
	Logger    *slog.Logger
	Now       func() time.Time

	// Kicks brings the endpoints that commits in this process gave new
	// deliveries (store.Config.OnDeliveries) to Run; nil: only the queue's
	// jobs and the sweep start drains.
	Kicks *Kicks

	mu       sync.Mutex
	drains   map[string]*drainState
	ended    map[string]time.Time     // when each endpoint's last drain ended
	known    map[string]knownEndpoint // endpoints as last read, for endpointTTL
	limiters map[string]*limiterEntry
	wg       sync.WaitGroup
}

type drainState struct{ again bool }

type knownEndpoint struct {
	ep   *baixa.Endpoint
	read time.Time
}

// endpoint returns the endpoint as read within endpointTTL, or reads it
// (nil when it is gone).
func (d *Deliverer) endpoint(ctx context.Context, id string) (*baixa.Endpoint, error) {
	d.mu.Lock()
	k, ok := d.known[id]
	d.mu.Unlock()
	if ok && d.now().Sub(k.read) < endpointTTL {
		return k.ep, nil
	}
	ep, err := d.Store.FindEndpointByID(ctx, id)
	if baixa.IsCode(err, baixa.ENotFound) {
		ep, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.known == nil {
		d.known = map[string]knownEndpoint{}
	}
	d.known[id] = knownEndpoint{ep, d.now()}
	d.mu.Unlock()
	return ep, nil
}

// forget drops an endpoint's cached copy (after its attempts changed it).
func (d *Deliverer) forget(id string) {
	d.mu.Lock()
	delete(d.known, id)
	d.mu.Unlock()
}

type limiterEntry struct {
	perSecond int
	l         *rate.Limiter
}

// maxBody is how much of a response is kept with its attempt; up to
// discardBody more is read so that the connection can be reused.
const (
	maxBody     = 1024
	discardBody = 64 << 10
)

// NewClient returns the HTTP client deliveries go through: the guard's
// dialer, no proxy (it would dial for us, past the guard), no redirects
// (a 3xx is a failure), bounded response headers.
func NewClient(g *Guard) *http.Client {
	d := g.Dialer()
	d.Timeout = 10 * time.Second
	d.KeepAlive = 30 * time.Second
	return &http.Client{
		Transport: &http.Transport{
			DialContext:            d.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           256,
			MaxIdleConnsPerHost:    64,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) log() *slog.Logger { return cmp.Or(d.Logger, slog.Default()) }

// Run sweeps for due deliveries until ctx ends, starts the drains Kicks ask
// for, then waits for the drains it started. The drains live as long as
// ctx: Run is the only owner of their lifetime.
func (d *Deliverer) Run(ctx context.Context) error {
	var kicked <-chan struct{} // nil without Kicks: never ready
	if d.Kicks != nil {
		kicked = d.Kicks.wake
	}
	t := time.NewTicker(cmp.Or(d.Sweep, time.Second))
	defer t.Stop()
	probeEvery := cmp.Or(d.ProbeEvery, 15*time.Second)
	lastProbe := d.now()
	for {
		if now := d.now(); probeEvery > 0 && now.Sub(lastProbe) >= probeEvery {
			lastProbe = now
			if probed, err := d.Store.ProbeFailing(ctx, now, probeEvery); err != nil && ctx.Err() == nil {
				d.log().Warn("webhook probe failed", "err", err)
			} else if len(probed) > 0 {
				d.log().Info("probing failing webhook endpoints", "endpoints", probed)
			}
		}
		ids, err := d.Store.DueEndpoints(ctx, d.now())
		if err != nil && ctx.Err() == nil {
			d.log().Warn("webhook sweep failed", "err", err)
		}
		d.start(ctx, ids)
	sweep:
		for {
			select {
			case <-ctx.Done():
				d.wg.Wait()
				return nil
			case <-kicked:
				d.start(ctx, d.Kicks.take())
			case <-t.C:
				break sweep
			}
		}
	}
}

// Kicks carries the endpoints that got new deliveries, from the commits
// of a process to its deliverer's Run. It is made first and given to both
// (Add to the store, the Kicks to the Deliverer), so that neither needs
// the other to exist.
type Kicks struct {
	mu   sync.Mutex
	ids  map[string]bool
	wake chan struct{} // capacity 1: a wake-up is pending
}

// NewKicks returns an empty Kicks.
func NewKicks() *Kicks { return &Kicks{ids: map[string]bool{}, wake: make(chan struct{}, 1)} }

// Add asks for these endpoints to be drained now.
func (k *Kicks) Add(endpointIDs []string) {
	if len(endpointIDs) == 0 {
		return
	}
	k.mu.Lock()
	for _, id := range endpointIDs {
		k.ids[id] = true
	}
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// take returns the endpoints added and forgets them.
func (k *Kicks) take() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	ids := make([]string, 0, len(k.ids))
	for id := range k.ids {
		ids = append(ids, id)
	}
	clear(k.ids)
	return ids
}

// start drains these endpoints in the background until ctx ends.
func (d *Deliverer) start(ctx context.Context, endpointIDs []string) {
	if ctx.Err() != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range endpointIDs {
		if !d.claimDrain(id) {
			continue
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := d.drain(ctx, id); err != nil && ctx.Err() == nil {
				d.log().Warn("webhook delivery failed", "endpoint", id, "err", err)
			}
		}()
	}
}

// Drain delivers the endpoint's due deliveries and returns when none is
// left due (the queue's job). If this process is already draining it, it
// asks that drain to look again and returns.
func (d *Deliverer) Drain(ctx context.Context, endpointID string) error {
	defer d.Store.DeliveryJobDone(endpointID)
	d.mu.Lock()
	ok := d.claimDrain(endpointID)
	d.mu.Unlock()
	if !ok {
		return nil
	}
	return d.drain(ctx, endpointID)
}

// claimDrain marks a drain of id as running, or, if one is, asks it to
// look again; it reports whether the caller is to run it. d.mu is held.
func (d *Deliverer) claimDrain(id string) bool {
	if d.drains == nil {
		d.drains = map[string]*drainState{}
	}
	if st := d.drains[id]; st != nil {
		st.again = true
		return false
	}
	d.drains[id] = &drainState{}
	return true
}

// finished ends a drain unless it was asked to look again meanwhile.
func (d *Deliverer) finished(id string, err error) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.drains[id]
	if err == nil && st != nil && st.again {
		st.again = false
		return false
	}
	delete(d.drains, id)
	if d.ended == nil || len(d.ended) > 10000 {
		d.ended = map[string]time.Time{}
	}
	d.ended[id] = d.now()
	return true
}

// steadyGap is how recent an endpoint's last drain must be for a new one
// to linger.
const steadyGap = 100 * time.Millisecond

// linger waits a little before a drain of an endpoint that is receiving a
// steady stream, so that its events go out together.
func (d *Deliverer) linger(ctx context.Context, id string) {
	wait := cmp.Or(d.Linger, 15*time.Millisecond)
	if wait < 0 {
		return
	}
	d.mu.Lock()
	last, ok := d.ended[id]
	d.mu.Unlock()
	if !ok || d.now().Sub(last) > steadyGap {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// endpointTTL is how long a drain works with the endpoint as it read it
// (its URL, secrets, limits); the claim itself always checks that the
// endpoint is still there and enabled.
const endpointTTL = time.Second

func (d *Deliverer) drain(ctx context.Context, id string) error {
	d.linger(ctx, id)
	for {
		ep, err := d.endpoint(ctx, id)
		var n int
		if err == nil && ep != nil && !ep.Disabled {
			n, err = d.round(ctx, ep)
		}
		if err != nil || n == 0 {
			if d.finished(id, err) {
				return err
			}
		}
	}
}

// round claims one batch of the endpoint's due deliveries, sends them, and
// records the outcome; it returns how many it sent, or 0 when it sent some
// and nothing else is due.
func (d *Deliverer) round(ctx context.Context, ep *baixa.Endpoint) (int, error) {
	// One wave of requests per claim: the lease need only outlast one
	// request, so that deliveries cut short by a crash come back soon.
	conc := max(1, ep.MaxConcurrency)
	limit := conc
	if ep.RateLimit > 0 {
		limit = min(limit, max(1, ep.RateLimit))
	}
	lease := time.Duration(ep.TimeoutSeconds)*time.Second + cmp.Or(d.LeaseMargin, 30*time.Second)
	if ep.RateLimit > 0 {
		lease += time.Duration(limit/ep.RateLimit+1) * time.Second
	}
	ds, bodies, err := d.Store.ClaimDeliveries(ctx, ep, d.now(), lease, limit)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	outs := make([]baixa.DeliveryOutcome, len(ds))
	gone := make([]bool, len(ds))
	limiter := d.limiter(ep)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, dl := range ds {
		if limiter != nil && limiter.Wait(ctx) != nil {
			break // shutting down
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o, g := d.attempt(ctx, ep, dl, bodies[dl.EventID])
			if ctx.Err() != nil && o.Delivery.Status != baixa.DeliverySucceeded {
				return // cut short by shutdown: not an attempt the endpoint failed
			}
			outs[i], gone[i] = o, g
		}()
	}
	wg.Wait()
	// What shutdown cut short is not recorded: its lease runs out and it is
	// sent again, with the same webhook-id.
	done := outs[:0]
	var wasGone bool
	for i, o := range outs {
		if o.Delivery != nil {
			done = append(done, o)
			wasGone = wasGone || gone[i]
		}
	}
	if len(done) == 0 {
		return 0, ctx.Err()
	}
	outs = done
	h := baixa.EndpointHealth{DisableAfter: d.DisableAfter, FailedAt: d.now()}
	if h.DisableAfter == 0 {
		h.DisableAfter = 5 * 24 * time.Hour
	}
	for _, o := range outs {
		if o.Delivery.Status == baixa.DeliverySucceeded {
			h.Succeeded = true
		}
	}
	if wasGone && !h.Succeeded {
		h.Disable = "the endpoint answered 410 Gone"
	}
	disabled, more, err := d.Store.RecordAttempts(context.WithoutCancel(ctx), ep, outs, h)
	if err != nil {
		return 0, err
	}
	if !h.Succeeded || disabled {
		d.forget(ep.ID) // its failure run or state changed
	}
	if disabled {
		d.log().Warn("webhook endpoint disabled", "endpoint", ep.ID)
		if d.Observer != nil {
			d.Observer.EndpointDisabled()
		}
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if !more {
		return 0, nil // nothing else due: the drain ends unless asked to look again
	}
	return len(ds), nil
}

func (d *Deliverer) limiter(ep *baixa.Endpoint) *rate.Limiter {
	if ep.RateLimit <= 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.limiters == nil {
		d.limiters = map[string]*limiterEntry{}
	}
	e := d.limiters[ep.ID]
	if e == nil || e.perSecond != ep.RateLimit {
		e = &limiterEntry{perSecond: ep.RateLimit, l: rate.NewLimiter(rate.Limit(ep.RateLimit), 1)}
		d.limiters[ep.ID] = e
	}
	return e.l
}

// attempt sends one delivery and works out what follows: success, a retry
// (when), or death. gone reports a 410.
func (d *Deliverer) attempt(ctx context.Context, ep *baixa.Endpoint, dl *baixa.Delivery, body []byte) (baixa.DeliveryOutcome, bool) {
	a, r := d.try(ctx, ep, dl.EventID, body)
	a.N = dl.Attempts + 1
	dl.Attempts++
	dl.LastStatusCode, dl.LastError = r.status, a.Error
	if r.class == "success" {
		dl.Status, dl.SucceededAt, dl.NextAttemptAt = baixa.DeliverySucceeded, d.now(), time.Time{}
		if d.Observer != nil && !dl.EventCreatedAt.IsZero() {
			d.Observer.Delivered(dl.SucceededAt.Sub(dl.EventCreatedAt))
		}
		return baixa.DeliveryOutcome{Delivery: dl, Attempt: a}, false
	}
	schedule := d.Schedule
	if schedule == nil {
		schedule = DefaultSchedule
	}
	round := dl.Attempts - dl.RetryBase // attempts made since the schedule began
	if round > len(schedule) {
		dl.Status, dl.NextAttemptAt = baixa.DeliveryDead, time.Time{}
	} else {
		wait := jitter(schedule[max(0, round-1)], cmp.Or(d.Jitter, 0.2))
		if r.retryAfter > 0 {
			wait = min(max(r.retryAfter, time.Second), cmp.Or(d.RetryAfterMax, time.Hour))
		}
		dl.Status, dl.NextAttemptAt = baixa.DeliveryPending, d.now().Add(wait)
	}
	return baixa.DeliveryOutcome{Delivery: dl, Attempt: a}, r.status == http.StatusGone
}

// result is what one request came to.
type result struct {
	class      string // success, http_error, timeout, network_error, blocked
	status     int
	retryAfter time.Duration // of a 429 or 503
	body       string        // the start of the response body
	err        error
}

// try sends body to ep as event id, signed, and returns the attempt as it
// is logged (without its number) with what it came to.
func (d *Deliverer) try(ctx context.Context, ep *baixa.Endpoint, id string, body []byte) (*baixa.Attempt, result) {
	start := d.now()
	r := d.send(ctx, ep, id, body, start)
	took := d.now().Sub(start)
	if d.Observer != nil {
		d.Observer.Attempted(r.class, took)
	}
	a := &baixa.Attempt{At: start, StatusCode: r.status, DurationMS: took.Milliseconds(), Response: r.body}
	switch {
	case r.err != nil:
		a.Error = r.err.Error()
	case r.class != "success":
		a.Error = fmt.Sprintf("HTTP %d", r.status)
	}
	return a, r
}

// send makes the request.
func (d *Deliverer) send(ctx context.Context, ep *baixa.Endpoint, id string, body []byte, at time.Time) result {
	if body == nil {
		return result{class: "network_error", err: fmt.Errorf("event %s not found", id)}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(ep.TimeoutSeconds)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return result{class: "network_error", err: err}
	}
	ts := at.Unix()
	sig, err := SignatureHeader(ep.Secrets(at), id, ts, body)
	if err != nil {
		return result{class: "network_error", err: err}
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", cmp.Or(d.UserAgent, "baixa-webhooks"))
	req.Header["webhook-id"] = []string{id}
	req.Header["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
	req.Header["webhook-signature"] = []string{sig}
	resp, err := d.Client.Do(req)
	if err != nil {
		// The URL may carry a token in its query: keep it out of the record.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return result{class: classify(err), err: err}
	}
	defer resp.Body.Close()
	kept, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if rerr == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, discardBody))
	}
	r := result{class: "http_error", status: resp.StatusCode, body: printable(kept)}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		r.class = "success"
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		r.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), d.now())
	}
	return r
}

// printable makes a response body storable as text: valid UTF-8, no NULs.
func printable(b []byte) string {
	return strings.ReplaceAll(string(bytes.ToValidUTF8(b, []byte("\ufffd"))), "\x00", "\ufffd")
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrBlocked):
		return "blocked"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "network_error"
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Ping sends ep a signed "ping" event now and returns the attempt. Nothing
// is recorded.
func (d *Deliverer) Ping(ctx context.Context, ep *baixa.Endpoint) (*baixa.Attempt, error) {
	at := d.now()
	id := baixa.NewID("evt", at)
	body, err := json.Marshal(map[string]any{"id": id, "type": baixa.EventPing, "endpoint_id": ep.ID,
		"created_at": at.UTC().Truncate(time.Microsecond)})
	if err != nil {
		return nil, err
	}
	a, _ := d.try(ctx, ep, id, body)
	a.N = 1
	return a, nil
}

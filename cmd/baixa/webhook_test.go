package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"baixa/internal/dbtest"
	"baixa/webhook"
)

// received is one request as an ERP got it.
type received struct {
	id, timestamp, signature string
	header                   http.Header
	body                     []byte
	event                    map[string]any
	at                       time.Time
}

// erp is a receiver on loopback. answer decides each response (nil: 204).
type erp struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received, w http.ResponseWriter) bool // true: answered
	notify chan struct{}
}

func newERP(t *testing.T) *erp {
	e := &erp{t: t, notify: make(chan struct{}, 1000)}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc := received{id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"),
			signature: r.Header.Get("webhook-signature"), header: r.Header.Clone(), body: body, at: time.Now()}
		_ = json.Unmarshal(body, &rc.event)
		e.mu.Lock()
		n := len(e.got)
		e.got = append(e.got, rc)
		answer := e.answer
		e.mu.Unlock()
		e.notify <- struct{}{}
		if answer != nil && answer(n, rc, w) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *erp) setAnswer(f func(n int, r received, w http.ResponseWriter) bool) {
	e.mu.Lock()
	e.answer = f
	e.mu.Unlock()
}

func (e *erp) requests() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.got...)
}

// waitFor waits until cond holds over the requests received so far.
func (e *erp) waitFor(what string, cond func([]received) bool) []received {
	e.t.Helper()
	// A deadline for a run that is stuck, not a measure: under -race, with
	// the other end-to-end tests beside it on two cores, 2,500 deliveries
	// have taken more than 20 s.
	deadline := time.After(90 * time.Second)
	for {
		if rs := e.requests(); cond(rs) {
			return rs
		}
		select {
		case <-e.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			e.t.Fatalf("ERP: timed out waiting for %s; got %d requests", what, len(e.requests()))
		}
	}
}

// webhookCfg allows loopback receivers, retries quickly, and seals
// secrets at rest.
func webhookCfg() serveConfig {
	return serveConfig{SecretKey: []byte("0123456789abcdef0123456789abcdef"), Webhooks: webhookConfig{
		Guard:    webhook.Guard{AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		Schedule: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond},
		Sweep:    20 * time.Millisecond, LeaseMargin: 300 * time.Millisecond, DisableAfter: time.Hour,
	}}
}

// fixture: an account, and boleto charges by nosso número.
func (c *client) account() string {
	c.t.Helper()
	return c.must(201, "POST", "/v1/accounts", `{"name": "ACME", "document": "11222333000181"}`)["id"].(string)
}

func (c *client) charge(account, nosso, amount string) string {
	c.t.Helper()
	return c.must(201, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "boleto", "amount": %q,
		"due_date": "2026-12-01", "references": {"nosso_numero": %q}}`, account, amount, nosso))["id"].(string)
}

func (c *client) pay(charge, amount string) {
	c.t.Helper()
	c.must(201, "POST", "/v1/charges/"+charge+"/payments", fmt.Sprintf(`{"amount": %q, "paid_on": "2026-11-23"}`, amount))
}

func (c *client) endpoint(body string) (id, secret string) {
	c.t.Helper()
	out := c.must(201, "POST", "/v1/endpoints", body)
	return out["id"].(string), out["secret"].(string)
}

func (c *client) deliveries(query string) []any {
	c.t.Helper()
	return c.must(200, "GET", "/v1/deliveries?"+query, "")["data"].([]any)
}

// waitDelivery polls a delivery until cond holds.
func (c *client) waitDelivery(query string, cond func(d map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, d := range c.deliveries(query) {
			full := c.must(200, "GET", "/v1/deliveries/"+d.(map[string]any)["id"].(string), "")
			if cond(full) {
				return full
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("no delivery %s met the condition: %v", query, c.deliveries(query))
	return nil
}

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		rx := newERP(t)
		acc := c.account()
		ep, secret := c.endpoint(fmt.Sprintf(`{"url": %q, "event_types": ["charge.paid"], "headers": {"X-Tenant": "acme"}}`, rx.srv.URL))
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("secret %q", secret)
		}
		if got := c.must(200, "GET", "/v1/endpoints/"+ep, ""); got["secret"] != nil || got["ordered"] != true || got["timeout_seconds"] != 15.0 {
			t.Errorf("endpoint as read back: %v", got)
		}

		paid := c.charge(acc, "101", "100.00")
		written := c.charge(acc, "102", "100.00")
		c.must(200, "POST", "/v1/charges/"+written+"/write-off", `{"note": "not for this endpoint"}`)
		c.pay(paid, "100.00")

		rs := rx.waitFor("the payment", func(rs []received) bool { return len(rs) >= 1 })
		r := rs[0]
		if err := webhook.Verify(secret, r.id, r.timestamp, r.signature, r.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		if r.event["type"] != "charge.paid" || r.event["id"] != r.id || r.event["sequence"] != 1.0 || r.event["charge_id"] != paid {
			t.Errorf("event: %v", r.event)
		}
		if r.header.Get("X-Tenant") != "acme" || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("headers: %v", r.header)
		}
		d := c.waitDelivery("endpoint_id="+ep, func(d map[string]any) bool { return d["status"] == "succeeded" })
		log := d["attempt_log"].([]any)
		if d["attempts"] != 1.0 || len(log) != 1 || log[0].(map[string]any)["status_code"] != 204.0 || d["event_id"] != r.id {
			t.Errorf("delivery: %v", d)
		}
		// The write-off was filtered out: it never becomes a delivery.
		time.Sleep(200 * time.Millisecond)
		if n := len(c.deliveries("endpoint_id=" + ep)); n != 1 || len(rx.requests()) != 1 {
			t.Errorf("%d deliveries, %d requests; want 1 each", n, len(rx.requests()))
		}

		// A signed ping.
		a := c.must(200, "POST", "/v1/endpoints/"+ep+"/test", "")
		if a["status_code"] != 204.0 {
			t.Errorf("ping: %v", a)
		}
		rs = rx.waitFor("the ping", func(rs []received) bool { return len(rs) == 2 })
		if rs[1].event["type"] != "ping" || webhook.Verify(secret, rs[1].id, rs[1].timestamp, rs[1].signature, rs[1].body, time.Now(), time.Minute) != nil {
			t.Errorf("ping: %v", rs[1].event)
		}

		// PATCH changes what it names; DELETE takes the deliveries along.
		up := c.must(200, "PATCH", "/v1/endpoints/"+ep, `{"description": "ERP de produção", "rate_limit": 50}`)
		if up["description"] != "ERP de produção" || up["rate_limit"] != 50.0 || up["url"] != rx.srv.URL || len(up["event_types"].([]any)) != 1 {
			t.Errorf("patched: %v", up)
		}
		if list := c.must(200, "GET", "/v1/endpoints", "")["data"].([]any); len(list) != 1 {
			t.Errorf("endpoints: %v", list)
		}
		c.must(204, "DELETE", "/v1/endpoints/"+ep, "")
		c.must(404, "GET", "/v1/endpoints/"+ep, "")
		c.must(404, "DELETE", "/v1/endpoints/"+ep, "")
		if n := len(c.deliveries("endpoint_id=" + ep)); n != 0 {
			t.Errorf("%d deliveries left after deleting their endpoint", n)
		}

		// Bad endpoints.
		for body, field := range map[string]string{
			`{"url": "ftp://example.com/x"}`:                                   "body.url",
			`{"url": "https://user:pw@example.com/x"}`:                         "body.url",
			`{"url": "https://example.com/x", "event_types": ["nope"]}`:        "body.event_types[0]",
			`{"url": "https://example.com/x", "headers": {"webhook-id": "x"}}`: "body.headers",
			`{"url": "https://example.com/x", "account_id": "acc_nope"}`:       "body.account_id",
			`{"url": "https://example.com/x", "timeout_seconds": 600}`:         "body.timeout_seconds",
		} {
			status, out, raw := c.do("POST", "/v1/endpoints", body)
			if status != 422 || !strings.Contains(string(raw), field) {
				t.Errorf("%s: %d %v", body, status, out)
			}
		}
	})
}

// TestWebhookFailures walks one delivery through every failure class
// before it succeeds, then kills one after its last attempt, then lets an
// endpoint's 410 disable it.
func TestWebhookFailures(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		cfg := webhookCfg()
		c := startApp(t, url, cfg)
		rx := newERP(t)
		elsewhere := newERP(t)
		acc := c.account()
		ep, _ := c.endpoint(fmt.Sprintf(`{"url": %q, "timeout_seconds": 1}`, rx.srv.URL))
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		rx.setAnswer(func(n int, r received, w http.ResponseWriter) bool {
			switch n {
			case 0:
				w.WriteHeader(500)
				_, _ = io.WriteString(w, strings.Repeat("x", 5000)) // only the first KB is kept
			case 1:
				http.Redirect(w, &http.Request{Method: "POST"}, elsewhere.srv.URL, http.StatusFound)
			case 2:
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(429)
			case 3:
				select { // hangs past the endpoint's 1 s timeout
				case <-release:
				case <-time.After(3 * time.Second):
				}
			case 4:
				hj, _ := w.(http.Hijacker)
				conn, _, _ := hj.Hijack()
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // reset, not a clean close
				}
				conn.Close()
			default:
				w.WriteHeader(200)
				_, _ = w.Write(make([]byte, 10<<20)) // a huge body: read no further than needed
			}
			return true
		})
		ch := c.charge(acc, "201", "10.00")
		c.pay(ch, "10.00")
		d := c.waitDelivery("endpoint_id="+ep, func(d map[string]any) bool { return d["status"] == "succeeded" })
		log := d["attempt_log"].([]any)
		want := []float64{500, 302, 429, 0, 0, 200}
		if len(log) != len(want) {
			t.Fatalf("attempts: %v", log)
		}
		for i, a := range log {
			a := a.(map[string]any)
			code, _ := a["status_code"].(float64)
			if code != want[i] {
				t.Errorf("attempt %d: status %v, want %v (%v)", i+1, code, want[i], a)
			}
			if i < 5 && a["error"] == "" {
				t.Errorf("attempt %d has no error", i+1)
			}
		}
		if resp := log[0].(map[string]any)["response"].(string); len(resp) != 1024 {
			t.Errorf("kept %d bytes of the response, want 1024", len(resp))
		}
		if e := log[3].(map[string]any)["error"].(string); !strings.Contains(e, "deadline") && !strings.Contains(e, "timeout") {
			t.Errorf("timeout attempt: %s", e)
		}
		// Retry-After: 1 was honoured (the schedule alone says 100 ms).
		at := func(i int) time.Time {
			v, _ := time.Parse(time.RFC3339Nano, log[i].(map[string]any)["at"].(string))
			return v
		}
		if gap := at(3).Sub(at(2)); gap < 900*time.Millisecond {
			t.Errorf("retry after a 429 with Retry-After: 1 came %s later", gap)
		}
		if len(elsewhere.requests()) != 0 {
			t.Error("a redirect was followed")
		}
		ids := map[string]bool{}
		for _, r := range rx.requests() {
			ids[r.id] = true
		}
		if len(ids) != 1 {
			t.Errorf("webhook-id changed across retries: %v", ids)
		}

		// An endpoint that always fails: dead after the last attempt, then
		// retried by hand once it works.
		bad := newERP(t)
		bad.setAnswer(func(int, received, http.ResponseWriter) bool { return false })
		bad.setAnswer(func(_ int, _ received, w http.ResponseWriter) bool { w.WriteHeader(503); return true })
		badEP, _ := c.endpoint(fmt.Sprintf(`{"url": %q}`, bad.srv.URL))
		c.pay(c.charge(acc, "202", "10.00"), "10.00")
		dead := c.waitDelivery("endpoint_id="+badEP, func(d map[string]any) bool { return d["status"] == "dead" })
		if dead["attempts"] != float64(len(cfg.Webhooks.Schedule)+1) {
			t.Errorf("dead after %v attempts, want %d", dead["attempts"], len(cfg.Webhooks.Schedule)+1)
		}
		if got := c.must(200, "GET", "/v1/endpoints/"+badEP, ""); got["failing_since"] == nil || got["disabled"] != false {
			t.Errorf("failing endpoint: %v", got)
		}
		bad.setAnswer(nil)
		c.must(200, "POST", "/v1/deliveries/"+dead["id"].(string)+"/retry", "")
		d = c.waitDelivery("endpoint_id="+badEP, func(d map[string]any) bool { return d["status"] == "succeeded" })
		if d["attempts"] != float64(len(cfg.Webhooks.Schedule)+2) {
			t.Errorf("after a manual retry: %v", d)
		}
		if got := c.must(200, "GET", "/v1/endpoints/"+badEP, ""); got["failing_since"] != nil {
			t.Errorf("a success should end the failure run: %v", got)
		}

		// 410 Gone disables the endpoint and says so in the feed; what comes
		// meanwhile waits, and goes out once the endpoint is enabled.
		gone := newERP(t)
		gone.setAnswer(func(_ int, _ received, w http.ResponseWriter) bool { w.WriteHeader(410); return true })
		goneEP, _ := c.endpoint(fmt.Sprintf(`{"url": %q, "event_types": ["charge.paid"]}`, gone.srv.URL))
		c.pay(c.charge(acc, "203", "10.00"), "10.00")
		deadline := time.Now().Add(20 * time.Second)
		for c.must(200, "GET", "/v1/endpoints/"+goneEP, "")["disabled"] != true {
			if time.Now().After(deadline) {
				t.Fatal("410 did not disable the endpoint")
			}
			time.Sleep(20 * time.Millisecond)
		}
		feed := c.must(200, "GET", "/v1/events?limit=500", "")["data"].([]any)
		last := feed[len(feed)-1].(map[string]any)
		if last["type"] != "endpoint.disabled" || last["endpoint"].(map[string]any)["id"] != goneEP {
			t.Errorf("no endpoint.disabled event: %v", last)
		}
		c.pay(c.charge(acc, "204", "10.00"), "10.00")
		time.Sleep(200 * time.Millisecond)
		if n := len(gone.requests()); n != 1 {
			t.Errorf("a disabled endpoint got %d requests", n)
		}
		gone.setAnswer(nil)
		c.must(200, "POST", "/v1/endpoints/"+goneEP+"/enable", "")
		gone.waitFor("both payments after enabling", func(rs []received) bool {
			seen := map[string]bool{}
			for _, r := range rs[1:] {
				seen[r.id] = true
			}
			return len(seen) == 2
		})
	})
}

// TestWebhookOrder: a charge's later event waits while an earlier one is
// retried, other charges do not; an unordered endpoint does not wait.
func TestWebhookOrder(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		cfg := webhookCfg()
		cfg.Webhooks.Schedule = slices.Repeat([]time.Duration{100 * time.Millisecond}, 30)
		c := startApp(t, url, cfg)
		ordered, unordered := newERP(t), newERP(t)
		acc := c.account()
		a := c.charge(acc, "301", "100.00")
		b := c.charge(acc, "302", "100.00")
		// Each refuses charge a's first event until it has seen the event
		// that must not wait for it (b's on the ordered endpoint, a's second
		// on the unordered one), at least twice and at most twenty times.
		failFirst := func(e *erp, until func(received) bool) {
			var fails int
			var seen bool
			e.setAnswer(func(_ int, r received, w http.ResponseWriter) bool {
				if until(r) {
					seen = true
				}
				if r.event["charge_id"] == a && r.event["sequence"] == 1.0 && fails < 20 && (!seen || fails < 2) {
					fails++
					w.WriteHeader(500)
					return true
				}
				return false
			})
		}
		failFirst(ordered, func(r received) bool { return r.event["charge_id"] == b })
		failFirst(unordered, func(r received) bool { return r.event["charge_id"] == a && r.event["sequence"] == 2.0 })
		c.endpoint(fmt.Sprintf(`{"url": %q}`, ordered.srv.URL))
		c.endpoint(fmt.Sprintf(`{"url": %q, "ordered": false}`, unordered.srv.URL))
		c.pay(a, "40.00") // a: sequence 1, partially paid
		c.pay(a, "60.00") // a: sequence 2, paid
		c.pay(b, "100.00")

		okOrder := func(rs []received) []string {
			var out []string
			for _, r := range rs {
				out = append(out, fmt.Sprintf("%v/%v", r.event["charge_id"] == a, r.event["sequence"]))
			}
			return out
		}
		// The ordered endpoint: a's second event only after its first
		// succeeded (its last try); b's before that.
		rs := ordered.waitFor("every event", func(rs []received) bool { return len(okOrder(rs)) >= 4 && hasA2(rs, a) })
		order := okOrder(rs)
		lastA1, firstA2, firstB := -1, -1, -1
		for i, o := range order {
			switch {
			case o == "true/1":
				lastA1 = i
			case o == "true/2" && firstA2 < 0:
				firstA2 = i
			case o == "false/1" && firstB < 0:
				firstB = i
			}
		}
		if firstA2 < lastA1 {
			t.Errorf("ordered endpoint got charge a's second event before its first succeeded: %v", order)
		}
		if firstB < 0 || firstB > lastA1 {
			t.Errorf("charge b waited for charge a: %v", order)
		}
		// The unordered endpoint: a's second event while the first was retried.
		// (If a's second event were held, no try of its first would follow
		// it, and this wait would time out.)
		rs = unordered.waitFor("a try of a's first event after its second", func(rs []received) bool {
			o := okOrder(rs)
			i := slices.Index(o, "true/2")
			return i >= 0 && slices.Contains(o[i:], "true/1")
		})
		order = okOrder(rs)
		if i := slices.Index(order, "true/2"); i < 0 || !slices.Contains(order[i:], "true/1") {
			t.Errorf("unordered endpoint held charge a's second event: %v", order)
			for _, r := range rs {
				t.Logf("%v/%v created %v received %s", r.event["charge_id"] == a, r.event["sequence"], r.event["created_at"], r.at.Format("15:04:05.000000"))
			}
		}
	})
}

func hasA2(rs []received, a string) bool {
	for _, r := range rs {
		if r.event["charge_id"] == a && r.event["sequence"] == 2.0 {
			return true
		}
	}
	return false
}

// TestWebhookRotationReplay: a rotated secret signs alongside the new one
// during the overlap; replays re-send without duplicating unless forced.
func TestWebhookRotationReplay(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		rx := newERP(t)
		acc := c.account()
		start := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
		c.pay(c.charge(acc, "401", "10.00"), "10.00") // before the endpoint exists
		ep, old := c.endpoint(fmt.Sprintf(`{"url": %q, "event_types": ["charge.paid"]}`, rx.srv.URL))

		rot := c.must(200, "POST", "/v1/endpoints/"+ep+"/rotate-secret", `{"overlap_seconds": 3600}`)
		fresh := rot["secret"].(string)
		if fresh == old || rot["previous_secret_expires_at"] == nil {
			t.Fatalf("rotation: %v", rot)
		}
		c.pay(c.charge(acc, "402", "10.00"), "10.00")
		r := rx.waitFor("a payment", func(rs []received) bool { return len(rs) == 1 })[0]
		if n := len(strings.Fields(r.signature)); n != 2 {
			t.Errorf("%d signatures during the overlap, want 2", n)
		}
		for _, s := range []string{old, fresh} {
			if err := webhook.Verify(s, r.id, r.timestamp, r.signature, r.body, time.Now(), time.Minute); err != nil {
				t.Errorf("verify with %s...: %v", s[:10], err)
			}
		}
		c.must(200, "POST", "/v1/endpoints/"+ep+"/rotate-secret", `{"overlap_seconds": 0}`)
		if err := webhook.Verify(fresh, r.id, r.timestamp, "v1,AAAA", r.body, time.Now(), time.Minute); err == nil {
			t.Error("a wrong signature verified")
		}

		// Replay: the failed scope finds nothing dead; "all" brings the
		// payment made before the endpoint existed, once.
		replay := func(body string) float64 {
			return c.must(200, "POST", "/v1/endpoints/"+ep+"/replay", body)["queued"].(float64)
		}
		if n := replay(fmt.Sprintf(`{"since": %q}`, start)); n != 0 {
			t.Errorf("failed-scope replay queued %v", n)
		}
		if n := replay(fmt.Sprintf(`{"since": %q, "scope": "all"}`, start)); n != 1 {
			t.Errorf("all-scope replay queued %v, want 1", n)
		}
		rx.waitFor("the earlier payment", func(rs []received) bool { return len(rs) == 2 })
		deadline := time.Now().Add(20 * time.Second)
		for len(c.deliveries("endpoint_id="+ep+"&status=succeeded")) != 2 {
			if time.Now().After(deadline) {
				t.Fatal("replayed delivery did not succeed")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := replay(fmt.Sprintf(`{"since": %q, "scope": "all"}`, start)); n != 0 {
			t.Errorf("a second replay queued %v, want 0: nothing is sent twice unless forced", n)
		}
		if n := replay(fmt.Sprintf(`{"since": %q, "scope": "all", "force": true}`, start)); n != 2 {
			t.Errorf("a forced replay queued %v, want 2", n)
		}
		rx.waitFor("the forced replay", func(rs []received) bool { return len(rs) == 4 })
		status, _, raw := c.do("POST", "/v1/endpoints/"+ep+"/replay", `{"since": "yesterday"}`)
		if status != 422 {
			t.Errorf("bad since: %d %s", status, raw)
		}
	})
}

// TestWebhookGuard: internal destinations are refused when an endpoint is
// written and again when a delivery dials, whatever the name resolves to.
func TestWebhookGuard(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rx := newERP(t)
		open := webhookCfg()
		c, a := launch(t, url, open)
		acc := c.account()
		ep, _ := c.endpoint(fmt.Sprintf(`{"url": %q}`, rx.srv.URL)) // allowed: 127.0.0.0/8 is on the allow-list
		if err := a.shutdown(); err != nil {
			t.Fatal(err)
		}

		strict := webhookCfg()
		strict.Webhooks.Guard.Allow = nil
		c, a = launch(t, url, strict)
		for _, u := range []string{"http://127.0.0.1:9/x", "http://localhost:9/x", "http://[::ffff:127.0.0.1]:9/x",
			"http://169.254.169.254/latest/meta-data", "http://10.1.2.3/x", "http://[fd00::1]/x", "http://[64:ff9b::a9fe:a9fe]/x",
			"http://[::1]/x", "http://0.0.0.0/x"} {
			status, _, raw := c.do("POST", "/v1/endpoints", fmt.Sprintf(`{"url": %q}`, u))
			if status != 422 || !strings.Contains(string(raw), "not allowed") {
				t.Errorf("%s: %d %s", u, status, raw)
			}
		}
		// The endpoint stored earlier resolves to loopback: refused at dial time.
		c.pay(c.charge(acc, "501", "10.00"), "10.00")
		d := c.waitDelivery("endpoint_id="+ep, func(d map[string]any) bool { return d["attempts"] != 0.0 })
		if e := d["attempt_log"].([]any)[0].(map[string]any)["error"].(string); !strings.Contains(e, "destination not allowed") {
			t.Errorf("dial-time refusal: %v", d)
		}
		if n := len(rx.requests()); n != 0 {
			t.Errorf("the receiver got %d requests", n)
		}

		if err := a.shutdown(); err != nil {
			t.Fatal(err)
		}
		httpsOnly := webhookCfg()
		httpsOnly.Webhooks.Guard.AllowHTTP = false
		c = startApp(t, url, httpsOnly)
		if status, _, raw := c.do("POST", "/v1/endpoints", `{"url": "http://example.com/x"}`); status != 422 || !strings.Contains(string(raw), "https") {
			t.Errorf("plain http: %d %s", status, raw)
		}
	})
}

// TestWebhookRestart kills baixa while a delivery is in flight: the next
// process sends it again, with the same webhook-id.
func TestWebhookRestart(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rx := newERP(t)
		hold := make(chan struct{})
		rx.setAnswer(func(n int, _ received, w http.ResponseWriter) bool {
			if n == 0 {
				<-hold // in flight when the process stops
				return false
			}
			return false
		})
		cfg := webhookCfg()
		cfg.ShutdownTimeout = 200 * time.Millisecond
		c, a := launch(t, url, cfg)
		acc := c.account()
		c.endpoint(fmt.Sprintf(`{"url": %q, "timeout_seconds": 2}`, rx.srv.URL))
		c.pay(c.charge(acc, "601", "10.00"), "10.00")
		first := rx.waitFor("the first try", func(rs []received) bool { return len(rs) == 1 })[0]
		if err := a.shutdown(); err != nil {
			t.Logf("shutdown: %v", err)
		}
		close(hold)

		// The lease of the interrupted batch runs out; the new process
		// sends the delivery again.
		cfg.Webhooks.LeaseMargin = 100 * time.Millisecond
		c = startApp(t, url, cfg)
		rs := rx.waitFor("the delivery again", func(rs []received) bool { return len(rs) >= 2 })
		if rs[1].id != first.id || string(rs[1].body) != string(first.body) {
			t.Errorf("redelivered %s (%s), want %s", rs[1].id, rs[1].body, first.id)
		}
		// The try cut short by the shutdown is not held against the endpoint.
		d := c.waitDelivery("", func(d map[string]any) bool { return d["status"] == "succeeded" })
		if d["attempts"] != 1.0 {
			t.Errorf("attempts: %v", d["attempt_log"])
		}
	})
}

// TestWebhookLimits: a hanging endpoint does not hold another one back; a
// rate limit spaces requests; an endpoint failing for longer than the
// configured time is disabled; the metrics count it all.
func TestWebhookLimits(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		cfg := webhookCfg()
		cfg.Webhooks.DisableAfter = 300 * time.Millisecond
		c := startApp(t, url, cfg)
		acc := c.account()

		hang, quick, limited, failing := newERP(t), newERP(t), newERP(t), newERP(t)
		stuck := make(chan struct{})
		t.Cleanup(func() { close(stuck) })
		hang.setAnswer(func(int, received, http.ResponseWriter) bool { <-stuck; return false })
		failing.setAnswer(func(_ int, _ received, w http.ResponseWriter) bool { w.WriteHeader(500); return true })
		c.endpoint(fmt.Sprintf(`{"url": %q, "timeout_seconds": 60, "event_types": ["charge.paid"]}`, hang.srv.URL))
		c.endpoint(fmt.Sprintf(`{"url": %q, "event_types": ["charge.paid"]}`, quick.srv.URL))
		c.endpoint(fmt.Sprintf(`{"url": %q, "rate_limit": 5, "event_types": ["charge.paid"]}`, limited.srv.URL))
		failID, _ := c.endpoint(fmt.Sprintf(`{"url": %q, "event_types": ["charge.paid"]}`, failing.srv.URL))

		for i := range 6 {
			c.pay(c.charge(acc, fmt.Sprint(700+i), "10.00"), "10.00")
		}
		quick.waitFor("every event while another endpoint hangs", func(rs []received) bool { return len(rs) >= 6 })
		if rs := quick.requests(); len(rs) != 6 {
			for _, r := range rs {
				t.Logf("quick got %s at %s", r.id, r.at.Format("15:04:05.000000"))
			}
			t.Errorf("quick endpoint got %d requests, want 6", len(rs))
		}
		// The hanging endpoint has its requests in flight all along.
		hang.waitFor("the hanging endpoint's requests", func(rs []received) bool { return len(rs) >= 1 })

		rs := limited.waitFor("the rate-limited endpoint", func(rs []received) bool { return len(rs) == 6 })
		// 5 per second with no burst: the six are spread over a second at
		// least (allowing for scheduling slack).
		if span := rs[5].at.Sub(rs[0].at); span < 900*time.Millisecond {
			t.Errorf("six requests of a 5/s endpoint came within %s", span)
		}

		deadline := time.Now().Add(20 * time.Second)
		for {
			ep := c.must(200, "GET", "/v1/endpoints/"+failID, "")
			if ep["disabled"] == true {
				if !strings.Contains(ep["disabled_reason"].(string), "every attempt failed since") {
					t.Errorf("reason: %v", ep["disabled_reason"])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a failing endpoint was not disabled: %v", ep)
			}
			time.Sleep(20 * time.Millisecond)
		}

		req, _ := http.NewRequest("GET", c.base+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`baixa_webhook_attempts_total{result="success"}`, `baixa_webhook_attempts_total{result="http_error"}`,
			"baixa_webhook_delivery_latency_seconds_count", "baixa_webhook_pending_deliveries{endpoint=",
			"baixa_webhook_endpoints_disabled 1", "baixa_webhook_endpoints_auto_disabled_total 1"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// TestWebhookReplayPages replays more events than one page of the replay.
func TestWebhookReplayPages(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		rx := newERP(t)
		acc := c.account()
		const n = 2500
		var cs, ms []string
		for i := range n {
			cs = append(cs, fmt.Sprintf(`{"account_id": %q, "kind": "boleto", "amount": "10.00", "references": {"nosso_numero": "%d"}}`, acc, 90000+i))
			ms = append(ms, fmt.Sprintf(`{"id": "r-%d", "kind": "paid", "references": {"nosso_numero": "%d"}, "paid_amount": "10.00", "paid_on": "2026-11-20"}`, i, 90000+i))
		}
		c.must(201, "POST", "/v1/charges/bulk", `{"charges": [`+strings.Join(cs, ",")+`]}`)
		doc := c.must(202, "POST", "/v1/imports/generic?account_id="+acc, "["+strings.Join(ms, ",")+"]")["id"].(string)
		if d := c.waitDocument(doc); d["applied"] != float64(n) {
			t.Fatalf("document: %v", d)
		}
		ep, _ := c.endpoint(fmt.Sprintf(`{"url": %q, "max_concurrency": 32}`, rx.srv.URL))
		out := c.must(200, "POST", "/v1/endpoints/"+ep+"/replay", `{"since": "2026-01-01T00:00:00Z", "scope": "all"}`)
		if out["queued"] != float64(n) {
			t.Fatalf("queued %v, want %d", out["queued"], n)
		}
		rs := rx.waitFor("every replayed event", func(rs []received) bool { return len(rs) >= n })
		seen := map[string]bool{}
		for _, r := range rs {
			seen[r.id] = true
		}
		if len(seen) != n {
			t.Errorf("%d distinct events of %d", len(seen), n)
		}
	})
}

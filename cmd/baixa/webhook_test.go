package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
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
	deadline := time.After(20 * time.Second)
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

func typesOf(rs []received) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprint(r.event["type"]))
	}
	return out
}

// webhookCfg allows loopback receivers and retries quickly.
func webhookCfg() serveConfig {
	return serveConfig{Webhooks: webhookConfig{
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

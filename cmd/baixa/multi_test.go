package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"baixa/internal/dbtest"
	"baixa/provider/sicoob"
)

// TestTwoInstancesPostgres runs two baixa processes' worth of app on one
// PostgreSQL database: imports sent to either are settled once, and the
// feed read from either is the same.
func TestTwoInstancesPostgres(t *testing.T) {
	t.Parallel()
	url := dbtest.PostgresURL(t)
	a := startApp(t, url, serveConfig{})
	b := startApp(t, url, serveConfig{})
	acc := a.must(201, "POST", "/v1/accounts", `{"name": "ACME", "document": "11222333000181"}`)["id"].(string)
	var charges []string
	for i := range 200 {
		charges = append(charges, fmt.Sprintf(`{"account_id": %q, "kind": "boleto", "amount": "10.00", "references": {"nosso_numero": "%d"}}`, acc, 1000+i))
	}
	b.must(201, "POST", "/v1/charges/bulk", `{"charges": [`+strings.Join(charges, ",")+`]}`)

	// Ten imports, overlapping, half to each instance at once.
	var wg sync.WaitGroup
	docs := make([]string, 10)
	for i := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ms []string
			for j := i * 15; j < i*15+30 && j < 200; j++ { // each overlaps the next by half
				ms = append(ms, fmt.Sprintf(`{"id": "p-%d", "kind": "paid", "references": {"nosso_numero": "%d"}, "paid_amount": "10.00", "paid_on": "2026-11-20"}`, j, 1000+j))
			}
			c := []*client{a, b}[i%2]
			docs[i] = c.must(202, "POST", "/v1/imports/generic?account_id="+acc, "["+strings.Join(ms, ",")+"]")["id"].(string)
		}()
	}
	wg.Wait()
	var applied, duplicate float64
	for i, id := range docs {
		d := []*client{b, a}[i%2].waitDocument(id)
		applied += d["applied"].(float64)
		duplicate += d["duplicate"].(float64)
	}
	if applied != 165 || duplicate != 135 {
		t.Errorf("applied %v, duplicate %v; want 165 and 135", applied, duplicate)
	}
	count := func(c *client) int {
		n := 0
		for cursor := ""; ; {
			page := c.must(200, "GET", "/v1/events?limit=500&after="+cursor, "")
			data := page["data"].([]any)
			if len(data) == 0 {
				return n
			}
			n += len(data)
			cursor = page["next_cursor"].(string)
		}
	}
	if na, nb := count(a), count(b); na != 165 || nb != 165 {
		t.Errorf("events seen from a: %d, from b: %d; want 165", na, nb)
	}
}

// TestTwoInstancesWebhooks: two processes on one PostgreSQL database share
// the deliveries of one endpoint: each event arrives once (no failures,
// so no retries), and each charge's events arrive in order.
func TestTwoInstancesWebhooks(t *testing.T) {
	t.Parallel()
	url := dbtest.PostgresURL(t)
	a := startApp(t, url, webhookCfg())
	b := startApp(t, url, webhookCfg())
	rx := newERP(t)
	acc := a.account()
	a.endpoint(fmt.Sprintf(`{"url": %q, "max_concurrency": 4}`, rx.srv.URL))
	var ids []string
	for i := range 20 {
		ids = append(ids, a.charge(acc, fmt.Sprint(3000+i), "30.00"))
	}
	// Three payments per charge, sent to either instance at once.
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := []*client{a, b}[i%2]
			for range 3 {
				c.pay(id, "10.00")
			}
		}()
	}
	wg.Wait()
	rx.waitFor("60 events", func(rs []received) bool { return len(rs) >= 60 })
	time.Sleep(300 * time.Millisecond) // a duplicate would come now
	rs := rx.requests()
	seen := map[string]bool{}
	last := map[string]float64{}
	for _, r := range rs {
		if seen[r.id] {
			t.Errorf("event %s delivered twice", r.id)
		}
		seen[r.id] = true
		ch, seq := r.event["charge_id"].(string), r.event["sequence"].(float64)
		if seq != last[ch]+1 {
			t.Errorf("charge %s: sequence %v after %v", ch, seq, last[ch])
		}
		last[ch] = seq
	}
	if len(rs) != 60 {
		t.Errorf("%d requests, want 60", len(rs))
	}
}

// TestTwoInstancesSicoob: two instances on one PostgreSQL database read a
// Sicoob connection on a short schedule; each window and movement type is
// asked once per run, never twice at once, and the payment is settled once.
func TestTwoInstancesSicoob(t *testing.T) {
	t.Parallel()
	url := dbtest.PostgresURL(t)
	rig := newSicoobRig(t)
	cfg := webhookCfg()
	cfg.Tick = 50 * time.Millisecond
	a := startApp(t, url, cfg)
	b := startApp(t, url, cfg)
	acct := a.account()
	ch := b.charge(acct, "4444444", "44.00")
	rig.sb.SetFaults(sicoob.Faults{NotReadyPolls: 2})
	rig.sb.Add(paid(4444444, 4400))
	id := rig.connect(a, acct, "v3", map[string]any{"movement_types": []int{5}})["id"].(string)
	waitFor(t, "payment", func() bool { return b.chargeStatus(ch) == "paid" })
	waitFor(t, "first run ended", func() bool { v := a.connection(id); return idle(v) && stat(v, "documents_pending") == 0 })
	// Three more runs, asked of both instances at once.
	for range 3 {
		before := rig.sb.Calls("request")
		var wg sync.WaitGroup
		for _, c := range []*client{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); c.must(202, "POST", "/v1/connections/"+id+"/run", "") }()
		}
		wg.Wait()
		waitFor(t, "run", func() bool { return rig.sb.Calls("request") > before && idle(a.connection(id)) })
	}
	v := a.connection(id)
	if n := rig.sb.Calls("request"); n > 4 {
		t.Errorf("%d movement requests for 4 runs of one window and type", n)
	}
	if stat(v, "movements", "applied") != 1 {
		t.Errorf("applied %v, want 1", stat(v, "movements", "applied"))
	}
}

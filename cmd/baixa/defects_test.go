package main

// Tests of the defects that a crash, fault and hostile-input campaign found
// (issue 18); each failed before its fix.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"baixa/internal/dbtest"
	"baixa/internal/faultproxy"
	"baixa/webhook"
)

// Every list route honours limit and after, refuses a limit out of range,
// and says so in /openapi.json (the charges' list ignored both).
func TestListsPage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		want := map[string]bool{}
		for i := range 5 {
			want[c.charge(acct, fmt.Sprintf("%d", 100+i), "10.00")] = true
		}
		got := map[string]bool{}
		path := "/v1/charges?limit=2"
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatalf("paging does not end: %v", got)
			}
			out := c.must(200, "GET", path, "")
			data := out["data"].([]any)
			if len(data) > 2 {
				t.Fatalf("%s gave %d charges, want at most 2", path, len(data))
			}
			for _, d := range data {
				id := d.(map[string]any)["id"].(string)
				if got[id] {
					t.Fatalf("charge %s came twice", id)
				}
				got[id] = true
			}
			next, _ := out["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/v1/charges?limit=2&after=" + next
		}
		if len(got) != len(want) {
			t.Errorf("paged %d charges, want %d", len(got), len(want))
		}
		var doc struct {
			Paths map[string]map[string]struct {
				Parameters []struct{ Name, In string } `json:"parameters"`
			} `json:"paths"`
		}
		_, _, raw := c.do("GET", "/openapi.json", "")
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/v1/accounts", "/v1/charges", "/v1/connections", "/v1/endpoints", "/v1/deliveries", "/v1/events", "/v1/movements"} {
			names := map[string]bool{}
			for _, prm := range doc.Paths[p]["get"].Parameters {
				names[prm.Name] = true
			}
			if !names["limit"] || !names["after"] {
				t.Errorf("/openapi.json: GET %s lists %v, want limit and after", p, names)
			}
			for _, bad := range []string{"600", "abc", "0"} {
				q := "?limit=" + bad
				if p == "/v1/movements" {
					q += "&result=unmatched"
				}
				if s, _, raw := c.do("GET", p+q, ""); s != 422 {
					t.Errorf("GET %s?limit=%s = %d %s, want 422", p, bad, s, raw)
				}
			}
		}
	})
}

// Text that is not UTF-8 is refused, never altered.
func TestAPIRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		s, _, raw := c.do("POST", "/v1/accounts", "{\"name\": \"A\xff\xfe\", \"document\": \"11222333000181\"}")
		if s != 422 || !strings.Contains(string(raw), "UTF-8") {
			t.Errorf("invalid UTF-8 name = %d %s, want 422 naming UTF-8", s, raw)
		}
		if n := len(c.must(200, "GET", "/v1/accounts", "")["data"].([]any)); n != 0 {
			t.Errorf("%d accounts stored", n)
		}
	})
}

// Every subcommand's --help prints its usage and exits 0, starting nothing.
func TestHelpStartsNothing(t *testing.T) {
	// Not parallel: it sets the environment or the working directory.
	dir := t.TempDir()
	t.Chdir(dir)
	for _, cmd := range []string{"serve", "migrate", "demo", "import", "read", "sandbox", "version"} {
		code, out, errOut := run(t, context.Background(), cmd, "--help")
		if code != 0 || !strings.Contains(out, "Usage: baixa "+cmd) {
			t.Errorf("%s --help = %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("--help left %v in the working directory", names)
	}
	if _, err := os.Stat(filepath.Join(dir, "baixa.db")); err == nil {
		t.Error("serve --help created baixa.db")
	}
}

// bmpConnection creates a BMP connection taking a bearer token.
func (c *client) bmpConnection(acct, token string) string {
	c.t.Helper()
	return c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "bmp", "name": "BMP",
		"settings": {"auth": {"method": "bearer"}}, "secrets": {"token": %q}}`, acct, token))["id"].(string)
}

// A disabled connection refuses callbacks, stores nothing, and takes them
// again once enabled.
func TestDisabledConnectionRefusesCallbacks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		conn := c.bmpConnection(acct, "tok-0123456789")
		saurus := c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "saurus", "name": "Saurus",
			"settings": {"auth": {"method": "bearer"}}, "secrets": {"token": "saurus-token-0123"}}`, acct))["id"].(string)
		for _, id := range []string{conn, saurus} {
			c.must(200, "PATCH", "/v1/connections/"+id, `{"enabled": false}`)
		}
		auth := []string{"Authorization", "Bearer tok-0123456789"}
		s, body := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-1&situacao=9", "", auth...)
		if s != 403 || !strings.Contains(body, "disabled") {
			t.Errorf("callback to a disabled connection = %d %s, want 403 naming it disabled", s, body)
		}
		s, body = c.callback("POST", "/api/financeiro/retorno", saurusResult("T1", 1, "100.0", fatura("10", "100", false)),
			"Authorization", "Bearer saurus-token-0123")
		if s != 403 || !strings.Contains(body, "disabled") {
			t.Errorf("Saurus to a disabled connection = %d %s, want 403", s, body)
		}
		for _, id := range []string{conn, saurus} {
			if v := c.connection(id); stat(v, "documents") != 0 {
				t.Errorf("a disabled connection stored a callback: %v", v["stats"])
			}
		}
		c.must(200, "PATCH", "/v1/connections/"+conn, `{"enabled": true}`)
		waitFor(t, "enabled again", func() bool {
			s, _ := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-1&situacao=9", "", auth...)
			return s == 200
		})
	})
}

// BMP's situation is a number: +9, 09 and 9 are one callback.
func TestBMPSituationNormalised(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		conn := c.bmpConnection(acct, "tok-0123456789")
		auth := []string{"Authorization", "Bearer tok-0123456789"}
		var docs []string
		for _, sit := range []string{"9", "%2B9", "09", "0009"} {
			s, body := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-1&situacao="+sit, "", auth...)
			if s != 200 {
				t.Fatalf("situacao=%s = %d %s", sit, s, body)
			}
			var out map[string]any
			_ = json.Unmarshal([]byte(body), &out)
			docs = append(docs, out["document_id"].(string))
		}
		for _, d := range docs[1:] {
			if d != docs[0] {
				t.Errorf("one situation made documents %v", docs)
				break
			}
		}
		if s, body := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-1&situacao=-9", "", auth...); s != 400 {
			t.Errorf("situacao=-9 = %d %s, want 400", s, body)
		}
	})
}

// A callback that is not UTF-8 (query or body) is refused at the door with
// a 400 naming the field, and never fails another connection's callbacks
// stored beside it.
func TestCallbackInvalidUTF8(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		good, bad := c.bmpConnection(acct, "tok-good-0123456789"), c.bmpConnection(acct, "tok-bad-0123456789")
		badAuth := []string{"Authorization", "Bearer tok-bad-0123456789"}
		for _, tc := range []struct{ method, query, body, want string }{
			{"GET", "?proposta=%FF&situacao=2", "", "query.proposta"},
			{"GET", "?proposta=P-1&situacao=2&identificador=%C3%28", "", "query.identificador"},
			{"POST", "?proposta=P-1&situacao=11", "{\"descricaoOcorrencia\": \"Conta inv\xe1lida\"}", "body"},
		} {
			s, body := c.callback(tc.method, "/hooks/bmp/"+bad+tc.query, tc.body, badAuth...)
			if s != 400 || !strings.Contains(body, tc.want) || !strings.Contains(body, "UTF-8") {
				t.Errorf("%s %s %q = %d %s, want 400 naming %s", tc.method, tc.query, tc.body, s, body, tc.want)
			}
		}
		// Both senders at once: every valid callback is stored.
		var wg sync.WaitGroup
		var failed atomic.Int64
		for i := range 4 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for range 20 {
					c.callback("GET", "/hooks/bmp/"+bad+"?proposta=%FF&situacao=2", "", badAuth...)
				}
			}()
			go func() {
				defer wg.Done()
				for j := range 20 {
					s, _ := c.callback("GET", fmt.Sprintf("/hooks/bmp/%s?proposta=P-%d-%d&situacao=2", good, i, j), "", "Authorization", "Bearer tok-good-0123456789")
					if s != 200 {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if n := failed.Load(); n != 0 {
			t.Errorf("%d of 80 valid callbacks failed beside invalid ones", n)
		}
		if v := c.connection(bad); stat(v, "documents") != 0 {
			t.Errorf("invalid callbacks stored: %v", v["stats"])
		}
		waitFor(t, "valid callbacks settled", func() bool {
			v := c.connection(good)
			return stat(v, "documents") == 80 && stat(v, "documents_pending") == 0
		})
	})
}

// Saurus's callback finds its connection by its credentials whatever the
// number of connections (only the first 500 were looked at).
func TestSaurusManyConnections(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		const n = 520
		ids := make([]string, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				ids[i] = c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "saurus", "name": "Saurus %d",
					"settings": {"auth": {"method": "bearer"}}, "secrets": {"token": "saurus-token-%04d"}}`, acct, i, i))["id"].(string)
			}()
		}
		wg.Wait()
		for _, i := range []int{0, 499, 519} {
			s, body := c.callback("POST", "/api/financeiro/retorno", saurusResult(fmt.Sprintf("T%d", i), 1, "100.0", fatura("10", "100", false)),
				"Authorization", fmt.Sprintf("Bearer saurus-token-%04d", i))
			if s != 200 {
				t.Errorf("connection %d of %d = %d %s", i, n, s, body)
			}
			if v := c.connection(ids[i]); stat(v, "documents") != 1 {
				t.Errorf("connection %d holds %v", i, v["stats"])
			}
		}
		if s, _ := c.callback("POST", "/api/financeiro/retorno", saurusResult("TX", 1, "100.0"), "Authorization", "Bearer saurus-token-9999"); s != 401 {
			t.Errorf("unknown credentials = %d, want 401", s)
		}
	})
}

// An event that matches nothing is announced once, not again for its
// mark-read answer.
func TestRecuperadorUnmatchedOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newRecRig(t)
		cfg := webhookCfg()
		cfg.Tick = 100 * time.Millisecond
		c := startApp(t, url, cfg)
		acct := c.account()
		rig.sb.Add(recEvent(4, 9004, 1, 1234))
		id := rig.connect(c, acct, nil)
		waitFor(t, "read, and the answer settled", func() bool {
			v := c.connection(id)
			return rig.sb.Reads(4) >= 1 && stat(v, "documents") == 2 && stat(v, "documents_pending") == 0
		})
		n := 0
		for _, e := range c.must(200, "GET", "/v1/events", "")["data"].([]any) {
			if e.(map[string]any)["type"] == "movement.unmatched" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d movement.unmatched events for one unknown event, want 1", n)
		}
	})
}

// A database outage answers 503 with Retry-After (providers retry), and
// /readyz says why; once the database is back, so is baixa.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	pgURL := dbtest.PostgresURL(t)
	u, err := neturl.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.New(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	u.Host = proxy.Addr()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	c := startApp(t, u.String(), webhookCfg())
	acct := c.account()
	conn := c.bmpConnection(acct, "tok-0123456789")
	auth := []string{"Authorization", "Bearer tok-0123456789"}
	if s, body := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-1&situacao=9", "", auth...); s != 200 {
		t.Fatalf("callback = %d %s", s, body)
	}

	// A connection no callback has named yet: its lookup needs the database.
	unseen := c.bmpConnection(acct, "tok-0123456789")

	proxy.Cut()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/hooks/bmp/" + unseen + "?proposta=P-3&situacao=9"},
		{"GET", "/v1/accounts"},
		{"GET", "/v1/charges?account_id=" + acct},
		{"POST", "/v1/accounts"},
		{"GET", "/hooks/bmp/" + conn + "?proposta=P-2&situacao=9"},
	} {
		body := ""
		if tc.method == "POST" {
			body = `{"name": "B", "document": "11222333000181"}`
		}
		req, _ := http.NewRequest(tc.method, c.base+tc.path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		if strings.HasPrefix(tc.path, "/hooks/") {
			req.Header.Set("Authorization", "Bearer tok-0123456789")
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s during an outage = %d (Retry-After %q) %s, want 503 with Retry-After", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Retry-After"), raw)
		}
	}
	if s, out, raw := c.do("GET", "/readyz", ""); s != 503 || !strings.Contains(fmt.Sprint(out["detail"]), "database unreachable:") {
		t.Errorf("/readyz during an outage = %d %s, want 503 saying why", s, raw)
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ready again", func() bool { s, _, _ := c.do("GET", "/readyz", ""); return s == 200 })
	waitFor(t, "callbacks taken again", func() bool {
		s, _ := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-2&situacao=9", "", auth...)
		return s == 200
	})
}

// After an ERP comes back, its waiting deliveries go out at once, in
// order per charge, instead of at their next retry (an hour away here):
// a probe finds it back, and its success brings the rest forward.
func TestDeliveriesDrainWhenTheERPComesBack(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		cfg := webhookCfg()
		cfg.Webhooks.Schedule = []time.Duration{50 * time.Millisecond, time.Hour, time.Hour}
		cfg.Webhooks.ProbeEvery = 300 * time.Millisecond
		c := startApp(t, url, cfg)
		e := newERP(t)
		down := e.down(http.StatusInternalServerError)
		c.endpoint(fmt.Sprintf(`{"url": %q}`, e.srv.URL))
		acct := c.account()
		for i := range 4 {
			ch := c.charge(acct, fmt.Sprintf("%d", 500+i), "10.00")
			c.pay(ch, "4.00") // partially paid, then paid: two events in order
			c.pay(ch, "6.00")
		}
		// Each charge's first delivery has failed twice and waits an hour;
		// its second waits behind it.
		waitFor(t, "every first delivery waiting for its hour", func() bool {
			ds := c.deliveries("status=failing&limit=100")
			if len(ds) != 4 || len(c.deliveries("status=pending&limit=100")) != 8 {
				return false
			}
			for _, d := range ds {
				if d.(map[string]any)["attempts"].(float64) < 2 {
					return false
				}
			}
			return true
		})
		before := len(e.requests())
		down.Store(false)
		rs := e.waitFor("every event delivered", func(rs []received) bool {
			return len(rs)-before >= 8 && len(c.deliveries("status=succeeded&limit=100")) == 8
		})
		// Order per charge: partially_paid before paid.
		seen := map[string]string{}
		for _, r := range rs[before:] {
			ch, _ := r.event["charge_id"].(string)
			typ, _ := r.event["type"].(string)
			if typ == "charge.partially_paid" && seen[ch] == "charge.paid" {
				t.Errorf("charge %s: paid delivered before partially_paid", ch)
			}
			if seen[ch] != "charge.paid" {
				seen[ch] = typ
			}
		}
	})
}

// TestMeasureDrainAfterOutage measures, with the default retry schedule,
// how long after a 20 s outage of the ERP its deliveries are all through:
// once with no event after it comes back (the probe finds it), once with
// one (its success brings the rest forward). It takes about a minute of
// wall clock and asserts no time: BAIXA_MEASURE_DRAIN=1 runs it; the
// figures are in docs/RELIABILITY.md.
func TestMeasureDrainAfterOutage(t *testing.T) {
	t.Parallel()
	if os.Getenv("BAIXA_MEASURE_DRAIN") == "" {
		t.Skip("a measurement of about a minute: set BAIXA_MEASURE_DRAIN=1")
	}
	for _, traffic := range []bool{false, true} {
		cfg := webhookCfg()
		cfg.Webhooks.Schedule = webhook.DefaultSchedule
		c := startApp(t, dbtest.SQLiteURL(t), cfg)
		e := newERP(t)
		down := e.down(http.StatusServiceUnavailable)
		c.endpoint(fmt.Sprintf(`{"url": %q}`, e.srv.URL))
		acct := c.account()
		// Payments in the outage's first 5 s: their first retry (5 s later)
		// fails too, and the next is 5 minutes away when the ERP returns.
		start := time.Now()
		n := 0
		for time.Since(start) < 5*time.Second {
			c.pay(c.charge(acct, fmt.Sprintf("%d", 800+n), "10.00"), "10.00")
			n++
			time.Sleep(250 * time.Millisecond)
		}
		time.Sleep(time.Until(start.Add(20 * time.Second)))
		down.Store(false)
		up := time.Now()
		if traffic {
			c.pay(c.charge(acct, "9999", "10.00"), "10.00")
			n++
		}
		for len(c.deliveries("status=succeeded&limit=500")) < n {
			if time.Since(up) > 10*time.Minute {
				t.Fatal("not drained in 10 minutes")
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("traffic after recovery %v: %d deliveries drained %.1f s after a 20 s outage", traffic, n, time.Since(up).Seconds())
	}
}

// down makes the ERP answer status until the returned flag is cleared.
func (e *erp) down(status int) *atomic.Bool {
	var down atomic.Bool
	down.Store(true)
	e.setAnswer(func(_ int, _ received, w http.ResponseWriter) bool {
		if down.Load() {
			w.WriteHeader(status)
			return true
		}
		return false
	})
	return &down
}

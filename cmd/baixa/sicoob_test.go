package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"baixa"
	"baixa/internal/dbtest"
	"baixa/provider/sicoob"
)

// sicoobRig is the Sicoob sandbox over mutual TLS on loopback.
type sicoobRig struct {
	t   *testing.T
	sb  *sicoob.Sandbox
	pki *sicoob.PKI
	srv *httptest.Server
}

const sandboxClientID = "sandbox-client-1"

func newSicoobRig(t *testing.T) *sicoobRig {
	t.Helper()
	pki, err := sicoob.NewPKI([]string{"127.0.0.1"}, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sb := sicoob.NewSandbox(sandboxClientID, 707090)
	srv := httptest.NewUnstartedServer(sb)
	srv.TLS = pki.ServerTLS()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &sicoobRig{t: t, sb: sb, pki: pki, srv: srv}
}

// settings returns the connection's settings as JSON, with extra keys.
func (r *sicoobRig) settings(version string, extra map[string]any) string {
	s := map[string]any{
		"environment": "custom", "base_url": r.srv.URL + "/cobranca-bancaria/" + version,
		"token_url":          r.srv.URL + "/auth/realms/cooperado/protocol/openid-connect/token",
		"ca_certificate_pem": string(r.pki.CAPEM), "api_version": version, "client_id": sandboxClientID,
		"numero_cliente": "70709-0", "start_date": baixa.Today(time.Now()).AddDays(-1).String(),
		"poll_every": "50ms", "poll_max": "200ms", "give_up_after": "5s",
	}
	for k, v := range extra {
		s[k] = v
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// connect creates a Sicoob connection for account.
func (r *sicoobRig) connect(c *client, account, version string, extra map[string]any) map[string]any {
	r.t.Helper()
	secrets, _ := json.Marshal(r.pki.ClientSecrets())
	return c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "sicoob", "name": "Sicoob 707090",
		"settings": %s, "secrets": %s, "every_seconds": 3600}`, account, r.settings(version, extra), secrets))
}

// today is the movements' date.
func today() baixa.Date { return baixa.Today(time.Now()) }

func paid(titulo int64, amount baixa.Amount) sicoob.SandboxMovement {
	return sicoob.SandboxMovement{Type: 5, Date: today(), NumeroTitulo: titulo, Amount: amount, Paid: amount, PaidOn: today(),
		Fee: 150, DueDate: today().AddDays(5)}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (c *client) chargeStatus(id string) string {
	c.t.Helper()
	return c.must(200, "GET", "/v1/charges/"+id, "")["status"].(string)
}

// connection returns the connection view (with stats).
func (c *client) connection(id string) map[string]any {
	c.t.Helper()
	return c.must(200, "GET", "/v1/connections/"+id, "")
}

// polledCode waits until connection id's one active fetch has been polled
// twice, and returns its request code (Sicoob's) or protocol (PlugBoleto's).
func (c *client) polledCode(t *testing.T, id string) any {
	t.Helper()
	var code any
	waitFor(t, "a request being polled", func() bool {
		active := c.connection(id)["stats"].(map[string]any)["active"].([]any)
		if len(active) == 1 && active[0].(map[string]any)["polls"].(float64) >= 2 {
			code = active[0].(map[string]any)["request_code"]
			return true
		}
		return false
	})
	return code
}

func stat(conn map[string]any, path ...string) float64 {
	v := conn["stats"]
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	f, _ := v.(float64)
	return f
}

// idle reports whether the connection has nothing under way and every
// document it fetched is settled or failed.
func idle(conn map[string]any) bool {
	active, _ := conn["stats"].(map[string]any)["active"].([]any)
	return len(active) == 0 && conn["last_run_at"] != nil
}

func TestSicoobEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newSicoobRig(t)
		rig.sb.SetFaults(sicoob.Faults{RecordsPerFile: 2}) // the three LIQUI records come in two files
		cfg := webhookCfg()
		cfg.Tick = 100 * time.Millisecond
		c := startApp(t, url, cfg)
		erp := newERP(t)
		c.endpoint(fmt.Sprintf(`{"url": %q, "event_types": ["charge.paid", "charge.written_off", "movement.unmatched"]}`, erp.srv.URL))
		acct := c.account()
		a := c.charge(acct, "1234567", "100.00")
		b := c.charge(acct, "1234568", "250.50")
		w := c.charge(acct, "1234569", "80.00")
		rig.sb.Add(paid(1234567, 10000), paid(1234568, 25050), paid(9999999, 4200),
			sicoob.SandboxMovement{Type: 6, Date: today(), NumeroTitulo: 1234569, Amount: 8000, OpFinanceira: 82})

		conn := rig.connect(c, acct, "v3", nil)
		id := conn["id"].(string)
		raw, _ := json.Marshal(conn)
		for _, secret := range []string{rig.pki.ClientSecrets()[sicoob.SecretPFX][:40], rig.pki.ClientPFXPassword} {
			if strings.Contains(string(raw), secret) {
				t.Fatalf("the API returned a secret: %s", raw)
			}
		}
		if conn["certificate_expires_at"] == nil || conn["secrets_set"] == nil {
			t.Fatalf("connection view lacks certificate expiry or secret names: %s", raw)
		}

		waitFor(t, "charges settled", func() bool {
			return c.chargeStatus(a) == "paid" && c.chargeStatus(b) == "paid" && c.chargeStatus(w) == "written_off"
		})
		got := c.must(200, "GET", "/v1/charges/"+b, "")
		if got["paid_amount"] != "250.50" {
			t.Errorf("paid_amount = %v, want 250.50", got["paid_amount"])
		}
		waitFor(t, "connection idle", func() bool { v := c.connection(id); return idle(v) && stat(v, "documents_pending") == 0 })
		view := c.connection(id)
		if applied, unmatched := stat(view, "movements", "applied"), stat(view, "movements", "unmatched"); applied != 3 || unmatched != 1 {
			t.Fatalf("movements applied %v unmatched %v, want 3 and 1: %v", applied, unmatched, view["stats"])
		}
		if view["last_error"] != nil {
			t.Errorf("last_error = %v", view["last_error"])
		}
		recent := view["stats"].(map[string]any)["recent"].([]any)
		if len(recent) != 2 || recent[0].(map[string]any)["request_code"] == "" {
			t.Fatalf("recent fetches = %v, want two done with request codes", recent)
		}
		if liqui := recentFetch(view, "5"); len(liqui["files"].([]any)) != 2 || len(liqui["files_done"].([]any)) != 2 || stat(view, "documents") != 3 {
			t.Fatalf("LIQUI fetch %v, %v documents; want two files stored, three documents in all", liqui, stat(view, "documents"))
		}
		rs := erp.waitFor("paid, written off, unmatched", func(rs []received) bool { return len(rs) >= 4 })
		types := map[string]int{}
		for _, r := range rs {
			types[r.event["type"].(string)]++
		}
		if types["charge.paid"] != 2 || types["charge.written_off"] != 1 || types["movement.unmatched"] != 1 {
			t.Fatalf("ERP got %v", types)
		}
		feed := c.must(200, "GET", "/v1/events?limit=100", "")["data"].([]any)
		if len(feed) < 4 {
			t.Fatalf("feed has %d events, want at least 4", len(feed))
		}

		// A second run asks again (new requests) and changes nothing.
		requests := rig.sb.Calls("request")
		c.must(202, "POST", "/v1/connections/"+id+"/run", "")
		waitFor(t, "second run settled", func() bool {
			v := c.connection(id)
			return rig.sb.Calls("request") >= requests+2 && idle(v) && stat(v, "documents") == 6 && stat(v, "documents_pending") == 0
		})
		view = c.connection(id)
		// Every movement seen again (the unmatched one too) is a duplicate.
		if applied, dup, un := stat(view, "movements", "applied"), stat(view, "movements", "duplicate"), stat(view, "movements", "unmatched"); applied != 3 || dup != 4 || un != 1 {
			t.Fatalf("after the second run: %v applied, %v duplicate, %v unmatched; want 3, 4 and 1", applied, dup, un)
		}
		time.Sleep(200 * time.Millisecond)
		if n := len(erp.requests()); n != len(rs) {
			t.Fatalf("the second run sent %d more webhooks", n-len(rs))
		}
		c.must(200, "POST", "/v1/connections/"+id+"/check", "")
	})
}

// recentFetch returns the connection's last ended fetch of scope.
func recentFetch(conn map[string]any, scope string) map[string]any {
	for _, f := range conn["stats"].(map[string]any)["recent"].([]any) {
		if f := f.(map[string]any); f["scope"] == scope {
			return f
		}
	}
	return nil
}

func TestSicoobFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		faults  sicoob.Faults
		version string
		extra   map[string]any
		// check looks at the connection once idle, with the charge paid or not.
		paid bool
		// lastError is what the connection's last_error must come to say.
		lastError string
		check     func(t *testing.T, c *client, rig *sicoobRig, conn map[string]any)
	}{
		{name: "slow processing 204", faults: sicoob.Faults{NotReadyPolls: 3}, paid: true, check: func(t *testing.T, c *client, _ *sicoobRig, conn map[string]any) {
			if f := recentFetch(conn, "5"); f["polls"].(float64) < 4 {
				t.Errorf("fetch polled %v times, want at least 4 (3 not ready)", f["polls"])
			}
		}},
		{name: "5004 still processing", faults: sicoob.Faults{NotReadyPolls: 2, NotReadyStyle: "5004"}, paid: true},
		{name: "PROCESSAMENTO message", faults: sicoob.Faults{NotReadyPolls: 2, NotReadyStyle: "processamento"}, paid: true},
		{name: "500s", faults: sicoob.Faults{Fail500: 3}, paid: true, check: func(t *testing.T, c *client, rig *sicoobRig, conn map[string]any) {
			if rig.sb.Calls("request") < 2 || recentFetch(conn, "5")["polls"].(float64) < 1 {
				t.Errorf("no sign of the retries: %d requests, fetch %v", rig.sb.Calls("request"), recentFetch(conn, "5"))
			}
		}},
		{name: "duplicated records", faults: sicoob.Faults{Duplicate: true}, paid: true, check: func(t *testing.T, c *client, _ *sicoobRig, conn map[string]any) {
			if stat(conn, "movements", "applied") != 1 || stat(conn, "movements", "duplicate") != 1 {
				t.Errorf("movements %v, want 1 applied and 1 duplicate", conn["stats"].(map[string]any)["movements"])
			}
		}},
		{name: "short field names", faults: sicoob.Faults{ShortNames: true}, paid: true},
		{name: "API v2", version: "v2", paid: true},
		{name: "truncated file", faults: sicoob.Faults{Truncate: true}, check: failedDocument("truncated")},
		{name: "corrupt file", faults: sicoob.Faults{Corrupt: true}, check: failedDocument("not a readable ZIP")},
		{name: "CNAB entry", faults: sicoob.Faults{CNAB: true}, paid: true, check: func(t *testing.T, c *client, _ *sicoobRig, conn map[string]any) {
			if stat(conn, "movements", "applied") != 1 {
				t.Errorf("movements %v, want the CNAB entry's payment applied", conn["stats"].(map[string]any)["movements"])
			}
		}},
		{name: "never ready", faults: sicoob.Faults{NotReadyPolls: 1 << 30}, extra: map[string]any{"give_up_after": "300ms"},
			lastError: "gave up after 300ms", check: func(t *testing.T, c *client, _ *sicoobRig, conn map[string]any) {
				f := recentFetch(conn, "5")
				if f["status"] != "failed" || !strings.Contains(f["note"].(string), "gave up after 300ms") {
					t.Errorf("fetch = %v, want failed, giving up", f)
				}
			}},
		{name: "wrong client_id", extra: map[string]any{"client_id": "someone-else", "give_up_after": "300ms"}, lastError: "unknown client_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := newSicoobRig(t)
			rig.sb.SetFaults(tc.faults)
			cfg := webhookCfg()
			cfg.Tick = 100 * time.Millisecond
			c := startApp(t, dbtest.SQLiteURL(t), cfg)
			acct := c.account()
			ch := c.charge(acct, "7654321", "99.90")
			rig.sb.Add(paid(7654321, 9990))
			id := rig.connect(c, acct, cmpOr(tc.version, "v3"), tc.extra)["id"].(string)
			waitFor(t, "fetches ended", func() bool {
				v := c.connection(id)
				return idle(v) && len(v["stats"].(map[string]any)["recent"].([]any)) == 2 && stat(v, "documents_pending") == 0 &&
					(tc.lastError == "" && v["last_error"] == nil || tc.lastError != "" && strings.Contains(fmt.Sprint(v["last_error"]), tc.lastError))
			})
			conn := c.connection(id)
			if got := c.chargeStatus(ch) == "paid"; got != tc.paid {
				t.Fatalf("charge paid = %v, want %v; connection %v", got, tc.paid, conn["stats"])
			}
			if tc.check != nil {
				tc.check(t, c, rig, conn)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// failedDocument checks that the file was kept as a failed document whose
// reason says why, and that nothing was applied.
func failedDocument(reason string) func(t *testing.T, c *client, rig *sicoobRig, conn map[string]any) {
	return func(t *testing.T, c *client, _ *sicoobRig, conn map[string]any) {
		t.Helper()
		failed := conn["stats"].(map[string]any)["failed_documents"].([]any)
		if len(failed) != 1 || !strings.Contains(failed[0].(map[string]any)["error"].(string), reason) {
			t.Fatalf("failed documents = %v, want one saying %q", failed, reason)
		}
		if stat(conn, "movements", "applied") != 0 {
			t.Errorf("applied %v movements from a bad file", stat(conn, "movements", "applied"))
		}
		// It is kept and can be settled again (here it fails again, for the same reason).
		id := failed[0].(map[string]any)["id"].(string)
		if d := c.must(202, "POST", "/v1/documents/"+id+"/retry", ""); d["status"] != "pending" {
			t.Fatalf("retried document = %v", d)
		}
		d := c.waitDocument(id)
		if d["status"] != "failed" || !strings.Contains(d["error"].(string), reason) {
			t.Fatalf("retried document = %v", d)
		}
		c.must(202, "POST", "/v1/documents/"+id+"/retry", "")
		c.waitDocument(id)
	}
}

// A token that stops working is renewed once, and the call goes through.
func TestSicoobExpiredToken(t *testing.T) {
	t.Parallel()
	rig := newSicoobRig(t)
	cfg := webhookCfg()
	cfg.Tick = 100 * time.Millisecond
	c := startApp(t, dbtest.SQLiteURL(t), cfg)
	acct := c.account()
	first, second := c.charge(acct, "1111111", "10.00"), c.charge(acct, "2222222", "20.00")
	rig.sb.Add(paid(1111111, 1000))
	id := rig.connect(c, acct, "v3", nil)["id"].(string)
	waitFor(t, "first payment", func() bool { return c.chargeStatus(first) == "paid" })
	waitFor(t, "first run idle", func() bool { return idle(c.connection(id)) })
	tokens := rig.sb.Calls("token")
	rig.sb.SetFaults(sicoob.Faults{ExpireTokens: true})
	rig.sb.Add(paid(2222222, 2000))
	c.must(202, "POST", "/v1/connections/"+id+"/run", "")
	waitFor(t, "second payment", func() bool { return c.chargeStatus(second) == "paid" })
	if got := rig.sb.Calls("token"); got != tokens+1 {
		t.Errorf("token requests %d after expiry, want %d (one renewal)", got, tokens+1)
	}
}

// A restart while Sicoob is still processing resumes polling the same
// codigoSolicitacao instead of asking again.
func TestSicoobRestartResumes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newSicoobRig(t)
		rig.sb.SetFaults(sicoob.Faults{NotReadyPolls: 1 << 30})
		cfg := webhookCfg()
		cfg.Tick = 100 * time.Millisecond
		c, a := launch(t, url, cfg)
		acct := c.account()
		ch := c.charge(acct, "3333333", "33.00")
		rig.sb.Add(paid(3333333, 3300))
		id := rig.connect(c, acct, "v3", map[string]any{"movement_types": []int{5}, "give_up_after": "1h"})["id"].(string)
		code := c.polledCode(t, id)
		if err := a.shutdown(); err != nil {
			t.Fatal(err)
		}
		requests := rig.sb.Calls("request")
		rig.sb.SetFaults(sicoob.Faults{})
		c2 := startApp(t, url, cfg)
		waitFor(t, "payment after restart", func() bool { return c2.chargeStatus(ch) == "paid" })
		if got := rig.sb.Calls("request"); got != requests {
			t.Errorf("%d new movement requests after the restart, want none", got-requests)
		}
		waitFor(t, "the fetch done", func() bool { return recentFetch(c2.connection(id), "5") != nil })
		if f := recentFetch(c2.connection(id), "5"); f["request_code"] != code || f["status"] != "done" {
			t.Errorf("fetch after restart = %v, want request %v done", f, code)
		}
	})
}

func TestSicoobConnectionValidation(t *testing.T) {
	t.Parallel()
	rig := newSicoobRig(t)
	c := startApp(t, dbtest.SQLiteURL(t), webhookCfg())
	acct := c.account()
	expired, err := sicoob.NewPKI([]string{"127.0.0.1"}, -time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pfx, _ := json.Marshal(rig.pki.ClientSecrets())
	oldPFX, _ := json.Marshal(expired.ClientSecrets())
	pem, _ := json.Marshal(map[string]string{"certificate_pem": string(rig.pki.ClientCertPEM), "private_key_pem": string(rig.pki.ClientKeyPEM)})
	wrongPW, _ := json.Marshal(map[string]string{"certificate_pfx": rig.pki.ClientSecrets()["certificate_pfx"], "certificate_password": "nope"})
	for _, tc := range []struct {
		name, provider, settings, secrets, want string
		status                                  int
	}{
		{"pfx", "sicoob", rig.settings("v3", nil), string(pfx), "", 201},
		{"pem", "sicoob", rig.settings("v3", nil), string(pem), "", 201},
		{"unknown provider", "itau", rig.settings("v3", nil), string(pfx), "unknown provider", 422},
		{"no certificate", "sicoob", rig.settings("v3", nil), `{}`, "client certificate is required", 422},
		{"expired certificate", "sicoob", rig.settings("v3", nil), string(oldPFX), "expired", 422},
		{"wrong password", "sicoob", rig.settings("v3", nil), string(wrongPW), "certificate_password", 422},
		{"bad base64", "sicoob", rig.settings("v3", nil), `{"certificate_pfx": "@@@", "certificate_password": "x"}`, "not base64", 422},
		{"numero_cliente not a number", "sicoob", rig.settings("v3", map[string]any{"numero_cliente": "70709A"}), string(pfx), "numero_cliente", 422},
		{"movement type 8", "sicoob", rig.settings("v3", map[string]any{"movement_types": []int{5, 8}}), string(pfx), "movement_types", 422},
		{"unknown setting", "sicoob", rig.settings("v3", map[string]any{"numeroContrato": 1}), string(pfx), "unknown field", 422},
		{"http base url", "sicoob", rig.settings("v3", map[string]any{"base_url": "http://127.0.0.1:1/x"}), string(pfx), "https URL", 422},
		{"future start", "sicoob", rig.settings("v3", map[string]any{"start_date": "2999-01-01"}), string(pfx), "future", 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, raw := c.do("POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": %q, "settings": %s, "secrets": %s}`,
				acct, tc.provider, tc.settings, tc.secrets))
			if status != tc.status || !strings.Contains(string(raw), tc.want) {
				t.Fatalf("status %d, want %d with %q: %s", status, tc.status, tc.want, raw)
			}
			if strings.Contains(string(raw), rig.pki.ClientPFXPassword) || strings.Contains(string(raw), "BEGIN PRIVATE KEY") {
				t.Fatalf("a secret is in the answer: %s", raw)
			}
		})
	}

	// An update merges settings and secrets, and validates the result.
	id := rig.connect(c, acct, "v3", nil)["id"].(string)
	out := c.must(200, "PATCH", "/v1/connections/"+id, `{"settings": {"movement_types": [5], "give_up_after": null}, "every_seconds": 600}`)
	if s := out["settings"].(map[string]any); fmt.Sprint(s["movement_types"]) != "[5]" || s["give_up_after"] != "2h" || s["client_id"] != sandboxClientID {
		t.Fatalf("merged settings = %v", s)
	}
	c.must(422, "PATCH", "/v1/connections/"+id, `{"secrets": {"certificate_pfx": ""}}`)
	toPEM, _ := json.Marshal(map[string]any{"secrets": map[string]string{"certificate_pfx": "", "certificate_password": "",
		"certificate_pem": string(rig.pki.ClientCertPEM), "private_key_pem": string(rig.pki.ClientKeyPEM)}})
	if set := c.must(200, "PATCH", "/v1/connections/"+id, string(toPEM))["secrets_set"]; fmt.Sprint(set) != "[certificate_pem private_key_pem]" {
		t.Fatalf("secrets_set = %v after switching to PEM", set)
	}
	c.must(200, "POST", "/v1/connections/"+id+"/check", "")
	// The certificate's expiry is a metric.
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := fmt.Sprintf(`baixa_connection_certificate_expiry_timestamp_seconds{connection=%q,provider="sicoob"}`, id)
	if !strings.Contains(string(metrics), want) {
		t.Errorf("metrics lack %s", want)
	}
	// A certificate that expires within 30 days is warned about.
	soon, err := sicoob.NewPKI([]string{"127.0.0.1"}, 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	soonSecrets, _ := json.Marshal(map[string]any{"secrets": soon.ClientSecrets()})
	warned := c.must(200, "PATCH", "/v1/connections/"+id, string(soonSecrets))
	if !strings.Contains(fmt.Sprint(warned["warnings"]), "expires on") {
		t.Errorf("warnings = %v for a certificate that expires in 10 days", warned["warnings"])
	}
	c.must(204, "DELETE", "/v1/connections/"+id, "")
	c.must(404, "GET", "/v1/connections/"+id, "")
}

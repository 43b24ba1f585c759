package main

import (
	"encoding/json"
	"fmt"
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

func stat(conn map[string]any, path ...string) float64 {
	var v any = conn["stats"]
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
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newSicoobRig(t)
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
		waitFor(t, "connection idle", func() bool { return idle(c.connection(id)) })
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
		waitFor(t, "second run", func() bool { return rig.sb.Calls("request") >= requests+2 && idle(c.connection(id)) })
		waitFor(t, "second run settled", func() bool {
			v := c.connection(id)
			return stat(v, "movements", "duplicate")+stat(v, "movements", "unmatched") >= 5 || stat(v, "documents") == 2
		})
		view = c.connection(id)
		if applied := stat(view, "movements", "applied"); applied != 3 {
			t.Fatalf("second run applied %v movements in all, want still 3", applied)
		}
		time.Sleep(200 * time.Millisecond)
		if n := len(erp.requests()); n != len(rs) {
			t.Fatalf("the second run sent %d more webhooks", n-len(rs))
		}
		c.must(200, "POST", "/v1/connections/"+id+"/check", "")
	})
}

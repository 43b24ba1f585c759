package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"baixa"
	"baixa/internal/dbtest"
	"baixa/provider/recuperador"
)

const recToken = "rec-api-token-1"

type recRig struct {
	t   *testing.T
	sb  *recuperador.Sandbox
	srv *httptest.Server
}

func newRecRig(t *testing.T) *recRig {
	sb := recuperador.NewSandbox(recToken)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &recRig{t: t, sb: sb, srv: srv}
}

func (r *recRig) connect(c *client, account string, extra map[string]any) string {
	r.t.Helper()
	s := map[string]any{"environment": "custom", "base_url": r.srv.URL + "/api", "id_credor": []int{1, 2}, "qtde_dias_leitura": 7,
		"poll_every": "50ms", "poll_max": "200ms", "give_up_after": "30s",
		"webhook_auth": map[string]any{"method": "basic"}}
	for k, v := range extra {
		s[k] = v
	}
	body, _ := json.Marshal(map[string]any{"account_id": account, "provider": "recuperador", "name": "Recuperador", "settings": s,
		"secrets": map[string]string{"api_token": recToken, "username": "recuperador", "password": "push-secret"}, "every_seconds": 3600})
	return c.must(201, "POST", "/v1/connections", string(body))["id"].(string)
}

// installment registers an installment charge under refs.
func (c *client) installment(account, amount string, refs map[string]string) string {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"account_id": account, "kind": "installment", "amount": amount, "due_date": "2026-11-20", "references": refs})
	return c.must(201, "POST", "/v1/charges", string(b))["id"].(string)
}

func recEvent(id, installment int64, credor int64, amount baixa.Amount) recuperador.SandboxEvent {
	return recuperador.SandboxEvent{ID: id, Assessoria: 10, Credor: credor, Acordo: 4000 + id, Cliente: 900 + id, Installment: installment,
		Parcela: 1, Of: 3, Name: "Maria da Silva", TaxID: "52998224725", Due: today().AddDays(-3), Paid: today(),
		Amount: amount, Net: amount * 90 / 100}
}

func TestRecuperadorEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newRecRig(t)
		cfg := webhookCfg()
		cfg.Tick = 100 * time.Millisecond
		c := startApp(t, url, cfg)
		erp := newERP(t)
		c.endpoint(fmt.Sprintf(`{"url": %q, "event_types": ["charge.paid", "movement.unmatched"]}`, erp.srv.URL))
		acct := c.account()
		i1 := c.installment(acct, "150.00", map[string]string{"installment_id": "5001"})
		i2 := c.installment(acct, "200.00", map[string]string{"installment_id": "5002"})
		i3 := c.installment(acct, "75.50", map[string]string{"agreement_installment": "4003/1"}) // known only by its agreement
		i5 := c.installment(acct, "99.99", map[string]string{"installment_id": "5005"})
		old := recEvent(2, 5002, 1, 20000)
		old.Old = true
		rig.sb.Add(recEvent(1, 5001, 1, 15000))
		rig.sb.Add(old)
		rig.sb.Add(recEvent(3, 9003, 1, 7550)) // an installment id baixa does not know: matched by agreement 4003, parcela 1
		rig.sb.Add(recEvent(4, 9004, 1, 1234)) // matches nothing: unmatched, announced
		rig.sb.Add(recEvent(5, 5005, 2, 9999)) // the second creditor
		rig.sb.Add(recEvent(6, 5006, 3, 5000)) // a creditor this connection does not read
		rig.sb.SetFaults(recuperador.SandboxFaults{Duplicate: true, RateLimited: 1, ServerErrors: 1, Truncated: 1, WrongTypes: 1,
			FailReads: 1, RefuseReads: 1})
		id := rig.connect(c, acct, nil)

		waitFor(t, "installments paid", func() bool {
			return c.chargeStatus(i1) == "paid" && c.chargeStatus(i2) == "paid" && c.chargeStatus(i3) == "paid" && c.chargeStatus(i5) == "paid"
		})
		waitFor(t, "every event marked read", func() bool { return rig.sb.Unread() == 1 }) // creditor 3's stays unread
		ch := c.must(200, "GET", "/v1/charges/"+i1, "")
		if ch["paid_amount"] != "150.00" || ch["credited_amount"] != "135.00" || ch["fee_amount"] != "15.00" || ch["paid_on"] != today().String() {
			t.Errorf("installment 5001 = %v", ch)
		}
		waitFor(t, "invoice links kept", func() bool {
			return c.must(200, "GET", "/v1/charges/"+i1, "")["payment_link"] == rig.sb.Link(1) &&
				c.must(200, "GET", "/v1/charges/"+i3, "")["payment_link"] == rig.sb.Link(3)
		})
		for _, ev := range []int64{1, 2, 3, 4, 5} {
			if rig.sb.Reads(ev) < 1 {
				t.Errorf("event %d not marked read", ev)
			}
		}
		rs := erp.waitFor("payments and the unmatched event", func(rs []received) bool { return len(rs) >= 5 })
		types := map[string]int{}
		for _, r := range rs {
			types[r.event["type"].(string)]++
			if m, _ := r.event["movement"].(map[string]any); r.event["charge_id"] == i1 && m != nil {
				if p := m["payer"].(map[string]any); p["document"] != "52998224725" {
					t.Errorf("payer = %v, want the CPF without punctuation", p)
				}
				if !strings.Contains(m["note"].(string), "taxa_adm 1.2345") || !strings.Contains(m["note"].(string), "parcela 01/03") {
					t.Errorf("note = %q, want the exact breakdown", m["note"])
				}
			}
		}
		if types["charge.paid"] != 4 || types["movement.unmatched"] < 1 {
			t.Fatalf("ERP got %v", types)
		}
		waitFor(t, "connection idle", func() bool { v := c.connection(id); return idle(v) && stat(v, "documents_pending") == 0 })
		view := c.connection(id)
		if stat(view, "documents_failed") != 0 {
			t.Errorf("failed documents: %v", view["stats"])
		}
		if view["last_error"] != nil {
			t.Errorf("last_error = %v after recovering", view["last_error"])
		}

		// A run that finds nothing unread changes nothing.
		paidBefore := len(erp.requests())
		lists := rig.sb.Lists()
		c.must(202, "POST", "/v1/connections/"+id+"/run", "")
		waitFor(t, "second run", func() bool { return rig.sb.Lists() >= lists+2 && idle(c.connection(id)) })

		// The push form goes the same way: stored, settled, marked read; a
		// re-push is the same document.
		i7 := c.installment(acct, "60.00", map[string]string{"installment_id": "5007"})
		e7 := recEvent(7, 5007, 1, 6000)
		rig.sb.Add(e7)
		hook := c.base + "/hooks/recuperador/" + id
		if code, err := rig.sb.Push(context.Background(), hook, "recuperador", "push-secret", e7); err != nil || code != 200 {
			t.Fatalf("push = %d %v", code, err)
		}
		if code, _ := rig.sb.Push(context.Background(), hook, "recuperador", "wrong", e7); code != 401 {
			t.Errorf("push with a wrong password = %d", code)
		}
		body, _ := json.Marshal(e7.JSON())
		again := c.must(200, "POST", "/hooks/recuperador/"+id, string(body), "Content-Type", "application/json", "Authorization", basic("recuperador", "push-secret"))
		if again["duplicate"] != true {
			t.Errorf("re-push = %v", again)
		}
		waitFor(t, "pushed installment paid and read", func() bool { return c.chargeStatus(i7) == "paid" && rig.sb.Reads(7) >= 1 })
		time.Sleep(300 * time.Millisecond)
		paid := 0
		for _, r := range erp.requests()[paidBefore:] {
			if r.event["type"] == "charge.paid" {
				paid++
			}
		}
		if paid != 1 {
			t.Errorf("%d charge.paid after the second run and the push, want 1 (the pushed one)", paid)
		}
		for _, bad := range []struct{ body, want string }{
			{`{"id": 8, "valor_pago": 1`, "invalid JSON"},
			{`{"id_contasareceber": 1, "data_pagto": "2026-11-24", "valor_pago": 1}`, "id: is required"},
			{`{"id": "x"}`, "whole number"},
			{`{"id": 9, "id_contasareceber": 1, "data_pagto": "2026-11-24", "valor_pago": "1,5,0"}`, "valor_pago"},
			{`{"id": 9, "id_contasareceber": 1, "data_pagto": "2026-11-24", "valor_pago": 1.005}`, "not exact to the centavo"},
			{`{"id": 9, "id_contasareceber": 1, "data_pagto": "ontem", "valor_pago": 1}`, "data_pagto"},
			{`[{"id": 9}, {"id": 10}]`, "one event per request"},
		} {
			status, _, raw := c.do("POST", "/hooks/recuperador/"+id, bad.body, "Content-Type", "application/json", "Authorization", basic("recuperador", "push-secret"))
			if status != 400 || !strings.Contains(string(raw), bad.want) {
				t.Errorf("push %s = %d %s, want 400 %q", bad.body, status, raw, bad.want)
			}
		}
	})
}

// A fault that lasts shows on the connection, and every event still
// arrives once it passes.
func TestRecuperadorFaults(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newRecRig(t)
		cfg := webhookCfg()
		cfg.Tick = 100 * time.Millisecond
		c := startApp(t, url, cfg)
		acct := c.account()
		ch := c.installment(acct, "10.00", map[string]string{"installment_id": "6001"})
		rig.sb.Add(recEvent(11, 6001, 1, 1000))
		rig.sb.SetFaults(recuperador.SandboxFaults{ServerErrors: 1 << 20})
		id := rig.connect(c, acct, map[string]any{"id_credor": []int{1}})
		waitFor(t, "the fault shown", func() bool {
			e, _ := c.connection(id)["last_error"].(string)
			return strings.Contains(e, "HTTP 500: Erro interno")
		})
		rig.sb.SetFaults(recuperador.SandboxFaults{})
		waitFor(t, "paid once the fault passed", func() bool { return c.chargeStatus(ch) == "paid" && rig.sb.Reads(11) == 1 })
		waitFor(t, "the error cleared", func() bool { return c.connection(id)["last_error"] == nil })

		// A slow Recuperador is timed out; an event with a wrong type is
		// asked for again while the others are stored; both are shown.
		slow := c.installment(acct, "20.00", map[string]string{"installment_id": "6002"})
		good := c.installment(acct, "30.00", map[string]string{"installment_id": "6003"})
		rig.sb.Add(recEvent(12, 6002, 4, 2000))
		rig.sb.Add(recEvent(13, 6003, 4, 3000))
		rig.sb.SetFaults(recuperador.SandboxFaults{Delay: 300 * time.Millisecond})
		id2 := rig.connect(c, acct, map[string]any{"id_credor": []int{4}, "timeout": "100ms"})
		waitFor(t, "the timeout shown", func() bool {
			e, _ := c.connection(id2)["last_error"].(string)
			return strings.Contains(e, "deadline exceeded")
		})
		rig.sb.SetFaults(recuperador.SandboxFaults{BadAmounts: 1 << 20})
		waitFor(t, "the good event stored, the bad one shown", func() bool {
			e, _ := c.connection(id2)["last_error"].(string)
			return c.chargeStatus(good) == "paid" && strings.Contains(e, "event 12: valor_pago")
		})
		if c.chargeStatus(slow) != "open" || rig.sb.Reads(12) != 0 {
			t.Fatal("an event that does not read was settled or marked read")
		}
		rig.sb.SetFaults(recuperador.SandboxFaults{})
		waitFor(t, "the corrected event settled", func() bool { return c.chargeStatus(slow) == "paid" && rig.sb.Reads(12) == 1 })

		// Bad settings are refused, naming the field.
		for _, tc := range []struct{ settings, secrets, want string }{
			{`{"id_credor": []}`, `{"api_token": "x"}`, "id_credor"},
			{`{"id_credor": [1], "qtde_dias_leitura": 0.5}`, `{"api_token": "x"}`, "qtde_dias_leitura"},
			{`{"id_credor": [1]}`, `{}`, "api_token"},
			{`{"id_credor": [1], "environment": "custom"}`, `{"api_token": "x"}`, "base_url"},
			{`{"id_credor": [1], "webhook_auth": {"method": "basic"}}`, `{"api_token": "x"}`, "username"},
		} {
			body := fmt.Sprintf(`{"account_id": %q, "provider": "recuperador", "settings": %s, "secrets": %s, "every_seconds": 60}`, acct, tc.settings, tc.secrets)
			if status, _, raw := c.do("POST", "/v1/connections", body); status != 422 || !strings.Contains(string(raw), tc.want) {
				t.Errorf("settings %s = %d %s, want %q", tc.settings, status, raw, tc.want)
			}
		}
	})
}

// Stopping between storing an event and marking it read: after the
// restart the mark-read still happens, once, and nothing is settled twice.
func TestRecuperadorRestartMarksRead(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newRecRig(t)
		cfg := webhookCfg()
		cfg.Tick = 100 * time.Millisecond
		c, a := launch(t, url, cfg)
		acct := c.account()
		ch := c.installment(acct, "42.00", map[string]string{"installment_id": "7001"})
		rig.sb.Add(recEvent(21, 7001, 1, 4200))
		rig.sb.SetFaults(recuperador.SandboxFaults{FailReads: 1 << 20})
		id := rig.connect(c, acct, map[string]any{"id_credor": []int{1}})
		waitFor(t, "stored and settled, not yet read", func() bool {
			return c.chargeStatus(ch) == "paid" && stat(c.connection(id), "documents") == 1
		})
		if err := a.shutdown(); err != nil {
			t.Fatal(err)
		}
		if rig.sb.Reads(21) != 0 {
			t.Fatal("marked read despite the fault")
		}
		rig.sb.SetFaults(recuperador.SandboxFaults{})
		c2 := startApp(t, url, cfg)
		waitFor(t, "marked read after the restart", func() bool { return rig.sb.Reads(21) == 1 })
		waitFor(t, "idle", func() bool { v := c2.connection(id); return idle(v) && stat(v, "documents_pending") == 0 })
		if v := c2.connection(id); stat(v, "movements", "applied") < 1 || stat(v, "movements", "duplicate") != 0 {
			t.Errorf("after the restart: %v", v["stats"])
		}
	})
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

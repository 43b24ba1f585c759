package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"baixa/internal/dbtest"
)

const testKey = "test-key-0123456789"

// client talks to a running baixa.
type client struct {
	t    testing.TB
	base string
}

func (c *client) do(method, path, body string, headers ...string) (int, map[string]any, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, raw
}

// must calls do and fails unless the status is want.
func (c *client) must(want int, method, path, body string, headers ...string) map[string]any {
	c.t.Helper()
	status, out, raw := c.do(method, path, body, headers...)
	if status != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, status, want, raw)
	}
	return out
}

// startApp runs baixa on a loopback port against url until the test ends.
func startApp(t testing.TB, url string, cfg serveConfig) *client {
	t.Helper()
	c, a := launch(t, url, cfg)
	t.Cleanup(func() {
		if err := a.shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return c
}

// launch runs baixa on a loopback port; the caller shuts it down.
func launch(t testing.TB, url string, cfg serveConfig) (*client, *app) {
	t.Helper()
	cfg.DatabaseURL, cfg.APIKey = url, testKey
	cfg.Workers = max(cfg.Workers, 2)
	// On SQLite River polls for jobs (no LISTEN/NOTIFY), and its SQLite
	// driver parses the fetch query anew each time: at 20 ms, eight apps'
	// polling took half the suite's CPU and made it CPU-bound on two cores
	// (26 s); at 100 ms it runs in 16-19 s. Production polls every 200 ms.
	cfg.PollInterval = 100 * time.Millisecond
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if debugLogger != nil {
			cfg.Logger = debugLogger
		}
	}
	app, err := newApp(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.start(context.Background(), ln); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: "http://" + ln.Addr().String()}, app
}

// waitDocument polls a document until it leaves pending.
func (c *client) waitDocument(id string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		d := c.must(200, "GET", "/v1/documents/"+id, "")
		if d["status"] != "pending" {
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("document %s still pending", id)
	return nil
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, serveConfig{MaxImportBytes: 64 << 10})

		// Authentication.
		req, _ := http.NewRequest("GET", c.base+"/v1/charges", nil)
		if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
			t.Errorf("no key: %d", resp.StatusCode)
		}
		req.Header.Set("Authorization", "Bearer wrong-key-000000000")
		if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
			t.Errorf("wrong key: %d", resp.StatusCode)
		}

		// Accounts.
		_, bad, _ := c.do("POST", "/v1/accounts", `{"name": "ACME", "document": "11.222.333/0001-80"}`)
		if !strings.Contains(fmt.Sprint(bad["errors"]), "body.document") {
			t.Errorf("bad CNPJ error does not name the field: %v", bad)
		}
		acc := c.must(201, "POST", "/v1/accounts", `{"name": "ACME", "document": "11.222.333/0001-81"}`)
		accID := acc["id"].(string)

		// Charges: bad input stores nothing.
		for _, tc := range []struct {
			body   string
			status int
			field  string
		}{
			{`{"account_id": "` + accID + `", "kind": "boleto", "amount": "1.234"}`, 422, "body.amount"},
			{`{"account_id": "` + accID + `", "kind": "boleto", "amount": 12.5}`, 422, "body.amount"},
			{`{"account_id": "` + accID + `", "kind": "boleto", "amount": "-1.00"}`, 422, "body.amount"},
			{`{"account_id": "` + accID + `", "kind": "boleto", "amount": "10.00", "colour": "red"}`, 422, "colour"},
			{`{"account_id": "` + accID + `", "kind": "boleto", "amount": "10.00", "due_date": "2026-02-30"}`, 422, "body.due_date"},
			{`{"account_id": "` + accID + `", "kind": "boleto", "amount": "10.00", "payer": {"document": "123.456.789-00"}}`, 422, "body.payer.document"},
			{`{"account_id": "acc_nope", "kind": "boleto", "amount": "10.00"}`, 422, "body.account_id"},
			{`{"account_id": "` + accID + `", "kind": "boleto", "amount": "10.00"`, 400, ""},
		} {
			status, out, raw := c.do("POST", "/v1/charges", tc.body)
			if status != tc.status || !strings.Contains(string(raw), tc.field) {
				t.Errorf("%s: %d %v; want %d naming %q", tc.body, status, out, tc.status, tc.field)
			}
		}
		_, bulkErr, _ := c.do("POST", "/v1/charges/bulk", `{"charges": [
			{"account_id": "`+accID+`", "kind": "boleto", "amount": "10.00", "references": {"nosso_numero": "1"}},
			{"account_id": "`+accID+`", "kind": "boleto", "amount": "10.00", "references": {"nosso_numero": "0001"}}]}`)
		if !strings.Contains(fmt.Sprint(bulkErr["errors"]), "body.charges[1].references.nosso_numero") {
			t.Errorf("bulk error: %v", bulkErr)
		}
		if status, _, raw := c.do("POST", "/v1/accounts", `{"name": "`+strings.Repeat("x", 2<<20)+`", "document": "11222333000181"}`); status != 413 {
			t.Errorf("a 2 MiB body: %d %.200s", status, raw)
		}
		malformed := `{"account_id": "` + accID + `", "kind": "boleto", "amount": "1.00",}`
		at := fmt.Sprintf("invalid JSON at byte %d", strings.Index(malformed, ",}")+2)
		if status, _, raw := c.do("POST", "/v1/charges", malformed); status != 400 || !strings.Contains(string(raw), at) {
			t.Errorf("malformed JSON: %d %s; want %q", status, raw, at)
		}
		if list := c.must(200, "GET", "/v1/charges", ""); len(list["data"].([]any)) != 0 {
			t.Fatalf("bad requests stored charges: %v", list)
		}

		// Register charges in bulk.
		created := c.must(201, "POST", "/v1/charges/bulk", `{"charges": [
			{"account_id": "`+accID+`", "kind": "boleto", "amount": "427.81", "due_date": "2026-12-10",
			 "payer": {"name": "Maria", "document": "529.982.247-25"}, "references": {"nosso_numero": "0000000083", "seu_numero": "NF-1"},
			 "metadata": {"erp_id": 7}},
			{"account_id": "`+accID+`", "kind": "boleto", "amount": "100.00", "due_date": "2026-12-10", "references": {"nosso_numero": "84"}},
			{"account_id": "`+accID+`", "kind": "invoice", "amount": "50.00", "references": {"invoice_number": "F-9"}},
			{"account_id": "`+accID+`", "kind": "installment", "amount": "30.00", "references": {"installment_id": "P-1"}}]}`)
		data := created["data"].([]any)
		boleto := data[0].(map[string]any)
		if boleto["status"] != "open" || boleto["amount"] != "427.81" || boleto["payer"].(map[string]any)["document"] != "52998224725" {
			t.Fatalf("created: %v", boleto)
		}
		boletoID, boleto2ID := boleto["id"].(string), data[1].(map[string]any)["id"].(string)
		invoiceID, installmentID := data[2].(map[string]any)["id"].(string), data[3].(map[string]any)["id"].(string)

		// A generic import of movements.
		imp := `[
			{"id": "bank-1", "kind": "paid", "references": {"nosso_numero": "83"}, "paid_amount": "427.81", "fee_amount": "1.70",
			 "paid_on": "2026-11-20", "credited_on": "2026-11-21", "provider_status": "06"},
			{"id": "bank-2", "kind": "written_off", "references": {"nosso_numero": "84"}},
			{"id": "bank-3", "kind": "paid", "references": {"invoice_number": "F-9"}, "paid_amount": "20.00", "paid_on": "2026-11-20"},
			{"id": "bank-4", "kind": "paid", "references": {"nosso_numero": "999"}, "paid_amount": "1.00", "paid_on": "2026-11-20"}
		]`
		doc := c.must(202, "POST", "/v1/imports/generic?account_id="+accID, imp)
		doc = c.waitDocument(doc["id"].(string))
		if doc["status"] != "settled" || doc["applied"] != 3.0 || doc["unmatched"] != 1.0 {
			t.Fatalf("document: %v", doc)
		}
		got := c.must(200, "GET", "/v1/charges/"+boletoID, "")
		if got["status"] != "paid" || got["paid_amount"] != "427.81" || got["fee_amount"] != "1.70" || got["paid_on"] != "2026-11-20" ||
			got["credited_on"] != "2026-11-21" || got["provider_status"] != "06" {
			t.Errorf("paid boleto: %v", got)
		}
		if s := c.must(200, "GET", "/v1/charges/"+boleto2ID, "")["status"]; s != "written_off" {
			t.Errorf("written-off boleto: %v", s)
		}
		if inv := c.must(200, "GET", "/v1/charges/"+invoiceID, ""); inv["status"] != "partially_paid" || inv["paid_amount"] != "20.00" {
			t.Errorf("invoice: %v", inv)
		}
		feed := c.must(200, "GET", "/v1/events?limit=100", "")
		events := feed["data"].([]any)
		types := map[string]int{}
		for _, e := range events {
			types[e.(map[string]any)["type"].(string)]++
		}
		if len(events) != 4 || types["charge.paid"] != 1 || types["charge.written_off"] != 1 || types["charge.partially_paid"] != 1 || types["movement.unmatched"] != 1 {
			t.Errorf("feed: %v", types)
		}
		first := events[0].(map[string]any)
		if one := c.must(200, "GET", "/v1/events/"+first["id"].(string), ""); one["id"] != first["id"] || one["charge"] == nil || one["movement"] == nil {
			t.Errorf("event by id: %v", one)
		}

		// The same import again: the same document, nothing changes.
		again := c.must(200, "POST", "/v1/imports/generic?account_id="+accID, imp)
		if again["id"] != doc["id"] {
			t.Errorf("re-import made a new document")
		}
		// The same movements in other bytes: a new document, all duplicates.
		reordered := c.must(202, "POST", "/v1/imports/generic?account_id="+accID, strings.Replace(imp, "[", "[ ", 1))
		reordered = c.waitDocument(reordered["id"].(string))
		if reordered["duplicate"] != 4.0 || reordered["applied"] != 0.0 {
			t.Errorf("re-import with other bytes: %v", reordered)
		}
		next := feed["next_cursor"].(string)
		if after := c.must(200, "GET", "/v1/events?after="+next, ""); len(after["data"].([]any)) != 0 || after["next_cursor"] != next {
			t.Errorf("events after re-imports: %v", after)
		}

		// Bad imports store nothing.
		for body, want := range map[string]int{
			`[{"id": "x", "kind": "paid", "references": {"nosso_numero": "83"}, "paid_amount": "1.001"}]`:                         422,
			`[{"id": "x", "kind": "teleported", "references": {"nosso_numero": "83"}}]`:                                           422,
			`[{"id": "x", "kind": "paid", "references": {}, "paid_amount": "1.00"}]`:                                              422,
			`[{"id": "x", "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "1.00", "account_id": "acc_nope"}]`: 422,
			`{"not": "an array"}`: 422,
			`[`:                   422,
			`[]`:                  422,
			"[" + strings.Repeat(`{"id": "x", "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "1.00"},`, 1000) + "]": 413,
		} {
			if status, out, _ := c.do("POST", "/v1/imports/generic?account_id="+accID, body); status != want {
				t.Errorf("import %.60s: %d %v, want %d", body, status, out, want)
			}
		}
		req, _ = http.NewRequest("POST", c.base+"/v1/imports/generic", strings.NewReader("a;b"))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "text/csv")
		if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 415 {
			t.Errorf("wrong content type: %d", resp.StatusCode)
		}

		// Manual settlement, idempotent by key.
		pay := `{"amount": "10.00", "paid_on": "2026-11-22", "note": "cash at the counter"}`
		p1 := c.must(201, "POST", "/v1/charges/"+installmentID+"/payments", pay, "Idempotency-Key", "k1")
		p2 := c.must(201, "POST", "/v1/charges/"+installmentID+"/payments", pay, "Idempotency-Key", "k1")
		m1, m2 := p1["movement"].(map[string]any), p2["movement"].(map[string]any)
		if m1["id"] != m2["id"] || p2["charge"].(map[string]any)["paid_amount"] != "10.00" || p1["charge"].(map[string]any)["status"] != "partially_paid" {
			t.Errorf("idempotent payment: %v / %v", p1, p2)
		}
		p3 := c.must(201, "POST", "/v1/charges/"+installmentID+"/payments", `{"amount": "20.00", "paid_on": "2026-11-23"}`)
		if ch := p3["charge"].(map[string]any); ch["status"] != "paid" || ch["paid_amount"] != "30.00" {
			t.Errorf("second payment: %v", ch)
		}
		if wo := c.must(200, "POST", "/v1/charges/"+installmentID+"/write-off", `{"note": "oops"}`); wo["movement"].(map[string]any)["result"] != "conflict" {
			t.Errorf("write-off of a paid charge: %v", wo)
		}
		if cn := c.must(200, "POST", "/v1/charges/"+invoiceID+"/cancel", ""); cn["charge"].(map[string]any)["status"] != "cancelled" {
			t.Errorf("cancel: %v", cn)
		}
		c.must(404, "POST", "/v1/charges/chg_nope/payments", pay)
		c.must(422, "POST", "/v1/charges/"+invoiceID+"/payments", `{"amount": "0.00", "paid_on": "2026-11-22"}`)

		// Listing with filters.
		if paid := c.must(200, "GET", "/v1/charges?status=paid&account_id="+accID, ""); len(paid["data"].([]any)) != 2 {
			t.Errorf("paid charges: %v", paid)
		}
		if byRef := c.must(200, "GET", "/v1/charges?reference=83&reference_kind=nosso_numero", ""); len(byRef["data"].([]any)) != 1 {
			t.Errorf("by reference: %v", byRef)
		}
		c.must(422, "GET", "/v1/charges?status=lost", "")

		// Operations.
		for _, path := range []string{"/healthz", "/readyz", "/openapi.json", "/docs"} {
			if resp, err := http.Get(c.base + path); err != nil || resp.StatusCode != 200 {
				t.Errorf("%s: %v %v", path, resp, err)
			}
		}
		resp, err := http.Get(c.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`baixa_movements_total{provider="generic",result="applied"} 3`, `baixa_jobs{state="completed"}`, `route="POST /v1/imports/generic"`} {
			if !bytes.Contains(metrics, []byte(want)) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// debugLogger, with BAIXA_TEST_LOG=1, shows the apps' logs.
var debugLogger = func() *slog.Logger {
	if os.Getenv("BAIXA_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}()

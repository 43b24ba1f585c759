package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"baixa/internal/dbtest"
	"baixa/provider/bmp"
)

// callback sends a BMP callback as BMP would.
func (c *client) callback(method, path, body string, headers ...string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
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
	return resp.StatusCode, string(raw)
}

func TestBMPCallbacks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		proposal := func(id string) string {
			return c.must(201, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "proposal", "amount": "5000.00",
				"references": {"proposal_id": %q}}`, acct, id))["id"].(string)
		}
		paidP, cancelled, unknownSit := proposal("P-1"), proposal("P-2"), proposal("P-5")
		pending := proposal("P-3")
		conn := c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "bmp", "name": "BMP produção",
			"settings": {"environment": "production", "auth": {"method": "bearer"}}, "secrets": {"token": "tok-0123456789"}}`, acct))["id"].(string)
		hooks := "/hooks/bmp/" + conn
		for body, want := range map[string]string{
			`"settings": {"environment": "staging", "auth": {"method": "bearer"}}, "secrets": {"token": "t-0123456789"}`: "homologation",
			`"settings": {"auth": {"method": "bearer"}}`:                                                                 "secrets.token",
			`"settings": {"auth": {"method": "digest"}}, "secrets": {"token": "t-0123456789"}`:                           "want one of",
			`"settings": {"auth": {"method": "jwt", "jwt_algorithm": "none"}}, "secrets": {"jwt_key": "k"}`:              "HS256 or RS256",
		} {
			status, _, raw := c.do("POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "bmp", %s}`, acct, body))
			if status != 422 || !strings.Contains(string(raw), want) {
				t.Errorf("connection %s = %d %s, want 422 %q", body, status, raw, want)
			}
		}
		auth := []string{"Authorization", "Bearer tok-0123456789"}

		// Wrong or missing credentials: 401, nothing stored.
		if s, body := c.callback("GET", hooks+"?proposta=P-1&situacao=9", "", "Authorization", "Bearer nope"); s != 401 || strings.Contains(body, "tok-") {
			t.Fatalf("wrong token = %d %s", s, body)
		}
		if s, _ := c.callback("GET", hooks+"?proposta=P-1&situacao=9", ""); s != 401 {
			t.Fatalf("no token = %d", s)
		}
		if st := c.connection(conn); stat(st, "documents") != 0 {
			t.Fatalf("a refused callback was stored: %v", st["stats"])
		}

		// Situation 9 (GET, Portuguese names): paid; BMP's re-sends change nothing.
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s, body := c.callback("GET", hooks+"?proposta=P-1&situacao=9", "", auth...); s != 200 {
					t.Errorf("callback = %d %s", s, body)
				}
			}()
		}
		wg.Wait()
		waitFor(t, "P-1 paid", func() bool { return c.chargeStatus(paidP) == "paid" })
		// English names, POST: cancelled.
		if s, body := c.callback("POST", hooks+"?proposal=P-2&status=4&identifier=abc", `{"extra": {"kept": true}}`, auth...); s != 200 {
			t.Fatalf("POST = %d %s", s, body)
		}
		waitFor(t, "P-2 cancelled", func() bool { return c.chargeStatus(cancelled) == "cancelled" })
		// 11 with a reason, then another reason: two facts.
		for _, reason := range []string{"Conta inválida", "Agência inexistente", "Agência inexistente"} {
			if s, body := c.callback("POST", hooks+"?proposta=P-3&situacao=11", fmt.Sprintf(`{"descricaoOcorrencia": %q}`, reason), auth...); s != 200 {
				t.Fatalf("11 = %d %s", s, body)
			}
		}
		// An unknown situation and an unknown proposal are kept, not refused.
		// (Callbacks of one proposal are settled in any order: 77 goes to its own.)
		for _, q := range []string{"?proposta=P-5&situacao=77", "?proposta=NOPE&situacao=9"} {
			if s, body := c.callback("GET", hooks+q, "", auth...); s != 200 {
				t.Fatalf("%s = %d %s", q, s, body)
			}
		}
		defer func() {
			if t.Failed() {
				t.Logf("connection: %v", c.connection(conn)["stats"])
			}
		}()
		waitFor(t, "all settled", func() bool {
			v := c.connection(conn)
			// 9 (three times: one), 4, 11 with two reasons (the second twice), 77, and NOPE.
			return stat(v, "documents") == 6 && stat(v, "documents_pending") == 0
		})
		v := c.connection(conn)
		// The two reasons of 11 may settle in either order: if the older
		// one comes second it is stale (a duplicate), and the newer reason
		// stays.
		a, d, u := stat(v, "movements", "applied"), stat(v, "movements", "duplicate"), stat(v, "movements", "unmatched")
		if u != 1 || a+d != 5 || a < 4 {
			t.Fatalf("movements %v, want 9, 4, 77 and 11 applied, the other 11 applied or stale, and 1 unmatched", v["stats"].(map[string]any)["movements"])
		}
		if ch := c.must(200, "GET", "/v1/charges/"+pending, ""); ch["provider_status"] != "pagamento pendente: Agência inexistente" {
			t.Errorf("P-3 = %v, want the latest reason", ch["provider_status"])
		}
		ch := c.must(200, "GET", "/v1/charges/"+unknownSit, "")
		if ch["provider_status"] != "situação 77" {
			t.Errorf("P-5 = %v", ch)
		}

		// Bad input: clear 4xx, nothing stored.
		for _, tc := range []struct {
			method, query, body, ct string
			status                  int
			want                    string
		}{
			{"POST", "?proposta=P-1&situacao=9", `{"descricaoOcorrencia": "x",}`, "application/json", 400, "at byte"},
			{"GET", "?situacao=9", "", "", 400, "proposal is missing"},
			{"GET", "?proposta=P-1&situacao=pago", "", "", 400, "situation's number"},
			{"POST", "?proposta=P-1&situacao=9", `<xml/>`, "application/xml", 415, "JSON"},
			{"POST", "?proposta=P-1&situacao=9", `{"a": "` + strings.Repeat("x", 2<<20) + `"}`, "application/json", 413, "at most"},
		} {
			req, _ := http.NewRequest(tc.method, c.base+hooks+tc.query, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer tok-0123456789")
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(raw), tc.want) {
				t.Errorf("%s %s = %d %s, want %d %q", tc.method, tc.query, resp.StatusCode, raw, tc.status, tc.want)
			}
		}
		if v := c.connection(conn); stat(v, "documents") != 6 {
			t.Errorf("bad callbacks stored something: %v documents", stat(v, "documents"))
		}
		if s, _ := c.callback("GET", "/hooks/bmp/con_nope?proposta=P-1&situacao=9", "", auth...); s != 404 {
			t.Errorf("unknown connection = %d", s)
		}
	})
}

// A crash between storing a callback and answering it: BMP never got its
// 200 and sends again; the re-send finds the stored callback and changes
// nothing.
func TestBMPCrashBeforeAnswer(t *testing.T) {
	t.Parallel()
	c, a := launch(t, dbtest.SQLiteURL(t), webhookCfg())
	t.Cleanup(func() { _ = a.shutdown() })
	acct := c.account()
	ch := c.must(201, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "proposal", "amount": "900.00",
		"references": {"proposal_id": "P-9"}}`, acct))["id"].(string)
	conn := c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "bmp",
		"settings": {"auth": {"method": "api_key"}}, "secrets": {"token": "k-0123456789"}}`, acct))["id"].(string)
	// What the first delivery left: the document stored, no answer sent.
	stored, err := a.db.Connections.FindConnectionByID(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", c.base+"/hooks/bmp/"+conn+"?proposta=P-9&situacao=9", nil)
	nd, err := bmp.Receiver{}.Receive(context.Background(), req, nil, stored)
	if err != nil {
		t.Fatal(err)
	}
	first, created, err := a.db.Documents.CreateDocument(context.Background(), *nd)
	if err != nil || !created {
		t.Fatalf("store: %v %v", created, err)
	}
	waitFor(t, "paid", func() bool { return c.chargeStatus(ch) == "paid" })
	s, body := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-9&situacao=9", "", "API-Key", "k-0123456789")
	if s != 200 || !strings.Contains(body, first.ID) || !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("re-send = %d %s, want the stored document %s as a duplicate", s, body, first.ID)
	}
	if events := c.must(200, "GET", "/v1/events?limit=100", "")["data"].([]any); len(events) != 1 {
		t.Fatalf("%d events, want the one payment", len(events))
	}
}

package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"baixa"
	"baixa/internal/dbtest"
	"baixa/web"
)

// as sends a request with another API key.
func (c *client) as(key string, want int, method, path, body string) map[string]any {
	c.t.Helper()
	return c.must(want, method, path, body, "Authorization", "Bearer "+key)
}

// API keys are scoped, hashed at rest, rotated and revoked through the
// API; every write is in the audit log, by key, with its before and after
// and no secret.
func TestAPIKeysAndAudit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		charge := c.charge(acct, "77", "100.00")
		reader := c.must(201, "POST", "/v1/api-keys", `{"name": "BI", "role": "read"}`)
		operator := c.must(201, "POST", "/v1/api-keys", `{"name": "Finance desk", "role": "operator"}`)
		rkey, okey := reader["key"].(string), operator["key"].(string)
		if !strings.HasPrefix(rkey, "bx_") || len(rkey) < 40 || reader["prefix"] != rkey[:10] {
			t.Fatalf("a new key = %v", reader)
		}
		for _, k := range c.must(200, "GET", "/v1/api-keys", "")["data"].([]any) {
			if _, shown := k.(map[string]any)["key"]; shown {
				t.Errorf("a listed key shows its secret: %v", k)
			}
		}
		c.must(422, "POST", "/v1/api-keys", `{"name": "X", "role": "root"}`)

		// Scopes.
		c.as(rkey, 200, "GET", "/v1/charges/"+charge, "")
		c.as(rkey, 403, "POST", "/v1/charges/"+charge+"/payments", `{"amount": "10.00", "paid_on": "2026-11-23"}`)
		c.as(rkey, 403, "GET", "/v1/audit", "")
		c.as(okey, 201, "POST", "/v1/charges/"+charge+"/payments", `{"amount": "10.00", "paid_on": "2026-11-23"}`)
		c.as(okey, 403, "POST", "/v1/endpoints", `{"url": "https://erp.example.com.br/hook"}`)
		c.as(okey, 422, "POST", "/v1/endpoints/ep_nope/replay", `{}`) // an operator may replay: past the role check, to validation
		c.as(okey, 403, "POST", "/v1/api-keys", `{"name": "mine", "role": "admin"}`)
		c.as(okey, 403, "POST", "/v1/accounts", `{"name": "B", "document": "11222333000181"}`)
		c.as("bx_"+strings.Repeat("a", 52), 401, "GET", "/v1/charges", "")

		// Rotation without overlap ends the old key at once; revocation too.
		rotated := c.must(201, "POST", "/v1/api-keys/"+operator["id"].(string)+"/rotate", `{}`)
		c.as(okey, 401, "GET", "/v1/charges", "")
		c.as(rotated["key"].(string), 200, "GET", "/v1/charges", "")
		if rotated["role"] != "operator" || rotated["name"] != "Finance desk" {
			t.Errorf("rotated = %v", rotated)
		}
		overlapped := c.must(201, "POST", "/v1/api-keys/"+rotated["id"].(string)+"/rotate", `{"overlap_seconds": 3600}`)
		c.as(rotated["key"].(string), 200, "GET", "/v1/charges", "") // still, for an hour
		c.as(overlapped["key"].(string), 200, "GET", "/v1/charges", "")
		c.must(204, "DELETE", "/v1/api-keys/"+reader["id"].(string), "")
		c.as(rkey, 401, "GET", "/v1/charges", "")
		c.must(409, "POST", "/v1/api-keys/"+reader["id"].(string)+"/rotate", `{}`)

		// At rest: hashes only.
		db := rawDB(t, url)
		n := 0
		for _, k := range storedKeys(t, db) {
			n++
			for _, secret := range []string{rkey, okey, testKey, rotated["key"].(string)} {
				if strings.Contains(strings.Join(k[:], " "), secret) {
					t.Errorf("key %s is stored in clear", k[0])
				}
			}
			if k[0] == baixa.ConfiguredKeyID && (k[4] != baixa.HashAPIKey(testKey) || k[2] != "admin") {
				t.Errorf("the configured key is stored as %s %s", k[2], k[4])
			}
		}
		if n != 5 {
			t.Errorf("%d keys stored, want 5 (configured, reader, operator and its two rotations)", n)
		}

		// The audit log.
		audit := c.must(200, "GET", "/v1/audit?limit=100", "")["data"].([]any)
		var payment map[string]any
		for _, e := range audit {
			e := e.(map[string]any)
			for _, secret := range []string{rkey, okey, rotated["key"].(string), overlapped["key"].(string)} {
				if strings.Contains(fmt.Sprint(e), secret) {
					t.Errorf("the audit log shows a key: %v", e)
				}
			}
			if e["path"] == "/v1/charges/"+charge+"/payments" && e["status"] == float64(201) {
				payment = e
			}
		}
		if payment == nil {
			t.Fatalf("no audit entry of the payment in %v", audit)
		}
		if payment["key_id"] != operator["id"] || payment["key_name"] != "Finance desk" || payment["operation"] != "POST /v1/charges/{id}/payments" ||
			!strings.Contains(payment["before"].(string), `"status":"open"`) || !strings.Contains(payment["after"].(string), `"partially_paid"`) {
			t.Errorf("the payment's audit entry = %v", payment)
		}
		refused := 0
		for _, e := range audit {
			if e.(map[string]any)["status"] == float64(http.StatusForbidden) {
				refused++
			}
		}
		if refused != 0 {
			t.Errorf("%d refused writes were audited as writes", refused)
		}
		mine := c.must(200, "GET", "/v1/audit?key_id="+operator["id"].(string), "")["data"].([]any)
		if len(mine) != 2 {
			t.Errorf("the operator key's entries = %v, want its payment and its replay (refused by validation, audited)", mine)
		}
	})
}

// Each API key and each callback connection is held to its rate: 429 with
// Retry-After past it.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	cfg := webhookCfg()
	cfg.KeyRate = webRate(0.01, 3) // slow enough to be deterministic under load
	cfg.CallbackRate = webRate(0.01, 2)
	c := startApp(t, dbtest.SQLiteURL(t), cfg)
	acct := c.account()
	conn := c.bmpConnection(acct, "tok-0123456789")
	limited := false
	for range 10 {
		status, _, raw := c.do("GET", "/v1/charges", "")
		if status == 429 {
			limited = strings.Contains(string(raw), "retry")
			break
		}
	}
	if !limited {
		t.Error("an API key past its rate was not answered 429")
	}
	var codes []int
	for i := range 5 {
		s, _ := c.callback("GET", fmt.Sprintf("/hooks/bmp/%s?proposta=P-%d&situacao=9", conn, i), "", "Authorization", "Bearer tok-0123456789")
		codes = append(codes, s)
	}
	if codes[0] != 200 || codes[len(codes)-1] != 429 {
		t.Errorf("callbacks past the connection's rate = %v, want 200 first and 429 last", codes)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/hooks/bmp/%s?proposta=P-9&situacao=9", c.base, conn), nil)
	req.Header.Set("Authorization", "Bearer tok-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a limited callback = %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func webRate(perSecond float64, burst int) web.Rate {
	return web.Rate{PerSecond: perSecond, Burst: burst}
}

// rawDB opens url's database beside the running baixa (SQLite read-only).
func rawDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", url
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+path+"?mode=ro"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// BAIXA_SECRET_KEY is replaced without losing a secret: restarted with the
// new key and the old as previous, baixa reads every secret, seals them
// again, and afterwards needs only the new key.
func TestSecretKeyRotationServe(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		oldKey, newKey := []byte(strings.Repeat("o", 32)), []byte(strings.Repeat("n", 32))
		cfg := webhookCfg()
		cfg.SecretKey = oldKey
		c, a := launch(t, url, cfg)
		ep := c.must(201, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/hook"}`)
		conn := c.bmpConnection(c.account(), "tok-0123456789")
		if err := a.shutdown(); err != nil {
			t.Fatal(err)
		}
		cfg.SecretKey, cfg.PreviousSecretKeys = newKey, [][]byte{oldKey}
		c, a = launch(t, url, cfg)
		if got := c.must(200, "GET", "/v1/endpoints/"+ep["id"].(string), ""); got["id"] != ep["id"] {
			t.Fatalf("endpoint = %v", got)
		}
		if s, body := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-1&situacao=9", "", "Authorization", "Bearer tok-0123456789"); s != 200 {
			t.Fatalf("callback with the old key's secrets = %d %s", s, body)
		}
		if err := a.shutdown(); err != nil {
			t.Fatal(err)
		}
		cfg.PreviousSecretKeys = nil
		c = startApp(t, url, cfg)
		c.must(200, "GET", "/v1/endpoints/"+ep["id"].(string), "")
		if s, body := c.callback("GET", "/hooks/bmp/"+conn+"?proposta=P-2&situacao=9", "", "Authorization", "Bearer tok-0123456789"); s != 200 {
			t.Fatalf("callback with the new key alone = %d %s", s, body)
		}
	})
}

// storedKeys reads the api_keys rows: id, name, role, prefix, hash.
func storedKeys(t *testing.T, db *sql.DB) [][5]string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT id, name, role, prefix, hash FROM api_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][5]string
	for rows.Next() {
		var k [5]string
		if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4]); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A key confined to an account reaches that account's charges, events,
// movements and imports only.
func TestAccountKeys(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		mine, theirs := c.account(), c.account()
		own, other := c.charge(mine, "10", "10.00"), c.charge(theirs, "20", "20.00")
		c.pay(other, "20.00")
		c.must(422, "POST", "/v1/api-keys", `{"name": "x", "role": "operator", "account_id": "acc_nope"}`)
		k := c.must(201, "POST", "/v1/api-keys", fmt.Sprintf(`{"name": "ACME's ERP", "role": "operator", "account_id": %q}`, mine))
		key := k["key"].(string)
		if k["account_id"] != mine {
			t.Fatalf("key = %v", k)
		}
		ids := func(path string) []string {
			var out []string
			for _, d := range c.as(key, 200, "GET", path, "")["data"].([]any) {
				m := d.(map[string]any)
				out = append(out, fmt.Sprint(m["id"], "@", m["account_id"]))
			}
			return out
		}
		if got := ids("/v1/charges"); len(got) != 1 || !strings.HasPrefix(got[0], own) {
			t.Errorf("its charges = %v, want only %s", got, own)
		}
		c.as(key, 201, "POST", "/v1/charges/"+own+"/payments", `{"amount": "10.00", "paid_on": "2026-11-23"}`)
		for _, e := range ids("/v1/events") {
			if !strings.HasSuffix(e, "@"+mine) {
				t.Errorf("an event of another account: %s", e)
			}
		}
		c.as(key, 404, "GET", "/v1/charges/"+other, "")
		c.as(key, 404, "POST", "/v1/charges/"+other+"/payments", `{"amount": "1.00", "paid_on": "2026-11-23"}`)
		c.as(key, 403, "GET", "/v1/charges?account_id="+theirs, "")
		c.as(key, 403, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "boleto", "amount": "1.00"}`, theirs))
		c.as(key, 201, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "boleto", "amount": "1.00", "references": {"nosso_numero": "30"}}`, mine))
		c.as(key, 403, "POST", "/v1/charges/bulk", fmt.Sprintf(`{"charges": [{"account_id": %q, "kind": "boleto", "amount": "1.00"}]}`, theirs))
		c.as(key, 200, "GET", "/v1/accounts/"+mine, "")
		c.as(key, 403, "GET", "/v1/accounts/"+theirs, "")
		c.as(key, 403, "GET", "/v1/endpoints", "")
		c.as(key, 403, "GET", "/v1/deliveries", "")
		c.as(key, 403, "POST", "/v1/imports/generic?account_id="+theirs, `[]`)
		// A movement naming another account inside its own account's import.
		status, _, raw := c.do("POST", "/v1/imports/generic", fmt.Sprintf(`[{"id": "m1", "account_id": %q, "kind": "paid",
			"references": {"nosso_numero": "20"}, "paid_amount": "20.00", "paid_on": "2026-11-23"}]`, theirs), "Authorization", "Bearer "+key)
		if status != 422 || !strings.Contains(string(raw), "differs from the import's account") {
			t.Errorf("an import reaching another account = %d %s", status, raw)
		}
		if got := c.must(200, "GET", "/v1/charges/"+other, "")["status"]; got != "paid" {
			t.Errorf("the other account's charge = %v", got)
		}
	})
}

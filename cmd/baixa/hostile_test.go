package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"baixa/internal/dbtest"
)

// hostile is one request an attacker, a broken provider or a careless
// client could send, and the refusal it must get.
type hostile struct {
	name    string
	method  string
	path    string
	body    string
	headers []string // name, value pairs; "Authorization" "" removes the API key
	status  int
	want    string // in the answer
}

// Every public route refuses hostile input with its documented 4xx, stores
// nothing, and never answers 5xx.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, serveConfig{SecretKey: []byte("0123456789abcdef0123456789abcdef")})
		acct := c.account()
		charge := c.charge(acct, "900", "10.00")
		bmp := c.bmpConnection(acct, "tok-0123456789")
		signed := c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "bmp", "name": "BMP signed",
			"settings": {"auth": {"method": "hmac_body", "signature_header": "X-Signature", "timestamp_header": "X-Timestamp", "window_seconds": 300}},
			"secrets": {"hmac_key": "hmac-key-0123456789"}}`, acct))["id"].(string)
		jwtConn := c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "bmp", "name": "BMP jwt",
			"settings": {"auth": {"method": "jwt", "jwt_algorithm": "HS256"}}, "secrets": {"jwt_key": "jwt-key-0123456789abcdef"}}`, acct))["id"].(string)
		c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "saurus", "name": "Saurus",
			"settings": {"auth": {"method": "bearer"}}, "secrets": {"token": "saurus-token-0123"}}`, acct))
		before := c.snapshot(acct)

		deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
		sign := func(ts int64, body string) []string {
			m := hmac.New(sha256.New, []byte("hmac-key-0123456789"))
			fmt.Fprintf(m, "%d.%s", ts, body)
			return []string{"X-Timestamp", strconv.FormatInt(ts, 10), "X-Signature", hex.EncodeToString(m.Sum(nil))}
		}
		now := time.Now().Unix()
		replayed := sign(now, `{"proposta": "P-1", "situacao": 9}`)
		token := func(exp time.Duration, key string) string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": time.Now().Add(exp).Unix()}).SignedString([]byte(key))
			return "Bearer " + s
		}
		noneAlg, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
		bmpAuth := []string{"Authorization", "Bearer tok-0123456789"}
		hooks := "/hooks/bmp/" + bmp
		saurus := func(body string) hostile {
			return hostile{"saurus " + body, "POST", "/api/financeiro/retorno", body, []string{"Authorization", "Bearer saurus-token-0123"}, 400, ""}
		}
		cases := []hostile{
			// API authentication.
			{"no key", "GET", "/v1/charges", "", []string{"Authorization", ""}, 401, "API key"},
			{"wrong key", "GET", "/v1/charges", "", []string{"Authorization", "Bearer " + strings.Repeat("x", 20)}, 401, "API key"},
			{"basic instead of bearer", "GET", "/v1/charges", "", []string{"Authorization", "Basic dGVzdDp0ZXN0"}, 401, "API key"},
			// Malformed bodies.
			{"truncated JSON", "POST", "/v1/accounts", `{"name": "A`, nil, 400, "JSON"},
			{"not JSON", "POST", "/v1/accounts", `name=A`, nil, 400, "JSON"},
			{"deeply nested", "POST", "/v1/accounts", deep, nil, 400, ""},
			{"wrong content type", "POST", "/v1/accounts", `{"name": "A"}`, []string{"Content-Type", "application/xml"}, 415, ""},
			{"body over the limit", "POST", "/v1/accounts", `{"name": "` + strings.Repeat("a", 2<<20) + `"}`, nil, 413, ""},
			{"invalid UTF-8 body", "POST", "/v1/accounts", "{\"name\": \"\xff\"}", nil, 422, "UTF-8"},
			{"invalid UTF-8 query", "GET", "/v1/charges?reference=%FF", "", nil, 422, "query.reference"},
			{"NUL in query", "GET", "/v1/charges?reference=a%00b", "", nil, 422, "query.reference"},
			{"invalid UTF-8 header", "POST", "/v1/charges/" + charge + "/payments", `{"amount": "1.00", "paid_on": "2026-11-23"}`, []string{"Idempotency-Key", "k\xff"}, 422, "Idempotency-Key"},
			{"unknown field", "POST", "/v1/accounts", `{"name": "A", "document": "11222333000181", "admin": true}`, nil, 422, "admin"},
			// Amounts that are not exact decimal strings.
			{"amount 1e3", "POST", "/v1/charges/" + charge + "/payments", `{"amount": "1e3"}`, nil, 422, "amount"},
			{"amount -5", "POST", "/v1/charges/" + charge + "/payments", `{"amount": "-5"}`, nil, 422, "amount"},
			{"amount 0.001", "POST", "/v1/charges/" + charge + "/payments", `{"amount": "0.001"}`, nil, 422, "amount"},
			{"amount NaN", "POST", "/v1/charges/" + charge + "/payments", `{"amount": "NaN"}`, nil, 422, "amount"},
			{"amount 1,5", "POST", "/v1/charges/" + charge + "/payments", `{"amount": "1,5"}`, nil, 422, "amount"},
			{"amount of 20 digits", "POST", "/v1/charges/" + charge + "/payments", `{"amount": "12345678901234567890"}`, nil, 422, "amount"},
			{"amount as a number", "POST", "/v1/charges/" + charge + "/payments", `{"amount": 10.5}`, nil, 422, "amount"},
			{"charge amount 1e3", "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "boleto", "amount": "1e3"}`, acct), nil, 422, "amount"},
			// Ids that are not ids.
			{"path traversal", "GET", "/v1/charges/..%2F..%2Fetc%2Fpasswd", "", nil, 404, ""},
			{"dot dot", "GET", "/v1/documents/..", "", nil, 404, ""},
			{"unknown charge", "POST", "/v1/charges/chg_nope/payments", `{"amount": "1.00", "paid_on": "2026-11-23"}`, nil, 404, ""},
			{"id too long", "GET", "/v1/charges/" + strings.Repeat("a", 100), "", nil, 422, ""},
			// Imports.
			{"generic import of no account", "POST", "/v1/imports/generic?account_id=acc_nope", `[]`, nil, 404, ""},
			{"generic import not JSON", "POST", "/v1/imports/generic?account_id=" + acct, `[{"id": `, nil, 422, "JSON ends early"},
			{"CNAB import truncated", "POST", "/v1/imports?account_id=" + acct, "02RETORNO01COBRANCA", []string{"Content-Type", "text/plain"}, 422, ""},
			{"CNAB import zip bomb header", "POST", "/v1/imports?account_id=" + acct, "PK\x03\x04\x14\x00\x00\x00\x08\x00", []string{"Content-Type", "application/zip"}, 422, ""},
			// Callbacks.
			{"callback without token", "GET", hooks + "?proposta=P-1&situacao=9", "", []string{"Authorization", ""}, 401, ""},
			{"callback with the API key", "GET", hooks + "?proposta=P-1&situacao=9", "", []string{"Authorization", "Bearer " + testKey}, 401, ""},
			{"callback of an unknown provider", "GET", "/hooks/nope/" + bmp + "?proposta=P-1&situacao=9", "", bmpAuth, 404, ""},
			{"callback of an unknown connection", "GET", "/hooks/bmp/con_nope?proposta=P-1&situacao=9", "", bmpAuth, 404, ""},
			{"callback path traversal", "GET", "/hooks/bmp/..%2F..%2Fv1%2Faccounts?proposta=P-1&situacao=9", "", bmpAuth, 404, ""},
			{"callback of another provider's connection", "GET", "/hooks/saurus/" + bmp, "", bmpAuth, 404, ""},
			{"callback invalid UTF-8 query", "GET", hooks + "?proposta=%FF&situacao=9", "", bmpAuth, 400, "query.proposta"},
			{"callback NUL in query", "GET", hooks + "?proposta=P%00&situacao=9", "", bmpAuth, 400, "query.proposta"},
			{"callback invalid UTF-8 body", "POST", hooks + "?proposta=P-1&situacao=11", "{\"descricaoOcorrencia\": \"\xe1\"}", bmpAuth, 400, "body"},
			{"callback malformed JSON", "POST", hooks + "?proposta=P-1&situacao=9", `{"a": `, bmpAuth, 400, "body"},
			{"callback deeply nested", "POST", hooks + "?proposta=P-1&situacao=9", deep, bmpAuth, 400, "body"},
			{"callback wrong content type", "POST", hooks + "?proposta=P-1&situacao=9", `<x/>`, append([]string{"Content-Type", "application/xml"}, bmpAuth...), 415, ""},
			{"callback over the limit", "POST", hooks + "?proposta=P-1&situacao=9", `{"a": "` + strings.Repeat("a", 2<<20) + `"}`, bmpAuth, 413, ""},
			{"callback without situation", "GET", hooks + "?proposta=P-1", "", bmpAuth, 400, "situacao"},
			{"callback situation not a number", "GET", hooks + "?proposta=P-1&situacao=NaN", "", bmpAuth, 400, "situacao"},
			{"signed callback without signature", "POST", "/hooks/bmp/" + signed + "?proposta=P-1&situacao=9", `{}`, nil, 401, ""},
			{"signed callback, wrong signature", "POST", "/hooks/bmp/" + signed + "?proposta=P-1&situacao=9", `{}`, sign(now, `{"x": 1}`), 401, ""},
			{"signed callback, expired", "POST", "/hooks/bmp/" + signed + "?proposta=P-1&situacao=9", `{}`, sign(now-3600, `{}`), 401, "window"},
			{"signed callback, replayed", "POST", "/hooks/bmp/" + signed + "?proposta=P-1&situacao=9", `{"proposta": "P-1", "situacao": 9}`, replayed, 401, "replay"},
			{"JWT expired", "GET", "/hooks/bmp/" + jwtConn + "?proposta=P-1&situacao=9", "", []string{"Authorization", token(-time.Hour, "jwt-key-0123456789abcdef")}, 401, "expired"},
			{"JWT wrong key", "GET", "/hooks/bmp/" + jwtConn + "?proposta=P-1&situacao=9", "", []string{"Authorization", token(time.Hour, "another-key-0123456789abc")}, 401, ""},
			{"JWT alg none", "GET", "/hooks/bmp/" + jwtConn + "?proposta=P-1&situacao=9", "", []string{"Authorization", "Bearer " + noneAlg}, 401, ""},
			{"Saurus wrong token", "POST", "/api/financeiro/retorno", saurusResult("T1", 1, "100.0", fatura("10", "100", false)), []string{"Authorization", "Bearer nope"}, 401, ""},
			{"Saurus no token", "POST", "/api/financeiro/retorno", saurusResult("T1", 1, "100.0", fatura("10", "100", false)), []string{"Authorization", ""}, 401, ""},
			saurus(saurusResult("T1", 1, `"1e3"`, fatura("10", "100", false))),
			saurus(saurusResult("T1", 1, `"NaN"`, fatura("10", "100", false))),
			saurus(saurusResult("T1", 1, "100.001", fatura("10", "100", false))),
			saurus(saurusResult("T1", 1, "100.0", fatura("10", "12345678901234567890", false))),
			saurus(`{"transacoes": [`),
			saurus(deep),
			// The attention queue's decisions and the console.
			{"link, malformed JSON", "POST", "/v1/movements/mov_x/link", `{"charge_id": `, nil, 400, ""},
			{"link, deep JSON", "POST", "/v1/movements/mov_x/link", deep, nil, 400, ""},
			{"link, unknown movement", "POST", "/v1/movements/mov_x/link", `{"charge_id": "` + charge + `"}`, nil, 404, "not found"},
			{"dismiss, note of NUL", "POST", "/v1/movements/mov_x/dismiss", `{"note": "a\u0000b"}`, nil, 422, "note"},
			{"dismiss, a note too long", "POST", "/v1/movements/mov_x/dismiss", `{"note": "` + strings.Repeat("x", 3000) + `"}`, nil, 422, "note"},
			{"refund, a float amount", "POST", "/v1/movements/mov_x/refund", `{"amount": 1.5}`, nil, 422, "amount"},
			{"attention, bad kind", "GET", "/v1/attention?kind=everything", "", nil, 422, "kind"},
			{"attention, bad day", "GET", "/v1/attention?from=2026-02-30", "", nil, 422, "from"},
			{"payments, bad day", "GET", "/v1/payments/summary?date=tomorrow", "", nil, 422, "date"},
			{"document content, unknown", "GET", "/v1/documents/doc_x/content", "", nil, 404, "not found"},
			{"decision without a key", "POST", "/v1/movements/mov_x/dismiss", `{"note": "x"}`, []string{"Authorization", ""}, 401, ""},
			{"console action without a session", "POST", "/console/attention/mov_x/dismiss", "note=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 403, ""},
			{"console sign-in from another site", "POST", "/console/login", "key=" + testKey, []string{"Content-Type", "application/x-www-form-urlencoded", "Origin", "https://evil.example"}, 403, ""},
			// Outbound: the SSRF matrix (this server keeps the default guard).
		}
		for _, u := range []string{"https://127.0.0.1/hook", "https://localhost/hook", "https://10.0.0.1/hook", "https://172.16.0.1/hook",
			"https://192.168.1.1/hook", "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://[fd00::1]/hook",
			"https://0.0.0.0/hook", "https://[::ffff:127.0.0.1]/hook", "https://100.64.0.1/hook", "http://erp.example.com.br/hook",
			"ftp://erp.example.com.br/hook", "file:///etc/passwd", "gopher://127.0.0.1:25/", "not a url"} {
			cases = append(cases, hostile{"endpoint " + u, "POST", "/v1/endpoints", fmt.Sprintf(`{"url": %q}`, u), nil, 422, "url"})
		}
		for _, tc := range cases {
			if tc.name == "signed callback, replayed" {
				// The first is accepted; the same signed request again is not.
				if s, body := c.callback("POST", "/hooks/bmp/"+signed+"?proposta=P-1&situacao=9", tc.body, tc.headers...); s != 200 {
					t.Fatalf("the first signed callback = %d %s", s, body)
				}
				waitFor(t, "the first signed callback settled", func() bool { return stat(c.connection(signed), "documents_pending") == 0 })
				before = c.snapshot(acct)
			}
			status, raw := c.hostile(tc)
			if status != tc.status || !strings.Contains(raw, tc.want) {
				t.Errorf("%s: %s %s = %d %.300s; want %d with %q", tc.name, tc.method, tc.path, status, raw, tc.status, tc.want)
			}
			for _, secret := range []string{"tok-0123456789", "hmac-key-0123456789", "jwt-key-0123456789abcdef", "saurus-token-0123"} {
				if strings.Contains(raw, secret) {
					t.Errorf("%s: the answer shows a secret: %.300s", tc.name, raw)
				}
			}
		}
		if after := c.snapshot(acct); after != before {
			t.Errorf("hostile input stored something:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// hostile sends tc with the API key unless tc sets Authorization.
func (c *client) hostile(tc hostile) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(tc.method, c.base+tc.path, strings.NewReader(tc.body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	if tc.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(tc.headers); i += 2 {
		if tc.headers[i+1] == "" {
			req.Header.Del(tc.headers[i])
			continue
		}
		req.Header[http.CanonicalHeaderKey(tc.headers[i])] = []string{tc.headers[i+1]}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", tc.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// snapshot sums up what the account holds: charges and their state,
// documents, movements, events, endpoints and accounts.
func (c *client) snapshot(acct string) string {
	c.t.Helper()
	var b strings.Builder
	for _, ch := range c.must(200, "GET", "/v1/charges?limit=500&account_id="+acct, "")["data"].([]any) {
		m := ch.(map[string]any)
		fmt.Fprintf(&b, "%s:%s:%v ", m["id"], m["status"], m["paid_amount"])
	}
	for _, path := range []string{"/v1/accounts?", "/v1/events?", "/v1/endpoints?", "/v1/movements?result=unmatched&", "/v1/movements?result=conflict&", "/v1/connections?"} {
		fmt.Fprintf(&b, "%s=%d ", path, len(c.must(200, "GET", path+"limit=500", "")["data"].([]any)))
	}
	for _, cn := range c.must(200, "GET", "/v1/connections?limit=500", "")["data"].([]any) {
		id := cn.(map[string]any)["id"].(string)
		fmt.Fprintf(&b, "%s docs=%v ", id, stat(c.connection(id), "documents"))
	}
	return b.String()
}

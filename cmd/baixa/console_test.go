package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"baixa/internal/dbtest"
)

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func newBrowser(t testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) get(path string) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.hc.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func (b *browser) post(path string, form url.Values, headers ...string) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the token of the forms on a page.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	_, body, _ := b.get(path)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("%s has no form token", path)
	}
	return m[1]
}

// TestConsole: the console signs in with an API key, shows every page,
// refuses actions without the session's token or from another origin, and
// resolves an attention item through the API (audited as the key).
func TestConsole(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, serveConfig{})
		acct := c.must(201, "POST", "/v1/accounts", `{"name": "ACME", "document": "11222333000181"}`)["id"].(string)
		chg := c.must(201, "POST", "/v1/charges", `{"account_id": "`+acct+`", "kind": "boleto", "amount": "1234.56", "references": {"nosso_numero": "77"}}`)["id"].(string)
		doc := c.waitDocument(c.must(202, "POST", "/v1/imports/generic?account_id="+acct,
			`[{"id": "x-1", "kind": "paid", "references": {"nosso_numero": "999"}, "paid_amount": "1234.56", "paid_on": "2026-11-20"}]`)["id"].(string))["id"].(string)
		mov := c.must(200, "GET", "/v1/attention", "")["data"].([]any)[0].(map[string]any)["movement"].(map[string]any)["id"].(string)

		b := newBrowser(t, c.base)
		if status, _, h := b.get("/console/attention"); status != 303 || !strings.HasPrefix(h.Get("Location"), "/console/login?next=") {
			t.Fatalf("signed out: %d %v", status, h)
		}
		status, body, h := b.post("/console/login", urlValues("key", "wrong-key-0123456789"))
		if status != 401 || !strings.Contains(body, "Chave de API errada") || h.Get("Set-Cookie") != "" {
			t.Fatalf("a wrong key: %d %v %.300s", status, h, body)
		}
		if status, _, h := b.post("/console/login", urlValues("key", testKey), "Origin", "http://evil.example"); status != 403 || h.Get("Set-Cookie") != "" {
			t.Fatalf("a sign-in from another site: %d", status)
		}
		status, _, h = b.post("/console/login", urlValues("key", testKey, "next", "/console/attention"))
		cookie := h.Get("Set-Cookie")
		if status != 303 || h.Get("Location") != "/console/attention" || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") ||
			strings.Contains(cookie, testKey) {
			t.Fatalf("sign-in: %d %v", status, h)
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("on plain HTTP to loopback the cookie cannot be Secure: %s", cookie)
		}

		// Every page draws, with the data in Brazilian form.
		for path, want := range map[string]string{
			"/console/":                  "Pagamentos de hoje",
			"/console/charges":           "R$ 1.234,56",
			"/console/charges/" + chg:    "Linha do tempo",
			"/console/attention":         "sem cobrança",
			"/console/webhooks":          "Webhooks",
			"/console/connections":       "Conexões",
			"/console/imports":           doc,
			"/console/documents/" + doc:  "x-1",
			"/console/jobs/":             "<script",
			"/console/charges?status=bo": "status",
		} {
			if status, body, _ := b.get(path); status != 200 || !strings.Contains(body, want) {
				t.Errorf("GET %s = %d, want it to show %q: %.300s", path, status, want, body)
			}
		}
		if _, body, h := b.get("/console/"); !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || strings.Contains(body, testKey) {
			t.Errorf("the overview's headers %v, or the key shown", h)
		}

		// Actions need the page's token, from this origin.
		link := urlValues("charge_id", chg, "idem", "console-test-1")
		if status, _, _ := b.post("/console/attention/"+mov+"/link", link); status != 403 {
			t.Errorf("a link without the token: %d", status)
		}
		token := b.csrf("/console/attention")
		link.Set("csrf", token)
		if status, _, _ := b.post("/console/attention/"+mov+"/link", link, "Origin", "http://evil.example"); status != 403 {
			t.Errorf("a link from another origin: %d", status)
		}
		if c.must(200, "GET", "/v1/charges/"+chg, "")["status"] != "open" {
			t.Fatal("a refused action changed the charge")
		}
		// The API's refusals come back as the page's error; nothing changes.
		bad := urlValues("charge_id", "chg_nope", "csrf", token)
		if status, _, h := b.post("/console/attention/"+mov+"/link", bad); status != 303 || h.Get("Location") != "/console/attention" {
			t.Errorf("a link to no charge: %d %v", status, h)
		}
		if _, body, _ := b.get("/console/attention"); !strings.Contains(body, "422: ") || !strings.Contains(body, "no charge chg_nope") {
			t.Errorf("the refusal is not on the page it led back to: %.500s", body)
		}
		if _, body, _ := b.get("/console/attention"); strings.Contains(body, "422: ") {
			t.Error("the refusal is shown a second time")
		}
		// The page's messages come from the console, never from its address.
		if _, body, _ := b.get("/console/attention?error=Conta+bloqueada&flash=Ligue+para"); strings.Contains(body, "Conta bloqueada") || strings.Contains(body, "Ligue para") {
			t.Error("a link made the console show its text")
		}
		status, _, h = b.post("/console/attention/"+mov+"/link", link, "Origin", c.base)
		if status != 303 || h.Get("Location") != "/console/attention" {
			t.Fatalf("link: %d %v", status, h)
		}
		if _, body, _ := b.get("/console/attention"); !strings.Contains(body, "Feito.") {
			t.Errorf("the link's outcome is not shown: %.500s", body)
		}
		if ch := c.must(200, "GET", "/v1/charges/"+chg, ""); ch["status"] != "paid" || ch["paid_amount"] != "1234.56" {
			t.Errorf("the charge after the console's link: %v", ch)
		}
		if _, body, _ := b.get("/console/charges/" + chg); !strings.Contains(body, "paga") || !strings.Contains(body, "charge.paid") {
			t.Errorf("the charge page after the link: %.500s", body)
		}
		var audited bool
		for _, e := range c.must(200, "GET", "/v1/audit?limit=100", "")["data"].([]any) {
			e := e.(map[string]any)
			audited = audited || e["operation"] == "POST /v1/movements/{id}/link" && e["status"] == 200.0 && e["key_name"] == "BAIXA_API_KEY"
		}
		if !audited {
			t.Error("the console's link is not in the audit log under the key that signed in")
		}

		// English on request; a revoked key ends the session.
		if _, _, h := b.get("/console/lang/en?next=/console/charges"); h.Get("Location") != "/console/charges" {
			t.Errorf("language switch: %v", h)
		}
		if _, body, _ := b.get("/console/charges"); !strings.Contains(body, "Next page") && !strings.Contains(body, "First page") {
			t.Errorf("English: %.300s", body)
		}
		key := c.must(201, "POST", "/v1/api-keys", `{"name": "operator", "role": "operator"}`)
		b2 := newBrowser(t, c.base)
		if status, _, _ := b2.post("/console/login", urlValues("key", key["key"].(string))); status != 303 {
			t.Fatalf("sign-in with a made key: %d", status)
		}
		if status, _, _ := b2.get("/console/attention"); status != 200 {
			t.Fatalf("the operator's page: %d", status)
		}
		if status, _, _ := b2.get("/console/jobs/"); status != 403 {
			t.Errorf("the job queue for an operator key: %d, want 403", status)
		}
		c.must(204, "DELETE", "/v1/api-keys/"+key["id"].(string), "")
		if status, _, h := b2.get("/console/attention"); status != 303 || !strings.HasPrefix(h.Get("Location"), "/console/login") {
			t.Errorf("after the key was revoked: %d %v", status, h)
		}
		if status, _, _ := b.post("/console/logout", urlValues("csrf", b.csrf("/console/"))); status != 303 {
			t.Errorf("sign out: %d", status)
		}
		if status, _, _ := b.get("/console/"); status != 303 {
			t.Errorf("after signing out: %d", status)
		}
	})
}

func urlValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

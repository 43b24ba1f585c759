package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"baixa/internal/dbtest"
)

// replay sends a raw request from testdata/callbacks, its placeholders
// filled, and returns the status and body.
func (c *client) replay(file string, vars map[string]string) (int, string) {
	c.t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "callbacks", file))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range vars {
		raw = bytes.ReplaceAll(raw, []byte("{{"+k+"}}"), []byte(v))
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		c.t.Fatalf("%s: %v", file, err)
	}
	base, _ := url.Parse(c.base)
	req.RequestURI, req.URL.Scheme, req.URL.Host = "", base.Scheme, base.Host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestCallbackFixtures replays raw BMP and Saurus requests, each twice (as
// the providers re-send), and checks what they did to the charges.
func TestCallbackFixtures(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		charges := map[string]string{}
		for _, p := range []string{"P-2", "P-4", "P-6", "P-8", "P-9", "P-10", "P-11", "P-77"} {
			charges[p] = c.must(201, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "proposal", "amount": "1000.00",
				"references": {"proposal_id": %q}}`, acct, p))["id"].(string)
		}
		for f, amount := range map[string]string{"F-1": "100.00", "F-2": "50.00", "F-3": "80.00", "F-4": "20.00", "F-5": "30.00"} {
			charges[f] = c.must(201, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "invoice", "amount": %q,
				"references": {"invoice_number": %q}}`, acct, amount, f))["id"].(string)
		}
		bmpConn := c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "bmp",
			"settings": {"auth": {"method": "bearer"}}, "secrets": {"token": "bmp-token-012345"}}`, acct))["id"].(string)
		c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "saurus",
			"settings": {"auth": {"method": "bearer"}}, "secrets": {"token": "saurus-token-0123"}}`, acct))
		vars := map[string]string{"connection": bmpConn, "token": "bmp-token-012345", "saurus_token": "saurus-token-0123"}

		files, _ := filepath.Glob(filepath.Join("testdata", "callbacks", "*.http"))
		if len(files) < 13 {
			t.Fatalf("only %d fixtures", len(files))
		}
		for _, f := range files {
			name := filepath.Base(f)
			want := 200
			if name == "saurus-documented-example.http" {
				want = 400 // Saurus's own example is not valid JSON
			}
			s1, b1 := c.replay(name, vars)
			s2, b2 := c.replay(name, vars) // the provider's re-send
			if s1 != want || s2 != want {
				t.Fatalf("%s: %d %s, then %d %s; want %d", name, s1, b1, s2, b2, want)
			}
			if want == 200 && strings.HasPrefix(name, "saurus") && b1 != b2 {
				t.Errorf("%s: the re-send got another protocol: %s, then %s", name, b1, b2)
			}
			if want == 200 && strings.HasPrefix(name, "bmp") && !strings.Contains(b2, `"duplicate":true`) {
				t.Errorf("%s: the re-send was not taken as a duplicate: %s", name, b2)
			}
		}
		want := map[string]string{
			"P-2": "open aprovada", "P-4": "cancelled cancelada", "P-6": "open finalizada", "P-77": "open situação 77", "P-8": "open liberada para pagamento",
			"P-9": "paid crédito ou débito efetivado", "P-10": "open cedida a fundo",
			"P-11": "open pagamento pendente: Conta corrente inválida",
			"F-1":  "paid Transação Aprovada", "F-2": "declined Transação Negada", "F-3": "partially_paid Transação Aprovada",
			"F-4": "paid Transação Aprovada", "F-5": "paid Transação Aprovada",
		}
		defer func() {
			if t.Failed() {
				for ref, w := range want {
					ch := c.must(200, "GET", "/v1/charges/"+charges[ref], "")
					if got := fmt.Sprintf("%s %s", ch["status"], ch["provider_status"]); got != w {
						t.Logf("%s: %q, want %q", ref, got, w)
					}
				}
			}
		}()
		waitFor(t, "every charge", func() bool {
			for ref, w := range want {
				ch := c.must(200, "GET", "/v1/charges/"+charges[ref], "")
				if fmt.Sprintf("%s %s", ch["status"], ch["provider_status"]) != w {
					return false
				}
			}
			return true
		})
	})
}

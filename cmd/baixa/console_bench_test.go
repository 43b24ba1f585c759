package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"baixa/internal/dbtest"
)

// BenchmarkConsole times the console's pages, through HTTP as a browser
// would ask for them, on a database of BAIXA_BENCH_CHARGES charges (100,000
// by default), on SQLite and on PostgreSQL (when BAIXA_TEST_POSTGRES_URL is
// set):
//
//	go test ./cmd/baixa -run '^$' -bench Console -benchtime 200x
func BenchmarkConsole(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BAIXA_BENCH_CHARGES")); err == nil && v > 0 {
		n = v
	}
	for _, backend := range dbtest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			c := startApp(b, backend.URL(b), serveConfig{})
			acct := c.must(201, "POST", "/v1/accounts", `{"name": "ACME", "document": "11222333000181"}`)["id"].(string)
			for i := 0; i < n; i += 1000 {
				var body strings.Builder
				body.WriteString(`{"charges": [`)
				for j := i; j < min(n, i+1000); j++ {
					if j > i {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, `{"account_id": %q, "kind": "boleto", "amount": "%d.%02d", "due_date": "2026-12-%02d",
						"payer": {"name": "Pagador %d"}, "references": {"nosso_numero": "%d", "seu_numero": "NF-%d"}}`,
						acct, 10+j%5000, j%100, 1+j%28, j, 1_000_000+j, j)
				}
				body.WriteString(`]}`)
				c.must(201, "POST", "/v1/charges/bulk", body.String())
			}
			// A day of movements on the last charges: payments, a few that
			// match nothing; one charge with a long timeline.
			var imp strings.Builder
			imp.WriteString("[")
			for j := 0; j < 2000; j++ {
				if j > 0 {
					imp.WriteByte(',')
				}
				nosso := 1_000_000 + n - 1 - j
				if j%100 == 0 {
					nosso = 9_000_000 + j // matches nothing
				}
				fmt.Fprintf(&imp, `{"id": "b-%d", "kind": "paid", "references": {"nosso_numero": "%d"}, "paid_amount": "1.00", "paid_on": "2026-11-20"}`, j, nosso)
			}
			imp.WriteString("]")
			c.waitDocument(c.must(202, "POST", "/v1/imports/generic?account_id="+acct, imp.String())["id"].(string))
			last := c.must(200, "GET", "/v1/charges?limit=1&reference="+strconv.Itoa(1_000_000+n-1), "")["data"].([]any)[0].(map[string]any)["id"].(string)
			middle := c.must(200, "GET", "/v1/charges?limit=1&reference="+strconv.Itoa(1_000_000+n/2), "")["data"].([]any)[0].(map[string]any)["id"].(string)

			br := newBrowser(b, c.base)
			if status, _, _ := br.post("/console/login", urlValues("key", testKey)); status != 303 {
				b.Fatalf("sign-in: %d", status)
			}
			for _, p := range []struct{ name, path string }{
				{"overview", "/console/"},
				{"charges/first", "/console/charges"},
				{"charges/deep", "/console/charges?after=" + url.QueryEscape(middle)},
				{"charges/status=paid", "/console/charges?status=paid"},
				{"charges/reference", "/console/charges?reference=" + strconv.Itoa(1_000_000+n/3)},
				{"charges/due_date", "/console/charges?due_from=2026-12-10&due_to=2026-12-10"},
				{"charge", "/console/charges/" + last},
				{"attention", "/console/attention"},
				{"imports", "/console/imports"},
			} {
				b.Run(p.name, func(b *testing.B) {
					for b.Loop() {
						if status, body, _ := br.get(p.path); status != 200 || !strings.Contains(body, "</html>") {
							b.Fatalf("GET %s = %d", p.path, status)
						}
					}
				})
			}
		})
	}
}

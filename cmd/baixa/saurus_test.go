package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"baixa/internal/dbtest"
)

// saurusResult is a payment result as Saurus sends it.
func saurusResult(id string, status int, value string, faturas ...string) string {
	return fmt.Sprintf(`{"faturas": [%s], "valorTotal": 1000, "resultadoTransacao": {"IdTransacao": %q, "NSU": "112076329100",
		"CodAut": "ba9505e991", "CodControle": "4CDCE90DEF854D9090AA4498CE61D7F5", "DRetorno": "2026-11-20 10:00:01",
		"NumCartao": "589916******2018", "Bandeira": "MASTERCARD", "Rede": "Maestro", "Adquirente": "SAFRAPAY_API",
		"ValorPagamento": %q, "ModPagamento": 4, "QtdeParcelas": 1, "DTransacao": "2026-11-20 10:00:00", "Status": %d,
		"MsgRetorno": "%s", "ArqRetorno": "RAW"}, "campoNovo": 1}`, strings.Join(faturas, ","), id, value, status,
		map[bool]string{true: "Transação Aprovada", false: "Saldo insuficiente"}[status == 1])
}

func fatura(numero string, valor string, parcial bool) string {
	return fmt.Sprintf(`{"numeroFatura": %q, "historico": "Pedido de Venda", "valorFatura": %s, "pagamentoParcial": %t,
		"pessoa": {"cpfCnpj": "52998224725", "codigo": 10, "nome": "CLIENTE"}}`, numero, valor, parcial)
}

func TestSaurusResults(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		invoice := func(n, amount string) string {
			return c.must(201, "POST", "/v1/charges", fmt.Sprintf(`{"account_id": %q, "kind": "invoice", "amount": %q,
				"references": {"invoice_number": %q}}`, acct, amount, n))["id"].(string)
		}
		full, part, a, b, declined := invoice("10", "100.00"), invoice("20", "100.00"), invoice("30", "50.00"), invoice("31", "30.00"), invoice("40", "10.00")
		conn := c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "saurus", "name": "Saurus",
			"settings": {"auth": {"method": "bearer"}}, "secrets": {"token": "saurus-token-0123"}}`, acct))["id"].(string)
		post := func(body string, token string) (int, map[string]any, string) {
			s, raw := c.callback("POST", "/api/financeiro/retorno", body, "Authorization", "Bearer "+token)
			var out map[string]any
			_ = json.Unmarshal([]byte(raw), &out)
			return s, out, raw
		}

		// Saurus's own documented example is not valid JSON: a clear 400.
		seed := `{"faturas":[{"numeroFatura":"10","historico":"Pedido de Venda 15","valorFatura":100,"pagamentoParcial": true,"pessoa: {"cpfCnpj":"xxx"}}]}`
		if s, _, raw := post(seed, "saurus-token-0123"); s != 400 || !strings.Contains(raw, "not valid JSON at byte") {
			t.Fatalf("the seed's example = %d %s", s, raw)
		}
		if s, _, _ := post(saurusResult("T1", 1, "100.0", fatura("10", "100", false)), "wrong"); s != 401 {
			t.Fatalf("wrong credentials = %d", s)
		}

		s, first, raw := post(saurusResult("T1", 1, "100.0", fatura("10", "100", false)), "saurus-token-0123")
		if s != 200 || first["id"] == nil {
			t.Fatalf("approved = %d %s", s, raw)
		}
		// The re-send answers the same protocol and changes nothing.
		if s, again, _ := post(saurusResult("T1", 1, "100.0", fatura("10", "100", false)), "saurus-token-0123"); s != 200 || again["id"] != first["id"] {
			t.Fatalf("re-send = %d %v, want the protocol %v", s, again, first["id"])
		}
		for _, body := range []string{
			saurusResult("T2", 1, "40.0", fatura("20", "100", true)),
			saurusResult("T3", 1, "100.00", fatura("30", "50", false), fatura("31", "30.0", false)),
			saurusResult("T4", 5, "10.0", fatura("40", "10", false)),
			saurusResult("T5", 1, "7.5", fatura("NOPE", "7.5", false)),
		} {
			if s, _, raw := post(body, "saurus-token-0123"); s != 200 {
				t.Fatalf("result = %d %s", s, raw)
			}
		}
		waitFor(t, "settled", func() bool {
			v := c.connection(conn)
			return stat(v, "documents") == 5 && stat(v, "documents_pending") == 0
		})
		for id, want := range map[string]string{full: "paid 100.00", part: "partially_paid 40.00", a: "paid 50.00", b: "paid 30.00", declined: "declined 0.00"} {
			ch := c.must(200, "GET", "/v1/charges/"+id, "")
			if got := fmt.Sprintf("%s %s", ch["status"], ch["paid_amount"]); got != want {
				t.Errorf("invoice %v: %s, want %s", ch["references"], got, want)
			}
		}
		v := c.connection(conn)
		// T3 leaves 20.00 beyond its invoices: an unmatched credit, as is the unknown invoice.
		if u := stat(v, "movements", "unmatched"); u != 2 {
			t.Errorf("unmatched = %v, want 2 (the surplus of T3 and invoice NOPE)", u)
		}
		for _, tc := range []struct{ body, want string }{
			{`{"faturas": [], "resultadoTransacao": {"IdTransacao": "X", "ValorPagamento": "1.0"}}`, "no invoice"},
			{`{"faturas": [{"numeroFatura": "10", "valorFatura": 1}], "resultadoTransacao": {"ValorPagamento": "1.0"}}`, "IdTransacao"},
			{saurusResult("T9", 1, "dez reais", fatura("10", "100", false)), "ValorPagamento"},
			{saurusResult("T9", 1, "1.001", fatura("10", "100", false)), "ValorPagamento"},
		} {
			if s, _, raw := post(tc.body, "saurus-token-0123"); s != 400 || !strings.Contains(raw, tc.want) {
				t.Errorf("bad result = %d %s, want 400 %q", s, raw, tc.want)
			}
		}
	})
}

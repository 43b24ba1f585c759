package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"baixa/internal/dbtest"
	"baixa/provider/plugboleto"
)

const (
	plugSH, plugSHToken           = "11444777000161", "f22b97c0c9a3d41ac0a3875aba69e5aa"
	plugCedente, plugCedenteToken = "11222333000181", "cedente-token-1"
	plugHookHeader, plugHookToken = "X-Plug-Token", "plug-webhook-secret"
)

type plugRig struct {
	t   *testing.T
	sb  *plugboleto.Sandbox
	srv *httptest.Server
}

func newPlugRig(t *testing.T) *plugRig {
	sb := plugboleto.NewSandbox(plugSH, plugSHToken, plugCedente, plugCedenteToken)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &plugRig{t: t, sb: sb, srv: srv}
}

// connect creates a PlugBoleto connection (software-house credentials
// unless cedente is set).
func (r *plugRig) connect(c *client, account string, cedente bool, extra map[string]any) string {
	r.t.Helper()
	s := map[string]any{"environment": "custom", "base_url": r.srv.URL + "/api/v1", "cnpj_cedente": plugCedente,
		"poll_every": "50ms", "poll_max": "200ms", "give_up_after": "20s",
		"webhook_auth": map[string]any{"method": "header", "header": plugHookHeader}}
	secrets := map[string]string{"token": plugHookToken}
	if cedente {
		secrets["token_cedente"] = plugCedenteToken
	} else {
		s["cnpj_sh"], secrets["token_sh"] = plugSH, plugSHToken
	}
	for k, v := range extra {
		s[k] = v
	}
	body, _ := json.Marshal(map[string]any{"account_id": account, "provider": "plugboleto", "name": "PlugBoleto",
		"settings": s, "secrets": secrets, "every_seconds": 3600})
	return c.must(201, "POST", "/v1/connections", string(body))["id"].(string)
}

// boleto registers a charge with its PlugBoleto integration id.
func (c *client) boleto(account, integrationID, nosso, amount string) string {
	c.t.Helper()
	refs := map[string]string{"nosso_numero": nosso}
	if integrationID != "" {
		refs["integration_id"] = integrationID
	}
	b, _ := json.Marshal(map[string]any{"account_id": account, "kind": "boleto", "amount": amount, "due_date": "2026-12-01", "references": refs})
	return c.must(201, "POST", "/v1/charges", string(b))["id"].(string)
}

func returnFile(t *testing.T, recs ...plugboleto.FileRecord) []byte {
	var b bytes.Buffer
	if err := plugboleto.WriteReturnFile(&b, recs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPlugBoletoEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newPlugRig(t)
		cfg := webhookCfg()
		cfg.Tick = 100 * time.Millisecond
		c := startApp(t, url, cfg)
		erp := newERP(t)
		c.endpoint(fmt.Sprintf(`{"url": %q, "event_types": ["charge.paid", "charge.written_off", "movement.unmatched"]}`, erp.srv.URL))
		acct := c.account()
		a := c.boleto(acct, "HyNyGOtj-", "1234567", "100.00")
		b := c.boleto(acct, "B1lBl1v5j-", "1234568", "250.50")
		hidden := c.boleto(acct, "C0hidden", "1234570", "80.00")
		direct := c.boleto(acct, "", "7777777", "50.00") // issued at the bank: PlugBoleto does not know it
		off := c.boleto(acct, "E0baixa", "1234571", "30.00")
		open := c.boleto(acct, "F0open", "1234572", "10.00")
		for _, sb := range []plugboleto.SandboxBoleto{
			{IDIntegracao: "HyNyGOtj-", NossoNumero: "1234567", Valor: 10000}, {IDIntegracao: "B1lBl1v5j-", NossoNumero: "1234568", Valor: 25050},
			{IDIntegracao: "C0hidden", NossoNumero: "1234570", Valor: 8000, HidePayment: true},
			{IDIntegracao: "E0baixa", NossoNumero: "1234571", Valor: 3000}, {IDIntegracao: "F0open", NossoNumero: "1234572", Valor: 1000},
		} {
			rig.sb.AddBoleto(sb)
		}
		// Processing takes a while, and PlugBoleto limits and fails once.
		rig.sb.SetFaults(plugboleto.SandboxFaults{ProcessingPolls: 2, RateLimited: 1, ServerErrors: 1, Firewall: 1,
			CodigoMovimentoList: true})
		id := rig.connect(c, acct, false, nil)
		file := returnFile(t,
			plugboleto.FileRecord{Occurrence: "06", NossoNumero: "1234567", Amount: 10000, Paid: 10000, Fee: 150},
			plugboleto.FileRecord{Occurrence: "06", NossoNumero: "1234568", Amount: 25050, Paid: 25050, Fee: 150},
			plugboleto.FileRecord{Occurrence: "06", NossoNumero: "1234570", Amount: 8000, Paid: 8000},
			plugboleto.FileRecord{Occurrence: "06", NossoNumero: "7777777", SeuNumero: "NF-77", Amount: 5000, Paid: 5000, Fee: 100},
			plugboleto.FileRecord{Occurrence: "09", NossoNumero: "1234571", Amount: 3000},
			plugboleto.FileRecord{Occurrence: "06", NossoNumero: "9999999", Amount: 4200, Paid: 4200},
		)
		status, doc, raw := c.upload("connection_id="+id, file)
		if status != 202 || doc["provider"] != "plugboleto" {
			t.Fatalf("import = %d %s", status, raw)
		}
		d := c.waitDocument(doc["id"].(string))
		if d["status"] != "settled" || !strings.Contains(d["report"].(string), "PROCESSADO: 4 reconciled, 2 not reconciled") {
			t.Fatalf("uploaded file = %v", d)
		}
		waitFor(t, "charges settled", func() bool {
			return c.chargeStatus(a) == "paid" && c.chargeStatus(b) == "paid" && c.chargeStatus(hidden) == "paid" &&
				c.chargeStatus(direct) == "paid" && c.chargeStatus(off) == "written_off"
		})
		if ch := c.must(200, "GET", "/v1/charges/"+b, ""); ch["paid_amount"] != "250.50" || ch["fee_amount"] != "1.50" || ch["provider_status"] != "LIQUIDADO" {
			t.Errorf("charge b = %v", ch)
		}
		if ch := c.must(200, "GET", "/v1/charges/"+direct, ""); ch["paid_amount"] != "50.00" || ch["credited_amount"] != "49.00" {
			t.Errorf("charge paid at the bank = %v", ch)
		}
		if c.chargeStatus(open) != "open" {
			t.Errorf("a boleto the file does not name changed")
		}
		waitFor(t, "connection idle", func() bool { v := c.connection(id); return idle(v) && stat(v, "documents_pending") == 0 })
		view := c.connection(id)
		if applied, unmatched := stat(view, "movements", "applied"), stat(view, "movements", "unmatched"); applied != 5 || unmatched != 1 {
			t.Fatalf("movements applied %v unmatched %v, want 5 and 1: %v", applied, unmatched, view["stats"])
		}
		if rig.sb.Requests("GET /retornos") < 3 || rig.sb.Requests("POST /retornos") < 2 {
			t.Errorf("polls %d, uploads %d: want the protocol polled while processing, and the upload retried after the faults",
				rig.sb.Requests("GET /retornos"), rig.sb.Requests("POST /retornos"))
		}
		rs := erp.waitFor("paid, written off, unmatched", func(rs []received) bool { return len(rs) >= 6 })
		types := map[string]int{}
		for _, r := range rs {
			types[r.event["type"].(string)]++
		}
		if types["charge.paid"] != 4 || types["charge.written_off"] != 1 || types["movement.unmatched"] != 1 {
			t.Fatalf("ERP got %v", types)
		}
		// LIQUIDADO without payment data is paid, and flagged.
		flagged := false
		for _, r := range rs {
			if m, _ := r.event["movement"].(map[string]any); r.event["charge_id"] == hidden && m != nil {
				flagged = strings.Contains(fmt.Sprint(m["note"]), "LIQUIDADO without payment data")
			}
		}
		if !flagged {
			t.Errorf("the payment of the boleto without payment data is not flagged")
		}
		// The unmatched record is kept with PlugBoleto's own data.
		var unmatched map[string]any
		for _, r := range rs {
			if r.event["type"] == "movement.unmatched" {
				unmatched = r.event
			}
		}
		if m, _ := unmatched["movement"].(map[string]any); m == nil || m["paid_amount"] != "42.00" || !strings.Contains(fmt.Sprint(m["references"]), "9999999") {
			t.Errorf("unmatched event = %v", unmatched)
		}

		// ... and listed for a person, with what PlugBoleto said.
		um := c.must(200, "GET", "/v1/movements?result=unmatched&provider=plugboleto&account_id="+acct, "")["data"].([]any)
		if len(um) != 1 || !strings.Contains(fmt.Sprint(um[0].(map[string]any)["raw"]), "9999999") || um[0].(map[string]any)["result"] != "unmatched" {
			t.Errorf("unmatched movements = %v", um)
		}
		if none := c.must(200, "GET", "/v1/movements?result=conflict&account_id="+acct, "")["data"].([]any); len(none) != 0 {
			t.Errorf("conflicts = %v", none)
		}
		if status, _, raw := c.do("GET", "/v1/movements?result=applied", ""); status != 422 {
			t.Errorf("result=applied = %d %s", status, raw)
		}

		// The same file again changes nothing and uploads nothing.
		uploads := rig.sb.Requests("POST /retornos")
		if status, again, _ := c.upload("connection_id="+id, file); status != 200 || again["id"] != doc["id"] {
			t.Fatalf("second import = %d %v", status, again)
		}
		if rig.sb.Requests("POST /retornos") != uploads {
			t.Errorf("the second import uploaded again")
		}

		// A webhook only triggers a read-back: a genuine one (wrapped) finds
		// the boleto already paid; a forged one claiming a payment of F
		// finds it still registered; a wrong header is refused.
		hook := c.base + "/hooks/plugboleto/" + id
		reads := rig.sb.Requests("GET /boletos")
		if code, err := rig.sb.SendWebhook(context.Background(), hook, plugHookHeader, plugHookToken, "notifica_liquidou", "HyNyGOtj-", true); err != nil || code != 200 {
			t.Fatalf("webhook = %d %v", code, err)
		}
		forged := `{"tipoWH": "notifica_liquidou", "dataHoraEnvio": "24/11/2026 10:00:00", "titulo": {"idIntegracao": "F0open", "situacao": "LIQUIDADO", "PagamentoValorPago": "10,00"}}`
		out := c.must(200, "POST", "/hooks/plugboleto/"+id, forged, "Content-Type", "application/json", plugHookHeader, plugHookToken)
		if again := c.must(200, "POST", "/hooks/plugboleto/"+id, forged, "Content-Type", "application/json", plugHookHeader, plugHookToken); again["duplicate"] != true || again["document_id"] != out["document_id"] {
			t.Errorf("a re-sent webhook = %v, want the same document", again)
		}
		if status, _, raw := c.do("POST", "/hooks/plugboleto/"+id, forged, "Content-Type", "application/json", plugHookHeader, "wrong"); status != 401 {
			t.Errorf("wrong header = %d %s", status, raw)
		}
		if status, _, raw := c.do("POST", "/hooks/plugboleto/"+id, `{"tipoWH": "notifica_liquidou", "titulo": {`, "Content-Type", "application/json", plugHookHeader, plugHookToken); status != 400 || !strings.Contains(string(raw), "invalid JSON") {
			t.Errorf("broken webhook = %d %s", status, raw)
		}
		waitFor(t, "webhooks read back", func() bool {
			d := c.must(200, "GET", "/v1/documents/"+out["document_id"].(string), "")
			return rig.sb.Requests("GET /boletos") >= reads+2 && d["status"] == "settled" && stat(c.connection(id), "documents_pending") == 0
		})
		if ch := c.must(200, "GET", "/v1/charges/"+open, ""); ch["status"] != "open" || ch["paid_amount"] != "0.00" {
			t.Errorf("a forged webhook settled a charge: %v", ch)
		}
		if ch := c.must(200, "GET", "/v1/charges/"+a, ""); ch["paid_amount"] != "100.00" {
			t.Errorf("a webhook about a paid boleto changed it: %v", ch)
		}
	})
}

func TestPlugBoletoFaults(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newPlugRig(t)
		cfg := webhookCfg()
		cfg.Tick = 100 * time.Millisecond
		c := startApp(t, url, cfg)
		acct := c.account()
		ch := c.boleto(acct, "G0gone", "5555555", "12.34")
		rig.sb.AddBoleto(plugboleto.SandboxBoleto{IDIntegracao: "G0gone", NossoNumero: "5555555", Valor: 1234})
		id := rig.connect(c, acct, true, nil) // the beneficiary's own token

		// A slow PlugBoleto is timed out and asked again; the reason shows.
		slow := rig.connect(c, acct, true, map[string]any{"timeout": "100ms"})
		rig.sb.SetFaults(plugboleto.SandboxFaults{Delay: 300 * time.Millisecond})
		sf := returnFile(t, plugboleto.FileRecord{Occurrence: "02", NossoNumero: "5555550", Amount: 100})
		if status, _, raw := c.upload("connection_id="+slow, sf); status != 202 {
			t.Fatalf("import = %d %s", status, raw)
		}
		waitFor(t, "the timeout shown", func() bool {
			e, _ := c.connection(slow)["last_error"].(string)
			return strings.Contains(e, "deadline exceeded")
		})
		rig.sb.SetFaults(plugboleto.SandboxFaults{})
		waitFor(t, "the upload done after the timeouts", func() bool {
			v := c.connection(slow)
			return idle(v) && stat(v, "documents_pending") == 0 && v["last_error"] == nil
		})

		// PlugBoleto refuses the file: the import fails with its message.
		rig.sb.SetFaults(plugboleto.SandboxFaults{RefuseUploads: "Arquivo de retorno com layout não suportado"})
		file := returnFile(t, plugboleto.FileRecord{Occurrence: "06", NossoNumero: "5555555", Amount: 1234, Paid: 1234})
		_, doc, _ := c.upload("connection_id="+id, file)
		d := c.waitDocument(doc["id"].(string))
		if d["status"] != "failed" || !strings.Contains(d["error"].(string), "PlugBoleto: Arquivo de retorno com layout não suportado") {
			t.Fatalf("refused upload = %v", d)
		}
		if c.chargeStatus(ch) != "open" {
			t.Fatal("a refused file settled something")
		}
		// Importing it again, once PlugBoleto takes it, uploads it again.
		rig.sb.SetFaults(plugboleto.SandboxFaults{Malformed: 2})
		if status, again, raw := c.upload("connection_id="+id, file); status != 200 || again["id"] != doc["id"] || again["status"] != "pending" {
			t.Fatalf("import again = %d %s", status, raw)
		}
		if d := c.waitDocument(doc["id"].(string)); d["status"] != "settled" {
			t.Fatalf("after the retry: %v", d)
		}
		waitFor(t, "paid", func() bool { return c.chargeStatus(ch) == "paid" })

		// The command line hands a file to PlugBoleto the same way.
		h := c.boleto(acct, "H0cli", "5555556", "5.00")
		rig.sb.AddBoleto(plugboleto.SandboxBoleto{IDIntegracao: "H0cli", NossoNumero: "5555556", Valor: 500})
		path := filepath.Join(t.TempDir(), "retorno.ret")
		if err := os.WriteFile(path, returnFile(t, plugboleto.FileRecord{Occurrence: "06", NossoNumero: "5555556", Amount: 500, Paid: 500}), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := run(t, context.Background(), "import", path, "--connection", id, "--url", c.base, "--api-key", testKey)
		if code != 0 || !strings.Contains(stdout, "settled by plugboleto") || !strings.Contains(stdout, "PROCESSADO: 1 reconciled, 0 not reconciled") {
			t.Fatalf("import command: %d\n%s\n%s", code, stdout, stderr)
		}
		waitFor(t, "paid through the command", func() bool { return c.chargeStatus(h) == "paid" })

		// A watched folder: a return file put there is imported and moved
		// to imported/; one of no titles (a day without movements) to
		// empty/, uploaded nowhere; anything else goes to rejected/ with the
		// reason.
		dir := t.TempDir()
		w := c.boleto(acct, "W0watch", "5555557", "7.00")
		rig.sb.AddBoleto(plugboleto.SandboxBoleto{IDIntegracao: "W0watch", NossoNumero: "5555557", Valor: 700})
		if err := os.WriteFile(filepath.Join(dir, "cobranca.ret"), returnFile(t, plugboleto.FileRecord{Occurrence: "06", NossoNumero: "5555557", Amount: 700, Paid: 700}), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a return file\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "vazio.ret"), returnFile(t), 0o600); err != nil {
			t.Fatal(err)
		}
		watchUploads := rig.sb.Requests("POST /retornos")
		c.must(201, "POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "plugboleto", "every_seconds": 1,
			"settings": {"environment": "custom", "base_url": %q, "cnpj_cedente": %q, "poll_every": "50ms", "watch_dir": %q},
			"secrets": {"token_cedente": %q}}`, acct, rig.srv.URL+"/api/v1", plugCedente, dir, plugCedenteToken))
		waitFor(t, "the watched file imported", func() bool {
			_, err := os.Stat(filepath.Join(dir, "imported", "cobranca.ret"))
			return err == nil && c.chargeStatus(w) == "paid"
		})
		if why, err := os.ReadFile(filepath.Join(dir, "rejected", "notes.txt.error.txt")); err != nil || !strings.Contains(string(why), "not a CNAB return file") {
			t.Errorf("rejected file: %s %v", why, err)
		}
		waitFor(t, "the return file of no titles in empty/", func() bool {
			_, err := os.Stat(filepath.Join(dir, "empty", "vazio.ret"))
			return err == nil
		})
		if n := rig.sb.Requests("POST /retornos") - watchUploads; n != 1 {
			t.Errorf("the watched folder made %d uploads, want 1 (the file of no titles uploaded?)", n)
		}
		if status, _, raw := c.do("POST", "/v1/connections", fmt.Sprintf(`{"account_id": %q, "provider": "plugboleto",
			"settings": {"cnpj_cedente": %q, "watch_dir": "relative/dir"}, "secrets": {"token_cedente": "x"}}`, acct, plugCedente)); status != 422 || !strings.Contains(string(raw), "watch_dir") {
			t.Errorf("a relative watch_dir = %d %s", status, raw)
		}

		// What is not a whole CNAB file is refused before anything is stored.
		if status, _, raw := c.upload("connection_id="+id, []byte("not a return file")); status != 422 || !strings.Contains(string(raw), "not a CNAB return file") {
			t.Errorf("not CNAB = %d %s", status, raw)
		}
		// A bank baixa has no table for (Safra, 422) still goes to
		// PlugBoleto, which reads it, once its structure checks out.
		uploads := rig.sb.Requests("POST /retornos")
		safra := bytes.ReplaceAll(append([]byte("\n"), file...), []byte("\n756"), []byte("\n422"))[1:] // every record's bank
		status, cdoc, raw := c.upload("connection_id="+id, safra)
		if status != 202 {
			t.Fatalf("a Safra file = %d %s", status, raw)
		}
		if d := c.waitDocument(cdoc["id"].(string)); d["status"] != "settled" || rig.sb.Requests("POST /retornos") != uploads+1 {
			t.Errorf("a Safra file: document %v after %d uploads, want it uploaded once and settled", d, rig.sb.Requests("POST /retornos")-uploads)
		}
		broken := bytes.Clone(safra)
		copy(broken[bytes.LastIndex(broken[:len(broken)-2], []byte("\r\n"))+2+17:], "000099") // the file trailer's batch count
		if status, _, raw := c.upload("connection_id="+id, broken); status != 422 || !strings.Contains(string(raw), "the file trailer counts 99 batches") {
			t.Errorf("a broken Safra file = %d %s", status, raw)
		}
		if status, _, raw := c.upload("connection_id="+id+"&skip_bad_lines=true", file); status != 422 || !strings.Contains(string(raw), "whole") {
			t.Errorf("skip_bad_lines for PlugBoleto = %d %s", status, raw)
		}
		// A connection without webhook_auth refuses webhooks.
		bare := rig.connect(c, acct, true, map[string]any{"webhook_auth": nil})
		if status, _, raw := c.do("POST", "/hooks/plugboleto/"+bare, `{"tipoWH": "notifica_liquidou", "idintegracao": "G0gone"}`, "Content-Type", "application/json"); status != 401 {
			t.Errorf("webhook without auth configured = %d %s", status, raw)
		}
		// Bad settings and secrets are refused, naming the field.
		for _, tc := range []struct{ settings, secrets, want string }{
			{`{"cnpj_cedente": "123"}`, `{"token_cedente": "x"}`, "cnpj_cedente"},
			{`{"cnpj_cedente": "11222333000181"}`, `{}`, "token_cedente"},
			{`{"cnpj_cedente": "11222333000181", "cnpj_sh": "11444777000161"}`, `{"token_cedente": "x"}`, "token_sh"},
			{`{"cnpj_cedente": "11222333000181", "poll_every": "1s"}`, `{"token_cedente": "x"}`, "poll_every"},
			{`{"cnpj_cedente": "11222333000181", "batch_size": 500}`, `{"token_cedente": "x"}`, "batch_size"},
			{`{"cnpj_cedente": "11222333000181", "environment": "custom"}`, `{"token_cedente": "x"}`, "base_url"},
			{`{"cnpj_cedente": "11222333000181", "colour": "blue"}`, `{"token_cedente": "x"}`, "colour"},
		} {
			body := fmt.Sprintf(`{"account_id": %q, "provider": "plugboleto", "settings": %s, "secrets": %s, "every_seconds": 60}`, acct, tc.settings, tc.secrets)
			if status, _, raw := c.do("POST", "/v1/connections", body); status != 422 || !strings.Contains(string(raw), tc.want) {
				t.Errorf("settings %s = %d %s, want %q", tc.settings, status, raw, tc.want)
			}
		}
	})
}

// A restart while PlugBoleto is processing resumes polling the same
// protocol: the file is not uploaded twice.
func TestPlugBoletoRestartResumes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newPlugRig(t)
		rig.sb.SetFaults(plugboleto.SandboxFaults{ProcessingPolls: 1 << 30})
		cfg := webhookCfg()
		c, a := launch(t, url, cfg)
		acct := c.account()
		ch := c.boleto(acct, "R0restart", "3333333", "33.00")
		rig.sb.AddBoleto(plugboleto.SandboxBoleto{IDIntegracao: "R0restart", NossoNumero: "3333333", Valor: 3300})
		id := rig.connect(c, acct, false, map[string]any{"give_up_after": "1h"})
		_, doc, _ := c.upload("connection_id="+id, returnFile(t, plugboleto.FileRecord{Occurrence: "06", NossoNumero: "3333333", Amount: 3300, Paid: 3300}))
		proto := c.polledCode(t, id)
		if err := a.shutdown(); err != nil {
			t.Fatal(err)
		}
		rig.sb.SetFaults(plugboleto.SandboxFaults{})
		rig.sb.FinishProcessing()
		c2 := startApp(t, url, cfg)
		waitFor(t, "payment after restart", func() bool { return c2.chargeStatus(ch) == "paid" })
		if n := rig.sb.Requests("POST /retornos"); n != 1 {
			t.Errorf("%d uploads, want 1", n)
		}
		if d := c2.waitDocument(doc["id"].(string)); !strings.Contains(d["report"].(string), fmt.Sprint(proto)) {
			t.Errorf("document = %v, want protocol %v", d, proto)
		}
	})
}

// A file whose boletos belong to two beneficiaries (a head office and a
// branch sharing an account) is read back in batches of batch_size, one
// beneficiary per batch, each asked with its own cnpj-cedente.
func TestPlugBoletoBatchesByBeneficiary(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newPlugRig(t)
		const branch = "11444777000161"
		rig.sb.Cedentes[branch] = "branch-token"
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		var charges []string
		var recs []plugboleto.FileRecord
		for i := range 5 {
			id, nosso := fmt.Sprintf("K%d", i), fmt.Sprintf("%d", 6000000+i)
			cedente := plugCedente
			if i%2 == 1 {
				cedente = branch
			}
			charges = append(charges, c.boleto(acct, id, nosso, "3.00"))
			rig.sb.AddBoleto(plugboleto.SandboxBoleto{IDIntegracao: id, NossoNumero: nosso, Valor: 300, Cedente: cedente})
			recs = append(recs, plugboleto.FileRecord{Occurrence: "06", NossoNumero: nosso, Amount: 300, Paid: 300})
		}
		rig.sb.SetFaults(plugboleto.SandboxFaults{WithCedente: true})
		id := rig.connect(c, acct, false, map[string]any{"batch_size": 2})
		_, doc, _ := c.upload("connection_id="+id, returnFile(t, recs...))
		if d := c.waitDocument(doc["id"].(string)); d["status"] != "settled" {
			t.Fatalf("upload = %v", d)
		}
		waitFor(t, "all paid", func() bool {
			for _, ch := range charges {
				if c.chargeStatus(ch) != "paid" {
					return false
				}
			}
			return true
		})
		// Three of the head office's (2 + 1) and two of the branch's (2): three read-backs.
		if n := rig.sb.Requests("GET /boletos"); n != 3 {
			t.Errorf("%d read-backs, want 3", n)
		}
		f := recentFetch(c.connection(id), "upload/"+doc["id"].(string))
		if f == nil || len(f["files"].([]any)) != 4 {
			t.Errorf("fetch = %v, want the result and three batches", f)
		}
	})
}

// A Banco do Brasil file uploaded through PlugBoleto, its boletos issued
// at the bank (none reconciled): the unreconciled records' nosso números of
// 17 digits carry no check digit. The answer does not name the bank; the
// file does, and its answer is stored with it, so that a charge registered
// one digit short is not taken for a reported number less a check digit.
func TestPlugBoletoWholeNossoNumero(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		rig := newPlugRig(t)
		c := startApp(t, url, webhookCfg())
		acct := c.account()
		paid := c.boleto(acct, "", "32948600000000236", "30.00")
		decoy := c.boleto(acct, "", "3294860000000019", "1.00") // 32948600000000196 less its last digit
		id := rig.connect(c, acct, false, nil)
		file, err := os.ReadFile("../../cnab/testdata/bb-cnab240-laravel-boleto.ret")
		if err != nil {
			t.Fatal(err)
		}
		status, doc, raw := c.upload("connection_id="+id, file)
		if status != 202 {
			t.Fatalf("upload = %d %s", status, raw)
		}
		if d := c.waitDocument(doc["id"].(string)); d["status"] != "settled" || !strings.Contains(d["report"].(string), "0 reconciled, 5 not reconciled") {
			t.Fatalf("upload = %v", d)
		}
		waitFor(t, "the payment settled", func() bool { return c.chargeStatus(paid) == "paid" })
		waitFor(t, "connection idle", func() bool { v := c.connection(id); return idle(v) && stat(v, "documents_pending") == 0 })
		if s := c.chargeStatus(decoy); s != "open" {
			t.Errorf("the charge one digit short = %s, want open", s)
		}
		if unmatched := stat(c.connection(id), "movements", "unmatched"); unmatched != 4 {
			t.Errorf("unmatched movements = %v, want 4", unmatched)
		}
		um := c.must(200, "GET", "/v1/movements?result=unmatched&provider=plugboleto&account_id="+acct, "")["data"].([]any)
		if len(um) == 0 {
			t.Fatal("no unmatched movement listed")
		}
		answer := c.must(200, "GET", "/v1/documents/"+um[0].(map[string]any)["document_id"].(string), "")
		if answer["content_type"] != "application/vnd.plugboleto.retorno+json; banco=001" {
			t.Errorf("the answer's document = %v, want its content type to name the file's bank", answer)
		}
	})
}

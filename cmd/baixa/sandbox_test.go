package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"baixa/internal/dbtest"
	"baixa/provider/plugboleto"
)

// startSandbox runs `baixa sandbox NAME` until the test ends and returns
// its connection request (for account) and its address.
func startSandbox(t *testing.T, name, account string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, _ := run(t, ctx, "sandbox", name, "--listen", "127.0.0.1:0", "--dir", dir)
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sandbox %s exited %d", name, code)
		}
	})
	var raw []byte
	waitFor(t, "the connection request", func() bool {
		var err error
		raw, err = os.ReadFile(filepath.Join(dir, "connection.json"))
		return err == nil
	})
	var req struct {
		Settings struct {
			BaseURL string `json:"base_url"`
		}
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(req.Settings.BaseURL, "/api/v1"), "/api"), "/cobranca-bancaria/v3")
	waitFor(t, "the sandbox up", func() bool {
		host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
		conn, err := net.Dial("tcp", host) // Sicoob's asks for a client certificate
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return strings.ReplaceAll(string(raw), "ACCOUNT_ID", account), base
}

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The sandboxes run as commands, as docs/providers/*.md tell a new user to.
func TestSandboxCommands(t *testing.T) {
	t.Parallel()
	cfg := webhookCfg()
	cfg.Tick = 100 * time.Millisecond
	c := startApp(t, dbtest.SQLiteURL(t), cfg)
	acct := c.account()

	// Sicoob: its certificates and connection request make a connection
	// that gets a token over mutual TLS.
	req, _ := startSandbox(t, "sicoob", acct)
	sc := c.must(201, "POST", "/v1/connections", req)["id"].(string)
	c.must(200, "POST", "/v1/connections/"+sc+"/check", "")

	// Recuperador: an approved installment, read and marked read.
	inst := c.installment(acct, "150.00", map[string]string{"installment_id": "5001"})
	req, base := startSandbox(t, "recuperador", acct)
	if code := post(t, base+"/sandbox/events", `[{"id": 1, "id_credor": 1, "id_acordo": 4001, "id_cliente": 9, "id_contasareceber": 5001,
		"parcela": 1, "de": 3, "nome": "Maria", "cpf_cnpj": "52998224725", "pagamento": "`+today().String()+`", "valor_pago": "150.00", "valor_liquido": "135.00"}]`); code != 204 {
		t.Fatalf("add event = %d", code)
	}
	rc := c.must(201, "POST", "/v1/connections", req)["id"].(string)
	defer func() {
		if t.Failed() {
			t.Logf("connection: %v", c.connection(rc))
		}
	}()
	waitFor(t, "installment paid", func() bool { return c.chargeStatus(inst) == "paid" })

	// PlugBoleto: a boleto it knows, a return file imported, a webhook.
	bol := c.boleto(acct, "HyNyGOtj-", "1234567", "100.00")
	req, base = startSandbox(t, "plugboleto", acct)
	if code := post(t, base+"/sandbox/boletos", `[{"id_integracao": "HyNyGOtj-", "nosso_numero": "1234567", "valor": "100.00"}]`); code != 204 {
		t.Fatalf("add boleto = %d", code)
	}
	if code := post(t, base+"/sandbox/faults", `{}`); code != 404 { // faults are PUT
		t.Errorf("POST faults = %d", code)
	}
	r, _ := http.NewRequest(http.MethodPut, base+"/sandbox/faults", strings.NewReader(`{"processing_delay": "300ms", "rate_limited": 1}`))
	if resp, err := http.DefaultClient.Do(r); err != nil || resp.StatusCode != 204 {
		t.Fatalf("faults = %v %v", resp, err)
	}
	conn := c.must(201, "POST", "/v1/connections", strings.Replace(req, `"poll_every": "2s"`, `"poll_every": "100ms"`, 1))["id"].(string)
	if status, _, raw := c.upload("connection_id="+conn, returnFile(t, plugboleto.FileRecord{Occurrence: "06", NossoNumero: "1234567", Amount: 10000, Paid: 10000})); status != 202 {
		t.Fatalf("import = %d %s", status, raw)
	}
	waitFor(t, "boleto paid", func() bool { return c.chargeStatus(bol) == "paid" })
	hook := `{"url": "` + c.base + `/hooks/plugboleto/` + conn + `", "header": "X-Plug-Token", "value": "sandbox-webhook-token", "id_integracao": "HyNyGOtj-"}`
	if code := post(t, base+"/sandbox/webhooks", hook); code != 200 {
		t.Errorf("webhook = %d", code)
	}
}

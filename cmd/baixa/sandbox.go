package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"baixa"
	"baixa/provider/plugboleto"
	"baixa/provider/recuperador"
	"baixa/provider/sicoob"
)

type sandboxCmd struct {
	Sicoob      sandboxSicoobCmd      `cmd:"" help:"Run a Sicoob Cobrança Bancária sandbox (v3 and v2) over mutual TLS, with generated certificates."`
	Plugboleto  sandboxPlugBoletoCmd  `cmd:"" name:"plugboleto" help:"Run a PlugBoleto sandbox: return-file uploads, protocols, boletos, webhooks."`
	Recuperador sandboxRecuperadorCmd `cmd:"" help:"Run a Recuperador CRM sandbox: approved-installment events, mark-read, pushes."`
}

// isLoopback reports whether an address's host is this machine's loopback.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	ip, perr := netip.ParseAddr(host)
	return host == "localhost" || perr == nil && ip.IsLoopback()
}

// serveUntil serves srv on ln (with TLS when srv has a TLS configuration)
// until ctx ends, then shuts it down.
func serveUntil(ctx context.Context, ln net.Listener, srv *http.Server) error {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	var err error
	if srv.TLSConfig != nil {
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// serveSandbox serves srv's handler on listen (loopback) until ctx ends,
// over TLS when srv has a TLS configuration, after writing into dir the
// files given and a ready connection request (connection.json), and
// printing usage(base, dir) with dir made absolute.
func serveSandbox(ctx context.Context, e *env, listen, dir string, srv *http.Server, files map[string][]byte,
	request func(base string) map[string]any, usage func(base, dir string) string) error {
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT", listen)
	}
	if !isLoopback(listen) {
		return fmt.Errorf("--listen %q: a sandbox listens on loopback only", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	if srv.TLSConfig != nil {
		base = "https://" + ln.Addr().String()
	}
	req, _ := json.MarshalIndent(request(base), "", "  ")
	files["connection.json"] = req
	if err := writeFiles(dir, files); err != nil {
		ln.Close()
		return err
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprint(e.stdout, usage(base, abs))
	srv.ReadHeaderTimeout = 10 * time.Second
	return serveUntil(ctx, ln, srv)
}

// writeFiles writes files, readable by their owner only, into dir.
func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

type sandboxPlugBoletoCmd struct {
	Listen string `default:"127.0.0.1:8444" help:"Address to serve on (loopback)."`
	Dir    string `default:"plugboleto-sandbox" help:"Directory for a ready connection request."`
}

func (c *sandboxPlugBoletoCmd) Run(ctx context.Context, e *env) error {
	const sh, shToken, cedente, cedenteToken = "11444777000161", "sandbox-sh-token", "11222333000181", "sandbox-cedente-token"
	sb := plugboleto.NewSandbox(sh, shToken, cedente, cedenteToken)
	return serveSandbox(ctx, e, c.Listen, c.Dir, &http.Server{Handler: sb}, map[string][]byte{}, func(base string) map[string]any {
		return map[string]any{"account_id": "ACCOUNT_ID", "provider": "plugboleto", "name": "PlugBoleto sandbox", "every_seconds": 3600,
			"settings": map[string]any{"environment": "custom", "base_url": base + "/api/v1", "cnpj_sh": sh, "cnpj_cedente": cedente,
				"poll_every": "2s", "webhook_auth": map[string]any{"method": "header", "header": "X-Plug-Token"}},
			"secrets": map[string]string{"token_sh": shToken, "token": "sandbox-webhook-token"}}
	}, func(base, dir string) string {
		request := filepath.Join(dir, "connection.json")
		return fmt.Sprintf(`PlugBoleto sandbox on %s (software house %s, beneficiary %s)
A connection request is in %s:
  put your account id into it, then
  curl -H "Authorization: Bearer $BAIXA_API_KEY" -H 'Content-Type: application/json' \
       --data @%s http://127.0.0.1:8080/v1/connections
Register boletos PlugBoleto knows (as charges in baixa too, with integration_id):
  curl -X POST %s/sandbox/boletos --data '[{"id_integracao": "HyNyGOtj-", "nosso_numero": "1234567", "valor": "100.00"}]'
Import a return file for the connection (baixa uploads it, follows the protocol, reads the boletos back):
  go run ./cmd/baixa import retorno.ret --connection CONNECTION_ID
Send a webhook: POST %s/sandbox/webhooks with {"url": "http://127.0.0.1:8080/hooks/plugboleto/CONNECTION_ID",
  "header": "X-Plug-Token", "value": "sandbox-webhook-token", "tipo": "notifica_liquidou", "id_integracao": "HyNyGOtj-"}
Make it misbehave: PUT %s/sandbox/faults with {"processing_delay": "20s", "rate_limited": 2, "firewall": 1, "server_errors": 1,
  "malformed": 1, "refuse_uploads": "Arquivo inválido", "delay": "90s", ...}
`, base, sh, cedente, request, request, base, base, base)
	})
}

type sandboxRecuperadorCmd struct {
	Listen string `default:"127.0.0.1:8445" help:"Address to serve on (loopback)."`
	Dir    string `default:"recuperador-sandbox" help:"Directory for a ready connection request."`
}

func (c *sandboxRecuperadorCmd) Run(ctx context.Context, e *env) error {
	const token = "sandbox-recuperador-token"
	sb := recuperador.NewSandbox(token)
	return serveSandbox(ctx, e, c.Listen, c.Dir, &http.Server{Handler: sb}, map[string][]byte{}, func(base string) map[string]any {
		return map[string]any{"account_id": "ACCOUNT_ID", "provider": "recuperador", "name": "Recuperador sandbox", "every_seconds": 60,
			"settings": map[string]any{"environment": "custom", "base_url": base + "/api", "id_credor": []int{1}, "qtde_dias_leitura": 7,
				"webhook_auth": map[string]any{"method": "basic"}},
			"secrets": map[string]string{"api_token": token, "username": "recuperador", "password": "sandbox-push-password"}}
	}, func(base, dir string) string {
		request := filepath.Join(dir, "connection.json")
		return fmt.Sprintf(`Recuperador CRM sandbox on %s (API token %s, creditor 1)
A connection request is in %s:
  put your account id into it, then
  curl -H "Authorization: Bearer $BAIXA_API_KEY" -H 'Content-Type: application/json' \
       --data @%s http://127.0.0.1:8080/v1/connections
Approve an installment (a charge in baixa with references.installment_id "5001"):
  curl -X POST %s/sandbox/events --data '[{"id": 1, "id_credor": 1, "id_acordo": 4001, "id_cliente": 9, "id_contasareceber": 5001,
       "parcela": 1, "de": 3, "nome": "Maria", "cpf_cnpj": "52998224725", "pagamento": "%s", "valor_pago": "150.00", "valor_liquido": "135.00"}]'
Push it as the webhook does: POST %s/sandbox/push with {"url": "http://127.0.0.1:8080/hooks/recuperador/CONNECTION_ID",
  "username": "recuperador", "password": "sandbox-push-password", "id": 1}
Make it misbehave: PUT %s/sandbox/faults with {"server_errors": 2, "rate_limited": 1, "truncated": 1, "fail_reads": 2,
  "duplicate": true, "delay": "90s", ...}
`, base, token, request, request, base, baixa.Today(time.Now()), base, base)
	})
}

type sandboxSicoobCmd struct {
	Listen        string `default:"127.0.0.1:8443" help:"Address to serve on (loopback)."`
	Dir           string `default:"sicoob-sandbox" help:"Directory for the generated CA, server and client certificates and a ready connection request."`
	ClientID      string `name:"client-id" default:"baixa-sandbox" help:"The client_id the sandbox accepts."`
	NumeroCliente int64  `name:"numero-cliente" default:"707090" help:"The contract number the sandbox accepts."`
}

func (c *sandboxSicoobCmd) Run(ctx context.Context, e *env) error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT", c.Listen)
	}
	pki, err := sicoob.NewPKI([]string{host, "localhost"}, 365*24*time.Hour)
	if err != nil {
		return err
	}
	sb := sicoob.NewSandbox(c.ClientID, c.NumeroCliente)
	files := map[string][]byte{"ca.pem": pki.CAPEM, "client.pem": pki.ClientCertPEM, "client-key.pem": pki.ClientKeyPEM,
		"client.pfx": pki.ClientPFX, "client.pfx.password": []byte(pki.ClientPFXPassword)}
	return serveSandbox(ctx, e, c.Listen, c.Dir, &http.Server{Handler: sb, TLSConfig: pki.ServerTLS()}, files, func(base string) map[string]any {
		settings := map[string]any{
			"environment": "custom", "base_url": base + "/cobranca-bancaria/v3",
			"token_url":          base + "/auth/realms/cooperado/protocol/openid-connect/token",
			"ca_certificate_pem": string(pki.CAPEM), "client_id": c.ClientID, "numero_cliente": fmt.Sprint(c.NumeroCliente),
			"poll_every": "2s",
		}
		return map[string]any{"account_id": "ACCOUNT_ID", "provider": "sicoob", "name": "Sicoob sandbox",
			"settings": settings, "secrets": pki.ClientSecrets(), "every_seconds": 60}
	}, func(base, dir string) string {
		today := baixa.Today(time.Now())
		return fmt.Sprintf(`Sicoob sandbox on %s (mutual TLS; client_id %s, numeroCliente %d)
Certificates and a connection request are in %s:
  put your account id into connection.json, then
  curl -H "Authorization: Bearer $BAIXA_API_KEY" -H 'Content-Type: application/json' \
       --data @%s http://127.0.0.1:8080/v1/connections
Tell it about payments (type 5 LIQUI, 6 BAIX, 1 ENTR, 2 PROR, 3 AVENC, 4 VENC, 7 OCRED):
  curl --cacert %s --cert %s --key %s -X POST %s/sandbox/movements \
       --data '[{"type": 5, "date": "%s", "numero_titulo": 1234567, "amount": "100.00", "paid": "100.00", "paid_on": "%s"}]'
Make it misbehave: PUT %s/sandbox/faults with {"not_ready_polls": 3, "fail_500": 2, "truncate": true, ...}
`, base, c.ClientID, c.NumeroCliente, dir, filepath.Join(dir, "connection.json"), filepath.Join(dir, "ca.pem"),
			filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"), base, today, today, base)
	})
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"baixa"
	"baixa/provider/sicoob"
)

type sandboxCmd struct {
	Sicoob sandboxSicoobCmd `cmd:"" help:"Run a Sicoob Cobrança Bancária sandbox (v3 and v2) over mutual TLS, with generated certificates."`
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
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	base := "https://" + ln.Addr().String()
	settings := map[string]any{
		"environment": "custom", "base_url": base + "/cobranca-bancaria/v3",
		"token_url":          base + "/auth/realms/cooperado/protocol/openid-connect/token",
		"ca_certificate_pem": string(pki.CAPEM), "client_id": c.ClientID, "numero_cliente": fmt.Sprint(c.NumeroCliente),
		"poll_every": "2s",
	}
	request, _ := json.MarshalIndent(map[string]any{"account_id": "ACCOUNT_ID", "provider": "sicoob", "name": "Sicoob sandbox",
		"settings": settings, "secrets": pki.ClientSecrets(), "every_seconds": 60}, "", "  ")
	for name, data := range map[string][]byte{
		"ca.pem": pki.CAPEM, "client.pem": pki.ClientCertPEM, "client-key.pem": pki.ClientKeyPEM,
		"client.pfx": pki.ClientPFX, "client.pfx.password": []byte(pki.ClientPFXPassword), "connection.json": request,
	} {
		if err := os.WriteFile(filepath.Join(c.Dir, name), data, 0o600); err != nil {
			return err
		}
	}
	sb := sicoob.NewSandbox(c.ClientID, c.NumeroCliente)
	srv := &http.Server{Handler: sb, TLSConfig: pki.ServerTLS(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	abs, _ := filepath.Abs(c.Dir)
	fmt.Fprintf(e.stdout, `Sicoob sandbox on %s (mutual TLS; client_id %s, numeroCliente %d)
Certificates and a connection request are in %s:
  put your account id into connection.json, then
  curl -H "Authorization: Bearer $BAIXA_API_KEY" -H 'Content-Type: application/json' \
       --data @%s http://127.0.0.1:8080/v1/connections
Tell it about payments (type 5 LIQUI, 6 BAIX, 1 ENTR, 2 PROR, 3 AVENC, 4 VENC, 7 OCRED):
  curl --cacert %s --cert %s --key %s -X POST %s/sandbox/movements \
       --data '[{"type": 5, "date": "%s", "numero_titulo": 1234567, "amount": "100.00", "paid": "100.00", "paid_on": "%s"}]'
Make it misbehave: PUT %s/sandbox/faults with {"not_ready_polls": 3, "fail_500": 2, "truncate": true, ...}
`, base, c.ClientID, c.NumeroCliente, abs, filepath.Join(abs, "connection.json"), filepath.Join(abs, "ca.pem"),
		filepath.Join(abs, "client.pem"), filepath.Join(abs, "client-key.pem"), base, baixa.Today(time.Now()), baixa.Today(time.Now()), base)

	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

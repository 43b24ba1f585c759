package sicoob

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"baixa"
)

// fixtureServer answers Sicoob's calls with the published example
// responses in testdata/responses, over mutual TLS.
func fixtureServer(t *testing.T) (*Client, *atomic.Int32) {
	t.Helper()
	pki, err := NewPKI([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var tokens atomic.Int32
	file := func(name string) []byte {
		b, err := os.ReadFile("testdata/responses/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		switch {
		case r.URL.Path == "/token":
			tokens.Add(1)
			_, _ = w.Write(file("token-response.json"))
		case r.Header.Get("Authorization") != "Bearer testToken" || r.Header.Get("client_id") != "cid":
			w.WriteHeader(http.StatusUnauthorized)
		case r.Method == http.MethodPost && r.URL.Path == "/v3/boletos/movimentacoes":
			_, _ = w.Write(file("solicitar-movimentacoes-response.json"))
		case r.Method == http.MethodGet && r.URL.Path == "/v3/boletos/movimentacoes":
			_, _ = w.Write(file("consultar-movimentacoes-response.json"))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	srv.TLS = pki.ServerTLS()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cert, err := tls.X509KeyPair(pki.ClientCertPEM, pki.ClientKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki.CAPEM)
	return &Client{BaseURL: srv.URL + "/v3", TokenURL: srv.URL + "/token", ClientID: "cid", Scope: "boletos_consulta",
		Version: "v3", HTTP: NewHTTPClient(cert, roots)}, &tokens
}

func TestClientFixtures(t *testing.T) {
	cl, tokens := fixtureServer(t)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	cl.Now = func() time.Time { return now }
	ctx := context.Background()
	code, err := cl.RequestMovements(ctx, 707090, 5, baixa.Date{Year: 2026, Month: 11, Day: 19}, baixa.Date{Year: 2026, Month: 11, Day: 20})
	if err != nil || code != 12345678 {
		t.Fatalf("RequestMovements = %d, %v", code, err)
	}
	l, err := cl.MovementStatus(ctx, 707090, code)
	if err != nil || !l.Ready || len(l.FileIDs) != 1 || l.FileIDs[0] != 12345678 || l.Total != 2 {
		t.Fatalf("MovementStatus = %+v, %v", l, err)
	}
	if n := tokens.Load(); n != 1 {
		t.Fatalf("%d token requests for two calls, want 1 (cached)", n)
	}
	// The fixture's token lives 300 s: renewed a minute before it ends.
	now = now.Add(239 * time.Second)
	if _, err := cl.Token(ctx); err != nil || tokens.Load() != 1 {
		t.Fatalf("token renewed too early (%d requests, %v)", tokens.Load(), err)
	}
	now = now.Add(2 * time.Second)
	if _, err := cl.Token(ctx); err != nil || tokens.Load() != 2 {
		t.Fatalf("token not renewed before expiry (%d requests, %v)", tokens.Load(), err)
	}
}

func TestClientWithoutCertificate(t *testing.T) {
	cl, _ := fixtureServer(t)
	cl.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: cl.HTTP.Transport.(*http.Transport).TLSClientConfig.Clone()}}
	cl.HTTP.Transport.(*http.Transport).TLSClientConfig.Certificates = nil
	_, err := cl.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("token without a client certificate: %v, want a 401", err)
	}
}

func TestPlanWindows(t *testing.T) {
	k := &Connector{}
	c := &baixa.Connection{ID: "con_1", Settings: []byte(`{"environment":"sandbox","client_id":"x","numero_cliente":"707090","start_date":"2026-11-15"}`)}
	// Tuesday 2026-11-24, 01:30 in São Paulo (04:30 UTC).
	now := time.Date(2026, 11, 24, 4, 30, 0, 0, time.UTC)
	fs, cursor := k.Plan(c, nil, now)
	var got []string
	for _, f := range fs {
		got = append(got, f.WindowFrom.String()+".."+f.WindowTo.String()+"/"+f.Scope+map[bool]string{true: "F", false: ""}[f.Final])
	}
	want := "2026-11-15..2026-11-16/5F 2026-11-15..2026-11-16/6F 2026-11-17..2026-11-18/5F 2026-11-17..2026-11-18/6F " +
		"2026-11-19..2026-11-20/5F 2026-11-19..2026-11-20/6F 2026-11-21..2026-11-22/5F 2026-11-21..2026-11-22/6F " +
		"2026-11-23..2026-11-24/5 2026-11-23..2026-11-24/6"
	if strings.Join(got, " ") != want {
		t.Fatalf("plan:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if cursor != "2026-11-15" {
		t.Fatalf("cursor = %s before anything is done", cursor)
	}
	// Once the final windows are done, the cursor moves to the open one,
	// which is planned again; one still under way is not planned twice.
	var known []*baixa.Fetch
	for _, f := range fs {
		f.Status = baixa.FetchDone
		if !f.Final {
			f.Status = baixa.FetchRequested
		}
		known = append(known, f)
	}
	known[len(known)-1].Status = baixa.FetchDone
	fs, cursor = k.Plan(c, known, now)
	if cursor != "2026-11-23" || len(fs) != 1 || fs[0].Scope != "6" || fs[0].Final {
		t.Fatalf("second plan: cursor %s, %d fetches %+v", cursor, len(fs), fs)
	}
}

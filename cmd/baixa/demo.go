package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"baixa"
	"baixa/provider/plugboleto"
	"baixa/provider/recuperador"
	"baixa/provider/sicoob"
	"baixa/webhook"
)

// demoCmd runs baixa with every provider's sandbox and a small ERP, and
// plays a realistic day of payments through them.
type demoCmd struct {
	Listen  string        `default:"127.0.0.1:8080" help:"Where baixa's API listens (loopback; a free port is used if this one is taken)."`
	Dir     string        `help:"Directory for the SQLite database (default: a temporary one, removed at exit)."`
	Once    bool          `help:"Exit after the summary, with status 0 only if every expected outcome was observed (a smoke test)."`
	Timeout time.Duration `default:"2m" help:"How long to wait for every expected outcome."`
	Verbose bool          `help:"Show baixa's own log."`
}

// demoCharge is one charge of the scenario and what should become of it.
type demoCharge struct {
	label, provider string
	body            map[string]any
	want            string                         // the final status
	check           func(ch map[string]any) string // more to expect ("" when it holds)
	id              string
	status          string
	providerStatus  string
	reports         []time.Time // when its provider reported something about it
}

// demo is one run of the scenario.
type demo struct {
	out     io.Writer
	start   time.Time
	api     *apiClient
	base    string
	mu      sync.Mutex
	charges []*demoCharge
	byID    map[string]*demoCharge
	// got holds the ids of the events the ERP received (and verified)
	got        map[string]bool
	rejected   int
	secret     string
	latency    map[string][]time.Duration // provider -> report-to-ERP times
	unmatched  []string                   // nosso números of movement.unmatched events seen in the feed
	cursor     string
	feedEvents map[string]bool // ids of the feed's events
	outcomes   []demoOutcome
	// recuperador is its sandbox, asked whether every event was marked read.
	recuperador *recuperador.Sandbox
	// flakyTries counts, per webhook id, the requests the BI team's flaky
	// endpoint refused: it takes one only after its deliveries died and
	// someone retried them.
	flakyTries map[string]int
}

// demoOutcome is one thing the demo expects to observe.
type demoOutcome struct {
	what string
	ok   bool
}

func (d *demo) printf(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.out, "%7.2fs  %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// serveLoopback serves h on a free loopback port until ctx ends (over TLS
// with tlsCfg) and returns its address.
func serveLoopback(ctx context.Context, h http.Handler, tlsCfg *tls.Config) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		_ = serveUntil(ctx, ln, &http.Server{Handler: h, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second})
	}()
	if tlsCfg != nil {
		return "https://" + ln.Addr().String(), nil
	}
	return "http://" + ln.Addr().String(), nil
}

func (c *demoCmd) Run(ctx context.Context, e *env) error {
	dir := c.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "baixa-demo-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(dir, "baixa.db")); err == nil {
			return fmt.Errorf("%s holds a baixa.db already: the demo starts from an empty directory", dir)
		}
	}
	if !isLoopback(c.Listen) {
		return fmt.Errorf("--listen %q: the demo listens on loopback only (127.0.0.1:PORT)", c.Listen)
	}
	ln, err := net.Listen("tcp", c.Listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		fmt.Fprintf(e.stdout, "%s is taken: baixa listens on a free port instead\n", c.Listen)
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if c.Verbose {
		logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	key := "bx_demo_" + randomHex(16)
	secretKey := make([]byte, 32)
	_, _ = rand.Read(secretKey)
	app, err := newApp(ctx, serveConfig{
		DatabaseURL: "sqlite:" + filepath.Join(dir, "baixa.db"), APIKey: key, Workers: 4, ShutdownTimeout: 10 * time.Second,
		MaxImportBytes: 64 << 20, Logger: logger, Tick: 200 * time.Millisecond, SecretKey: secretKey,
		Webhooks: webhookConfig{
			// The ERP is on loopback: allowed here, as BAIXA_WEBHOOK_ALLOW_ADDRESSES would.
			Guard: webhook.Guard{AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
			// Short, so that the flaky endpoint's deliveries die within the
			// demo's first seconds, for an operator to retry them.
			Schedule:     []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			DisableAfter: time.Hour, SecretOverlap: time.Hour,
		},
	})
	if err != nil {
		ln.Close()
		return err
	}
	if err := app.start(ctx, ln); err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	d := &demo{out: e.stdout, start: time.Now(), api: &apiClient{base: base, key: key}, base: base,
		byID: map[string]*demoCharge{}, got: map[string]bool{}, latency: map[string][]time.Duration{}, feedEvents: map[string]bool{},
		flakyTries: map[string]int{}}
	fmt.Fprintf(e.stdout, "baixa demo: baixa on %s (SQLite in %s), with the Sicoob, PlugBoleto and Recuperador sandboxes,\n"+
		"a small ERP that verifies every webhook, and BMP's and Saurus's callbacks played as they send them.\n\n", base, dir)
	// Unless the demo is to stop after its summary, the sandboxes, the ERP
	// and the feed reader keep running with baixa, so that what an
	// operator does afterwards (in the console) still reaches them.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runErr := d.run(runCtx, c.Timeout)
	if c.Once {
		stopRun()
	}
	ok := d.summary()
	if runErr != nil && ctx.Err() == nil {
		fmt.Fprintln(e.stdout, "the demo stopped early:", runErr)
		ok = false
	}
	if !c.Once && ctx.Err() == nil {
		fmt.Fprintf(e.stdout, `
baixa keeps running with the demo's data:
  API          %s/v1   (key: %s)
  console      %s/console   (sign in with the key)
  API docs     %s/docs
  metrics      %s/metrics
  try          curl -H 'Authorization: Bearer %s' '%s/v1/charges?limit=5'
Ctrl-C stops it.
`, base, key, base, base, base, key, base)
		<-ctx.Done()
	}
	if err := app.shutdown(); err != nil {
		return err
	}
	if !ok {
		return errors.New("some expected outcomes were not observed")
	}
	return nil
}

// run sets the scene, plays it, and waits for every expected outcome.
func (d *demo) run(ctx context.Context, timeout time.Duration) error {
	erp := http.NewServeMux()
	erp.HandleFunc("/webhooks/baixa", d.erp)
	erp.HandleFunc("/webhooks/bi", d.flaky)
	erpURL, err := serveLoopback(ctx, erp, nil)
	if err != nil {
		return err
	}
	var acct struct{ ID string }
	if _, err := d.api.json(ctx, "POST", "/v1/accounts", map[string]any{"name": "Escola Exemplo Ltda", "document": "11222333000181"}, &acct); err != nil {
		return err
	}
	var ep struct{ ID, Secret string }
	if _, err := d.api.json(ctx, "POST", "/v1/endpoints", map[string]any{"url": erpURL + "/webhooks/baixa", "description": "the demo's ERP"}, &ep); err != nil {
		return err
	}
	d.mu.Lock()
	d.secret = ep.Secret
	d.mu.Unlock()
	var bi struct{ ID string }
	if _, err := d.api.json(ctx, "POST", "/v1/endpoints", map[string]any{"url": erpURL + "/webhooks/bi", "description": "the BI team's (flaky)",
		"event_types": []string{"charge.written_off"}}, &bi); err != nil {
		return err
	}
	d.printf("account %s and the ERP's webhook endpoint %s registered", acct.ID, ep.ID)
	d.printf("the BI team's endpoint %s wants charge.written_off, and answers 503 until an operator retries what died", bi.ID)
	if err := d.createCharges(ctx, acct.ID); err != nil {
		return err
	}
	go d.followFeed(ctx)

	today := baixa.Today(time.Now())
	if err := d.startSicoob(ctx, acct.ID, today); err != nil {
		return fmt.Errorf("sicoob: %w", err)
	}
	plug, plugConn, err := d.startPlugBoleto(ctx, acct.ID)
	if err != nil {
		return fmt.Errorf("plugboleto: %w", err)
	}
	if err := d.startRecuperador(ctx, acct.ID, today); err != nil {
		return fmt.Errorf("recuperador: %w", err)
	}
	if err := d.playBMP(ctx, acct.ID); err != nil {
		return fmt.Errorf("bmp: %w", err)
	}
	if err := d.playSaurus(ctx, acct.ID); err != nil {
		return fmt.Errorf("saurus: %w", err)
	}
	if err := d.brokenConnection(ctx, acct.ID); err != nil {
		return fmt.Errorf("a connection in error: %w", err)
	}
	// PlugBoleto's webhook about a boleto already paid: read back, a duplicate.
	if err := d.waitFor(ctx, 60*time.Second, func() bool { return d.status("P1") == "paid" }); err == nil {
		code, err := plug.SendWebhook(ctx, d.base+"/hooks/plugboleto/"+plugConn, "X-Plug-Token", "demo-plug-webhook-token", "notifica_liquidou", "dm-2001", true)
		d.outcome("PlugBoleto's webhook taken (a trigger to read the boleto back)", err == nil && code == 200)
		d.printf("PlugBoleto   webhook notifica_liquidou for P1 -> %d", code)
	}
	return d.waitFor(ctx, timeout, d.quiet())
}

// quiet returns a condition that holds once every expected outcome has been
// observed on three checks in a row: events can still be on their way when
// the charges first look right (a status change after a payment, say), and
// the summary must not be taken between the webhook and the feed showing it.
func (d *demo) quiet() func() bool {
	streak := 0
	return func() bool {
		if !d.settled() {
			streak = 0
			return false
		}
		streak++
		return streak >= 3
	}
}

// status returns the last status the feed showed for a charge label.
func (d *demo) status(label string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.charges {
		if c.label == label {
			return c.status
		}
	}
	return ""
}

func (d *demo) waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func (d *demo) outcome(what string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.outcomes = append(d.outcomes, demoOutcome{what, ok})
}

// reported notes that a charge's provider just reported something.
func (d *demo) reported(labels ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	for _, c := range d.charges {
		if slices.Contains(labels, c.label) {
			c.reports = append(c.reports, now)
		}
	}
}

func boleto(label, provider, nosso, integration, amount, want string) *demoCharge {
	refs := map[string]string{"nosso_numero": nosso}
	if integration != "" {
		refs["integration_id"] = integration
	}
	return &demoCharge{label: label, provider: provider, want: want,
		body: map[string]any{"kind": "boleto", "amount": amount, "due_date": baixa.Today(time.Now()).AddDays(5).String(), "references": refs,
			"payer": map[string]any{"name": "Maria da Silva", "document": "529.982.247-25"}, "description": "Mensalidade"}}
}

func other(label, provider, kind, ref, value, amount, want string) *demoCharge {
	return &demoCharge{label: label, provider: provider, want: want,
		body: map[string]any{"kind": kind, "amount": amount, "references": map[string]string{ref: value}}}
}

func hasConflict(ch map[string]any) string {
	if ch["conflict"] == nil {
		return "a conflict noted on the charge"
	}
	return ""
}

func hasLink(ch map[string]any) string {
	if ch["payment_link"] == nil {
		return "Recuperador's invoice link kept on the charge"
	}
	return ""
}

func (d *demo) createCharges(ctx context.Context, account string) error {
	s3 := boleto("S3", "Sicoob", "1003", "", "150.00", "paid")
	s3.check = hasConflict
	s4 := boleto("S4", "Sicoob", "1004", "", "60.00", "paid")
	s4.check = hasConflict
	r1 := other("R1", "Recuperador", "installment", "installment_id", "5001", "150.00", "paid")
	r1.check = hasLink
	b3 := other("B3", "BMP", "proposal", "proposal_id", "90003", "3000.00", "open")
	b3.check = func(ch map[string]any) string {
		if !strings.Contains(fmt.Sprint(ch["provider_status"]), "pagamento pendente: Conta bancária") {
			return "BMP's pending situation (11) with its reason as the provider's status"
		}
		return ""
	}
	d.charges = []*demoCharge{
		boleto("S1", "Sicoob", "1001", "", "100.00", "paid"),
		boleto("S2", "Sicoob", "1002", "", "80.00", "written_off"),
		s3, s4,
		boleto("P1", "PlugBoleto", "2001", "dm-2001", "250.50", "paid"),
		boleto("P2", "PlugBoleto", "2002", "dm-2002", "99.90", "written_off"),
		// paid at the counter with a boleto the bank issued (2999): an
		// operator links that payment to it in the console
		boleto("P3", "PlugBoleto", "2003", "", "42.00", "open"),
		r1,
		other("R2", "Recuperador", "installment", "installment_id", "5002", "200.00", "paid"),
		other("R3", "Recuperador", "installment", "agreement_installment", "4003/1", "75.50", "paid"),
		other("B1", "BMP", "proposal", "proposal_id", "90001", "5000.00", "paid"),
		other("B2", "BMP", "proposal", "proposal_id", "90002", "2000.00", "cancelled"),
		b3,
		other("V1", "Saurus", "invoice", "invoice_number", "10", "100.00", "paid"),
		other("V2", "Saurus", "invoice", "invoice_number", "20", "100.00", "partially_paid"),
		other("V3", "Saurus", "invoice", "invoice_number", "30", "10.00", "declined"),
	}
	var bulk []map[string]any
	for _, c := range d.charges {
		c.body["account_id"] = account
		c.body["description"] = c.label
		bulk = append(bulk, c.body)
	}
	var out struct{ Data []struct{ ID string } }
	if _, err := d.api.json(ctx, "POST", "/v1/charges/bulk", map[string]any{"charges": bulk}, &out); err != nil {
		return err
	}
	if len(out.Data) != len(d.charges) {
		return fmt.Errorf("created %d charges, want %d", len(out.Data), len(d.charges))
	}
	d.mu.Lock()
	for i, c := range d.charges {
		c.id, c.status = out.Data[i].ID, "open"
		d.byID[c.id] = c
	}
	d.mu.Unlock()
	d.printf("%d charges registered: boletos S1-S4 (Sicoob) and P1-P2 (PlugBoleto), installments R1-R3 (Recuperador),", len(d.charges))
	d.printf("         payroll-credit proposals B1-B3 (BMP), invoices V1-V3 (Saurus)")
	// S4 is written off by hand; Sicoob will report it paid after that.
	var mv map[string]any
	if _, err := d.api.json(ctx, "POST", "/v1/charges/"+d.charges[3].id+"/write-off", map[string]any{"note": "renegociado"}, &mv); err != nil {
		return err
	}
	d.printf("operator     wrote S4 off by hand (baixa manual)")
	return nil
}

func (d *demo) connect(ctx context.Context, account, provider string, settings, secrets map[string]any, every int) (string, error) {
	var out struct{ ID string }
	_, err := d.api.json(ctx, "POST", "/v1/connections", map[string]any{"account_id": account, "provider": provider, "name": provider + " (demo)",
		"settings": settings, "secrets": secrets, "every_seconds": every}, &out)
	return out.ID, err
}

func (d *demo) startSicoob(ctx context.Context, account string, today baixa.Date) error {
	pki, err := sicoob.NewPKI([]string{"127.0.0.1"}, 30*24*time.Hour)
	if err != nil {
		return err
	}
	sb := sicoob.NewSandbox("demo-client", 707090)
	srv, err := serveLoopback(ctx, sb, pki.ServerTLS())
	if err != nil {
		return err
	}
	paid := func(n int64, amount baixa.Amount, on baixa.Date) sicoob.SandboxMovement {
		return sicoob.SandboxMovement{Type: 5, Date: today, NumeroTitulo: n, Amount: amount, Paid: amount, PaidOn: on, Fee: 150,
			DueDate: today.AddDays(5), OpFinanceira: 212}
	}
	sb.Add(paid(1001, 10000, today), sicoob.SandboxMovement{Type: 6, Date: today, NumeroTitulo: 1002, Amount: 8000, OpFinanceira: 82},
		paid(1003, 15000, today), paid(1003, 15000, today.AddDays(-1)), paid(1004, 6000, today))
	d.reported("S1", "S2", "S3", "S4")
	secrets := map[string]any{}
	for k, v := range pki.ClientSecrets() {
		secrets[k] = v
	}
	_, err = d.connect(ctx, account, "sicoob", map[string]any{
		"environment": "custom", "base_url": srv + "/cobranca-bancaria/v3", "token_url": srv + "/auth/realms/cooperado/protocol/openid-connect/token",
		"ca_certificate_pem": string(pki.CAPEM), "client_id": "demo-client", "numero_cliente": "70709-0", "start_date": today.AddDays(-1).String(),
		"poll_every": "100ms", "poll_max": "500ms",
	}, secrets, 30)
	if err != nil {
		return err
	}
	d.printf("Sicoob       sandbox on %s (mutual TLS): S1 paid by Pix, S2 written off, S3 paid twice, S4 paid after its write-off", srv)
	return nil
}

func (d *demo) startPlugBoleto(ctx context.Context, account string) (*plugboleto.Sandbox, string, error) {
	sb := plugboleto.NewSandbox("11444777000161", "demo-sh-token", "11222333000181", "demo-cedente-token")
	sb.AddBoleto(plugboleto.SandboxBoleto{IDIntegracao: "dm-2001", NossoNumero: "2001", Valor: 25050})
	sb.AddBoleto(plugboleto.SandboxBoleto{IDIntegracao: "dm-2002", NossoNumero: "2002", Valor: 9990})
	sb.SetFaults(plugboleto.SandboxFaults{ProcessingDelay: 500 * time.Millisecond})
	srv, err := serveLoopback(ctx, sb, nil)
	if err != nil {
		return nil, "", err
	}
	conn, err := d.connect(ctx, account, "plugboleto", map[string]any{
		"environment": "custom", "base_url": srv + "/api/v1", "cnpj_sh": "11444777000161", "cnpj_cedente": "11222333000181",
		"poll_every": "200ms", "webhook_auth": map[string]any{"method": "header", "header": "X-Plug-Token"},
	}, map[string]any{"token_sh": "demo-sh-token", "token": "demo-plug-webhook-token"}, 3600)
	if err != nil {
		return nil, "", err
	}
	var file bytes.Buffer
	if err := plugboleto.WriteReturnFile(&file, []plugboleto.FileRecord{
		{Occurrence: "06", NossoNumero: "2001", Amount: 25050, Paid: 25050, Fee: 150},
		{Occurrence: "09", NossoNumero: "2002", Amount: 9990},
		{Occurrence: "06", NossoNumero: "2999", SeuNumero: "BALCAO-1", Amount: 4200, Paid: 4200, Fee: 150}, // issued at the bank, unknown to all
	}); err != nil {
		return nil, "", err
	}
	var doc baixa.Document
	if _, err := d.api.do(ctx, "POST", "/v1/imports?connection_id="+url.QueryEscape(conn), &file, &doc); err != nil {
		return nil, "", err
	}
	d.reported("P1", "P2")
	d.printf("PlugBoleto   sandbox on %s: a return file (P1 paid, P2 written off, and a boleto paid at the bank that no one registered) imported as %s", srv, doc.ID)
	return sb, conn, nil
}

func (d *demo) startRecuperador(ctx context.Context, account string, today baixa.Date) error {
	sb := recuperador.NewSandbox("demo-recuperador-token")
	ev := func(id, installment, acordo int64, amount baixa.Amount) recuperador.SandboxEvent {
		return recuperador.SandboxEvent{ID: id, Assessoria: 10, Credor: 1, Acordo: acordo, Cliente: 900 + id, Installment: installment,
			Parcela: 1, Of: 3, Name: "João Souza", TaxID: "52998224725", Due: today.AddDays(-3), Paid: today, Amount: amount, Net: amount * 90 / 100}
	}
	old := ev(2, 5002, 4002, 20000)
	old.Old = true
	sb.Add(ev(1, 5001, 4001, 15000))
	sb.Add(old)
	sb.Add(ev(3, 9003, 4003, 7550))
	srv, err := serveLoopback(ctx, sb, nil)
	if err != nil {
		return err
	}
	d.reported("R1", "R2", "R3")
	if _, err := d.connect(ctx, account, "recuperador", map[string]any{
		"environment": "custom", "base_url": srv + "/api", "id_credor": []int{1}, "poll_every": "200ms",
	}, map[string]any{"api_token": "demo-recuperador-token"}, 10); err != nil {
		return err
	}
	d.printf("Recuperador  sandbox on %s: three approved installments (R2 in the 2022 payload, R3 known only by its agreement)", srv)
	d.mu.Lock()
	d.recuperador = sb
	d.mu.Unlock()
	return nil
}

// brokenConnection adds a Recuperador connection whose token was revoked:
// each run fails, and its error is what an operator sees.
func (d *demo) brokenConnection(ctx context.Context, account string) error {
	sb := recuperador.NewSandbox("the-current-token")
	srv, err := serveLoopback(ctx, sb, nil)
	if err != nil {
		return err
	}
	var out struct{ ID string }
	if _, err := d.api.json(ctx, "POST", "/v1/connections", map[string]any{"account_id": account, "provider": "recuperador",
		"name": "Recuperador (old token)", "settings": map[string]any{"environment": "custom", "base_url": srv + "/api", "id_credor": []int{2}},
		"secrets": map[string]any{"api_token": "a-revoked-token"}, "every_seconds": 30}, &out); err != nil {
		return err
	}
	d.printf("Recuperador  a second connection, %s, with a token the provider revoked: every run fails", out.ID)
	return nil
}

// flaky is the BI team's endpoint: it answers 503 to the first four
// requests of each webhook (the delivery's first try and its three
// retries), so that each delivery dies, and takes the fifth (a retry from
// the console).
func (d *demo) flaky(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	d.mu.Lock()
	id := r.Header.Get("webhook-id")
	d.flakyTries[id]++
	n := d.flakyTries[id]
	d.mu.Unlock()
	if n <= 4 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "BI warehouse under maintenance")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// callback sends one provider callback to baixa and decodes its answer.
func (d *demo) callback(ctx context.Context, method, path, token string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

func (d *demo) playBMP(ctx context.Context, account string) error {
	conn, err := d.connect(ctx, account, "bmp", map[string]any{"environment": "production", "auth": map[string]any{"method": "bearer"}},
		map[string]any{"token": "demo-bmp-token-0123456789"}, 3600)
	if err != nil {
		return err
	}
	d.printf("BMP          calls /hooks/bmp/%s as BMP does (GET with ?proposta=&situacao=, Bearer token)", conn)
	send := func(label string, proposal, situation int, body any) (map[string]any, error) {
		method := "GET"
		if body != nil {
			method = "POST"
		}
		d.reported(label)
		code, out, err := d.callback(ctx, method, fmt.Sprintf("/hooks/bmp/%s?proposta=%d&situacao=%d", conn, proposal, situation), "demo-bmp-token-0123456789", body)
		if err == nil && code != 200 {
			err = fmt.Errorf("situation %d of %d answered %d", situation, proposal, code)
		}
		d.printf("BMP          proposal %d situation %d -> %d", proposal, situation, code)
		return out, err
	}
	// Each callback waits for the one before to settle: BMP sends them as
	// a proposal moves, not all at once.
	steps := []struct {
		label               string
		proposal, situation int
		body                any
		wait                func() bool
	}{
		{"B1", 90001, 2, nil, nil}, {"B1", 90001, 8, nil, nil}, {"B1", 90001, 9, nil, func() bool { return d.status("B1") == "paid" }},
		{"B2", 90002, 2, nil, nil}, {"B2", 90002, 4, nil, func() bool { return d.status("B2") == "cancelled" }},
		{"B3", 90003, 11, map[string]any{"descricaoOcorrencia": "Conta bancária do cliente inválida"}, nil},
	}
	for _, s := range steps {
		if _, err := send(s.label, s.proposal, s.situation, s.body); err != nil {
			return err
		}
		if s.wait != nil {
			_ = d.waitFor(ctx, 30*time.Second, s.wait)
		} else {
			time.Sleep(300 * time.Millisecond)
		}
	}
	out, err := send("B1", 90001, 9, nil) // BMP retries: the same callback again
	if err != nil {
		return err
	}
	d.outcome("BMP's re-sent callback answered as a duplicate", out["duplicate"] == true)
	return nil
}

// saurusPayment is a payment result as Saurus posts it.
func saurusPayment(id string, status int, value, invoice, invoiceValue string, partial bool) map[string]any {
	msg := "Transação Aprovada"
	if status != 1 {
		msg = "Cartão recusado: saldo insuficiente"
	}
	return map[string]any{
		"faturas": []map[string]any{{"numeroFatura": invoice, "historico": "Pedido de venda", "valorFatura": json.Number(invoiceValue),
			"pagamentoParcial": partial, "pessoa": map[string]any{"cpfCnpj": "52998224725", "codigo": 10, "nome": "CLIENTE"}}},
		"valorTotal": json.Number(invoiceValue),
		"resultadoTransacao": map[string]any{"IdTransacao": id, "NSU": "1120763291" + id, "CodAut": "ba9505", "CodControle": "CTRL" + id,
			"DRetorno": time.Now().In(baixa.SaoPaulo).Format("2006-01-02 15:04:05"), "NumCartao": "589916******2018", "Bandeira": "MASTERCARD",
			"ValorPagamento": value, "ModPagamento": 4, "QtdeParcelas": 1, "DTransacao": time.Now().In(baixa.SaoPaulo).Format("2006-01-02 15:04:05"),
			"Status": status, "MsgRetorno": msg, "ArqRetorno": "RAW"},
	}
}

func (d *demo) playSaurus(ctx context.Context, account string) error {
	if _, err := d.connect(ctx, account, "saurus", map[string]any{"auth": map[string]any{"method": "bearer"}},
		map[string]any{"token": "demo-saurus-token-0123"}, 3600); err != nil {
		return err
	}
	d.printf("Saurus       posts payment results to POST /api/financeiro/retorno, the path it mandates")
	var first string
	for _, r := range []struct {
		label string
		body  map[string]any
	}{
		{"V1", saurusPayment("T1", 1, "100.0", "10", "100", false)},
		{"V2", saurusPayment("T2", 1, "40.0", "20", "100", true)},
		{"V3", saurusPayment("T3", 5, "10.0", "30", "10", false)},
		{"V1", saurusPayment("T1", 1, "100.0", "10", "100", false)}, // Saurus re-sends in the background
	} {
		d.reported(r.label)
		code, out, err := d.callback(ctx, "POST", "/api/financeiro/retorno", "demo-saurus-token-0123", r.body)
		if err != nil {
			return err
		}
		id, _ := out["id"].(string)
		d.printf("Saurus       transaction %s for %s -> %d {\"id\": %q}", r.body["resultadoTransacao"].(map[string]any)["IdTransacao"], r.label, code, id)
		if code != 200 {
			return fmt.Errorf("saurus answered %d", code)
		}
		if first == "" {
			first = id
		} else if r.label == "V1" {
			d.outcome("Saurus's re-sent transaction answered the same protocol id", id == first)
		}
	}
	return nil
}

// erp is the demo's ERP: it verifies each webhook's signature, then
// records and prints it.
func (d *demo) erp(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	secret := d.secret
	d.mu.Unlock()
	if err := webhook.Verify(secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"),
		body, time.Now(), 5*time.Minute); err != nil {
		d.mu.Lock()
		d.rejected++
		d.mu.Unlock()
		d.printf("ERP          REFUSED a webhook: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID, Type string
		ChargeID string `json:"charge_id"`
	}
	_ = json.Unmarshal(body, &ev)
	now := time.Now()
	d.mu.Lock()
	seen := d.got[ev.ID]
	d.got[ev.ID] = true
	c := d.byID[ev.ChargeID]
	label, lag := "", time.Duration(-1)
	if c != nil && !seen {
		label = c.label
		for _, at := range c.reports {
			if at.Before(now) {
				lag = now.Sub(at)
			}
		}
		if lag >= 0 {
			d.latency[c.provider] = append(d.latency[c.provider], lag)
		}
	}
	d.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	if seen {
		return
	}
	what := ev.Type
	if label != "" {
		what += " " + label
	}
	if lag >= 0 {
		d.printf("ERP          %-34s signature verified, %5.0f ms after the provider's report", what, float64(lag.Milliseconds()))
	} else {
		d.printf("ERP          %-34s signature verified", what)
	}
}

// followFeed reads the event feed as an ERP without webhooks would, and
// prints each charge's status as it changes.
func (d *demo) followFeed(ctx context.Context) {
	for ctx.Err() == nil {
		d.readFeed(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(150 * time.Millisecond):
		}
	}
}

func (d *demo) readFeed(ctx context.Context) {
	var page struct {
		Data []struct {
			ID, Type string
			ChargeID string `json:"charge_id"`
			Charge   *struct {
				Status, PaidAmount, Conflict string
				ProviderStatus               string `json:"provider_status"`
				PaymentLink                  string `json:"payment_link"`
			}
			Movement *struct {
				Provider   string
				References map[string]string
				PaidAmount string `json:"paid_amount"`
			}
		}
		NextCursor string `json:"next_cursor"`
	}
	d.mu.Lock()
	cursor := d.cursor
	d.mu.Unlock()
	if _, err := d.api.json(ctx, "GET", "/v1/events?limit=100&after="+url.QueryEscape(cursor), nil, &page); err != nil {
		return
	}
	for _, ev := range page.Data {
		d.mu.Lock()
		d.feedEvents[ev.ID] = true
		c := d.byID[ev.ChargeID]
		var line string
		switch {
		case ev.Type == string(baixa.EventMovementUnmatched) && ev.Movement != nil:
			d.unmatched = append(d.unmatched, ev.Movement.References["nosso_numero"])
			line = fmt.Sprintf("baixa        movement.unmatched: %s reported %v, %s paid, for no known charge: kept and announced",
				ev.Movement.Provider, ev.Movement.References, ev.Movement.PaidAmount)
		case c != nil && ev.Charge != nil && ev.Charge.Status != c.status:
			line = fmt.Sprintf("baixa        %-3s %-12s %s -> %s", c.label, c.provider, c.status, ev.Charge.Status)
			c.status = ev.Charge.Status
		case c != nil && ev.Type == string(baixa.EventChargeConflict):
			line = fmt.Sprintf("baixa        %-3s %-12s conflict: %s", c.label, c.provider, ev.Charge.Conflict)
		case c != nil && ev.Type == string(baixa.EventChargeStatusChanged) && ev.Charge.PaymentLink != "" && ev.Charge.ProviderStatus == c.providerStatus:
			line = fmt.Sprintf("baixa        %-3s %-12s %s, invoice link kept: %s", c.label, c.provider, c.status, ev.Charge.PaymentLink)
		case c != nil && ev.Type == string(baixa.EventChargeStatusChanged):
			line = fmt.Sprintf("baixa        %-3s %-12s %s, provider's status %q", c.label, c.provider, c.status, ev.Charge.ProviderStatus)
		}
		if c != nil && ev.Charge != nil {
			c.providerStatus = ev.Charge.ProviderStatus
		}
		d.mu.Unlock()
		if line != "" {
			d.printf("%s", line)
		}
	}
	d.mu.Lock()
	if page.NextCursor != "" {
		d.cursor = page.NextCursor
	}
	d.mu.Unlock()
}

// settled reports whether every expected outcome was observed.
func (d *demo) settled() bool {
	ctx := context.Background()
	results, _ := d.results(ctx)
	for _, c := range d.checks(ctx, results) {
		if !c.ok {
			return false
		}
	}
	return true
}

// results sums the movements of every connection by result, and gives
// them per provider too.
func (d *demo) results(ctx context.Context) (map[string]float64, map[string]map[string]float64) {
	var conns struct {
		Data []struct{ ID, Provider string }
	}
	all, per := map[string]float64{}, map[string]map[string]float64{}
	if _, err := d.api.json(ctx, "GET", "/v1/connections?limit=100", nil, &conns); err != nil {
		return all, per
	}
	for _, c := range conns.Data {
		var v struct {
			Stats struct {
				Movements map[string]float64
			}
		}
		if _, err := d.api.json(ctx, "GET", "/v1/connections/"+c.ID, nil, &v); err != nil {
			continue
		}
		per[c.Provider] = v.Stats.Movements
		for k, n := range v.Stats.Movements {
			all[k] += n
		}
	}
	return all, per
}

// checks lists every expected outcome and whether it was observed, given
// the movements by result.
func (d *demo) checks(ctx context.Context, results map[string]float64) []demoOutcome {
	missing := d.missing(ctx)
	d.mu.Lock()
	out := slices.Clone(d.outcomes)
	rejected, rec, n := d.rejected, d.recuperador, len(d.charges)
	d.mu.Unlock()
	read := rec != nil && rec.Unread() == 0 && rec.Reads(1) >= 1 && rec.Reads(2) >= 1 && rec.Reads(3) >= 1
	var conns struct {
		Data []struct {
			Name      string
			LastError string `json:"last_error"`
		}
	}
	broken := false
	if _, err := d.api.json(ctx, "GET", "/v1/connections?limit=100", nil, &conns); err == nil {
		for _, c := range conns.Data {
			broken = broken || c.Name == "Recuperador (old token)" && c.LastError != ""
		}
	}
	out = append(out,
		demoOutcome{"the connection with a revoked token shows its error", broken},
		demoOutcome{"Recuperador's events marked read, each after it was stored", read},
		demoOutcome{"a conflict on the boleto paid twice and on the one paid after its write-off", results["conflict"] >= 2},
		demoOutcome{"duplicates recognised (a report seen again changed nothing)", results["duplicate"] >= 1},
		demoOutcome{"the unregistered payment kept as unmatched", results["unmatched"] >= 1},
		demoOutcome{"no webhook refused by the ERP", rejected == 0})
	for _, m := range missing {
		out = append(out, demoOutcome{m, false})
	}
	if len(missing) == 0 {
		out = append(out, demoOutcome{fmt.Sprintf("all %d charges as expected, every event of the feed received by the ERP", n), true})
	}
	return out
}

// missing lists what is still expected.
func (d *demo) missing(ctx context.Context) []string {
	var out []string
	d.mu.Lock()
	charges := slices.Clone(d.charges)
	unmatched := slices.Clone(d.unmatched)
	feed := len(d.feedEvents)
	received, unseen := 0, 0
	for id := range d.feedEvents {
		if d.got[id] {
			received++
		}
	}
	for id := range d.got {
		if !d.feedEvents[id] {
			unseen++ // the feed reader has not caught up with the webhooks
		}
	}
	d.mu.Unlock()
	for _, c := range charges {
		var ch map[string]any
		if _, err := d.api.json(ctx, "GET", "/v1/charges/"+c.id, nil, &ch); err != nil {
			out = append(out, c.label+": "+err.Error())
			continue
		}
		if ch["status"] != c.want {
			out = append(out, fmt.Sprintf("%s (%s) %v, want %s", c.label, c.provider, ch["status"], c.want))
			continue
		}
		if c.check != nil {
			if why := c.check(ch); why != "" {
				out = append(out, c.label+": "+why)
			}
		}
	}
	if !slices.Contains(unmatched, "2999") {
		out = append(out, "the boleto paid at the bank without being registered, announced as unmatched")
	}
	if feed == 0 || received < feed {
		out = append(out, fmt.Sprintf("the ERP has received %d of the feed's %d events", received, feed))
	}
	if unseen > 0 {
		out = append(out, fmt.Sprintf("the feed reader has yet to show %d events the ERP received", unseen))
	}
	return out
}

// summary prints the tables and the outcomes; it reports whether all held.
func (d *demo) summary() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	results, perProvider := d.results(ctx)
	checks := d.checks(ctx, results)
	d.mu.Lock()
	defer d.mu.Unlock()
	w := d.out
	fmt.Fprintf(w, "\n=== summary after %.1f s ===\n\n", time.Since(d.start).Seconds())
	byStatus := map[string][]string{}
	for _, c := range d.charges {
		var ch map[string]any
		if _, err := d.api.json(ctx, "GET", "/v1/charges/"+c.id, nil, &ch); err == nil {
			s, _ := ch["status"].(string)
			byStatus[s] = append(byStatus[s], c.label)
		}
	}
	fmt.Fprintln(w, "charges by status")
	for _, s := range slices.Sorted(maps.Keys(byStatus)) {
		fmt.Fprintf(w, "  %-16s %2d  %s\n", s, len(byStatus[s]), strings.Join(byStatus[s], " "))
	}
	fmt.Fprintln(w, "\nmovements by result      applied duplicate unmatched conflict")
	for _, p := range slices.Sorted(maps.Keys(perProvider)) {
		m := perProvider[p]
		fmt.Fprintf(w, "  %-22s %7.0f %9.0f %9.0f %8.0f\n", p, m["applied"], m["duplicate"], m["unmatched"], m["conflict"])
	}
	fmt.Fprintf(w, "  %-22s %7.0f %9.0f %9.0f %8.0f\n", "all", results["applied"], results["duplicate"], results["unmatched"], results["conflict"])
	fmt.Fprintln(w, "\nfor a person (GET /v1/movements?result=unmatched, ?result=conflict)")
	for _, result := range []string{"unmatched", "conflict"} {
		var ms struct {
			Data []struct {
				Provider, Reason string
				ChargeID         string            `json:"charge_id"`
				References       map[string]string `json:"references"`
			}
		}
		if _, err := d.api.json(ctx, "GET", "/v1/movements?result="+result, nil, &ms); err != nil {
			continue
		}
		for _, m := range ms.Data {
			what := fmt.Sprint(m.References)
			if c := d.byID[m.ChargeID]; c != nil {
				what = c.label
			}
			fmt.Fprintf(w, "  %-9s %-11s %-40s %s\n", result, m.Provider, what, m.Reason)
		}
	}
	fmt.Fprintf(w, "\nwebhooks: %d delivered to the ERP, every signature verified; %d refused\n", len(d.got), d.rejected)
	fmt.Fprintln(w, "\nfrom the provider's report to the ERP's receipt")
	var all []time.Duration
	for _, p := range slices.Sorted(maps.Keys(d.latency)) {
		all = append(all, d.latency[p]...)
		fmt.Fprintf(w, "  %-12s %s\n", p, quantiles(d.latency[p]))
	}
	fmt.Fprintf(w, "  %-12s %s\n", "all", quantiles(all))
	fmt.Fprintln(w, "  (polled providers count from when the sandbox had the data, so their times include the wait for the next poll)")

	fmt.Fprintln(w, "\nexpected outcomes")
	ok := true
	for _, c := range checks {
		mark := "ok  "
		if !c.ok {
			mark, ok = "MISS", false
		}
		fmt.Fprintf(w, "  %s %s\n", mark, c.what)
	}
	if ok {
		fmt.Fprintln(w, "\nevery expected outcome was observed")
	} else {
		fmt.Fprintln(w, "\nsome expected outcomes were NOT observed")
	}
	return ok
}

func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("%3d events  p50 %6.0f ms  p95 %6.0f ms  max %6.0f ms", len(s),
		float64(q(0.5).Milliseconds()), float64(q(0.95).Milliseconds()), float64(s[len(s)-1].Milliseconds()))
}

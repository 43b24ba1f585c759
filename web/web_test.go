package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"baixa"
	"baixa/inbound"
	"baixa/ingest"
	"baixa/internal/dbtest"
	"baixa/provider"
	"baixa/provider/bmp"
	"baixa/provider/generic"
	"baixa/store"
	"baixa/web"
)

// The web package's own tests: the HTTP translation of the services, on a
// real SQLite database, through httptest. What happens after a document is
// stored (settling, deliveries) is cmd/baixa's end-to-end tests'.

const key = "web-test-key-0123456789"

type server struct {
	t       *testing.T
	db      *store.DB
	base    string
	account string
}

func newServer(t *testing.T) *server {
	t.Helper()
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	conns := &provider.Connections{ConnectionService: db.Connections, Connectors: map[string]baixa.Connector{bmp.Provider: bmp.Connector}}
	srv := &web.Server{
		Accounts: db.Accounts, Charges: db.Charges, Documents: db.Documents, Events: db.Events, Connections: conns,
		Callbacks: &ingest.Callbacks{Connections: db.Connections, Documents: db.Documents,
			Receivers: map[string]baixa.Receiver{bmp.Provider: bmp.Receiver{}}, Check: (&inbound.Verifier{}).Check},
		Imports: &ingest.Imports{Accounts: db.Accounts, Documents: db.Documents, Connections: db.Connections,
			Decoders: map[string]baixa.Decoder{generic.Provider: generic.Decoder{}}},
		APIKey: key, Ready: db.Ready, MaxImportBytes: 1 << 20,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	s := &server{t: t, db: db, base: hs.URL}
	a := &baixa.Account{Name: "Web", Document: "11222333000181"}
	if err := db.Accounts.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	s.account = a.ID
	return s
}

// do sends a request with the API key (headers are name, value pairs) and
// returns the status, the headers and the body.
func (s *server) do(method, path, contentType string, body []byte, headers ...string) (int, http.Header, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

// documents counts the stored documents.
func (s *server) documents() int {
	s.t.Helper()
	var n int
	if err := s.db.R.QueryRow(`SELECT count(*) FROM documents`).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func (s *server) bmpConnection(enabled bool) string {
	s.t.Helper()
	c := &baixa.Connection{AccountID: s.account, Provider: bmp.Provider, Name: "BMP",
		Settings: json.RawMessage(`{"environment": "production", "auth": {"method": "bearer"}}`),
		Secrets:  map[string]string{baixa.SecretToken: "tok-0123456789"}, EverySeconds: 3600, Enabled: enabled}
	if err := bmp.Connector.Prepare(c, time.Now()); err != nil {
		s.t.Fatal(err)
	}
	if err := s.db.Connections.CreateConnection(context.Background(), c); err != nil {
		s.t.Fatal(err)
	}
	return c.ID
}

func TestCallbacks(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	on, off := s.bmpConnection(true), s.bmpConnection(false)
	auth := []string{"Authorization", "Bearer tok-0123456789"}
	body := []byte(`{"proposta": "P-1", "situacao": 9}`)
	for _, tc := range []struct {
		name, path, contentType string
		body                    []byte
		headers                 []string
		status                  int
		says                    string
	}{
		{"unknown provider", "/hooks/nope/" + on, "application/json", body, auth, 404, `no callbacks for provider \"nope\"`},
		{"unknown connection", "/hooks/bmp/con_nope", "application/json", body, auth, 404, "no such connection for bmp"},
		{"wrong token", "/hooks/bmp/" + on, "application/json", body, []string{"Authorization", "Bearer nope"}, 401, ""},
		{"no token", "/hooks/bmp/" + on, "application/json", body, nil, 401, ""},
		{"disabled", "/hooks/bmp/" + off, "application/json", body, auth, 403, "is disabled"},
		{"not JSON", "/hooks/bmp/" + on, "application/xml", body, auth, 415, "send JSON"},
		{"not UTF-8", "/hooks/bmp/" + on, "application/json", []byte("{\"proposta\": \"P\xff\"}"), auth, 400, "invalid UTF-8"},
		{"too large", "/hooks/bmp/" + on, "application/json", bytes.Repeat([]byte(" "), 1<<20+1), auth, 413, "at most"},
		{"unreadable", "/hooks/bmp/" + on, "application/json", []byte(`{"proposta": `), auth, 400, ""},
	} {
		status, _, got := s.do("POST", tc.path, tc.contentType, tc.body, tc.headers...)
		if status != tc.status || !strings.Contains(got, tc.says) || strings.Contains(got, "tok-0123456789") {
			t.Errorf("%s: %d %s, want %d saying %q", tc.name, status, got, tc.status, tc.says)
		}
	}
	if n := s.documents(); n != 0 {
		t.Fatalf("refused callbacks stored %d documents", n)
	}

	// Accepted: stored before the answer, which names the document; the
	// same callback again finds it.
	var first, again struct {
		Status     string `json:"status"`
		DocumentID string `json:"document_id"`
		Duplicate  bool   `json:"duplicate"`
	}
	for _, into := range []any{&first, &again} {
		status, _, got := s.do("POST", "/hooks/bmp/"+on, "application/json", body, auth...)
		if status != 200 || json.Unmarshal([]byte(got), into) != nil {
			t.Fatalf("callback = %d %s", status, got)
		}
	}
	if first.DocumentID == "" || first.Duplicate || again.DocumentID != first.DocumentID || !again.Duplicate {
		t.Fatalf("first %+v, again %+v: want one document, the second a duplicate", first, again)
	}
	doc, err := s.db.Documents.FindDocumentByID(context.Background(), first.DocumentID)
	if err != nil || doc.ConnectionID != on || doc.Provider != bmp.Provider {
		t.Fatalf("stored %+v, %v", doc, err)
	}
}

func TestImports(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	paid := func(id, account string) string {
		return fmt.Sprintf(`{"id": %q, "account_id": %q, "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "1.00", "paid_on": "2026-11-20"}`, id, account)
	}
	for _, tc := range []struct {
		name, path, contentType, body string
		status                        int
		says                          string
	}{
		{"not JSON", "/v1/imports/generic?account_id=" + s.account, "text/plain", "[]", 415, "application/json"},
		{"unknown account", "/v1/imports/generic?account_id=acc_nope", "application/json", "[" + paid("a", "") + "]", 404, "account acc_nope not found"},
		{"unreadable", "/v1/imports/generic?account_id=" + s.account, "application/json", `[{"id": 1`, 422, `"location":"body"`},
		{"empty", "/v1/imports/generic?account_id=" + s.account, "application/json", `[]`, 422, "holds no movements"},
		{"an account named in the body", "/v1/imports/generic", "application/json", "[" + paid("a", "acc_nope") + "]", 422, `"location":"body.account_id"`},
		{"too large", "/v1/imports/generic?account_id=" + s.account, "application/json", "[" + strings.Repeat(" ", 1<<20) + "]", 413, "at most 1048576 bytes"},
		{"unknown provider", "/v1/imports?provider=nope&account_id=" + s.account, "", "x", 422, `provider \"nope\": no import of that kind`},
		{"no account", "/v1/imports?provider=" + generic.Provider, "", "x", 422, "no import of that kind"},
		{"bad flag", "/v1/imports?skip_bad_lines=maybe", "", "x", 422, "skip_bad_lines"},
		{"a provider not configured", "/v1/imports?provider=cnab&connection_id=con_nope", "", "x", 422, "no import of that kind"},
	} {
		status, _, got := s.do("POST", tc.path, tc.contentType, []byte(tc.body))
		if status != tc.status || !strings.Contains(got, tc.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tc.name, status, got, tc.status, tc.says)
		}
	}
	if n := s.documents(); n != 0 {
		t.Fatalf("refused imports stored %d documents", n)
	}

	body := []byte("[" + paid("a", "") + "," + paid("b", s.account) + "]")
	status, h, got := s.do("POST", "/v1/imports/generic?account_id="+s.account, "application/json", body)
	var doc baixa.Document
	if status != 202 || json.Unmarshal([]byte(got), &doc) != nil || h.Get("Location") != "/v1/documents/"+doc.ID {
		t.Fatalf("import = %d %s (Location %q)", status, got, h.Get("Location"))
	}
	status, _, got = s.do("POST", "/v1/imports/generic?account_id="+s.account, "application/json", body)
	if status != 200 || !strings.Contains(got, doc.ID) {
		t.Fatalf("the same import again = %d %s, want 200 with %s", status, got, doc.ID)
	}
	if status, _, got := s.do("GET", "/v1/documents/"+doc.ID, "", nil); status != 200 || !strings.Contains(got, `"status":"pending"`) {
		t.Fatalf("document = %d %s", status, got)
	}
}

// TestManyAccountsChecked: the accounts of an import are all checked, the
// 1,001st too.
func TestManyAccountsChecked(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ids := make([]string, 0, 1001)
	for i := range 1000 {
		a := &baixa.Account{Name: fmt.Sprint("A", i), Document: "11222333000181"}
		if err := s.db.Accounts.CreateAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	ids = append(ids, "acc_missing")
	var b strings.Builder
	b.WriteString("[")
	for i, id := range ids {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id": "m%d", "account_id": %q, "kind": "paid", "references": {"nosso_numero": "1"}, "paid_amount": "1.00", "paid_on": "2026-11-20"}`, i, id)
	}
	b.WriteString("]")
	status, _, got := s.do("POST", "/v1/imports/generic", "application/json", []byte(b.String()))
	if status != 422 || !strings.Contains(got, "account acc_missing not found") {
		t.Fatalf("import naming 1,001 accounts, one unknown = %d %s, want 422 naming it", status, got)
	}
	if n := s.documents(); n != 0 {
		t.Fatalf("stored %d documents", n)
	}
}

// TestStatuses: baixa's error codes become their HTTP statuses. (A
// database that is away is a 503: cmd/baixa's TestDatabaseOutage, through
// a proxy that cuts PostgreSQL.)
func TestStatuses(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, tc := range []struct {
		method, path string
		key          bool
		status       int
	}{
		{"GET", "/v1/charges/chg_nope", true, 404},
		{"GET", "/v1/charges", false, 401},
		{"GET", "/v1/charges?limit=0", true, 422},
		{"GET", "/healthz", false, 200},
		{"GET", "/readyz", false, 200},
	} {
		req, _ := http.NewRequest(tc.method, s.base+tc.path, nil)
		if tc.key {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
}

// TestVocabularyDescribed: the root package's types carry no web tags; the
// API still says what their fields are and checks their allowed values.
func TestVocabularyDescribed(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	status, _, got := s.do("POST", "/v1/charges", "application/json",
		[]byte(`{"account_id": "`+s.account+`", "kind": "nope", "amount": "1.00", "due_date": "2026-12-01"}`))
	if status != 422 || !strings.Contains(got, "boleto, invoice, installment, proposal") {
		t.Errorf("a charge of an unknown kind = %d %s, want 422 naming the kinds", status, got)
	}
	_, _, spec := s.do("GET", "/openapi.json", "", nil)
	for _, want := range []string{`"enum":["open","overdue","partially_paid","paid","written_off","cancelled","declined"]`,
		`"description":"Sequence number of the charge's last event"`, `"description":"Sent with every request"`} {
		if !strings.Contains(spec, want) {
			t.Errorf("/openapi.json lacks %s", want)
		}
	}
}

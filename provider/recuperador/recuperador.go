// Package recuperador reads Recuperador CRM's approved installments: on
// each run it lists a creditor's unread events (GET
// v1PayloadWebhookParcelaAprovada), stores each as a Document with its
// settling and its mark-read queued in the same transaction, and marks it
// read (POST) only after that commit. The push form of the same webhook is
// taken on /hooks/recuperador/{connection} and goes the same way.
package recuperador

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"baixa"
	"baixa/provider"
)

// Provider is the provider name of Recuperador connections and documents.
const Provider = "recuperador"

// SecretAPIToken is the connection's API token (sent as the Basic user
// name, with an empty password).
const SecretAPIToken = "api_token"

// ProductionBase is Recuperador's API address.
const ProductionBase = "https://www.recuperador.com.br/api"

// eventsPath is the events resource: no slash between v1 and its name.
const eventsPath = "/v1PayloadWebhookParcelaAprovada"

// Content types of the documents a Recuperador connection stores.
const (
	// ContentEvent is one approved-installment event, as listed or pushed.
	ContentEvent = "application/vnd.recuperador.parcela-aprovada+json"
	// ContentRead is an event with Recuperador's answer to its mark-read:
	// {"evento": <the event>, "resposta": <the answer>}, both verbatim.
	ContentRead = "application/vnd.recuperador.lido+json"
)

// Settings are a Recuperador connection's non-secret settings.
type Settings struct {
	// Environment is production or custom (BaseURL, e.g. baixa's
	// sandbox); Polling is the backoff of a failing list or mark-read;
	// WebhookAuth accepts the push webhook.
	provider.Address
	// Creditors are the id_credor values read, each on every run.
	Creditors []int64 `json:"id_credor"`
	// ReadDays is qtde_dias_leitura: how many days back unread events are listed.
	ReadDays int `json:"qtde_dias_leitura"`
}

var rules = provider.AddressRules{
	Environments: map[string]string{"production": ProductionBase}, Order: []string{"production"},
	BaseURLHint: "the part before /v1PayloadWebhookParcelaAprovada", MaxBytes: 32 << 20,
	Every: 30 * time.Second, Max: 30 * time.Minute, GiveUp: 24 * time.Hour, Floor: 10 * time.Millisecond, CustomFloor: 10 * time.Millisecond,
}

func parseSettings(raw []byte) (*Settings, error) {
	return provider.ParseSettings(raw, func(s *Settings) error { return s.normalize(nil) })
}

func (s *Settings) normalize(secrets map[string]string) error {
	if err := s.Normalize(rules); err != nil {
		return err
	}
	if len(s.Creditors) == 0 {
		return baixa.FieldError("settings.id_credor", "name at least one creditor (Cadastros > Credores)")
	}
	for i, id := range s.Creditors {
		if id <= 0 {
			return baixa.FieldError(fmt.Sprintf("settings.id_credor[%d]", i), "want a positive number")
		}
	}
	if s.ReadDays == 0 {
		s.ReadDays = 7
	}
	if s.ReadDays < 1 || s.ReadDays > 365 {
		return baixa.FieldError("settings.qtde_dias_leitura", "want 1 to 365 days")
	}
	if secrets == nil {
		return nil
	}
	if secrets[SecretAPIToken] == "" {
		return baixa.FieldError("secrets."+SecretAPIToken, "required: the API token of Recuperador CRM")
	}
	return s.CheckSecrets(secrets, SecretAPIToken)
}

// Connector lists and marks read a connection's events.
type Connector struct {
	UserAgent string
	HTTP      *http.Client // default: one with a 60 s timeout
	Now       func() time.Time
}

var (
	_ baixa.Connector = (*Connector)(nil)
	_ baixa.Acker     = (*Connector)(nil)
	_ baixa.Receiver  = (*Connector)(nil)
)

var defaultHTTP = &http.Client{Timeout: 60 * time.Second}

func (k *Connector) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// Prepare validates the settings and the secrets.
func (k *Connector) Prepare(c *baixa.Connection, _ time.Time) error {
	return provider.PrepareSettings(c, (*Settings).normalize)
}

// call sends one request with the token as the Basic user name.
func (k *Connector) call(ctx context.Context, c *baixa.Connection, s *Settings, method string, query url.Values, body any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	u := s.BaseURL + eventsPath
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := provider.NewJSONRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.Secrets[SecretAPIToken], "")
	req.Header.Set("User-Agent", k.UserAgent)
	hc := k.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := provider.Send(hc, req, eventsPath, s.MaxResponseBytes)
	if err != nil {
		return nil, err
	}
	raw := resp.Body
	if resp.Status >= 300 {
		var a answer
		msg := provider.Excerpt(raw)
		if json.Unmarshal(raw, &a) == nil && a.Mensagem != "" {
			msg = string(a.Mensagem)
		}
		return nil, &provider.HTTPError{Status: resp.Status, Message: msg, RetryAfter: provider.RetryAfter(resp.Header, k.now())}
	}
	return raw, nil
}

// answer is Recuperador's answer to a mark-read (and its error form).
type answer struct {
	Sucesso  provider.Text `json:"sucesso"`
	Mensagem provider.Text `json:"mensagem"`
	Link     provider.Text `json:"link_fatura_gerada_pelo_recuperadorcrm"`
}

// Check lists the first creditor's unread events of the last day (and
// stores nothing): good credentials get a list.
func (k *Connector) Check(ctx context.Context, c *baixa.Connection) error {
	s, err := parseSettings(c.Settings)
	if err != nil {
		return err
	}
	if _, err := k.list(ctx, c, s, s.Creditors[0], 1); err != nil {
		return baixa.Errorf(baixa.EUnavailable, "%v", err)
	}
	return nil
}

// ScopeCreditor prefixes the scope of a creditor's fetch.
const ScopeCreditor = "credor/"

// Plan lists each creditor once per run. The cursor is today: only today's
// fetches are looked at, and a creditor whose list is under way is not
// asked again.
func (k *Connector) Plan(c *baixa.Connection, known []*baixa.Fetch, now time.Time) ([]*baixa.Fetch, string) {
	s, err := parseSettings(c.Settings)
	today := baixa.Today(now)
	if err != nil {
		return nil, today.String()
	}
	busy := map[string]bool{}
	for _, f := range known {
		if f.Status.Active() {
			busy[f.Scope] = true
		}
	}
	var out []*baixa.Fetch
	for _, id := range s.Creditors {
		scope := ScopeCreditor + strconv.FormatInt(id, 10)
		if !busy[scope] {
			out = append(out, &baixa.Fetch{WindowFrom: today, WindowTo: today, Scope: scope})
		}
	}
	return out, today.String()
}

// listed is a listed event: its id, and the event verbatim.
type listed struct {
	ID  string
	Raw json.RawMessage
}

// list asks for a creditor's unread events and returns each with its id.
func (k *Connector) list(ctx context.Context, c *baixa.Connection, s *Settings, creditor int64, days int) ([]listed, error) {
	q := url.Values{"id_credor": {strconv.FormatInt(creditor, 10)}, "qtde_dias_leitura": {strconv.Itoa(days)}}
	raw, err := k.call(ctx, c, s, http.MethodGet, q, nil)
	if err != nil {
		return nil, err
	}
	var events []json.RawMessage
	if err := json.Unmarshal(raw, &events); err != nil {
		var a answer
		if json.Unmarshal(raw, &a) == nil && a.Mensagem != "" {
			return nil, &provider.HTTPError{Message: "Recuperador: " + string(a.Mensagem)}
		}
		return nil, &provider.HTTPError{Message: fmt.Sprintf("the list is not a JSON array of events (%v): %s", err, provider.Excerpt(raw))}
	}
	out := make([]listed, len(events))
	for i, e := range events {
		var l struct {
			ID provider.Text `json:"id"`
		}
		if err := json.Unmarshal(e, &l); err != nil {
			return nil, &provider.HTTPError{Message: fmt.Sprintf("event %d of the list: %v", i, err)}
		}
		if _, err := strconv.ParseInt(string(l.ID), 10, 64); err != nil {
			return nil, &provider.HTTPError{Message: fmt.Sprintf("event %d of the list: id %q is not a number", i, l.ID)}
		}
		out[i] = listed{ID: string(l.ID), Raw: e}
	}
	return out, nil
}

// Step lists one creditor's unread events and stores each, with its
// settling and its mark-read, in one transaction per event. An event
// stored before is not stored again (its mark-read is queued again if none
// waits). A failing list is retried with backoff.
func (k *Connector) Step(ctx context.Context, c *baixa.Connection, f *baixa.Fetch, st baixa.FetchStore) error {
	s, err := parseSettings(c.Settings)
	if err != nil {
		f.Status, f.Note = baixa.FetchFailed, "the connection's settings are invalid: "+err.Error()
		return st.SaveFetch(ctx, f)
	}
	creditor, err := strconv.ParseInt(strings.TrimPrefix(f.Scope, ScopeCreditor), 10, 64)
	if err != nil {
		f.Status, f.Note = baixa.FetchFailed, "unknown fetch "+f.Scope
		return st.SaveFetch(ctx, f)
	}
	events, err := k.list(ctx, c, s, creditor, s.ReadDays)
	if err != nil {
		return k.trouble(ctx, st, f, s, err)
	}
	f.RequestedAt = k.now()
	f.Files, f.FilesDone = nil, nil
	for _, e := range events {
		f.Files = append(f.Files, e.ID)
	}
	f.Status = baixa.FetchListed
	if err := st.SaveFetch(ctx, f); err != nil {
		return err
	}
	// The events that read well are stored; one that does not (a wrong
	// type) is asked for again, with the reason shown, until it does.
	var bad []string
	for _, e := range events {
		if _, err := parseEvent(e.Raw); err != nil {
			bad = append(bad, fmt.Sprintf("event %s: %v", e.ID, err))
			continue
		}
		if _, err := st.StoreFetchFile(ctx, f, e.ID, k.document(c, e.ID, e.Raw)); err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		return k.trouble(ctx, st, f, s, &provider.HTTPError{Message: fmt.Sprintf("creditor %d: %d events do not read: %s", creditor, len(bad), strings.Join(bad, "; "))})
	}
	f.Status, f.Note = baixa.FetchDone, fmt.Sprintf("creditor %d: %d unread events", creditor, len(events))
	return st.SaveFetch(ctx, f)
}

// document is an event as stored: keyed by its id, acknowledged after.
func (k *Connector) document(c *baixa.Connection, id string, body []byte) baixa.NewDocument {
	return baixa.NewDocument{
		Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: ContentEvent,
		DedupKey: c.ID + "/evento/" + id, Ack: true, Body: bytes.NewReader(body),
	}
}

func (k *Connector) trouble(ctx context.Context, st baixa.FetchStore, f *baixa.Fetch, s *Settings, err error) error {
	return s.Retry(ctx, st, f, k.now(), err, func(why string) error {
		f.Status, f.Note = baixa.FetchFailed, why
		return st.SaveFetch(ctx, f)
	})
}

// readBody is the mark-read request: the event's own ids.
type readBody struct {
	ID         int64 `json:"id"`
	IDAssessor int64 `json:"id_assessoria"`
	IDCredor   int64 `json:"id_credor"`
	IDAcordo   int64 `json:"id_acordo"`
	IDCliente  int64 `json:"id_cliente"`
}

// Ack marks an event read, after it was stored. Recuperador's answer,
// when it gives the invoice link, is returned (with the event) as a
// document whose movement keeps the link on the charge.
func (k *Connector) Ack(ctx context.Context, c *baixa.Connection, doc *baixa.Document, body []byte) (*baixa.NewDocument, error) {
	if doc.ContentType != ContentEvent {
		return nil, nil
	}
	s, err := parseSettings(c.Settings)
	if err != nil {
		return nil, err
	}
	ev, err := parseEvent(body)
	if err != nil {
		// Stored, and failed for a person to look at; Recuperador still
		// needs to hear that baixa has it, with the ids it can read.
		if ev == nil || ev.ID == 0 {
			return nil, nil
		}
	}
	rb := readBody{ID: ev.ID, IDAssessor: ev.IDAssessoria, IDCredor: ev.IDCredor, IDAcordo: ev.IDAcordo, IDCliente: ev.IDCliente}
	raw, err := k.call(ctx, c, s, http.MethodPost, nil, rb)
	if err != nil {
		if he, ok := errors.AsType[*provider.HTTPError](err); ok && he.RetryAfter > 0 {
			return nil, &baixa.RetryLater{After: he.RetryAfter, Reason: err.Error(), Fault: true}
		}
		return nil, err
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("mark-read of event %d: the answer is not JSON: %s", ev.ID, provider.Excerpt(raw))
	}
	if !a.Sucesso.Truth() {
		return nil, fmt.Errorf("mark-read of event %d refused: %s", ev.ID, a.Mensagem)
	}
	if a.Link == "" {
		return nil, nil
	}
	read, _ := json.Marshal(struct {
		Evento   json.RawMessage `json:"evento"`
		Resposta json.RawMessage `json:"resposta"`
	}{body, raw})
	return &baixa.NewDocument{
		Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: ContentRead,
		DedupKey: fmt.Sprintf("%s/lido/%d", c.ID, ev.ID), Body: bytes.NewReader(read),
	}, nil
}

// Auth returns how pushed events authenticate; without webhook_auth they
// are refused.
func (k *Connector) Auth(c *baixa.Connection) (baixa.InboundAuth, error) {
	s, err := parseSettings(c.Settings)
	if err != nil {
		return baixa.InboundAuth{}, err
	}
	return s.Auth()
}

// Receive checks a pushed event (one object, or a list of one) and returns
// it as the same document a list would have stored.
func (k *Connector) Receive(_ context.Context, r *http.Request, body []byte, c *baixa.Connection) (*baixa.NewDocument, error) {
	if r.Method != http.MethodPost {
		return nil, baixa.Errorf(baixa.EInvalid, "Recuperador's webhook is POSTed")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var list []json.RawMessage
		if err := provider.DecodeJSON(trimmed, &list); err != nil {
			return nil, err
		}
		if len(list) != 1 {
			return nil, baixa.Errorf(baixa.EInvalid, "send one event per request (got %d)", len(list))
		}
		trimmed = list[0]
	}
	ev, err := parseEvent(trimmed)
	if err != nil {
		return nil, err
	}
	nd := k.document(c, strconv.FormatInt(ev.ID, 10), trimmed)
	return &nd, nil
}

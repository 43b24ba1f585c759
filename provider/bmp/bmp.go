// Package bmp receives BMP's E-Consignado proposal callbacks: BMP calls
// /hooks/bmp/{connection} (GET with query parameters, or POST with a JSON
// body too) whenever a proposal changes situation.
package bmp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"baixa"
	"baixa/provider"
)

// Provider is the provider name of BMP connections and documents.
const Provider = "bmp"

// Settings are a BMP connection's settings: which environment's callbacks
// it receives, and how they authenticate.
type Settings struct {
	Environment string            `json:"environment"` // homologation or production
	Auth        baixa.InboundAuth `json:"auth"`
}

// Situations are BMP's proposal situations and what baixa makes of them.
var Situations = map[int]struct {
	Kind baixa.MovementKind
	Name string
}{
	2:  {baixa.MoveStatusChanged, "aprovada"},
	4:  {baixa.MoveCancelled, "cancelada"},
	6:  {baixa.MoveStatusChanged, "finalizada"},
	8:  {baixa.MoveStatusChanged, "liberada para pagamento"},
	9:  {baixa.MovePaid, "crédito ou débito efetivado"},
	10: {baixa.MoveStatusChanged, "cedida a fundo"},
	11: {baixa.MoveStatusChanged, "pagamento pendente"},
}

// Connector validates BMP connections: one per environment. BMP calls
// baixa, so there is nothing to fetch.
var Connector = provider.Callbacks{
	Settings: func() (any, *baixa.InboundAuth) { s := &Settings{}; return s, &s.Auth },
	Validate: func(v any) error {
		s := v.(*Settings)
		if s.Environment == "" {
			s.Environment = "production"
		}
		if s.Environment != "production" && s.Environment != "homologation" {
			return baixa.FieldError("settings.environment", "want production or homologation (use one connection for each)")
		}
		return nil
	},
}

// Receiver takes BMP's callbacks.
type Receiver struct {
	Now func() time.Time
}

var _ baixa.Receiver = Receiver{}

// Auth returns the connection's authentication.
func (Receiver) Auth(c *baixa.Connection) (baixa.InboundAuth, error) { return Connector.Auth(c) }

// callback is a received callback as stored: the request's facts, verbatim.
type callback struct {
	Method     string              `json:"method"`
	Query      map[string][]string `json:"query"`
	Body       json.RawMessage     `json:"body,omitempty"`
	ReceivedAt time.Time           `json:"received_at"`
}

// first returns the first non-empty query value of the names.
func first(q map[string][]string, names ...string) string {
	for _, n := range names {
		for k, vs := range q {
			if strings.EqualFold(k, n) && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
				return strings.TrimSpace(vs[0])
			}
		}
	}
	return ""
}

// fields are the callback's proposal, situation and identifier, from the
// query (Portuguese or English names) or the JSON body.
func (cb *callback) fields() (proposal, situation, identifier, occurrence string) {
	var body map[string]any
	_ = json.Unmarshal(cb.Body, &body)
	q := map[string][]string{}
	for k, v := range cb.Query {
		q[k] = v
	}
	for k, v := range body {
		if s, ok := v.(string); ok {
			q[k] = append(q[k], s)
		} else if f, ok := v.(float64); ok {
			q[k] = append(q[k], strconv.FormatFloat(f, 'f', -1, 64))
		}
	}
	return first(q, "proposta", "proposal"), first(q, "situacao", "status"), first(q, "identificador", "identifier"),
		first(q, "descricaoOcorrencia")
}

// Receive validates the callback and makes its document.
func (r Receiver) Receive(_ context.Context, req *http.Request, body []byte, c *baixa.Connection) (*baixa.NewDocument, error) {
	cb := callback{Method: req.Method, Query: req.URL.Query(), ReceivedAt: time.Now().UTC()}
	if r.Now != nil {
		cb.ReceivedAt = r.Now().UTC()
	}
	if !utf8.Valid(body) {
		return nil, baixa.FieldError("body", "not UTF-8 text")
	}
	if len(bytes.TrimSpace(body)) > 0 {
		var v map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&v); err != nil {
			return nil, baixa.FieldError("body", "not a JSON object: %v (at byte %d)", err, dec.InputOffset())
		}
		if dec.More() {
			return nil, baixa.FieldError("body", "data after the JSON object (at byte %d)", dec.InputOffset())
		}
		cb.Body = json.RawMessage(bytes.TrimSpace(body))
	}
	// What becomes the movement's text must be text a database keeps,
	// whether it came in the query or in the body (a \u0000 escape).
	proposal, situation, identifier, occurrence := cb.fields()
	for _, f := range [][2]string{{"proposta", proposal}, {"situacao", situation}, {"identificador", identifier}, {"descricaoOcorrencia", occurrence}} {
		if !baixa.IsText(f[1]) {
			return nil, baixa.FieldError(f[0], "not UTF-8 text without NUL")
		}
	}
	if proposal == "" {
		return nil, baixa.FieldError("query.proposta", "the proposal is missing (proposta or proposal)")
	}
	n, ok := situationNumber(situation)
	if !ok {
		return nil, baixa.FieldError("query.situacao", "want the situation's number (situacao or status), got %q", situation)
	}
	situation = strconv.Itoa(n) // "+9", "09" and "9" are one situation, one key
	key := strings.Join([]string{c.ID, proposal, situation, identifier}, "/")
	if situation == "11" && cb.Body != nil {
		// The reason of a pending payment can change: each reason is news.
		h := sha256.Sum256(cb.Body)
		key += "/" + hex.EncodeToString(h[:8])
	}
	raw, err := json.Marshal(cb)
	if err != nil {
		return nil, err
	}
	return &baixa.NewDocument{Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: "application/json",
		DedupKey: key, Body: bytes.NewReader(raw)}, nil
}

// Decoder turns a stored callback into its movement.
type Decoder struct{}

var _ baixa.Decoder = Decoder{}

// Decode emits one movement on the proposal; a situation baixa does not
// know is a status change with its number.
func (Decoder) Decode(_ context.Context, doc *baixa.Document, r io.Reader, emit func(*baixa.Movement) error) error {
	var cb callback
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&cb); err != nil {
		return fmt.Errorf("not a stored BMP callback: %w", err)
	}
	proposal, situation, identifier, reason := cb.fields()
	n, ok := situationNumber(situation)
	if proposal == "" || !ok {
		return fmt.Errorf("the callback has no proposal or situation")
	}
	situation = strconv.Itoa(n)
	sit, known := Situations[n]
	if !known {
		sit.Kind, sit.Name = baixa.MoveStatusChanged, "situação "+situation
	}
	m := &baixa.Movement{
		DocumentID: doc.ID, AccountID: doc.AccountID, Provider: Provider, Kind: sit.Kind,
		References: baixa.References{ProposalID: proposal}, ProviderCode: situation, ProviderStatus: sit.Name,
		OccurredAt: cb.ReceivedAt, Note: reason, Raw: cb.Body,
		Key: strings.Join([]string{proposal, situation, identifier}, "/"),
	}
	if n == 11 && cb.Body != nil {
		h := sha256.Sum256(cb.Body)
		m.Key += "/" + hex.EncodeToString(h[:8])
		if reason != "" {
			m.ProviderStatus += ": " + reason // a new reason is news for the ERP
		}
	}
	if m.Kind == baixa.MovePaid {
		m.PaidOn = baixa.DateOf(cb.ReceivedAt.In(baixa.SaoPaulo))
	}
	return emit(m)
}

// situationNumber reads a situation: a whole number, not negative, as BMP
// may write it ("9", "09", "+9").
func situationNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

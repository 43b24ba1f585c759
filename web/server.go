// Package web serves baixa over HTTP: the JSON API under /v1 (described by
// OpenAPI 3.1 at /openapi.json), health, readiness and metrics. Handlers
// translate HTTP to calls on the root package's services and back; the
// business rules live behind those services.
package web

import (
	"bytes"
	"cmp"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"baixa"
	"baixa/ingest"
	"baixa/internal/ttl"
)

// Server holds the services the API serves. Build it with its fields, then
// call Handler.
type Server struct {
	Accounts  baixa.AccountService
	Charges   baixa.ChargeService
	Documents baixa.DocumentService
	Events    baixa.EventService
	Movements baixa.MovementService
	// MovementFinder lists the movements that need a person.
	MovementFinder baixa.MovementFinder
	// Payments totals a day's payments.
	Payments baixa.PaymentSummary
	// Attention is the queue of movements that need a person.
	Attention baixa.AttentionService
	Endpoints baixa.EndpointService
	// Connections are the providers' connections (provider.Connections).
	Connections ConnectionService
	// Callbacks take providers' callbacks on /hooks/{provider}/{connection}
	// and on the paths providers mandate.
	Callbacks *ingest.Callbacks
	// Imports check and store what is imported (/v1/imports).
	Imports *ingest.Imports
	// CheckEndpointURL refuses endpoint URLs the server will not deliver to
	// (plain http, internal addresses).
	CheckEndpointURL func(url string) error
	// PingEndpoint sends a signed ping (POST /v1/endpoints/{id}/test).
	PingEndpoint func(ctx context.Context, e *baixa.Endpoint) (*baixa.Attempt, error)
	// SecretOverlap is how long a rotated secret keeps signing (default 24 h).
	SecretOverlap time.Duration
	// Keys are the API keys a /v1 request may carry (scoped, hashed at
	// rest); without them, APIKey is the one key, admin.
	Keys   baixa.APIKeyService
	APIKey string
	// Audit keeps every write made through the API.
	Audit baixa.AuditService
	// KeyRate bounds each API key's requests; CallbackRate each callback
	// connection's (zero: no bound).
	KeyRate, CallbackRate Rate
	keys                  ttl.Cache[*baixa.APIKey] // by hash, for keyTTL
	limits                limits
	// Ready reports whether the service can take traffic (database reachable,
	// schema current).
	Ready   func(ctx context.Context) error
	Metrics *Metrics
	Logger  *slog.Logger
	// MaxImportBytes bounds an uploaded import (default 256 MiB).
	MaxImportBytes int64
	Version        string
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("baixa", cmp.Or(s.Version, "dev"))
	cfg.Info.Description = "Settlement hub for Brazilian receivables: charges, provider movements, events."
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = "" // served below, without a CDN
	cfg.SchemasPath = ""
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API key: BAIXA_API_KEY (admin), or one made with POST /v1/api-keys"},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	cfg.CreateHooks = nil // no $schema links in responses
	jsonFormat := huma.Format{Marshal: huma.DefaultJSONFormat.Marshal, Unmarshal: unmarshalJSON}
	cfg.Formats = map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
	registry := cfg.Components.Schemas
	registry.RegisterTypeAlias(reflect.TypeFor[baixa.Amount](), reflect.TypeFor[amountSchema]())
	registry.RegisterTypeAlias(reflect.TypeFor[baixa.Date](), reflect.TypeFor[dateSchema]())
	registry.RegisterTypeAlias(reflect.TypeFor[json.RawMessage](), reflect.TypeFor[anyJSON]())
	describeVocabulary(registry)
	// Validation errors name the field and the rule, never echo the value:
	// a request's body can carry secrets (connection credentials).
	cfg.Transformers = append(cfg.Transformers, func(_ huma.Context, _ string, v any) (any, error) {
		if em, ok := v.(*huma.ErrorModel); ok {
			for _, d := range em.Errors {
				d.Value = nil
			}
		}
		return v, nil
	})
	api := humago.New(mux, cfg)

	s.registerAccounts(api)
	s.registerCharges(api)
	s.registerImports(api, mux)
	s.registerEvents(api)
	if s.MovementFinder != nil {
		s.registerMovements(api)
	}
	if s.Attention != nil {
		s.registerAttention(api)
	}
	if s.Endpoints != nil {
		s.registerEndpoints(api)
	}
	if s.Connections != nil {
		s.registerConnections(api)
	}
	if s.Keys != nil && s.Audit != nil {
		s.registerAPIKeys(api)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
		mux.HandleFunc(m+" /hooks/{provider}/{connection}", s.callback)
	}
	// Saurus mandates its path; the connection is the one whose credentials match.
	mux.HandleFunc("POST /api/financeiro/retorno", s.callbackByCredentials("saurus"))

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if s.Ready != nil {
			if err := s.Ready(ctx); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(docsPage)
	})
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics.Handler())
	}
	var h http.Handler = mux
	h = refuseInvalidUTF8(h)
	h = s.authenticate(h)
	if s.Metrics != nil {
		h = s.Metrics.instrument(mux, h)
	}
	return h
}

// maxAPIBody bounds a JSON request body under /v1 (the bulk charges' limit;
// huma applies each operation's own, smaller ones after).
const maxAPIBody = 32 << 20

// refuseInvalidUTF8 answers 422 to a JSON request under /v1 whose body is
// not UTF-8: encoding/json would replace such bytes with U+FFFD, altering
// what was sent. Imports are files in their own encodings, read by their
// decoders.
func refuseInvalidUTF8(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		field := cmp.Or(invalidUTF8Field(r), invalidHeader(r))
		if field != "" {
			writeProblem(w, http.StatusUnprocessableEntity, field+" is not UTF-8 text", []*huma.ErrorDetail{{
				Location: field, Message: "invalid UTF-8"}})
			return
		}
		if strings.HasPrefix(r.URL.Path, "/v1/imports") || r.Body == nil || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		body, ok := bufferBody(w, r)
		if !ok {
			return
		}
		if !utf8.Valid(body) {
			writeProblem(w, http.StatusUnprocessableEntity, "the body is not UTF-8 text", []*huma.ErrorDetail{{
				Location: "body", Message: fmt.Sprintf("invalid UTF-8 at byte %d: JSON text must be UTF-8", invalidUTF8At(body))}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bufferBody reads r's body (at most maxAPIBody) and puts it back, so that
// a middleware can look at it before the handler reads it; a body too large
// or unreadable is answered.
func bufferBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		writeReadError(w, err, "a request", maxAPIBody)
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem writes an RFC 9457 problem, the same shape huma writes.
func writeProblem(w http.ResponseWriter, status int, detail string, errs []*huma.ErrorDetail) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs})
}

// statusOf maps baixa's error codes to HTTP; the only place that does.
func statusOf(code string) int {
	switch code {
	case baixa.EInvalid:
		return http.StatusUnprocessableEntity
	case baixa.ENotFound:
		return http.StatusNotFound
	case baixa.EConflict:
		return http.StatusConflict
	case baixa.EUnauthorized:
		return http.StatusUnauthorized
	case baixa.EForbidden:
		return http.StatusForbidden
	case baixa.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case baixa.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// problem turns err into a huma error; prefix locates fields ("body").
func (s *Server) problem(ctx context.Context, err error, prefix string) error {
	var e *baixa.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) {
			return huma.NewError(499, "request cancelled")
		}
		if unavailable(err) {
			cmp.Or(s.Logger, slog.Default()).WarnContext(ctx, "database unavailable", "err", err)
			return retryLater(huma.NewError(http.StatusServiceUnavailable, "the database is unavailable: retry later"))
		}
		cmp.Or(s.Logger, slog.Default()).ErrorContext(ctx, "internal error", "err", err)
		return huma.Error500InternalServerError("internal error")
	}
	var details []error
	loc := func(field string) string {
		if field == "" {
			return prefix
		}
		if strings.HasPrefix(field, "[") {
			return prefix + field
		}
		return prefix + "." + field
	}
	if e.Field != "" {
		details = append(details, &huma.ErrorDetail{Location: loc(e.Field), Message: e.Message})
	}
	for _, d := range e.Details {
		details = append(details, &huma.ErrorDetail{Location: loc(d.Field), Message: d.Message})
	}
	msg := e.Message
	if e.Field != "" {
		msg = e.Error()
	}
	if e.Code == baixa.EUnavailable {
		return retryLater(huma.NewError(statusOf(e.Code), msg, details...))
	}
	return huma.NewError(statusOf(e.Code), msg, details...)
}

// retryAfter is what a 503 asks a client (a provider's retry, the ERP) to
// wait, in seconds.
const retryAfter = "5"

func retryLater(err error) error {
	return huma.ErrorWithHeaders(err, http.Header{"Retry-After": {retryAfter}})
}

// unavailable reports an error of reaching the database (refused, reset,
// closed, shutting down) rather than of the request: worth retrying later.
func unavailable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"SQLSTATE 57P01", "SQLSTATE 57P02", "SQLSTATE 57P03", "SQLSTATE 08", "conn closed",
		"failed to connect", "connection refused", "broken pipe", "unexpected EOF", "database is locked"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// unmarshalJSON names the byte offset of a syntax error, so that a sender
// can find the fault in what it sent.
func unmarshalJSON(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || (err != nil && strings.Contains(err.Error(), "unexpected end of JSON input")) {
		return fmt.Errorf("JSON ends early at byte %d: %w", len(data), err)
	}
	return err
}

// amountSchema documents baixa.Amount: an exact decimal string.
type amountSchema string

func (amountSchema) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: "string", Pattern: `^[0-9]{1,15}(\.[0-9]{1,2})?$`, Examples: []any{"427.81"},
		Description: "Exact amount in reais as a decimal string with at most two decimal places; never a number"}
}

// dateSchema documents baixa.Date: a civil date.
type dateSchema string

func (dateSchema) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: "string", Format: "date", Examples: []any{"2026-11-23"},
		Description: "Civil date (America/Sao_Paulo business day), YYYY-MM-DD", Nullable: true}
}

// anyJSON documents free JSON.
type anyJSON struct{}

func (anyJSON) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Description: "Free JSON, stored and returned as given"}
}

// list is the shape of every list response.
type list[T any] struct {
	Body struct {
		Data       []T    `json:"data"`
		NextCursor string `json:"next_cursor,omitempty" doc:"Pass as 'after' for the next page; absent on the last page"`
	}
}

// invalidUTF8At returns the offset of the first byte of b that is not
// part of valid UTF-8 (len(b) when all is).
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// invalidUTF8Field names the first part of r's URL that is not text (UTF-8
// without NUL) once decoded ("path", "query.NAME"), or returns "".
func invalidUTF8Field(r *http.Request) string {
	if !baixa.IsText(r.URL.Path) {
		return "path"
	}
	for k, vs := range r.URL.Query() {
		if !baixa.IsText(k) {
			return "query"
		}
		for _, v := range vs {
			if !baixa.IsText(v) {
				return "query." + k
			}
		}
	}
	return ""
}

// invalidHeader names the first header of r whose value is not text
// ("header.NAME"), or returns "".
func invalidHeader(r *http.Request) string {
	for name, vs := range r.Header {
		for _, v := range vs {
			if !baixa.IsText(v) {
				return "header." + name
			}
		}
	}
	return ""
}

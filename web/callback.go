package web

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
	"baixa/ingest"
)

// maxCallbackBytes bounds a callback's body.
const maxCallbackBytes = 1 << 20

// callback serves /hooks/{provider}/{connection}: the request is checked
// and stored as a Document (a repeated callback finds the first) by
// ingest.Callbacks, and only then answered 200. A refused check stores
// nothing.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("provider")
	if !s.Callbacks.Takes(provider) {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("no callbacks for provider %q", provider), nil)
		return
	}
	body, ok := s.callbackBody(w, r, provider)
	if !ok {
		return
	}
	c, err := s.Callbacks.Connection(r.Context(), r, provider, r.PathValue("connection"), body)
	if err != nil {
		s.refuseCallback(w, r, provider, err)
		return
	}
	s.storeCallback(w, r, body, c)
}

// callbackByCredentials serves a path a provider mandates without naming
// the connection (Saurus's POST /api/financeiro/retorno): the connection
// is the one whose credentials the request carries.
func (s *Server) callbackByCredentials(provider string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.Callbacks.Takes(provider) {
			writeProblem(w, http.StatusNotFound, "not configured", nil)
			return
		}
		body, ok := s.callbackBody(w, r, provider)
		if !ok {
			return
		}
		c, err := s.Callbacks.ByCredentials(r.Context(), r, provider, body)
		if err != nil {
			s.refuseCallback(w, r, provider, err)
			return
		}
		s.storeCallback(w, r, body, c)
	}
}

func (s *Server) countCallback(provider, result string) {
	if s.Metrics != nil {
		s.Metrics.Callback(provider, result)
	}
}

// callbackBody reads a callback's body (JSON, at most maxCallbackBytes).
func (s *Server) callbackBody(w http.ResponseWriter, r *http.Request, provider string) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && r.ContentLength != 0 {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/plain") {
			s.countCallback(provider, "invalid")
			writeProblem(w, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)", nil)
			return nil, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBytes))
	if err != nil {
		s.countCallback(provider, "invalid")
		writeReadError(w, err, "a callback", maxCallbackBytes)
		return nil, false
	}
	// Callbacks are JSON and query strings: text, which must be UTF-8.
	// Refused here, they never reach a text column (where PostgreSQL
	// would fail them, and a group commit with them).
	if field := invalidUTF8Field(r); field != "" {
		s.countCallback(provider, "invalid")
		writeProblem(w, http.StatusBadRequest, field+": invalid UTF-8", []*huma.ErrorDetail{{Location: field, Message: "invalid UTF-8"}})
		return nil, false
	}
	if !utf8.Valid(body) {
		s.countCallback(provider, "invalid")
		writeProblem(w, http.StatusBadRequest, fmt.Sprintf("body: invalid UTF-8 at byte %d", invalidUTF8At(body)),
			[]*huma.ErrorDetail{{Location: "body", Message: "invalid UTF-8"}})
		return nil, false
	}
	return body, true
}

// writeReadError answers a request whose body could not be read: 413 when
// it was larger than limit, 400 otherwise.
func writeReadError(w http.ResponseWriter, err error, what string, limit int64) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s may have at most %d bytes", what, limit), nil)
		return
	}
	writeProblem(w, http.StatusBadRequest, "reading the body: "+err.Error(), nil)
}

// refuseCallback answers a callback whose connection was not found or
// refused it: a connection that is unknown (404), credentials refused
// (401), a disabled connection (403, not held, so that the provider keeps
// the callback and may send it again once the connection is enabled).
// Not knowing (the database is away) is no "no": a 404 would make the
// provider drop the callback, so that is a 503.
func (s *Server) refuseCallback(w http.ResponseWriter, r *http.Request, provider string, err error) {
	switch {
	case baixa.IsCode(err, baixa.ENotFound):
		s.countCallback(provider, "unknown_connection")
		writeProblem(w, http.StatusNotFound, err.Error(), nil)
	case baixa.IsCode(err, baixa.EUnauthorized):
		s.countCallback(provider, "unauthorized")
		cmp.Or(s.Logger, slog.Default()).Warn("callback refused", "provider", provider, "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
		writeProblem(w, http.StatusUnauthorized, err.Error(), nil)
	case baixa.IsCode(err, baixa.EForbidden):
		s.countCallback(provider, "disabled")
		writeProblem(w, http.StatusForbidden, err.Error(), nil)
	default:
		s.writeError(w, r, err, "")
	}
}

// storeCallback stores the callback and answers: the provider's own
// answer when its receiver has one (Saurus's protocol id), else a receipt.
func (s *Server) storeCallback(w http.ResponseWriter, r *http.Request, body []byte, c *baixa.Connection) {
	if !s.limits.allow("connection:"+c.ID, s.CallbackRate) {
		s.countCallback(c.Provider, "limited")
		tooMany(w, "connection "+c.ID)
		return
	}
	rc, err := s.Callbacks.Store(r.Context(), r, body, c)
	if refused, ok := errors.AsType[*ingest.Refused](err); ok {
		s.countCallback(c.Provider, "invalid")
		if baixa.IsCode(refused.Err, baixa.EInvalid) {
			writeProblem(w, http.StatusBadRequest, refused.Error(), nil)
			return
		}
		s.writeError(w, r, refused.Err, "")
		return
	}
	if err != nil {
		s.writeError(w, r, err, "")
		return
	}
	s.countCallback(c.Provider, map[bool]string{true: "stored", false: "duplicate"}[rc.Created])
	if rc.Answer != nil {
		writeJSON(w, http.StatusOK, rc.Answer)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "received", "document_id": rc.Document.ID, "duplicate": !rc.Created})
}

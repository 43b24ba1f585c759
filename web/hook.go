package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

// maxCallbackBytes bounds a callback's body.
const maxCallbackBytes = 1 << 20

// callback serves /hooks/{provider}/{connection}: it authenticates the
// request, stores it as a Document (a repeated callback finds the first),
// and only then answers 200. A refused check stores nothing.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("provider")
	if s.Receivers[provider] == nil || s.Connections == nil {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("no callbacks for provider %q", provider), nil)
		return
	}
	body, ok := s.callbackBody(w, r, provider)
	if !ok {
		return
	}
	c, err := s.cachedConnection(r.Context(), r.PathValue("connection"))
	if err != nil && !baixa.IsCode(err, baixa.ENotFound) {
		// Not knowing (the database is away) is no "no": a 404 would
		// make the provider drop the callback.
		s.writeError(w, r, err, "")
		return
	}
	if err != nil || c.Provider != provider {
		s.countCallback(provider, "unknown_connection")
		writeProblem(w, http.StatusNotFound, "no such connection for "+provider, nil)
		return
	}
	if err := s.checkCallback(r, body, c); err != nil {
		s.refuseCallback(w, r, provider, err)
		return
	}
	if !c.Enabled {
		s.refuseDisabled(w, c)
		return
	}
	s.storeCallback(w, r, body, c)
}

// refuseDisabled answers a callback of a disabled connection: refused, not
// held, so that the provider keeps it and may send it again once the
// connection is enabled.
func (s *Server) refuseDisabled(w http.ResponseWriter, c *baixa.Connection) {
	s.countCallback(c.Provider, "disabled")
	writeProblem(w, http.StatusForbidden, "connection "+c.ID+" is disabled: its callbacks are refused and nothing is stored", nil)
}

// callbackByCredentials serves a path a provider mandates without naming
// the connection (Saurus's POST /api/financeiro/retorno): the connection
// is the one whose credentials the request carries.
func (s *Server) callbackByCredentials(provider string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Receivers[provider] == nil || s.Connections == nil {
			writeProblem(w, http.StatusNotFound, "not configured", nil)
			return
		}
		body, ok := s.callbackBody(w, r, provider)
		if !ok {
			return
		}
		idx, err := s.credentialIndex(r.Context(), provider)
		if err != nil {
			s.writeError(w, r, err, "")
			return
		}
		var disabled *baixa.Connection
		for _, c := range idx.candidates(r) {
			if err := s.checkCallback(r, body, c); err != nil {
				continue
			}
			if !c.Enabled {
				disabled = c
				continue
			}
			s.storeCallback(w, r, body, c)
			return
		}
		if disabled != nil {
			s.refuseDisabled(w, disabled)
			return
		}
		s.refuseCallback(w, r, provider, baixa.Errorf(baixa.EUnauthorized, "no %s connection takes these credentials", provider))
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

func (s *Server) checkCallback(r *http.Request, body []byte, c *baixa.Connection) error {
	auth, err := s.Receivers[c.Provider].Auth(c)
	if err != nil {
		return err
	}
	if s.CheckCallback == nil {
		return baixa.Errorf(baixa.EInternal, "callback checks are not configured")
	}
	return s.CheckCallback(r, body, auth, c.Secrets)
}

func (s *Server) refuseCallback(w http.ResponseWriter, r *http.Request, provider string, err error) {
	s.countCallback(provider, "unauthorized")
	cmp.Or(s.Logger, slog.Default()).Warn("callback refused", "provider", provider, "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
	writeProblem(w, http.StatusUnauthorized, err.Error(), nil)
}

// storeCallback stores the callback and answers: the provider's own
// answer when its receiver has one (Saurus's protocol id), else a receipt.
func (s *Server) storeCallback(w http.ResponseWriter, r *http.Request, body []byte, c *baixa.Connection) {
	if !s.limits.allow("connection:"+c.ID, s.CallbackRate) {
		s.countCallback(c.Provider, "limited")
		tooMany(w, "connection "+c.ID)
		return
	}
	recv := s.Receivers[c.Provider]
	nd, err := recv.Receive(r.Context(), r, body, c)
	if err != nil {
		s.countCallback(c.Provider, "invalid")
		if baixa.IsCode(err, baixa.EInvalid) {
			writeProblem(w, http.StatusBadRequest, err.Error(), nil)
			return
		}
		s.writeError(w, r, err, "")
		return
	}
	doc, created, err := s.Documents.CreateDocument(r.Context(), *nd)
	if err != nil {
		s.writeError(w, r, err, "")
		return
	}
	s.countCallback(c.Provider, map[bool]string{true: "stored", false: "duplicate"}[created])
	if a, ok := recv.(interface {
		Answer(doc *baixa.Document, duplicate bool) any
	}); ok {
		writeJSON(w, http.StatusOK, a.Answer(doc, !created))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "received", "document_id": doc.ID, "duplicate": !created})
}

// connectionTTL is how long a callback works with a connection as read: a
// change (new credentials) reaches callbacks within it.
const connectionTTL = time.Second

func (s *Server) cachedConnection(ctx context.Context, id string) (*baixa.Connection, error) {
	if c, ok := s.conns.get(id, connectionTTL); ok {
		return c, nil
	}
	c, err := s.Connections.FindConnectionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.conns.put(id, c)
	return c, nil
}

// credIndex finds a provider's connections by the credentials a callback
// carries (baixa.InboundAuth.Fingerprint), among all of them.
type credIndex struct {
	byPrint map[string][]*baixa.Connection
	// varying are the connections whose proof changes with each request
	// (JWT, signed bodies): tried one by one.
	varying []*baixa.Connection
	headers []string // custom header names in use
}

// candidates are the connections that may take r's credentials.
func (x *credIndex) candidates(r *http.Request) []*baixa.Connection {
	var out []*baixa.Connection
	for _, fp := range baixa.RequestFingerprints(r, x.headers) {
		out = append(out, x.byPrint[fp]...)
	}
	return append(out, x.varying...)
}

// credentialIndex returns provider's index, read again when older than
// connectionTTL.
func (s *Server) credentialIndex(ctx context.Context, provider string) (*credIndex, error) {
	if x, ok := s.credIndexes.get(provider, connectionTTL); ok {
		return x, nil
	}
	x := &credIndex{byPrint: map[string][]*baixa.Connection{}}
	headers := map[string]bool{}
	err := baixa.EachConnection(ctx, s.Connections, func(c *baixa.Connection) error {
		if c.Provider != provider {
			return nil
		}
		a, err := s.Receivers[provider].Auth(c)
		if err != nil {
			return nil //nolint:nilerr // a connection without callbacks configured takes none
		}
		fp, ok := a.Fingerprint(c.Secrets)
		if !ok {
			x.varying = append(x.varying, c)
			return nil
		}
		x.byPrint[fp] = append(x.byPrint[fp], c)
		if a.Method == baixa.AuthHeader && !headers[a.Header] {
			headers[a.Header] = true
			x.headers = append(x.headers, a.Header)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.credIndexes.put(provider, x)
	return x, nil
}

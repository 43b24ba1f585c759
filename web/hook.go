package web

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"baixa"
)

// maxCallbackBytes bounds a callback's body.
const maxCallbackBytes = 1 << 20

// callback serves /hooks/{provider}/{connection}: it authenticates the
// request, stores it as a Document (a repeated callback finds the first),
// and only then answers 200. A refused check stores nothing.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	provider, id := r.PathValue("provider"), r.PathValue("connection")
	recv := s.Receivers[provider]
	if recv == nil || s.Connections == nil {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("no callbacks for provider %q", provider), nil)
		return
	}
	count := func(result string) {
		if s.Metrics != nil {
			s.Metrics.Callback(provider, result)
		}
	}
	c, err := s.Connections.FindConnectionByID(ctx, id)
	if err != nil || c.Provider != provider {
		count("unknown_connection")
		writeProblem(w, http.StatusNotFound, "no such connection for "+provider, nil)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && r.ContentLength != 0 {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/plain") {
			count("invalid")
			writeProblem(w, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)", nil)
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			count("invalid")
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a callback may have at most %d bytes", maxCallbackBytes), nil)
			return
		}
		writeProblem(w, http.StatusBadRequest, "reading the body: "+err.Error(), nil)
		return
	}
	auth, err := recv.Auth(c)
	if err == nil && s.CheckCallback != nil {
		err = s.CheckCallback(r, body, auth, c.Secrets)
	} else if err == nil {
		err = baixa.Errorf(baixa.EInternal, "callback checks are not configured")
	}
	if err != nil {
		count("unauthorized")
		cmp.Or(s.Logger, slog.Default()).Warn("callback refused", "provider", provider, "connection", id, "remote", r.RemoteAddr, "reason", err.Error())
		writeProblem(w, http.StatusUnauthorized, err.Error(), nil)
		return
	}
	nd, err := recv.Receive(ctx, r, body, c)
	if err != nil {
		count("invalid")
		if baixa.IsCode(err, baixa.EInvalid) {
			writeProblem(w, http.StatusBadRequest, err.Error(), nil)
			return
		}
		s.writeError(w, r, err, "")
		return
	}
	doc, created, err := s.Documents.CreateDocument(ctx, *nd)
	if err != nil {
		s.writeError(w, r, err, "")
		return
	}
	if created {
		count("stored")
	} else {
		count("duplicate")
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "received", "document_id": doc.ID, "duplicate": !created})
}

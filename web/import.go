package web

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
	"baixa/ingest"
)

type documentOutput struct {
	Body *baixa.Document
}

func (s *Server) registerImports(api huma.API, mux *http.ServeMux) {
	// The import is streamed to disk, not read into memory, so it is served
	// by a plain handler and only described to OpenAPI here.
	docSchema := api.OpenAPI().Components.Schemas.Schema(reflectTypeOf[baixa.Document](), true, "")
	problem := &huma.Response{Description: "Error", Content: map[string]*huma.MediaType{
		"application/problem+json": {Schema: api.OpenAPI().Components.Schemas.Schema(reflectTypeOf[huma.ErrorModel](), true, "")},
	}}
	api.OpenAPI().AddOperation(&huma.Operation{
		OperationID: "import-generic", Method: http.MethodPost, Path: "/v1/imports/generic", Tags: []string{"Imports"},
		Summary: "Import movements in baixa's own format",
		Description: "The body is a JSON array of movements (see docs/generic.md). It is checked whole before anything is stored: " +
			"any bad movement gets a 422 naming it, and nothing is stored. Accepted, it is stored verbatim as a Document and " +
			"settled in the background; poll GET /v1/documents/{id}. The same bytes again return the first document (200).",
		Parameters: []*huma.Param{{Name: "account_id", In: "query", Description: "Account of every movement that names none", Schema: &huma.Schema{Type: "string"}}},
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json": {Schema: &huma.Schema{Type: "array", Items: &huma.Schema{Type: "object"}}},
		}},
		Responses: map[string]*huma.Response{
			"202": {Description: "Stored; settling", Content: map[string]*huma.MediaType{"application/json": {Schema: docSchema}}},
			"200": {Description: "Already imported", Content: map[string]*huma.MediaType{"application/json": {Schema: docSchema}}},
			"413": problem, "415": problem, "422": problem,
		},
	})
	if s.Imports != nil {
		mux.HandleFunc("POST /v1/imports/generic", s.importGeneric)
	}

	api.OpenAPI().AddOperation(&huma.Operation{
		OperationID: "import-file", Method: http.MethodPost, Path: "/v1/imports", Tags: []string{"Imports"},
		Summary: "Import a provider's file (a CNAB 240 or 400 return file)",
		Description: "The body is the file as the bank wrote it (any Content-Type). It is read whole before anything is stored: " +
			"a bad line gets a 422 naming its line and columns, and nothing is stored; with skip_bad_lines=true the good lines " +
			"are settled and the bad ones reported in the document's report. Accepted, the file is stored verbatim as a Document " +
			"and settled in the background; poll GET /v1/documents/{id}. The same bytes again return the first document (200).",
		Parameters: []*huma.Param{
			{Name: "provider", In: "query", Description: "The file's format: cnab (default)", Schema: &huma.Schema{Type: "string"}},
			{Name: "account_id", In: "query", Description: "The account whose charges the file settles", Schema: &huma.Schema{Type: "string"}},
			{Name: "connection_id", In: "query", Description: "Or the connection it came through (its account is used); a PlugBoleto connection hands the file to PlugBoleto, which reconciles it", Schema: &huma.Schema{Type: "string"}},
			{Name: "skip_bad_lines", In: "query", Description: "Settle the good lines and report the bad ones", Schema: &huma.Schema{Type: "boolean"}},
		},
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		}},
		Responses: map[string]*huma.Response{
			"202": {Description: "Stored; settling", Content: map[string]*huma.MediaType{"application/json": {Schema: docSchema}}},
			"200": {Description: "Already imported", Content: map[string]*huma.MediaType{"application/json": {Schema: docSchema}}},
			"404": problem, "413": problem, "422": problem,
		},
	})
	if s.Imports != nil {
		mux.HandleFunc("POST /v1/imports", s.importFile)
	}

	huma.Register(api, huma.Operation{
		OperationID: "get-document", Method: http.MethodGet, Path: "/v1/documents/{id}", Tags: []string{"Imports"},
		Summary: "Get a document", Description: "A document is provider input stored verbatim; its counts say how its movements settled.",
	}, func(ctx context.Context, in *idPath) (*documentOutput, error) {
		d, err := s.Documents.FindDocumentByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &documentOutput{Body: d}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-documents", Method: http.MethodGet, Path: "/v1/documents", Tags: []string{"Imports"},
		Summary: "List documents", Description: "Newest first: imports, fetched files and callbacks, with how their movements settled.",
	}, func(ctx context.Context, in *documentListQuery) (*list[*baixa.Document], error) {
		ds, next, err := s.Documents.FindDocuments(ctx, baixa.DocumentFilter{AccountID: in.AccountID, ConnectionID: in.ConnectionID,
			Provider: in.Provider, Status: baixa.DocumentStatus(in.Status), Page: baixa.Page{After: in.After, Limit: in.Limit}})
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.Document]{}
		out.Body.Data, out.Body.NextCursor = nonNil(ds), next
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-document-content", Method: http.MethodGet, Path: "/v1/documents/{id}/content", Tags: []string{"Imports"},
		Summary: "Read a document's bytes as the provider sent them",
		Description: "With the document's content type, as an attachment that a browser does not run (a sandboxing " +
			"Content-Security-Policy and nosniff). Streamed: a document of hundreds of MiB is not held in memory.",
		Responses: map[string]*huma.Response{"200": {Description: "The bytes as received", Content: map[string]*huma.MediaType{
			"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		}}},
	}, s.documentContent)
	huma.Register(api, huma.Operation{
		OperationID: "retry-document", Method: http.MethodPost, Path: "/v1/documents/{id}/retry", Tags: []string{"Imports"},
		Summary: "Settle a failed document again", DefaultStatus: http.StatusAccepted,
		Description: "For a document that failed (its error says why), once the cause is fixed: a decoder added or corrected. " +
			"Nothing of a failed document was applied, so nothing is applied twice. 409 unless the document failed.",
	}, func(ctx context.Context, in *idPath) (*documentOutput, error) {
		d, err := s.Documents.RetryDocument(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &documentOutput{Body: d}, nil
	})
}

func (s *Server) importGeneric(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "send the movements as Content-Type: application/json", nil)
		return
	}
	s.store(w, r, ingest.Import{Provider: ingest.Generic, AccountID: r.URL.Query().Get("account_id"), ContentType: "application/json"})
}

// importFile takes a provider's file as it is (POST /v1/imports).
func (s *Server) importFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := ingest.Import{Provider: cmp.Or(q.Get("provider"), "cnab"), AccountID: q.Get("account_id"), ConnectionID: q.Get("connection_id"),
		ContentType: "application/octet-stream"}
	switch v := q.Get("skip_bad_lines"); v {
	case "", "false", "0":
	case "true", "1":
		in.SkipBadLines = true
	default:
		writeProblem(w, http.StatusUnprocessableEntity, "skip_bad_lines: want true or false", nil)
		return
	}
	in, err := s.Imports.ResolveFile(r.Context(), in)
	if err != nil {
		s.writeImportError(w, r, err)
		return
	}
	s.store(w, r, in)
}

// store has the import checked whole and stored (ingest.Imports), and
// answers with its document: 202, or 200 when it was imported before.
func (s *Server) store(w http.ResponseWriter, r *http.Request, in ingest.Import) {
	limit := cmp.Or(s.MaxImportBytes, 256<<20)
	stored, created, err := s.Imports.Store(r.Context(), in, http.MaxBytesReader(w, r.Body, limit))
	if be, ok := errors.AsType[*ingest.BodyError](err); ok {
		writeReadError(w, be.Err, "an import", limit)
		return
	}
	if err != nil {
		s.writeImportError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/documents/"+stored.ID)
	writeJSON(w, status, stored)
}

// writeImportError answers an import refused: a body that does not read
// (422 naming the line), an input at fault (located), or another error.
func (s *Server) writeImportError(w http.ResponseWriter, r *http.Request, err error) {
	if u, ok := errors.AsType[*ingest.Unreadable](err); ok {
		writeProblem(w, http.StatusUnprocessableEntity, u.Error(), []*huma.ErrorDetail{{Location: "body", Message: u.Error()}})
		return
	}
	if ie, ok := errors.AsType[*ingest.InputError](err); ok {
		s.writeError(w, r, ie.Err, ie.In)
		return
	}
	s.writeError(w, r, err, "")
}

// writeError writes err as a problem from a plain handler.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error, prefix string) {
	var se huma.StatusError
	perr := s.problem(r.Context(), err, prefix)
	if he, ok := errors.AsType[huma.HeadersError](perr); ok {
		for k, vs := range he.GetHeaders() {
			w.Header()[k] = vs
		}
	}
	if !errors.As(perr, &se) {
		writeProblem(w, http.StatusInternalServerError, "internal error", nil)
		return
	}
	m, _ := se.(*huma.ErrorModel)
	if m == nil {
		writeProblem(w, se.GetStatus(), se.Error(), nil)
		return
	}
	writeProblem(w, m.Status, m.Detail, m.Errors)
}

type documentListQuery struct {
	AccountID    string `query:"account_id" maxLength:"64"`
	ConnectionID string `query:"connection_id" maxLength:"64"`
	Provider     string `query:"provider" maxLength:"40"`
	Status       string `query:"status" enum:"pending,settled,failed"`
	After        string `query:"after" maxLength:"64"`
	Limit        int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

// documentContent answers a document's bytes as the provider sent them,
// with its content type, never to be run by a browser.
func (s *Server) documentContent(ctx context.Context, in *idPath) (*contentOutput, error) {
	d, err := s.Documents.FindDocumentByID(ctx, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err, "path.id")
	}
	body, err := s.Documents.OpenDocument(ctx, d.ID)
	if err != nil {
		return nil, s.problem(ctx, err, "")
	}
	return &contentOutput{Body: func(hc huma.Context) {
		defer body.Close()
		hc.SetHeader("Content-Type", cmp.Or(d.ContentType, "application/octet-stream"))
		hc.SetHeader("Content-Length", strconv.FormatInt(d.Size, 10))
		hc.SetHeader("Content-Security-Policy", "default-src 'none'; sandbox")
		hc.SetHeader("X-Content-Type-Options", "nosniff")
		hc.SetHeader("Content-Disposition", "attachment; filename="+strconv.Quote(d.ID))
		if _, err := io.Copy(hc.BodyWriter(), body); err != nil {
			cmp.Or(s.Logger, slog.Default()).Warn("document content cut short", "document", d.ID, "err", err)
		}
	}}, nil
}

type contentOutput struct {
	Body func(huma.Context)
}

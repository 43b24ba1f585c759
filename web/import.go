package web

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

type documentOutput struct {
	Body *baixa.Document
}

// genericProvider is the provider name of baixa's own movement format.
const genericProvider = "generic"

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
	mux.HandleFunc("POST /v1/imports/generic", s.importGeneric)

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
	mux.HandleFunc("POST /v1/imports", s.importFile)

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
	s.importAs(w, r, importRequest{provider: genericProvider, accountID: r.URL.Query().Get("account_id"), contentType: "application/json"})
}

// importFile takes a provider's file as it is (POST /v1/imports).
func (s *Server) importFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := importRequest{provider: cmp.Or(q.Get("provider"), "cnab"), accountID: q.Get("account_id"), connectionID: q.Get("connection_id"),
		contentType: "application/octet-stream"}
	switch v := q.Get("skip_bad_lines"); v {
	case "", "false", "0":
	case "true", "1":
		in.skipBadLines = true
	default:
		writeProblem(w, http.StatusUnprocessableEntity, "skip_bad_lines: want true or false", nil)
		return
	}
	if in.provider == genericProvider || s.Decoders[in.provider] == nil {
		writeProblem(w, http.StatusUnprocessableEntity, fmt.Sprintf("provider %q: no import of that kind (generic files go to /v1/imports/generic)", in.provider), nil)
		return
	}
	if in.connectionID != "" && s.Connections != nil {
		c, err := s.Connections.FindConnectionByID(r.Context(), in.connectionID)
		if err != nil {
			s.writeError(w, r, err, "query.connection_id")
			return
		}
		if in.accountID != "" && in.accountID != c.AccountID {
			writeProblem(w, http.StatusUnprocessableEntity, "account_id is not the connection's account", nil)
			return
		}
		in.accountID = c.AccountID
		if up, ok := s.Uploads[c.Provider]; ok {
			if in.provider != "cnab" || in.skipBadLines {
				writeProblem(w, http.StatusUnprocessableEntity, fmt.Sprintf("a %s connection takes CNAB return files whole (provider=cnab, no skip_bad_lines)", c.Provider), nil)
				return
			}
			in.check, in.upload = up.Check, func(sha string) baixa.NewDocument { return up.Document(c, sha) }
		}
	}
	if in.accountID == "" {
		writeProblem(w, http.StatusUnprocessableEntity, "name the account the file settles: account_id or connection_id", nil)
		return
	}
	s.importAs(w, r, in)
}

// Upload is how a provider that reads return files itself takes one: the
// file is checked whole, then stored as the document Document returns (one
// whose Follow starts the upload), keyed by its SHA-256.
type Upload struct {
	// Check reads the whole file and counts its titles, or says why the
	// provider would refuse it (cnab.Check: any bank's structure).
	Check    func(ctx context.Context, r io.Reader) (titles int, err error)
	Document func(c *baixa.Connection, sha256 string) baixa.NewDocument
}

type importRequest struct {
	provider, accountID, connectionID, contentType string
	skipBadLines                                   bool
	// check and upload, for a connection of a provider that takes uploads:
	// how the file is checked, and the document to store instead.
	check  func(ctx context.Context, r io.Reader) (int, error)
	upload func(sha256 string) baixa.NewDocument
}

// importAs spools the body to disk, decodes it whole, and stores it as a
// Document only if it reads well (or, with skip_bad_lines, if what is bad
// is single lines).
func (s *Server) importAs(w http.ResponseWriter, r *http.Request, in importRequest) {
	ctx := r.Context()
	if in.accountID != "" {
		if _, err := s.Accounts.FindAccountByID(ctx, in.accountID); err != nil {
			s.writeError(w, r, err, "query.account_id")
			return
		}
	}
	limit := cmp.Or(s.MaxImportBytes, 256<<20)
	f, err := os.CreateTemp(s.TempDir, "baixa-import-*")
	if err != nil {
		s.writeError(w, r, err, "")
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), http.MaxBytesReader(w, r.Body, limit)); err != nil {
		writeReadError(w, err, "an import", limit)
		return
	}

	// Check the whole import before storing anything.
	dec := s.Decoders[in.provider]
	doc := &baixa.Document{Provider: in.provider, AccountID: in.accountID, SkipBadLines: in.skipBadLines}
	accounts := map[string]bool{}
	n := 0
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.writeError(w, r, err, "")
		return
	}
	if in.check != nil {
		n, err = in.check(ctx, f)
	} else {
		err = dec.Decode(ctx, doc, f, func(m *baixa.Movement) error {
			n++
			if m.AccountID != "" && len(accounts) < 1000 {
				accounts[m.AccountID] = true
			}
			return nil
		})
	}
	var bad *baixa.BadLines
	if errors.As(err, &bad) && in.skipBadLines {
		err = nil
	}
	if err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, err.Error(), []*huma.ErrorDetail{{Location: "body", Message: err.Error()}})
		return
	}
	// An import of nothing is a mistake, unless the decoder says its input
	// may hold nothing (a return file of a day without movements) and it
	// read well; a provider that reads the file itself gets nothing to read.
	if empty, ok := dec.(baixa.EmptyAccepter); n == 0 && (!ok || !empty.AcceptsEmpty() || in.check != nil || bad != nil) {
		writeProblem(w, http.StatusUnprocessableEntity, "the import holds no movements", nil)
		return
	}
	for id := range accounts {
		if _, err := s.Accounts.FindAccountByID(ctx, id); err != nil {
			s.writeError(w, r, baixa.FieldError("account_id", "account %s not found", id), "body")
			return
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.writeError(w, r, err, "")
		return
	}
	nd := baixa.NewDocument{
		Provider: in.provider, AccountID: in.accountID, ConnectionID: in.connectionID, ContentType: in.contentType,
		SkipBadLines: in.skipBadLines,
	}
	if in.upload != nil {
		nd = in.upload(hex.EncodeToString(h.Sum(nil)))
	}
	nd.Body = f
	stored, created, err := s.Documents.CreateDocument(ctx, nd)
	if err != nil {
		s.writeError(w, r, err, "")
		return
	}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/documents/"+stored.ID)
	writeJSON(w, status, stored)
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

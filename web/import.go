package web

import (
	"cmp"
	"context"
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
	ctx := r.Context()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "send the movements as Content-Type: application/json", nil)
		return
	}
	accountID := r.URL.Query().Get("account_id")
	if accountID != "" {
		if _, err := s.Accounts.FindAccountByID(ctx, accountID); err != nil {
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
	if _, err := io.Copy(f, http.MaxBytesReader(w, r.Body, limit)); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("an import may have at most %d bytes", limit), nil)
			return
		}
		writeProblem(w, http.StatusBadRequest, "reading the body: "+err.Error(), nil)
		return
	}

	// Check the whole import before storing anything.
	dec := s.Decoders[genericProvider]
	doc := &baixa.Document{Provider: genericProvider, AccountID: accountID}
	accounts := map[string]bool{}
	n := 0
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.writeError(w, r, err, "")
		return
	}
	err = dec.Decode(ctx, doc, f, func(m *baixa.Movement) error {
		n++
		if m.AccountID != "" && len(accounts) < 1000 {
			accounts[m.AccountID] = true
		}
		return nil
	})
	if err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, err.Error(), []*huma.ErrorDetail{{Location: "body", Message: err.Error()}})
		return
	}
	if n == 0 {
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
	stored, created, err := s.Documents.CreateDocument(ctx, baixa.NewDocument{
		Provider: genericProvider, AccountID: accountID, ContentType: "application/json", Body: f,
	})
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
	if !errors.As(s.problem(r.Context(), err, prefix), &se) {
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

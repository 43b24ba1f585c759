package web

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

type accountInput struct {
	Body struct {
		Name     string `json:"name" minLength:"1" maxLength:"200" doc:"The beneficiary's name"`
		Document string `json:"document" minLength:"11" maxLength:"18" doc:"CPF or CNPJ (punctuation allowed; alphanumeric CNPJ accepted)" example:"12.345.678/0001-95"`
	}
}

type accountOutput struct {
	Body *baixa.Account
}

type idPath struct {
	ID string `path:"id" maxLength:"64"`
}

// PageQuery is a list's paging. It is exported because huma reads the
// fields of embedded structs only when their type is exported: embedded
// unexported, a list's limit and after were silently ignored.
type PageQuery struct {
	After string `query:"after" maxLength:"64" doc:"Cursor from the previous page's next_cursor"`
	Limit int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

func (s *Server) registerAccounts(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "create-account", Method: http.MethodPost, Path: "/v1/accounts", Tags: []string{"Accounts"},
		Summary: "Create an account", Description: "An account is a beneficiary (cedente, credor) whose charges baixa tracks.",
		DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *accountInput) (*accountOutput, error) {
		a := &baixa.Account{Name: in.Body.Name, Document: in.Body.Document}
		if err := s.Accounts.CreateAccount(ctx, a); err != nil {
			return nil, s.problem(ctx, err, "body")
		}
		return &accountOutput{Body: a}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-account", Method: http.MethodGet, Path: "/v1/accounts/{id}", Tags: []string{"Accounts"}, Summary: "Get an account",
	}, func(ctx context.Context, in *idPath) (*accountOutput, error) {
		a, err := s.Accounts.FindAccountByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &accountOutput{Body: a}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-accounts", Method: http.MethodGet, Path: "/v1/accounts", Tags: []string{"Accounts"}, Summary: "List accounts",
	}, func(ctx context.Context, in *PageQuery) (*list[*baixa.Account], error) {
		as, next, err := s.Accounts.FindAccounts(ctx, baixa.Page{After: in.After, Limit: in.Limit})
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.Account]{}
		out.Body.Data, out.Body.NextCursor = nonNil(as), next
		return out, nil
	})
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

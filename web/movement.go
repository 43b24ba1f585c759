package web

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

type movementListQuery struct {
	Result    string `query:"result" required:"true" enum:"unmatched,conflict" doc:"unmatched: no charge matched (kept and announced); conflict: it contradicted its charge"`
	AccountID string `query:"account_id" maxLength:"64"`
	Provider  string `query:"provider" maxLength:"40"`
	After     string `query:"after" maxLength:"64"`
	Limit     int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

func (s *Server) registerMovements(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "list-movements", Method: http.MethodGet, Path: "/v1/movements", Tags: []string{"Charges"},
		Summary: "List the movements that need a person",
		Description: "The movements that matched no charge (a payment at the bank of a boleto never registered, an installment " +
			"baixa does not know: PlugBoleto's não conciliados) or that contradicted their charge (paid twice, paid after a " +
			"write-off), oldest first, each with what the provider reported (raw) and why it is here (reason).",
	}, func(ctx context.Context, in *movementListQuery) (*list[*baixa.Movement], error) {
		ms, next, err := s.MovementFinder.FindMovements(ctx, baixa.MovementFilter{
			Result: baixa.MovementResult(in.Result), AccountID: in.AccountID, Provider: in.Provider,
			Page: baixa.Page{After: in.After, Limit: in.Limit},
		})
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.Movement]{}
		out.Body.Data, out.Body.NextCursor = ms, next
		return out, nil
	})
}

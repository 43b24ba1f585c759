package web

import (
	"context"
	"net/http"
	"time"

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

type paymentSummaryQuery struct {
	Date      string `query:"date" maxLength:"10" doc:"The day (America/Sao_Paulo); today when absent" example:"2026-12-03"`
	AccountID string `query:"account_id" maxLength:"64"`
}

type paymentSummaryOutput struct {
	Body struct {
		Date       baixa.Date           `json:"date"`
		Count      int64                `json:"count"`
		Amount     baixa.Amount         `json:"amount"`
		ByProvider []baixa.PaymentTotal `json:"by_provider"`
	}
}

func (s *Server) registerMovements(api huma.API) {
	if s.Payments != nil {
		huma.Register(api, huma.Operation{
			OperationID: "summarize-payments", Method: http.MethodGet, Path: "/v1/payments/summary", Tags: []string{"Charges"},
			Summary: "Total a day's payments by provider",
			Description: "Every payment reported that day (recorded between 00:00 and 24:00 in America/Sao_Paulo), applied, " +
				"unmatched or in conflict; duplicates aside. Amounts exact.",
		}, func(ctx context.Context, in *paymentSummaryQuery) (*paymentSummaryOutput, error) {
			day := baixa.Today(time.Now())
			if in.Date != "" {
				var err error
				if day, err = baixa.ParseDate(in.Date); err != nil {
					return nil, s.problem(ctx, baixa.FieldError("date", "%v", err), "query")
				}
			}
			totals, err := s.Payments.SumPayments(ctx, in.AccountID, day.Start(), day.AddDays(1).Start())
			if err != nil {
				return nil, s.problem(ctx, err, "query")
			}
			out := &paymentSummaryOutput{}
			out.Body.Date, out.Body.ByProvider = day, nonNil(totals)
			for _, t := range totals {
				out.Body.Count += t.Count
				out.Body.Amount += t.Amount
			}
			return out, nil
		})
	}
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

package web

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

type attentionQuery struct {
	State        string `query:"state" enum:"open,resolved,all" default:"open" doc:"open: waiting for a person (the default); resolved: decided; all"`
	Kind         string `query:"kind" enum:"unmatched,paid_twice,paid_after_write_off,conflict,declined,flagged" doc:"Only items of this kind"`
	AccountID    string `query:"account_id" maxLength:"64"`
	ConnectionID string `query:"connection_id" maxLength:"64" doc:"Only movements of documents this connection brought"`
	Provider     string `query:"provider" maxLength:"40"`
	From         string `query:"from" maxLength:"10" doc:"Recorded on or after this day (America/Sao_Paulo)" example:"2026-12-01"`
	To           string `query:"to" maxLength:"10" doc:"Recorded on or before this day (America/Sao_Paulo)" example:"2026-12-31"`
	After        string `query:"after" maxLength:"64"`
	Limit        int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

func (in *attentionQuery) filter() (baixa.AttentionFilter, error) {
	f := baixa.AttentionFilter{
		State: baixa.AttentionState(in.State), Kind: baixa.AttentionKind(in.Kind), AccountID: in.AccountID,
		ConnectionID: in.ConnectionID, Provider: in.Provider, Page: baixa.Page{After: in.After, Limit: in.Limit},
	}
	var err error
	if in.From != "" {
		if f.From, err = baixa.ParseDate(in.From); err != nil {
			return f, baixa.FieldError("from", "%v", err)
		}
	}
	if in.To != "" {
		if f.To, err = baixa.ParseDate(in.To); err != nil {
			return f, baixa.FieldError("to", "%v", err)
		}
	}
	return f, nil
}

type attentionCounts struct {
	Body struct {
		Counts map[baixa.AttentionKind]int `json:"counts" doc:"Items by kind; every kind is present"`
		Total  int                         `json:"total"`
	}
}

type attentionItemOutput struct {
	Body *attentionItemBody
}

type attentionItemBody struct {
	*baixa.AttentionItem
	History []*baixa.ResolutionLog `json:"history" doc:"Every decision and reopening, oldest first, with the item before and after"`
}

type resolveInput struct {
	ID             string `path:"id" maxLength:"64"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Repeat a request safely: the same key for the same decision changes nothing and answers the item as it is"`
	Body           *struct {
		ChargeID string       `json:"charge_id,omitempty" maxLength:"64" doc:"link: the charge the movement pays" example:"chg_01KB2Q8Z6M4V7X9N3P5R7T9W1Y"`
		Note     string       `json:"note,omitempty" maxLength:"2000" doc:"Why (required to dismiss)" example:"pago no balcão com o boleto 2999"`
		Amount   baixa.Amount `json:"amount,omitempty" doc:"refund, keep-as-credit: how much (at most the amount paid; all of it when absent)"`
	} `required:"false"`
}

func (s *Server) registerAttention(api huma.API) {
	tags := []string{"Attention"}
	huma.Register(api, huma.Operation{
		OperationID: "list-attention", Method: http.MethodGet, Path: "/v1/attention", Tags: tags,
		Summary: "The attention queue: movements that need a person",
		Description: "Oldest first. Kinds: unmatched (no charge has its references), paid_twice, paid_after_write_off, " +
			"conflict (another contradiction), declined (the provider declined or rejected the charge), flagged " +
			"(applied with something missing, as a LIQUIDADO without the amount paid). Each item carries the movement " +
			"as the provider reported it and, once decided, its resolution.",
	}, func(ctx context.Context, in *attentionQuery) (*list[*baixa.AttentionItem], error) {
		f, err := in.filter()
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		items, next, err := s.Attention.FindAttention(ctx, f)
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.AttentionItem]{}
		out.Body.Data, out.Body.NextCursor = nonNil(items), next
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "count-attention", Method: http.MethodGet, Path: "/v1/attention/counts", Tags: tags,
		Summary: "Count the attention queue by kind", Description: "The same filters as the queue (kind and paging aside).",
	}, func(ctx context.Context, in *attentionQuery) (*attentionCounts, error) {
		f, err := in.filter()
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		counts, err := s.Attention.CountAttention(ctx, f)
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &attentionCounts{}
		out.Body.Counts = counts
		for _, n := range counts {
			out.Body.Total += n
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-movement", Method: http.MethodGet, Path: "/v1/movements/{id}", Tags: tags,
		Summary:     "Get a movement, why it needs a person and what was decided",
		Description: "Any movement: kind is empty when it needs no one.",
	}, func(ctx context.Context, in *idPath) (*attentionItemOutput, error) {
		it, err := s.Attention.FindAttentionItem(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		logs, err := s.Attention.FindResolutionLogs(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "")
		}
		return &attentionItemOutput{Body: &attentionItemBody{AttentionItem: it, History: nonNil(logs)}}, nil
	})
	action := func(id, path, summary, description string, state baixa.ResolutionState) {
		huma.Register(api, huma.Operation{
			OperationID: id, Method: http.MethodPost, Path: path, Tags: tags, Summary: summary, Description: description,
		}, func(ctx context.Context, in *resolveInput) (*attentionItemOutput, error) {
			a := baixa.ResolveAction{MovementID: in.ID, State: state, IdempotencyKey: in.IdempotencyKey}
			if in.Body != nil {
				a.ChargeID, a.Note, a.Amount = in.Body.ChargeID, in.Body.Note, in.Body.Amount
			}
			if k := keyOf(ctx); k != nil {
				a.ByKeyID, a.ByKeyName = k.ID, k.Name
			}
			it, err := s.Attention.Resolve(ctx, a)
			if err != nil {
				return nil, s.problem(ctx, err, "body")
			}
			return &attentionItemOutput{Body: &attentionItemBody{AttentionItem: it, History: nil}}, nil
		})
	}
	action("link-movement", "/v1/movements/{id}/link", "Link an unmatched movement to its charge",
		"The movement then settles the charge through the usual path (a manual movement \"link:<id>\" with the amounts "+
			"the provider reported, exact to the centavo), in the same transaction; the provider's own report seen again "+
			"is a duplicate. The charge must be of the movement's account and still open. A linked movement cannot be reopened.",
		baixa.ResolvedLinked)
	action("dismiss-movement", "/v1/movements/{id}/dismiss", "Dismiss an item, with a reason",
		"Nothing changes but the item's state: it leaves the open queue.", baixa.ResolvedDismissed)
	action("refund-movement", "/v1/movements/{id}/refund", "Mark an extra payment as refunded",
		"For a payment that needed a person (paid twice, paid after a write-off, unmatched): the money went back to the payer.",
		baixa.ResolvedRefunded)
	action("keep-movement-as-credit", "/v1/movements/{id}/keep-as-credit", "Mark an extra payment as kept as the payer's credit",
		"For a payment that needed a person: the money stays, as the payer's credit.", baixa.ResolvedCredit)
	action("reopen-movement", "/v1/movements/{id}/reopen", "Take a decision back",
		"The item is open again and movement.reopened is announced with the resolution taken back.", "")
}

package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

// chargeInput is a new charge as the API takes it.
type chargeInput struct {
	AccountID   string           `json:"account_id" minLength:"1" maxLength:"64"`
	Kind        baixa.ChargeKind `json:"kind" enum:"boleto,invoice,installment,proposal"`
	Amount      baixa.Amount     `json:"amount" doc:"Face amount"`
	DueDate     baixa.Date       `json:"due_date,omitzero" required:"false"`
	Payer       baixa.Payer      `json:"payer,omitzero" required:"false"`
	Description string           `json:"description,omitempty" maxLength:"1000"`
	Metadata    json.RawMessage  `json:"metadata,omitempty"`
	References  baixa.References `json:"references,omitzero" required:"false"`
}

func (in *chargeInput) charge() *baixa.Charge {
	return &baixa.Charge{
		AccountID: in.AccountID, Kind: in.Kind, Amount: in.Amount, DueDate: in.DueDate, Payer: in.Payer,
		Description: in.Description, Metadata: in.Metadata, References: in.References,
	}
}

type createChargeInput struct {
	Body chargeInput
}

type chargeOutput struct {
	Body *baixa.Charge
}

type bulkInput struct {
	Body struct {
		Charges []chargeInput `json:"charges" minItems:"1" maxItems:"10000"`
	}
}

type chargeListQuery struct {
	PageQuery
	AccountID     string `query:"account_id" maxLength:"64"`
	Status        string `query:"status" enum:"open,overdue,partially_paid,paid,written_off,cancelled,declined"`
	Kind          string `query:"kind" enum:"boleto,invoice,installment,proposal"`
	Reference     string `query:"reference" maxLength:"100" doc:"A reference value; with reference_kind, only of that kind"`
	ReferenceKind string `query:"reference_kind" enum:"nosso_numero,seu_numero,integration_id,invoice_number,proposal_id,installment_id,agreement_installment,barcode"`
	DueFrom       string `query:"due_from" format:"date"`
	DueTo         string `query:"due_to" format:"date"`
}

type paymentInput struct {
	ID             string `path:"id" maxLength:"64"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Repeat a request safely: the same key returns the first outcome"`
	Body           struct {
		Amount baixa.Amount `json:"amount" doc:"Amount paid"`
		PaidOn baixa.Date   `json:"paid_on" doc:"Date of payment"`
		Note   string       `json:"note,omitempty" maxLength:"1000"`
	}
}

type noteInput struct {
	ID             string `path:"id" maxLength:"64"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Repeat a request safely: the same key returns the first outcome"`
	Body           *struct {
		Note string `json:"note,omitempty" maxLength:"1000"`
	} `required:"false"`
}

type movementOutput struct {
	Body struct {
		Charge   *baixa.Charge   `json:"charge"`
		Movement *baixa.Movement `json:"movement"`
	}
}

func (s *Server) registerCharges(api huma.API) {
	tags := []string{"Charges"}
	huma.Register(api, huma.Operation{
		OperationID: "create-charge", Method: http.MethodPost, Path: "/v1/charges", Tags: tags, Summary: "Create a charge",
		DefaultStatus: http.StatusCreated,
		Description:   "A charge is something the platform expects to be paid: a boleto, an invoice, an installment or a credit proposal. Each reference is unique within its account.",
	}, func(ctx context.Context, in *createChargeInput) (*chargeOutput, error) {
		c := in.Body.charge()
		if err := s.Charges.CreateCharges(ctx, []*baixa.Charge{c}); err != nil {
			return nil, s.problem(ctx, unbulk(err), "body")
		}
		return &chargeOutput{Body: c}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "create-charges-bulk", Method: http.MethodPost, Path: "/v1/charges/bulk", Tags: tags,
		Summary: "Create many charges at once", DefaultStatus: http.StatusCreated, MaxBodyBytes: 32 << 20,
		Description: "All or nothing: if any charge is invalid, none is stored, and the error lists every bad item as body.charges[i].field.",
	}, func(ctx context.Context, in *bulkInput) (*list[*baixa.Charge], error) {
		cs := make([]*baixa.Charge, len(in.Body.Charges))
		for i := range in.Body.Charges {
			cs[i] = in.Body.Charges[i].charge()
		}
		if err := s.Charges.CreateCharges(ctx, cs); err != nil {
			return nil, s.problem(ctx, err, "body.charges")
		}
		out := &list[*baixa.Charge]{}
		out.Body.Data = cs
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-charge", Method: http.MethodGet, Path: "/v1/charges/{id}", Tags: tags, Summary: "Get a charge",
	}, func(ctx context.Context, in *idPath) (*chargeOutput, error) {
		c, err := s.Charges.FindChargeByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &chargeOutput{Body: c}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "list-charges", Method: http.MethodGet, Path: "/v1/charges", Tags: tags, Summary: "List charges",
		Description: "Filters combine with AND. Pages follow creation order.",
	}, func(ctx context.Context, in *chargeListQuery) (*list[*baixa.Charge], error) {
		f := baixa.ChargeFilter{
			AccountID: in.AccountID, Status: baixa.ChargeStatus(in.Status), Kind: baixa.ChargeKind(in.Kind),
			Reference: baixa.Ref{Kind: in.ReferenceKind, Value: in.Reference}, Page: baixa.Page{After: in.After, Limit: in.Limit},
		}
		var err error
		if in.DueFrom != "" {
			if f.DueFrom, err = baixa.ParseDate(in.DueFrom); err != nil {
				return nil, s.problem(ctx, baixa.FieldError("due_from", "%v", err), "query")
			}
		}
		if in.DueTo != "" {
			if f.DueTo, err = baixa.ParseDate(in.DueTo); err != nil {
				return nil, s.problem(ctx, baixa.FieldError("due_to", "%v", err), "query")
			}
		}
		cs, next, err := s.Charges.FindCharges(ctx, f)
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.Charge]{}
		out.Body.Data, out.Body.NextCursor = nonNil(cs), next
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "record-payment", Method: http.MethodPost, Path: "/v1/charges/{id}/payments", Tags: tags,
		Summary: "Record a payment by hand", DefaultStatus: http.StatusCreated,
		Description: "The operator's manual settlement. It goes through the same path as a provider's report (provider \"manual\"): payments accumulate, a payment of a paid charge is a conflict.",
	}, func(ctx context.Context, in *paymentInput) (*movementOutput, error) {
		body, _ := json.Marshal(in.Body)
		m := &baixa.Movement{Kind: baixa.MovePaid, ChargeID: in.ID, PaidAmount: in.Body.Amount, PaidOn: in.Body.PaidOn, Note: in.Body.Note}
		return s.manual(ctx, m, body, in.IdempotencyKey)
	})
	manualOp := func(id, path, summary string, kind baixa.MovementKind) {
		huma.Register(api, huma.Operation{
			OperationID: id, Method: http.MethodPost, Path: path, Tags: tags, Summary: summary,
		}, func(ctx context.Context, in *noteInput) (*movementOutput, error) {
			m := &baixa.Movement{Kind: kind, ChargeID: in.ID}
			if in.Body != nil {
				m.Note = in.Body.Note
			}
			body, _ := json.Marshal(map[string]string{"kind": string(kind), "note": m.Note})
			return s.manual(ctx, m, body, in.IdempotencyKey)
		})
	}
	manualOp("write-off-charge", "/v1/charges/{id}/write-off", "Write a charge off by hand (baixa manual)", baixa.MoveWrittenOff)
	manualOp("cancel-charge", "/v1/charges/{id}/cancel", "Cancel a charge", baixa.MoveCancelled)
}

func (s *Server) manual(ctx context.Context, m *baixa.Movement, body []byte, key string) (*movementOutput, error) {
	c, mv, err := s.Movements.SettleManual(ctx, m, body, key)
	if err != nil {
		return nil, s.problem(ctx, err, "body")
	}
	out := &movementOutput{}
	out.Body.Charge, out.Body.Movement = c, mv
	return out, nil
}

// unbulk turns the bulk error of a single charge into a plain field error.
func unbulk(err error) error {
	var e *baixa.Error
	if errors.As(err, &e) && len(e.Details) == 1 {
		d := *e.Details[0]
		if len(d.Field) > 4 && d.Field[:4] == "[0]." {
			d.Field = d.Field[4:]
		}
		return &d
	}
	return err
}

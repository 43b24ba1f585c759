// Package generic decodes baixa's own movement format: a JSON array of
// movements, for sources baixa has no connector for yet. See docs/generic.md.
package generic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"baixa"
)

// Provider is the provider name of generic documents.
const Provider = "generic"

// Record is one movement in the generic format.
type Record struct {
	// ID is the source's unique id of this fact; the same id imported again is a no-op.
	ID             string             `json:"id"`
	AccountID      string             `json:"account_id,omitempty"`
	Kind           baixa.MovementKind `json:"kind"`
	References     baixa.References   `json:"references"`
	Amount         baixa.Amount       `json:"amount,omitempty"`
	PaidAmount     baixa.Amount       `json:"paid_amount,omitempty"`
	InterestAmount baixa.Amount       `json:"interest_amount,omitempty"`
	FineAmount     baixa.Amount       `json:"fine_amount,omitempty"`
	DiscountAmount baixa.Amount       `json:"discount_amount,omitempty"`
	RebateAmount   baixa.Amount       `json:"rebate_amount,omitempty"`
	FeeAmount      baixa.Amount       `json:"fee_amount,omitempty"`
	CreditedAmount baixa.Amount       `json:"credited_amount,omitempty"`
	OccurredAt     time.Time          `json:"occurred_at,omitzero"`
	PaidOn         baixa.Date         `json:"paid_on,omitzero"`
	CreditedOn     baixa.Date         `json:"credited_on,omitzero"`
	DueDate        baixa.Date         `json:"due_date,omitzero"`
	Channel        string             `json:"channel,omitempty"`
	ProviderCode   string             `json:"provider_code,omitempty"`
	ProviderStatus string             `json:"provider_status,omitempty"`
	Note           string             `json:"note,omitempty"`
}

// Decoder decodes generic documents as a stream: memory does not grow with
// the document.
type Decoder struct{}

var _ baixa.Decoder = Decoder{}

// Decode reads a JSON array of Records. Unknown fields, a record without an
// id, kind or reference, and an amount that is not an exact decimal string
// are errors that name the record (from 1) and, for syntax, the byte offset.
func (Decoder) Decode(ctx context.Context, doc *baixa.Document, r io.Reader, emit func(*baixa.Movement) error) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return syntax(dec, 0, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("want a JSON array of movements")
	}
	for n := 1; dec.More(); n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var rec Record
		if err := dec.Decode(&rec); err != nil {
			return syntax(dec, n, err)
		}
		m, err := rec.movement(doc)
		if err != nil {
			return fmt.Errorf("movement %d: %w", n, err)
		}
		if err := emit(m); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntax(dec, 0, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("unexpected data after the array at byte %d", dec.InputOffset())
	}
	return nil
}

func syntax(dec *json.Decoder, n int, err error) error {
	var se *json.SyntaxError
	where := ""
	if n > 0 {
		where = fmt.Sprintf("movement %d: ", n)
	}
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%sinvalid JSON at byte %d: %w", where, se.Offset, err)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%sJSON ends early at byte %d", where, dec.InputOffset())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s%s: want %s, got JSON %s", where, te.Field, te.Type, te.Value)
	}
	// Unknown fields and the value errors of Amount and Date.
	return fmt.Errorf("%s%s", where, strings.TrimPrefix(err.Error(), "json: "))
}

func (rec *Record) movement(doc *baixa.Document) (*baixa.Movement, error) {
	switch {
	case rec.ID == "":
		return nil, errors.New("id is required")
	case len(rec.ID) > 200:
		return nil, errors.New("id is longer than 200 characters")
	case !slices.Contains(baixa.MovementKinds, rec.Kind):
		return nil, fmt.Errorf("kind %q is not one of %v", rec.Kind, baixa.MovementKinds)
	case len(rec.References.List()) == 0:
		return nil, errors.New("references: at least one reference is required")
	case rec.AccountID == "" && doc.AccountID == "":
		return nil, errors.New("account_id is required (in the movement or for the whole import)")
	case rec.Kind == baixa.MoveDueDateChanged && rec.DueDate.IsZero():
		return nil, errors.New("due_date is required for due_date_changed")
	case rec.Kind == baixa.MovePaid && rec.PaidAmount == 0:
		return nil, errors.New("paid_amount is required for paid")
	}
	if doc.AccountID != "" && rec.AccountID != "" && rec.AccountID != doc.AccountID {
		return nil, fmt.Errorf("account_id %s differs from the import's account %s", rec.AccountID, doc.AccountID)
	}
	return &baixa.Movement{
		AccountID: rec.AccountID, Key: rec.ID, Kind: rec.Kind, References: rec.References,
		Amount: rec.Amount, PaidAmount: rec.PaidAmount, InterestAmount: rec.InterestAmount, FineAmount: rec.FineAmount,
		DiscountAmount: rec.DiscountAmount, RebateAmount: rec.RebateAmount, FeeAmount: rec.FeeAmount,
		CreditedAmount: rec.CreditedAmount, OccurredAt: rec.OccurredAt, PaidOn: rec.PaidOn, CreditedOn: rec.CreditedOn,
		DueDate: rec.DueDate, Channel: rec.Channel, ProviderCode: rec.ProviderCode, ProviderStatus: rec.ProviderStatus,
		Note: rec.Note,
	}, nil
}

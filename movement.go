package baixa

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// MovementKind is what a provider reported about a charge.
type MovementKind string

// Movement kinds.
const (
	MoveRegistered     MovementKind = "registered"       // the provider accepted the charge (entrada)
	MoveRejected       MovementKind = "rejected"         // the provider refused to register it
	MoveDueDateChanged MovementKind = "due_date_changed" // prorrogação
	MoveOverdue        MovementKind = "overdue"          // vencido
	MovePaid           MovementKind = "paid"             // liquidação; partial when it covers less than what is open
	MoveWrittenOff     MovementKind = "written_off"      // baixa
	MoveCancelled      MovementKind = "cancelled"
	MoveDeclined       MovementKind = "declined" // a refused payment attempt or credit proposal
	MoveStatusChanged  MovementKind = "status_changed"
)

// MovementKinds lists every kind.
var MovementKinds = []MovementKind{MoveRegistered, MoveRejected, MoveDueDateChanged, MoveOverdue, MovePaid, MoveWrittenOff, MoveCancelled, MoveDeclined, MoveStatusChanged}

// MovementResult is what settling a movement did.
type MovementResult string

// Movement results.
const (
	ResultApplied   MovementResult = "applied"   // the charge changed
	ResultDuplicate MovementResult = "duplicate" // already known; nothing changed
	ResultUnmatched MovementResult = "unmatched" // no charge matched; kept and announced
	ResultConflict  MovementResult = "conflict"  // contradicts the charge's state; kept and announced
)

// MovementResults lists every result.
var MovementResults = []MovementResult{ResultApplied, ResultDuplicate, ResultUnmatched, ResultConflict}

// ProviderManual is the provider of an operator's own settlement.
const ProviderManual = "manual"

// Movement is one normalized fact from a provider about a charge.
type Movement struct {
	ID         string `json:"id"`
	DocumentID string `json:"document_id"`
	AccountID  string `json:"account_id"`
	Provider   string `json:"provider"`
	// Key is the provider's natural key of this fact; the same Provider and
	// Key seen again is a no-op.
	Key            string       `json:"key"`
	Kind           MovementKind `json:"kind"`
	References     References   `json:"references"`
	Amount         Amount       `json:"amount,omitempty"`
	PaidAmount     Amount       `json:"paid_amount,omitempty"`
	InterestAmount Amount       `json:"interest_amount,omitempty"`
	FineAmount     Amount       `json:"fine_amount,omitempty"`
	DiscountAmount Amount       `json:"discount_amount,omitempty"`
	RebateAmount   Amount       `json:"rebate_amount,omitempty"`
	FeeAmount      Amount       `json:"fee_amount,omitempty"`
	CreditedAmount Amount       `json:"credited_amount,omitempty"`
	IOFAmount      Amount       `json:"iof_amount,omitempty"`
	OccurredAt     time.Time    `json:"occurred_at,omitzero"`
	PaidOn         Date         `json:"paid_on,omitzero"`
	CreditedOn     Date         `json:"credited_on,omitzero"`
	DueDate        Date         `json:"due_date,omitzero"`
	Channel        string       `json:"channel,omitempty"`
	// Payer is who paid, when the provider says (CNAB returns do).
	Payer          Payer  `json:"payer,omitzero"`
	ProviderCode   string `json:"provider_code,omitempty"`
	ProviderStatus string `json:"provider_status,omitempty"`
	Note           string `json:"note,omitempty"`
	// PaymentLink is where the payer can pay, when the provider gives one;
	// it replaces the charge's.
	PaymentLink string `json:"payment_link,omitempty"`
	// Raw is the provider's record as received, when it has one of its own.
	Raw json.RawMessage `json:"raw,omitempty"`

	// Encoded is the movement's JSON as decoded, before settling, when the
	// decoding side has prepared it (so that encoding runs beside the writer).
	Encoded []byte `json:"-"`

	// NossoNumeroWhole: the reported nosso número has no check digit
	// (Banco do Brasil's and Caixa's numbers of 17 digits are all number),
	// so settling never drops its last digit to find a charge registered
	// without one; the decoder that knows the bank says so.
	NossoNumeroWhole bool `json:"-"`

	// Supplement: the movement only adds a detail (an invoice link) to a
	// fact the provider already reported and baixa already announced, so
	// that, matching no charge, it is recorded but not announced again.
	Supplement bool `json:"-"`

	// Set when settled.
	ChargeID  string         `json:"charge_id,omitempty"`
	Result    MovementResult `json:"result,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	CreatedAt time.Time      `json:"created_at,omitzero"`
}

// MovementService records an operator's own movements (manual payments,
// write-offs, cancellations) through the same path as a provider's, at once.
type MovementService interface {
	// SettleManual stores body as a Document of provider "manual" with the
	// movement, settles it in the same transaction, and returns the charge.
	// A repeated idempotency key returns the first outcome unchanged.
	SettleManual(ctx context.Context, m *Movement, body []byte, idempotencyKey string) (*Charge, *Movement, error)
}

// MovementFilter selects the movements that need a person: those that
// matched no charge, or that contradicted one.
type MovementFilter struct {
	Result    MovementResult // unmatched or conflict
	AccountID string
	Provider  string
	Page
}

// MovementFinder lists movements that need a person, oldest first.
type MovementFinder interface {
	FindMovements(ctx context.Context, f MovementFilter) ([]*Movement, string, error)
}

// CheckText reports the first text field of m that is not text a database
// can keep (valid UTF-8 without NUL), naming it: such a movement fails its
// document with that reason instead of failing its settling forever.
func (m *Movement) CheckText() error {
	fields := []struct{ name, v string }{
		{"key", m.Key}, {"provider_code", m.ProviderCode}, {"provider_status", m.ProviderStatus}, {"note", m.Note},
		{"channel", m.Channel}, {"payment_link", m.PaymentLink}, {"payer.name", m.Payer.Name}, {"payer.document", m.Payer.Document},
	}
	for _, r := range m.References.List() {
		fields = append(fields, struct{ name, v string }{"references." + r.Kind, r.Value})
	}
	for _, f := range fields {
		if !IsText(f.v) {
			return FieldError(f.name, "not text a database keeps (invalid UTF-8, or NUL)")
		}
	}
	if !utf8.Valid(m.Raw) {
		return FieldError("raw", "not UTF-8 text")
	}
	return nil
}

// IsText reports whether s is text every database keeps as it is: valid
// UTF-8 without NUL (which PostgreSQL's text refuses).
func IsText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// PaymentTotal is how many payments a provider reported in a period and
// how much they came to (duplicates aside).
type PaymentTotal struct {
	Provider string `json:"provider"`
	Count    int64  `json:"count"`
	Amount   Amount `json:"amount"`
}

// PaymentSummary totals the payments recorded in [From, To), by provider.
type PaymentSummary interface {
	SumPayments(ctx context.Context, accountID string, from, to time.Time) ([]PaymentTotal, error)
}

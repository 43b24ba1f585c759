package baixa

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// ChargeKind is what a charge is.
type ChargeKind string

// Charge kinds.
const (
	KindBoleto      ChargeKind = "boleto"
	KindInvoice     ChargeKind = "invoice"
	KindInstallment ChargeKind = "installment"
	KindProposal    ChargeKind = "proposal"
)

// ChargeKinds lists every kind.
var ChargeKinds = []ChargeKind{KindBoleto, KindInvoice, KindInstallment, KindProposal}

// ChargeStatus is baixa's normalized status of a charge; the provider's own
// word is kept beside it in ProviderStatus.
type ChargeStatus string

// Charge statuses. Paid, written off and cancelled are closed; a later
// provider report that contradicts them is recorded as a conflict.
const (
	StatusOpen          ChargeStatus = "open"
	StatusOverdue       ChargeStatus = "overdue"
	StatusPartiallyPaid ChargeStatus = "partially_paid"
	StatusPaid          ChargeStatus = "paid"
	StatusWrittenOff    ChargeStatus = "written_off"
	StatusCancelled     ChargeStatus = "cancelled"
	StatusDeclined      ChargeStatus = "declined"
)

// ChargeStatuses lists every status.
var ChargeStatuses = []ChargeStatus{StatusOpen, StatusOverdue, StatusPartiallyPaid, StatusPaid, StatusWrittenOff, StatusCancelled, StatusDeclined}

// Payer is who pays a charge (sacado, pagador, devedor).
type Payer struct {
	Name     string `json:"name,omitempty"`
	Document string `json:"document,omitempty"`
}

// References are the numbers by which providers name a charge. Each one is
// unique within its account.
type References struct {
	NossoNumero   string `json:"nosso_numero,omitempty"`
	SeuNumero     string `json:"seu_numero,omitempty"`
	IntegrationID string `json:"integration_id,omitempty"`
	InvoiceNumber string `json:"invoice_number,omitempty"`
	ProposalID    string `json:"proposal_id,omitempty"`
	InstallmentID string `json:"installment_id,omitempty"`
	// AgreementInstallment names an installment by its agreement, for
	// providers whose report may lack the installment's own id.
	AgreementInstallment string `json:"agreement_installment,omitempty"`
	Barcode              string `json:"barcode,omitempty"`
}

// Reference kinds, in matching priority: the most specific first.
const (
	RefIntegrationID = "integration_id"
	RefInvoiceNumber = "invoice_number"
	RefProposalID    = "proposal_id"
	RefInstallmentID = "installment_id"
	RefAgreement     = "agreement_installment"
	RefBarcode       = "barcode"
	RefNossoNumero   = "nosso_numero"
	RefSeuNumero     = "seu_numero"
)

// Ref is one reference: its kind and its value.
type Ref struct{ Kind, Value string }

// List returns the non-empty references in matching priority.
func (r References) List() []Ref {
	all := []Ref{
		{RefIntegrationID, r.IntegrationID}, {RefInvoiceNumber, r.InvoiceNumber},
		{RefProposalID, r.ProposalID}, {RefInstallmentID, r.InstallmentID}, {RefAgreement, r.AgreementInstallment},
		{RefBarcode, r.Barcode}, {RefNossoNumero, r.NossoNumero}, {RefSeuNumero, r.SeuNumero},
	}
	out := all[:0]
	for _, x := range all {
		if x.Value != "" {
			out = append(out, x)
		}
	}
	return out
}

// Set sets the reference of the given kind; it reports false for an unknown kind.
func (r *References) Set(kind, value string) bool {
	switch kind {
	case RefIntegrationID:
		r.IntegrationID = value
	case RefInvoiceNumber:
		r.InvoiceNumber = value
	case RefProposalID:
		r.ProposalID = value
	case RefInstallmentID:
		r.InstallmentID = value
	case RefAgreement:
		r.AgreementInstallment = value
	case RefBarcode:
		r.Barcode = value
	case RefNossoNumero:
		r.NossoNumero = value
	case RefSeuNumero:
		r.SeuNumero = value
	default:
		return false
	}
	return true
}

// NormalizeNossoNumero reduces a nosso número to the number it is: only
// its digits, without leading zeros ("0000083-1" -> "831").
func NormalizeNossoNumero(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if b.Len() == 0 && s[i] == '0' {
				continue
			}
			b.WriteByte(s[i])
		}
	}
	if b.Len() == 0 && strings.ContainsAny(s, "0") {
		return "0"
	}
	return b.String()
}

// Charge is something the platform expects to be paid or to change state.
type Charge struct {
	ID             string          `json:"id"`
	AccountID      string          `json:"account_id"`
	Kind           ChargeKind      `json:"kind"`
	Status         ChargeStatus    `json:"status"`
	ProviderStatus string          `json:"provider_status,omitempty"`
	Amount         Amount          `json:"amount"`
	DueDate        Date            `json:"due_date,omitzero"`
	Payer          Payer           `json:"payer,omitzero"`
	Description    string          `json:"description,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	References     References      `json:"references"`
	PaidAmount     Amount          `json:"paid_amount"`
	InterestAmount Amount          `json:"interest_amount"`
	FineAmount     Amount          `json:"fine_amount"`
	DiscountAmount Amount          `json:"discount_amount"`
	RebateAmount   Amount          `json:"rebate_amount"`
	FeeAmount      Amount          `json:"fee_amount"`
	CreditedAmount Amount          `json:"credited_amount"`
	PaidOn         Date            `json:"paid_on,omitzero"`
	CreditedOn     Date            `json:"credited_on,omitzero"`
	Conflict       string          `json:"conflict,omitempty"`
	PaymentLink    string          `json:"payment_link,omitempty"`
	// ReportedAt is when the latest provider report applied to it happened
	// (the movement's occurred_at): a status report older than that is
	// stale, and does not overwrite the provider's newer status.
	ReportedAt time.Time `json:"reported_at,omitzero"`
	Sequence   int64     `json:"sequence"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate normalizes and checks a new charge; field names in errors are
// relative to the charge.
func (c *Charge) Validate() error {
	if c.AccountID == "" {
		return FieldError("account_id", "is required")
	}
	switch c.Kind {
	case KindBoleto, KindInvoice, KindInstallment, KindProposal:
	default:
		return FieldError("kind", "must be one of boleto, invoice, installment, proposal")
	}
	if c.Amount <= 0 {
		return FieldError("amount", "must be greater than zero")
	}
	if c.Payer.Document != "" {
		c.Payer.Document = NormalizeTaxID(c.Payer.Document)
		if err := ValidateTaxID(c.Payer.Document); err != nil {
			return FieldError("payer.document", "%v", err)
		}
	}
	if len(c.Metadata) > 0 && !json.Valid(c.Metadata) {
		return FieldError("metadata", "must be JSON")
	}
	for _, r := range c.References.List() {
		if len(r.Value) > 100 || strings.TrimSpace(r.Value) != r.Value {
			return FieldError("references."+r.Kind, "must be at most 100 characters without surrounding blanks")
		}
		if r.Kind == RefNossoNumero && NormalizeNossoNumero(r.Value) == "" {
			return FieldError("references.nosso_numero", "must contain digits")
		}
	}
	return nil
}

// ChargeFilter selects charges. Empty fields do not filter.
type ChargeFilter struct {
	AccountID string
	Status    ChargeStatus
	Kind      ChargeKind
	Reference Ref // Kind and Value; a bare value matches any kind
	DueFrom   Date
	DueTo     Date
	Page
}

// ChargeService stores charges.
type ChargeService interface {
	// CreateCharges stores all the charges or none. On failure the error's
	// Details name each bad item as "[i].field".
	CreateCharges(ctx context.Context, cs []*Charge) error
	FindChargeByID(ctx context.Context, id string) (*Charge, error)
	FindCharges(ctx context.Context, f ChargeFilter) ([]*Charge, string, error)
}

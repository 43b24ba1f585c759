package cnab

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"baixa"
)

// Provider is the provider name of imported return files.
const Provider = "cnab"

// Decoder turns a return file into movements, one per detail. A bad
// detail fails the document, unless the document says SkipBadLines: then
// the bad details are left out and reported (*baixa.BadLines at the end).
// Errors in the file's structure (header, trailers, counts) always fail it.
type Decoder struct{}

var _ baixa.Decoder = Decoder{}

// AcceptsEmpty: a return file whose structure checks out but holds no
// title is what a bank sends on a day without movements.
func (Decoder) AcceptsEmpty() bool { return true }

// Decode reads the file and emits its movements in file order.
func (Decoder) Decode(ctx context.Context, doc *baixa.Document, r io.Reader, emit func(*baixa.Movement) error) error {
	rd, err := NewReader(r)
	if err != nil {
		return err
	}
	var skipped baixa.BadLines
	var bad func(error) // nil: a bad detail fails the document
	if doc.SkipBadLines {
		bad = func(err error) { skipped.Add(err.Error()) }
	}
	if err := rd.Each(ctx, func(d *Detail) error { return emit(Movement(rd.Header(), rd.Bank(), d, doc)) }, bad); err != nil {
		return err
	}
	if skipped.Count > 0 {
		return &skipped
	}
	return nil
}

// raw is the part of a detail kept with its movement, as the file says it.
type raw struct {
	Format      string `json:"format"`
	Bank        string `json:"bank"`
	Line        int    `json:"line"`
	Occurrence  string `json:"ocorrencia"`
	UOccurrence string `json:"ocorrencia_segmento_u,omitempty"`
	NossoNumero string `json:"nosso_numero"`
	Parcela     string `json:"parcela,omitempty"`
	Modalidade  string `json:"modalidade,omitempty"`
	SeuNumero   string `json:"seu_numero,omitempty"`
	CompanyRef  string `json:"uso_da_empresa,omitempty"`
	Reasons     string `json:"motivos,omitempty"`
	Bank2       string `json:"banco_recebedor,omitempty"`
	Branch      string `json:"agencia_recebedora,omitempty"`
	Other       string `json:"outras_despesas,omitempty"`
	OtherCred   string `json:"outros_creditos,omitempty"`
}

// Movement turns a detail into a movement.
func Movement(h Header, b *Bank, d *Detail, doc *baixa.Document) *baixa.Movement {
	occ, known := b.Occurrences240[d.Occurrence]
	if h.Format == CNAB400 {
		occ, known = b.Occurrences400[d.Occurrence]
	}
	if !known {
		occ = Occurrence{Kind: baixa.MoveStatusChanged, Name: "ocorrência " + d.Occurrence}
	}
	m := &baixa.Movement{
		DocumentID: doc.ID, AccountID: doc.AccountID, Provider: Provider, Kind: occ.Kind,
		References: baixa.References{NossoNumero: d.NossoNumero, SeuNumero: seuNumero(d.SeuNumero)},
		Amount:     d.FaceValue, PaidAmount: d.PaidAmount, InterestAmount: d.InterestAmount, DiscountAmount: d.DiscountAmount,
		RebateAmount: d.RebateAmount, IOFAmount: d.IOFAmount, FeeAmount: d.FeeAmount, CreditedAmount: d.CreditedAmount,
		PaidOn: d.OccurredOn, CreditedOn: d.CreditedOn, ProviderCode: d.Occurrence, ProviderStatus: occ.Name,
		Payer: baixa.Payer{Name: d.PayerName, Document: d.PayerDocument},
	}
	m.NossoNumeroWhole = b.WholeNumber(d.NossoNumero)
	if m.Kind == baixa.MoveDueDateChanged {
		m.DueDate, m.PaidOn = d.DueDate, baixa.Date{}
	}
	if m.Kind == baixa.MovePaid && d.PaidAmount == 0 {
		// A payment with no amount paid is not a payment baixa can settle.
		m.Kind, m.Note = baixa.MoveStatusChanged, occ.Name+" without a paid amount"
	}
	if m.Kind != baixa.MovePaid {
		m.PaidOn = baixa.Date{}
	}
	// Where it was paid; on any other occurrence the same fields name the
	// branch that collects the title, which the movement need not say.
	if m.Kind == baixa.MovePaid && d.ReceivingBank != "" && strings.Trim(d.ReceivingBank, "0") != "" {
		m.Note = strings.TrimPrefix(m.Note+"; received by bank "+d.ReceivingBank+" branch "+d.ReceivingBranch, "; ")
	}
	m.Raw, _ = json.Marshal(raw{Format: h.Format.String(), Bank: h.Bank, Line: d.Line, Occurrence: d.Occurrence, UOccurrence: d.UOccurrence,
		NossoNumero: d.NossoNumero, Parcela: d.Parcela, Modalidade: d.Modalidade, SeuNumero: d.SeuNumero, CompanyRef: d.CompanyRef,
		Reasons: d.Reasons, Bank2: d.ReceivingBank, Branch: d.ReceivingBranch, Other: nonZero(d.OtherExpenses), OtherCred: nonZero(d.OtherCredits)})
	// The same fact in two files has the same key; a rejection with other
	// reasons is another fact.
	m.Key = strings.Join([]string{h.Bank, d.Occurrence, d.NossoNumero, d.Parcela, d.OccurredOn.String(), d.PaidAmount.String(), d.Reasons}, "/")
	return m
}

// seuNumero drops the zeros a numeric seu número is padded with.
func seuNumero(s string) string {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return s
	}
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t
	}
	return ""
}

func nonZero(a baixa.Amount) string {
	if a == 0 {
		return ""
	}
	return a.String()
}

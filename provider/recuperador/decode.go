package recuperador

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"baixa"
	"baixa/brazil"
	"baixa/provider"
)

// event is an approved installment, as listed or pushed. Ids and amounts
// may come as numbers or strings; the 2022 payload names the installment
// id_parcela, the later one id_contasareceber.
type event struct {
	ID, IDAssessoria, IDCredor, IDAcordo, IDCliente int64
	Installment                                     string // id_contasareceber or id_parcela
	Parcela                                         string // "01/12"
	ParcelaNumber                                   int64  // parcela_inteiro
	Name, TaxID                                     string
	DueOn, PaidOn, CreditOn                         baixa.Date
	Paid, Net                                       baixa.Amount
	PaidAt                                          string
	PaymentMethod                                   string
	Values                                          map[string]string // every valor_* field, exactly as sent
}

type rawEvent struct {
	ID               provider.Text `json:"id"`
	IDAssessoria     provider.Text `json:"id_assessoria"`
	IDCredor         provider.Text `json:"id_credor"`
	IDAcordo         provider.Text `json:"id_acordo"`
	IDCliente        provider.Text `json:"id_cliente"`
	IDContasAReceber provider.Text `json:"id_contasareceber"`
	IDParcela        provider.Text `json:"id_parcela"`
	Parcela          provider.Text `json:"parcela"`
	ParcelaInteiro   provider.Text `json:"parcela_inteiro"`
	NomeCliente      provider.Text `json:"nome_cliente"`
	CPFCNPJ          provider.Text `json:"cpf_cnpj"`
	DataVencto       provider.Text `json:"data_vencto"`
	DataPagto        provider.Text `json:"data_pagto"`
	DataRec          provider.Text `json:"data_rec"`
	MeioPagto        provider.Text `json:"meio_pagto"`
	FormaPagto       provider.Text `json:"forma_pagto"`
}

// parseEvent reads and checks an event. On an error it still returns what
// it read of the ids, when the object parsed.
func parseEvent(b []byte) (*event, error) {
	var r rawEvent
	if err := provider.DecodeJSON(b, &r); err != nil {
		return nil, err
	}
	e := &event{Values: map[string]string{}}
	ids := []struct {
		name string
		v    provider.Text
		dst  *int64
		need bool
	}{
		{"id", r.ID, &e.ID, true}, {"id_assessoria", r.IDAssessoria, &e.IDAssessoria, false}, {"id_credor", r.IDCredor, &e.IDCredor, false},
		{"id_acordo", r.IDAcordo, &e.IDAcordo, false}, {"id_cliente", r.IDCliente, &e.IDCliente, false},
		{"parcela_inteiro", r.ParcelaInteiro, &e.ParcelaNumber, false},
	}
	var problem error
	for _, f := range ids {
		if f.v == "" {
			if f.need && problem == nil {
				problem = baixa.FieldError(f.name, "is required")
			}
			continue
		}
		n, err := strconv.ParseInt(string(f.v), 10, 64)
		if err != nil && problem == nil {
			problem = baixa.FieldError(f.name, "want a whole number, not %q", f.v)
		}
		*f.dst = n
	}
	if problem != nil {
		return e, problem
	}
	e.Installment = string(r.IDContasAReceber)
	if e.Installment == "" {
		e.Installment = string(r.IDParcela)
	}
	e.Parcela, e.Name, e.TaxID = string(r.Parcela), string(r.NomeCliente), baixa.NormalizeTaxID(string(r.CPFCNPJ))
	if e.ParcelaNumber == 0 && e.Parcela != "" {
		n, _, _ := strings.Cut(e.Parcela, "/")
		e.ParcelaNumber, _ = strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	}
	if e.Installment == "" && (e.IDAcordo == 0 || e.ParcelaNumber == 0) {
		return e, baixa.FieldError("id_contasareceber", "is required (or id_parcela, or id_acordo with parcela_inteiro)")
	}
	e.PaymentMethod = strings.TrimSpace(string(r.MeioPagto) + " " + string(r.FormaPagto))
	for _, d := range []struct {
		name string
		v    provider.Text
		dst  *baixa.Date
	}{{"data_vencto", r.DataVencto, &e.DueOn}, {"data_pagto", r.DataPagto, &e.PaidOn}, {"data_rec", r.DataRec, &e.CreditOn}} {
		v, err := brazil.ParseDate(string(d.v))
		if err != nil {
			return e, baixa.FieldError(d.name, "%v", err)
		}
		*d.dst = v
	}
	e.PaidAt = string(r.DataPagto)
	if e.PaidOn.IsZero() {
		return e, baixa.FieldError("data_pagto", "is required")
	}
	// Every valor_* field, kept exactly; the two that settle must be exact
	// to the centavo, the others (proportional shares, commissions) need
	// only be numbers.
	var all map[string]json.RawMessage
	_ = json.Unmarshal(b, &all)
	for k, raw := range all {
		if !strings.HasPrefix(k, "valor_") {
			continue
		}
		var t provider.Text
		if err := json.Unmarshal(raw, &t); err != nil {
			return e, baixa.FieldError(k, "%v", err)
		}
		if t == "" {
			continue
		}
		if !isDecimal(string(t)) {
			return e, baixa.FieldError(k, "want a decimal number, not %q", t)
		}
		e.Values[k] = string(t)
	}
	for _, a := range []struct {
		name string
		dst  *baixa.Amount
	}{{"valor_pago", &e.Paid}, {"valor_liquido", &e.Net}} {
		v, ok := e.Values[a.name]
		if !ok {
			continue
		}
		amt, err := baixa.ParseExactAmount(strings.TrimPrefix(v, "+"))
		if err != nil {
			return e, baixa.FieldError(a.name, "%v", err)
		}
		*a.dst = amt
	}
	if _, ok := e.Values["valor_pago"]; !ok {
		return e, baixa.FieldError("valor_pago", "is required")
	}
	return e, nil
}

// Decoder turns stored events into movements: each event pays its
// installment; a mark-read answer with an invoice link keeps the link on it.
type Decoder struct{}

var _ baixa.Decoder = Decoder{}

// Decode reads one stored document.
func (Decoder) Decode(_ context.Context, doc *baixa.Document, r io.Reader, emit func(*baixa.Movement) error) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch doc.ContentType {
	case ContentEvent:
		e, err := parseEvent(b)
		if err != nil {
			return err
		}
		return emit(paidMovement(doc, e, b))
	case ContentRead:
		var read struct {
			Evento   json.RawMessage `json:"evento"`
			Resposta answer          `json:"resposta"`
		}
		if err := provider.DecodeJSON(b, &read); err != nil {
			return err
		}
		e, err := parseEvent(read.Evento)
		if err != nil {
			return fmt.Errorf("evento: %w", err)
		}
		if read.Resposta.Link == "" {
			return nil
		}
		return emit(&baixa.Movement{
			AccountID: doc.AccountID, Provider: Provider, Key: fmt.Sprintf("%s/lido/%d", doc.ConnectionID, e.ID),
			Kind: baixa.MoveStatusChanged, References: references(e), PaymentLink: string(read.Resposta.Link),
			Note:       "Recuperador's invoice link, from the mark-read of event " + strconv.FormatInt(e.ID, 10),
			Supplement: true,
		})
	}
	return fmt.Errorf("unknown Recuperador document type %q", doc.ContentType)
}

func references(e *event) baixa.References {
	r := baixa.References{InstallmentID: e.Installment}
	if e.IDAcordo != 0 && e.ParcelaNumber != 0 {
		r.AgreementInstallment = fmt.Sprintf("%d/%d", e.IDAcordo, e.ParcelaNumber)
	}
	return r
}

// valueNotes are the breakdown's fields, in the order a note lists them.
var valueNotes = []string{"valor_principal_proporcional", "valor_juros_proporcionais", "valor_multa_proporcional",
	"valor_correcao_monetaria_proporcional", "valor_honorarios_adv", "valor_honorarios_ass", "valor_taxa_adm",
	"valor_taxa_camara", "valor_taxa_federacao", "valor_taxa_financeira", "valor_taxa_representante",
	"valor_taxa_adm_agrupada", "valor_liquido"}

// paidMovement is the installment's payment. The amount paid settles the
// charge; what the creditor nets is the credited amount, and the rest
// (commissions and fees kept by the agency) the fee. The proportional
// shares of principal, interest, fine and correction are parts of the
// installment's value, not additions to it: they are kept in the note and
// in the event itself, exactly as sent.
func paidMovement(doc *baixa.Document, e *event, raw []byte) *baixa.Movement {
	m := &baixa.Movement{
		AccountID: doc.AccountID, Provider: Provider, Key: fmt.Sprintf("%s/evento/%d", doc.ConnectionID, e.ID),
		Kind: baixa.MovePaid, References: references(e), PaidAmount: e.Paid, PaidOn: e.PaidOn, CreditedOn: e.CreditOn,
		Payer: baixa.Payer{Name: e.Name, Document: e.TaxID}, Channel: e.PaymentMethod, ProviderStatus: "parcela aprovada",
		Raw: raw,
	}
	if t, err := brazil.ParseTime(e.PaidAt); err == nil {
		m.OccurredAt = t
	}
	if _, ok := e.Values["valor_liquido"]; ok {
		m.CreditedAmount = e.Net
		if e.Paid > e.Net {
			m.FeeAmount = e.Paid - e.Net
		}
	}
	var parts []string
	if e.Parcela != "" {
		parts = append(parts, "parcela "+e.Parcela)
	}
	for _, k := range valueNotes {
		if v, ok := e.Values[k]; ok {
			parts = append(parts, strings.TrimPrefix(k, "valor_")+" "+v)
		}
	}
	m.Note = strings.Join(parts, "; ")
	return m
}

// isDecimal reports whether s is a plain decimal number ("-12.3456").
func isDecimal(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") {
		return false
	}
	return strings.Trim(whole+frac, "0123456789") == ""
}

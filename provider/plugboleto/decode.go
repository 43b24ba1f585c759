package plugboleto

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"strings"

	"baixa"
	"baixa/brazil"
	"baixa/cnab"
	"baixa/provider"
)

// Content types of the documents a PlugBoleto connection stores.
const (
	// ContentFile is a return file imported to be uploaded to PlugBoleto.
	ContentFile = "application/vnd.plugboleto.arquivo-retorno"
	// ContentResult is an answer of GET /retornos/{protocolo}, PROCESSADO.
	ContentResult = "application/vnd.plugboleto.retorno+json"
	// ContentBoletos is an answer of GET /boletos.
	ContentBoletos = "application/vnd.plugboleto.boletos+json"
	// ContentWebhook is one of PlugBoleto's webhooks.
	ContentWebhook = "application/vnd.plugboleto.webhook+json"
)

// resultData is _dados of GET /retornos/{protocolo}.
type resultData struct {
	Situacao       string            `json:"situacao"`
	Mensagem       provider.Text     `json:"mensagem"`
	Titulos        []Titulo          `json:"titulos"`
	NaoConciliados []json.RawMessage `json:"titulosNaoConciliados"`
}

func parseResult(data json.RawMessage) (*Result, error) {
	var d resultData
	if len(data) > 0 && !bytes.Equal(data, []byte("null")) {
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("_dados: %w", err)
		}
	}
	r := &Result{Situacao: strings.ToUpper(strings.TrimSpace(d.Situacao)), Message: string(d.Mensagem), Unreconciled: len(d.NaoConciliados)}
	for _, t := range d.Titulos {
		t.IDIntegracao = strings.TrimSpace(t.IDIntegracao)
		if t.IDIntegracao == "" {
			return nil, fmt.Errorf("a reconciled boleto without idIntegracao")
		}
		t.CedenteCPFCNPJ = baixa.NormalizeTaxID(t.CedenteCPFCNPJ)
		r.Titulos = append(r.Titulos, t)
	}
	return r, nil
}

// naoConciliado is a record of the file that PlugBoleto matched to none of
// its boletos; it carries its payment data itself.
type naoConciliado struct {
	Ocorrencias          []string       `json:"Ocorrencias"`
	CodigoMovimento      provider.Texts `json:"CodigoMovimento"`
	NossoNumero          provider.Text  `json:"TituloNossoNumero"`
	NossoNumeroOriginal  provider.Text  `json:"TituloNossoNumeroOriginal"`
	NumeroDocumento      provider.Text  `json:"TituloNumeroDocumento"`
	DataVencimento       provider.Text  `json:"TituloDataVencimento"`
	ValorPago            provider.Text  `json:"PagamentoValorPago"`
	ValorCredito         provider.Text  `json:"PagamentoValorCredito"`
	ValorTaxaCobranca    provider.Text  `json:"PagamentoValorTaxaCobranca"`
	ValorAcrescimos      provider.Text  `json:"PagamentoValorAcrescimos"`
	ValorOutrosCreditos  provider.Text  `json:"PagamentoValorOutrosCreditos"`
	PagamentoData        provider.Text  `json:"PagamentoData"`
	PagamentoDataCredito provider.Text  `json:"PagamentoDataCredito"`
	PagamentoRealizado   provider.Text  `json:"PagamentoRealizado"`
}

// boleto is one boleto of GET /boletos.
type boleto struct {
	IDIntegracao         provider.Text `json:"IdIntegracao"`
	Situacao             provider.Text `json:"situacao"`
	Motivo               provider.Text `json:"motivo"`
	NossoNumero          provider.Text `json:"TituloNossoNumero"`
	NumeroDocumento      provider.Text `json:"TituloNumeroDocumento"`
	Valor                provider.Text `json:"TituloValor"`
	DataVencimento       provider.Text `json:"TituloDataVencimento"`
	PagamentoRealizado   provider.Text `json:"PagamentoRealizado"`
	PagamentoData        provider.Text `json:"PagamentoData"`
	PagamentoDataCredito provider.Text `json:"PagamentoDataCredito"`
	ValorPago            provider.Text `json:"PagamentoValorPago"`
	ValorCredito         provider.Text `json:"PagamentoValorCredito"`
	ValorTaxaCobranca    provider.Text `json:"PagamentoValorTaxaCobranca"`
	ValorDesconto        provider.Text `json:"PagamentoValorDesconto"`
	ValorAcrescimos      provider.Text `json:"PagamentoValorAcrescimos"`
	ValorAbatimento      provider.Text `json:"PagamentoValorAbatimento"`
	ValorIOF             provider.Text `json:"PagamentoValorIOF"`
	Movimentos           []mov         `json:"TituloMovimentos"`
}

type mov struct {
	Codigo   provider.Text `json:"codigo"`
	Mensagem provider.Text `json:"mensagem"`
}

// Decoder turns PlugBoleto's answers into movements: the unreconciled
// records of a protocol's result, and the boletos read back.
type Decoder struct{}

var _ baixa.Decoder = Decoder{}

// Decode reads one stored answer.
func (Decoder) Decode(_ context.Context, doc *baixa.Document, r io.Reader, emit func(*baixa.Movement) error) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("not PlugBoleto's JSON: %w", err)
	}
	contentType, params, err := mime.ParseMediaType(doc.ContentType)
	if err != nil {
		contentType = doc.ContentType
	}
	switch contentType {
	case ContentResult:
		var d resultData
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return fmt.Errorf("_dados: %w", err)
		}
		for i, rec := range d.NaoConciliados {
			m, err := unreconciled(doc, rec, params["banco"])
			if err != nil {
				return fmt.Errorf("titulosNaoConciliados[%d]: %w", i, err)
			}
			if err := emit(m); err != nil {
				return err
			}
		}
		return nil
	case ContentBoletos:
		var list []json.RawMessage
		if err := json.Unmarshal(env.Data, &list); err != nil {
			return fmt.Errorf("_dados: want a list of boletos: %w", err)
		}
		for i, rec := range list {
			m, err := boletoMovement(doc, rec)
			if err != nil {
				return fmt.Errorf("_dados[%d]: %w", i, err)
			}
			if err := emit(m); err != nil {
				return err
			}
		}
		return nil
	case ContentFile, ContentWebhook:
		return fmt.Errorf("a %s is read through PlugBoleto, not settled by itself: import the file (or wait for the webhook) again", doc.ContentType)
	}
	return fmt.Errorf("unknown PlugBoleto document type %q", doc.ContentType)
}

// amounts parses named amounts into their destinations, naming the field
// of the first that does not parse.
func amounts(pairs ...any) error {
	for i := 0; i < len(pairs); i += 3 {
		name, v, dst := pairs[i].(string), pairs[i+1].(provider.Text), pairs[i+2].(*baixa.Amount)
		a, err := brazil.ParseAmount(string(v))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*dst = a
	}
	return nil
}

func dates(pairs ...any) error {
	for i := 0; i < len(pairs); i += 3 {
		name, v, dst := pairs[i].(string), pairs[i+1].(provider.Text), pairs[i+2].(*baixa.Date)
		d, err := brazil.ParseDate(string(v))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*dst = d
	}
	return nil
}

// codeKinds is what a FEBRABAN movement code says, when PlugBoleto's own
// PagamentoRealizado does not say it was paid.
var codeKinds = map[string]baixa.MovementKind{
	"02": baixa.MoveRegistered, "03": baixa.MoveRejected, "06": baixa.MovePaid, "17": baixa.MovePaid,
	"09": baixa.MoveWrittenOff, "10": baixa.MoveWrittenOff, "14": baixa.MoveDueDateChanged,
}

// unreconciled is the movement of a record PlugBoleto matched to none of
// its boletos. bank is the file's (the answer does not say it): a nosso
// número of the length that bank writes without a check digit (Banco do
// Brasil's and Caixa's 17 digits) is marked whole, so that settling does
// not take its last digit for one.
func unreconciled(doc *baixa.Document, rec json.RawMessage, bank string) (*baixa.Movement, error) {
	var n naoConciliado
	if err := json.Unmarshal(rec, &n); err != nil {
		return nil, err
	}
	if n.NossoNumero == "" && n.NumeroDocumento == "" {
		return nil, fmt.Errorf("neither TituloNossoNumero nor TituloNumeroDocumento")
	}
	m := &baixa.Movement{
		AccountID: doc.AccountID, Provider: Provider, Kind: baixa.MoveStatusChanged, Raw: rec,
		References: baixa.References{NossoNumero: string(n.NossoNumero), SeuNumero: string(n.NumeroDocumento)},
		Note:       strings.Join(n.Ocorrencias, "; "),
	}
	if b := cnab.Banks[bank]; b != nil {
		m.NossoNumeroWhole = b.WholeNumber(string(n.NossoNumero))
	}
	var other baixa.Amount
	if err := amounts("PagamentoValorPago", n.ValorPago, &m.PaidAmount, "PagamentoValorCredito", n.ValorCredito, &m.CreditedAmount,
		"PagamentoValorTaxaCobranca", n.ValorTaxaCobranca, &m.FeeAmount, "PagamentoValorAcrescimos", n.ValorAcrescimos, &m.InterestAmount,
		"PagamentoValorOutrosCreditos", n.ValorOutrosCreditos, &other); err != nil {
		return nil, err
	}
	var due baixa.Date
	if err := dates("PagamentoData", n.PagamentoData, &m.PaidOn, "PagamentoDataCredito", n.PagamentoDataCredito, &m.CreditedOn,
		"TituloDataVencimento", n.DataVencimento, &due); err != nil {
		return nil, err
	}
	if len(n.CodigoMovimento) > 0 {
		m.ProviderCode = n.CodigoMovimento[0]
		m.ProviderStatus = strings.Join(n.CodigoMovimento, ",")
	}
	switch {
	case n.PagamentoRealizado.Truth():
		m.Kind = baixa.MovePaid
	case codeKinds[m.ProviderCode] != "":
		m.Kind = codeKinds[m.ProviderCode]
	}
	if m.Kind == baixa.MoveDueDateChanged {
		m.DueDate = due
	}
	if m.Kind != baixa.MovePaid {
		m.PaidAmount, m.CreditedAmount, m.PaidOn, m.CreditedOn = 0, 0, baixa.Date{}, baixa.Date{}
	}
	if other > 0 {
		m.Note = strings.TrimPrefix(m.Note+"; outros créditos "+other.String(), "; ")
	}
	m.Key = fmt.Sprintf("%s/naoconciliado/%s/%s/%s/%s/%s", doc.ConnectionID, m.ProviderStatus,
		baixa.NormalizeNossoNumero(string(n.NossoNumero)), n.NumeroDocumento, m.PaidOn, m.PaidAmount)
	if m.Kind == baixa.MoveDueDateChanged {
		m.Key += "/" + m.DueDate.String()
	}
	return m, nil
}

// situationKinds maps a boleto's situacao to what it means for its charge.
var situationKinds = map[string]baixa.MovementKind{
	"LIQUIDADO": baixa.MovePaid, "BAIXADO": baixa.MoveWrittenOff, "REJEITADO": baixa.MoveRejected,
	"FALHA": baixa.MoveRejected, "REGISTRADO": baixa.MoveRegistered, "DESCARTADO": baixa.MoveCancelled,
}

func boletoMovement(doc *baixa.Document, rec json.RawMessage) (*baixa.Movement, error) {
	var b boleto
	if err := json.Unmarshal(rec, &b); err != nil {
		return nil, err
	}
	if b.IDIntegracao == "" {
		return nil, fmt.Errorf("a boleto without IdIntegracao")
	}
	sit := strings.ToUpper(string(b.Situacao))
	if sit == "" {
		return nil, fmt.Errorf("boleto %s has no situacao", b.IDIntegracao)
	}
	m := &baixa.Movement{
		AccountID: doc.AccountID, Provider: Provider, Kind: baixa.MoveStatusChanged, Raw: rec, ProviderStatus: sit,
		References: baixa.References{IntegrationID: string(b.IDIntegracao), NossoNumero: string(b.NossoNumero), SeuNumero: string(b.NumeroDocumento)},
		Note:       string(b.Motivo),
	}
	if k, ok := situationKinds[sit]; ok {
		m.Kind = k
	}
	if err := amounts("TituloValor", b.Valor, &m.Amount, "PagamentoValorPago", b.ValorPago, &m.PaidAmount,
		"PagamentoValorCredito", b.ValorCredito, &m.CreditedAmount, "PagamentoValorTaxaCobranca", b.ValorTaxaCobranca, &m.FeeAmount,
		"PagamentoValorDesconto", b.ValorDesconto, &m.DiscountAmount, "PagamentoValorAcrescimos", b.ValorAcrescimos, &m.InterestAmount,
		"PagamentoValorAbatimento", b.ValorAbatimento, &m.RebateAmount, "PagamentoValorIOF", b.ValorIOF, &m.IOFAmount); err != nil {
		return nil, err
	}
	if err := dates("PagamentoData", b.PagamentoData, &m.PaidOn, "PagamentoDataCredito", b.PagamentoDataCredito, &m.CreditedOn); err != nil {
		return nil, err
	}
	if n := len(b.Movimentos); n > 0 {
		m.ProviderCode = string(b.Movimentos[n-1].Codigo)
	}
	if m.Kind == baixa.MovePaid && m.PaidAmount == 0 && m.PaidOn.IsZero() {
		// PlugBoleto's own example shows this: settled, the payment not told.
		m.Note = strings.TrimPrefix(m.Note+"; LIQUIDADO without payment data (PagamentoValorPago and PagamentoData empty)", "; ")
	}
	if m.Kind != baixa.MovePaid {
		m.PaidAmount, m.CreditedAmount, m.PaidOn, m.CreditedOn = 0, 0, baixa.Date{}, baixa.Date{}
		m.InterestAmount, m.DiscountAmount, m.RebateAmount, m.IOFAmount, m.FeeAmount = 0, 0, 0, 0, 0
	}
	m.Key = fmt.Sprintf("%s/boleto/%s/%s/%s/%s", doc.ConnectionID, b.IDIntegracao, sit, m.PaidOn, m.PaidAmount)
	return m, nil
}

// Webhook is what baixa reads of one of PlugBoleto's webhooks: which boleto
// to read back.
type Webhook struct {
	Tipo         string
	IDIntegracao string
	SentAt       string
}

// ParseWebhook reads a webhook, bare or wrapped in {"body": ...}, with
// either spelling of its keys (idintegracao, idIntegracao, dataHoraEnvio,
// datahoraenvio: JSON keys are matched regardless of case).
func ParseWebhook(body []byte) (*Webhook, error) {
	type payload struct {
		Tipo         provider.Text `json:"tipoWH"`
		SentAt       provider.Text `json:"dataHoraEnvio"`
		IDIntegracao provider.Text `json:"idintegracao"`
		Titulo       *struct {
			IDIntegracao provider.Text `json:"idintegracao"`
		} `json:"titulo"`
		Body json.RawMessage `json:"body"`
	}
	var p payload
	if err := provider.DecodeJSON(body, &p); err != nil {
		return nil, err
	}
	if len(p.Body) > 0 && p.Tipo == "" {
		var inner payload
		if err := provider.DecodeJSON(p.Body, &inner); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		p = inner
	}
	w := &Webhook{Tipo: string(p.Tipo), SentAt: string(p.SentAt), IDIntegracao: string(p.IDIntegracao)}
	if w.IDIntegracao == "" && p.Titulo != nil {
		w.IDIntegracao = string(p.Titulo.IDIntegracao)
	}
	if w.Tipo == "" {
		return nil, baixa.FieldError("tipoWH", "is required")
	}
	if w.IDIntegracao == "" {
		return nil, baixa.FieldError("titulo.idintegracao", "is required")
	}
	if len(w.IDIntegracao) > 100 {
		return nil, baixa.FieldError("titulo.idintegracao", "longer than 100 characters")
	}
	return w, nil
}

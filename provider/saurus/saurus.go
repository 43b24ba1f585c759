// Package saurus receives Saurus's payment results ("Faturas Retorno"):
// Saurus POSTs /api/financeiro/retorno (the path it mandates) after each
// payment transaction, approved or not, and re-sends it from background
// jobs until it gets a protocol id.
package saurus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"baixa"
	"baixa/provider"
)

// Provider is the provider name of Saurus connections and documents.
const Provider = "saurus"

// Settings are a Saurus connection's: how its calls authenticate (the
// calls to /api/financeiro/retorno are matched to a connection by them).
type Settings struct {
	Auth baixa.InboundAuth `json:"auth"`
}

// Connector validates Saurus connections; Saurus calls baixa, so there is
// nothing to fetch.
var Connector = provider.Callbacks{Settings: func() (any, *baixa.InboundAuth) { s := &Settings{}; return s, &s.Auth }}

// Result is Saurus's payload: camelCase outside, PascalCase inside
// resultadoTransacao; fields not listed are kept in the stored document.
type Result struct {
	Faturas            []Fatura    `json:"faturas"`
	ValorTotal         json.Number `json:"valorTotal"`
	ResultadoTransacao Transacao   `json:"resultadoTransacao"`
}

// Fatura is one invoice the transaction pays.
type Fatura struct {
	NumeroFatura     string      `json:"numeroFatura"`
	Historico        string      `json:"historico"`
	ValorFatura      json.Number `json:"valorFatura"`
	PagamentoParcial bool        `json:"pagamentoParcial"`
	Pessoa           struct {
		CPFCNPJ string `json:"cpfCnpj"`
		Nome    string `json:"nome"`
	} `json:"pessoa"`
}

// Transacao is the payment transaction's outcome.
type Transacao struct {
	IDTransacao    string `json:"IdTransacao"`
	NSU            string `json:"NSU"`
	CodAut         string `json:"CodAut"`
	CodControle    string `json:"CodControle"`
	DRetorno       string `json:"DRetorno"`
	NumCartao      string `json:"NumCartao"`
	Bandeira       string `json:"Bandeira"`
	ValorPagamento any    `json:"ValorPagamento"` // "22.0" as Saurus sends it, or a number
	ModPagamento   int    `json:"ModPagamento"`
	QtdeParcelas   int    `json:"QtdeParcelas"`
	DTransacao     string `json:"DTransacao"`
	Status         int    `json:"Status"`
	MsgRetorno     string `json:"MsgRetorno"`
	ArqRetorno     string `json:"ArqRetorno"`
}

// amount reads a dot-decimal amount ("22.0", 22, 100.5) exactly.
func amount(v any, field string) (baixa.Amount, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return 0, baixa.FieldError(field, "missing")
	default:
		return 0, baixa.FieldError(field, "want an amount such as \"22.0\"")
	}
	a, err := baixa.ParseExactAmount(s)
	if err != nil {
		return 0, baixa.FieldError(field, "%v", err)
	}
	return a, nil
}

// parse decodes and checks a payload; errors name the position or field.
func parse(body []byte) (*Result, error) {
	var res Result
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, baixa.FieldError("body", "not valid JSON at byte %d: %v", se.Offset, err)
		}
		return nil, baixa.FieldError("body", "%v (at byte %d)", err, dec.InputOffset())
	}
	if dec.More() {
		return nil, baixa.FieldError("body", "data after the JSON object (at byte %d)", dec.InputOffset())
	}
	t := res.ResultadoTransacao
	if len(res.Faturas) == 0 {
		return nil, baixa.FieldError("faturas", "no invoice")
	}
	for i, f := range res.Faturas {
		if strings.TrimSpace(f.NumeroFatura) == "" {
			return nil, baixa.FieldError(fmt.Sprintf("faturas[%d].numeroFatura", i), "missing")
		}
		if _, err := amount(f.ValorFatura, fmt.Sprintf("faturas[%d].valorFatura", i)); err != nil {
			return nil, err
		}
	}
	if transactionKey(t) == "" {
		return nil, baixa.FieldError("resultadoTransacao.IdTransacao", "missing (and no CodControle, nor NSU and CodAut)")
	}
	if _, err := amount(t.ValorPagamento, "resultadoTransacao.ValorPagamento"); err != nil {
		return nil, err
	}
	return &res, nil
}

// transactionKey identifies a transaction across Saurus's re-sends.
func transactionKey(t Transacao) string {
	switch {
	case t.IDTransacao != "":
		return "id:" + t.IDTransacao
	case t.CodControle != "":
		return "ctl:" + t.CodControle
	case t.NSU != "" && t.CodAut != "":
		return "nsu:" + t.NSU + "/" + t.CodAut + "/" + t.DTransacao
	}
	return ""
}

// Receiver takes Saurus's payment results.
type Receiver struct{}

var _ baixa.Receiver = Receiver{}

// Auth returns the connection's authentication.
func (Receiver) Auth(c *baixa.Connection) (baixa.InboundAuth, error) { return Connector.Auth(c) }

// Receive checks the payload and stores it as it came; a re-sent
// transaction has the same key.
func (Receiver) Receive(_ context.Context, _ *http.Request, body []byte, c *baixa.Connection) (*baixa.NewDocument, error) {
	res, err := parse(body)
	if err != nil {
		return nil, err
	}
	return &baixa.NewDocument{Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: "application/json",
		DedupKey: c.ID + "/" + transactionKey(res.ResultadoTransacao), Body: bytes.NewReader(body)}, nil
}

// Answer is what Saurus expects: the protocol id, the same for a re-send.
func (Receiver) Answer(doc *baixa.Document, _ bool) any { return map[string]string{"id": doc.ID} }

// Decoder turns a stored payment result into movements, one per invoice.
//
// An approved transaction (Status 1) pays the invoices in their order,
// each at most its valorFatura, until ValorPagamento is used up; an
// invoice that gets less than its value is paid in part (flagged when it
// does not accept partial payment), and money left after the last invoice
// is an unmatched credit. Any other status is a declined attempt on each
// invoice, with MsgRetorno.
type Decoder struct{}

var _ baixa.Decoder = Decoder{}

// Decode emits the movements.
func (Decoder) Decode(_ context.Context, doc *baixa.Document, r io.Reader, emit func(*baixa.Movement) error) error {
	body, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return err
	}
	res, err := parse(body)
	if err != nil {
		return err
	}
	t := res.ResultadoTransacao
	key := transactionKey(t)
	paid, _ := amount(t.ValorPagamento, "")
	occurred, _ := time.ParseInLocation(time.DateTime, t.DTransacao, baixa.SaoPaulo)
	channel := map[int]string{1: "dinheiro", 2: "cheque", 3: "cartao_credito", 4: "cartao_debito", 15: "boleto", 17: "pix"}[t.ModPagamento]
	base := func(f Fatura) *baixa.Movement {
		return &baixa.Movement{DocumentID: doc.ID, AccountID: doc.AccountID, Provider: Provider,
			References: baixa.References{InvoiceNumber: strings.TrimSpace(f.NumeroFatura)}, OccurredAt: occurred,
			Channel: channel, ProviderCode: strconv.Itoa(t.Status), ProviderStatus: t.MsgRetorno,
			Payer: baixa.Payer{Name: f.Pessoa.Nome, Document: f.Pessoa.CPFCNPJ}}
	}
	if t.Status != 1 {
		for _, f := range res.Faturas {
			m := base(f)
			m.Kind, m.Key, m.Note = baixa.MoveDeclined, key+"/"+f.NumeroFatura, "declined: "+t.MsgRetorno
			if err := emit(m); err != nil {
				return err
			}
		}
		return nil
	}
	left := paid
	for _, f := range res.Faturas {
		value, _ := amount(f.ValorFatura, "")
		share := min(value, left)
		left -= share
		m := base(f)
		m.Kind, m.Key, m.Amount, m.PaidAmount = baixa.MovePaid, key+"/"+f.NumeroFatura, value, share
		if !occurred.IsZero() {
			m.PaidOn = baixa.DateOf(occurred)
		}
		m.Note = fmt.Sprintf("card %s %s, NSU %s, authorization %s", t.Bandeira, t.NumCartao, t.NSU, t.CodAut)
		if share == 0 {
			m.Kind, m.Note = baixa.MoveStatusChanged, "the transaction's value ran out before this invoice; "+m.Note
		} else if share < value && !f.PagamentoParcial {
			m.Note = "partial payment on an invoice that does not accept one; " + m.Note
		}
		if err := emit(m); err != nil {
			return err
		}
	}
	if left > 0 {
		m := base(Fatura{NumeroFatura: "credit:" + key})
		m.Kind, m.Key, m.PaidAmount = baixa.MovePaid, key+"/surplus", left
		m.Note = fmt.Sprintf("%s paid beyond the invoices' values", left)
		return emit(m)
	}
	return nil
}

package plugboleto

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"baixa"
	"baixa/cnab"
	"baixa/provider"
)

// SandboxBoleto is a boleto the sandbox knows, as PlugBoleto stores it.
type SandboxBoleto struct {
	IDIntegracao    string       `json:"id_integracao"`
	Cedente         string       `json:"cedente,omitempty"` // CNPJ; "" is any of the sandbox's
	NossoNumero     string       `json:"nosso_numero"`
	NumeroDocumento string       `json:"numero_documento,omitempty"`
	Valor           baixa.Amount `json:"valor"`
	Vencimento      baixa.Date   `json:"vencimento,omitzero"`
	Situacao        string       `json:"situacao,omitempty"` // REGISTRADO until a return file says otherwise
	Motivo          string       `json:"motivo,omitempty"`
	PaidAmount      baixa.Amount `json:"-"`
	CreditedAmount  baixa.Amount `json:"-"`
	Fee             baixa.Amount `json:"-"`
	Interest        baixa.Amount `json:"-"`
	PaidOn          baixa.Date   `json:"-"`
	CreditedOn      baixa.Date   `json:"-"`
	Movimentos      []string     `json:"-"` // the movement codes seen
	// HidePayment answers LIQUIDADO with empty payment fields, as
	// PlugBoleto's own documentation example does.
	HidePayment bool `json:"hide_payment,omitempty"`
}

// SandboxFaults are failures the sandbox injects; counters are used up
// one request at a time.
type SandboxFaults struct {
	RateLimited  int `json:"rate_limited,omitempty"`  // 429 with Retry-After: 1
	Firewall     int `json:"firewall,omitempty"`      // 403 from the WAF, an HTML page
	ServerErrors int `json:"server_errors,omitempty"` // 500
	Malformed    int `json:"malformed,omitempty"`     // a truncated JSON answer
	// Delay holds every answer back (to reach a client's timeout).
	Delay time.Duration `json:"-"`
	// ProcessingDelay is how long an upload stays PROCESSANDO, and
	// ProcessingPolls how many queries of its protocol it answers so.
	ProcessingDelay time.Duration `json:"-"`
	ProcessingPolls int           `json:"processing_polls,omitempty"`
	// RefuseUploads answers every upload `_status: "erro"` with this message.
	RefuseUploads string `json:"refuse_uploads,omitempty"`
	// CodigoMovimentoList writes CodigoMovimento as a list, as one client types it.
	CodigoMovimentoList bool `json:"codigo_movimento_list,omitempty"`
	// WithCedente adds cedentecpfcnpj to every reconciled boleto.
	WithCedente bool `json:"with_cedente,omitempty"`
}

// Sandbox simulates PlugBoleto's API for one software house and its
// beneficiaries: uploads of return files (read with baixa's CNAB reader
// and reconciled with the boletos it knows by nosso número), protocols,
// boleto queries and webhooks. It is an http.Handler mounted at the root:
// its API is under /api/v1.
type Sandbox struct {
	CNPJSH, TokenSH string
	// Cedentes are the beneficiaries: CNPJ -> their own token.
	Cedentes map[string]string

	mu        sync.Mutex
	faults    SandboxFaults
	boletos   map[string]*SandboxBoleto // by idIntegracao
	protocols map[string]*protocol
	requests  map[string]int // "METHOD /path" -> count
	uploads   int
}

type protocol struct {
	ready   time.Time
	polls   int // queries still answered PROCESSANDO
	err     string
	titulos []map[string]string
	nao     []map[string]any
}

// NewSandbox returns a sandbox for a software house with one beneficiary.
func NewSandbox(cnpjSH, tokenSH, cnpjCedente, tokenCedente string) *Sandbox {
	return &Sandbox{
		CNPJSH: cnpjSH, TokenSH: tokenSH, Cedentes: map[string]string{cnpjCedente: tokenCedente},
		boletos: map[string]*SandboxBoleto{}, protocols: map[string]*protocol{}, requests: map[string]int{},
	}
}

// SetFaults replaces the injected faults.
func (s *Sandbox) SetFaults(f SandboxFaults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// AddBoleto registers a boleto (REGISTRADO unless Situacao says otherwise).
func (s *Sandbox) AddBoleto(b SandboxBoleto) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.Situacao == "" {
		b.Situacao = "REGISTRADO"
	}
	s.boletos[b.IDIntegracao] = &b
}

// FinishProcessing makes every uploaded file's protocol ready now.
func (s *Sandbox) FinishProcessing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.protocols {
		p.ready, p.polls = time.Now(), 0
	}
}

// Boleto returns a copy of a boleto's state.
func (s *Sandbox) Boleto(id string) (SandboxBoleto, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.boletos[id]
	if !ok {
		return SandboxBoleto{}, false
	}
	return *b, true
}

// Requests returns how many requests reached "METHOD /path" (protocols
// and boletos counted without their ids: "GET /retornos", "GET /boletos").
func (s *Sandbox) Requests(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[key]
}

func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/sandbox/") {
		s.control(w, r)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	key := r.Method + " " + path
	if strings.HasPrefix(path, "/retornos/") {
		key = r.Method + " /retornos"
	}
	s.mu.Lock()
	delay := s.faults.Delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	s.requests[key]++
	f := &s.faults
	var fault string
	switch {
	case f.RateLimited > 0:
		f.RateLimited--
		fault = "429"
	case f.Firewall > 0:
		f.Firewall--
		fault = "403"
	case f.ServerErrors > 0:
		f.ServerErrors--
		fault = "500"
	case f.Malformed > 0:
		f.Malformed--
		fault = "truncated"
	}
	s.mu.Unlock()
	switch fault {
	case "429":
		w.Header().Set("Retry-After", "1")
		answer(w, http.StatusTooManyRequests, "erro", "Limite de requisições excedido", nil)
		return
	case "403":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "<html><body><h1>403 Forbidden</h1>Request blocked.</body></html>")
		return
	case "500":
		answer(w, http.StatusInternalServerError, "erro", "Erro interno", nil)
		return
	case "truncated":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"_status": "sucesso", "_dados": {"situacao": "PROCE`)
		return
	}
	cedente, ok := s.authenticate(r)
	if !ok {
		answer(w, http.StatusUnauthorized, "erro", "Software House não encontrada ou token inválido", nil)
		return
	}
	if r.Header.Get("User-Agent") == "" {
		answer(w, http.StatusForbidden, "erro", "User-Agent obrigatório", nil)
		return
	}
	switch {
	case r.Method == http.MethodPost && path == "/retornos":
		s.upload(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/retornos/"):
		s.protocol(w, strings.TrimPrefix(path, "/retornos/"))
	case r.Method == http.MethodGet && path == "/boletos":
		s.list(w, r, cedente)
	default:
		answer(w, http.StatusNotFound, "erro", "Rota não encontrada", nil)
	}
}

// control serves the sandbox's own paths: POST /sandbox/boletos (a JSON
// array of SandboxBoleto), PUT /sandbox/faults (SandboxFaults, with
// "delay" and "processing_delay" as durations like "2s"), and POST
// /sandbox/webhooks ({"url", "header", "value", "tipo", "id_integracao",
// "wrapped"}: send one of PlugBoleto's webhooks).
func (s *Sandbox) control(w http.ResponseWriter, r *http.Request) {
	provider.Control(w, r, map[string]provider.ControlRoute{
		"POST /sandbox/boletos": provider.AddAll(func(b SandboxBoleto) error {
			if b.IDIntegracao == "" || b.NossoNumero == "" {
				return errors.New("each boleto needs id_integracao and nosso_numero")
			}
			return nil
		}, s.AddBoleto),
		"PUT /sandbox/faults": func(decode func(any) error) (any, error) {
			var f struct {
				SandboxFaults
				Delay           provider.Duration `json:"delay"`
				ProcessingDelay provider.Duration `json:"processing_delay"`
			}
			if err := decode(&f); err != nil {
				return nil, err
			}
			f.SandboxFaults.Delay, f.SandboxFaults.ProcessingDelay = time.Duration(f.Delay), time.Duration(f.ProcessingDelay)
			s.SetFaults(f.SandboxFaults)
			return nil, nil
		},
		"POST /sandbox/webhooks": func(decode func(any) error) (any, error) {
			var h struct {
				URL, Header, Value, Tipo string
				ID                       string `json:"id_integracao"`
				Wrapped                  bool
			}
			if err := decode(&h); err != nil {
				return nil, err
			}
			code, err := s.SendWebhook(r.Context(), h.URL, h.Header, h.Value, cmp.Or(h.Tipo, "notifica_liquidou"), h.ID, h.Wrapped)
			return map[string]int{"status": code}, err
		},
	})
}

func answer(w http.ResponseWriter, code int, status, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	body := map[string]any{"_status": status}
	if msg != "" {
		body["_mensagem"] = msg
	}
	if data != nil {
		body["_dados"] = data
	}
	_ = json.NewEncoder(w).Encode(body)
}

// authenticate checks the software house's or the beneficiary's headers.
func (s *Sandbox) authenticate(r *http.Request) (string, bool) {
	cedente := r.Header.Get("cnpj-cedente")
	tok, known := s.Cedentes[cedente]
	if !known {
		return "", false
	}
	if r.Header.Get("cnpj-sh") != "" {
		return cedente, r.Header.Get("cnpj-sh") == s.CNPJSH && r.Header.Get("token-sh") == s.TokenSH
	}
	return cedente, tok != "" && r.Header.Get("token-cedente") == tok
}

func newProtocol() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Sandbox) upload(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Arquivo string `json:"arquivo"`
		Nome    string `json:"nome"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&req); err != nil {
		answer(w, http.StatusBadRequest, "erro", "JSON inválido", nil)
		return
	}
	file, err := base64.StdEncoding.DecodeString(req.Arquivo)
	if err != nil || len(file) == 0 {
		answer(w, http.StatusBadRequest, "erro", "Campo arquivo deve estar em base64", []map[string]string{{"_campo": "arquivo", "_erro": "base64 inválido"}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.RefuseUploads != "" {
		answer(w, http.StatusBadRequest, "erro", s.faults.RefuseUploads, nil)
		return
	}
	s.uploads++
	p := &protocol{ready: time.Now().Add(s.faults.ProcessingDelay), polls: s.faults.ProcessingPolls}
	s.reconcile(p, file)
	id := newProtocol()
	s.protocols[id] = p
	answer(w, http.StatusOK, "sucesso", "Retorno pendente de processamento", map[string]string{"protocolo": id, "situacao": Processing})
}

// reconcile applies a return file to the boletos, as PlugBoleto does,
// with s.mu held.
func (s *Sandbox) reconcile(p *protocol, file []byte) {
	rd, err := cnab.NewReader(bytes.NewReader(file))
	if err != nil {
		// PlugBoleto reads banks that baixa has no table for: their files
		// are taken when their structure checks out, and reconcile nothing
		// here.
		if _, cerr := cnab.Check(context.Background(), bytes.NewReader(file)); cerr != nil {
			p.err = "Arquivo de retorno inválido: " + err.Error()
		}
		return
	}
	byNosso := map[string]*SandboxBoleto{}
	for _, b := range s.boletos {
		byNosso[baixa.NormalizeNossoNumero(b.NossoNumero)] = b
	}
	seen := map[string]bool{}
	for {
		d, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.err = "Arquivo de retorno inválido: " + err.Error()
			p.titulos, p.nao = nil, nil
			return
		}
		if b := byNosso[baixa.NormalizeNossoNumero(d.NossoNumero)]; b != nil {
			applyDetail(b, d)
			if !seen[b.IDIntegracao] {
				seen[b.IDIntegracao] = true
				t := map[string]string{"idIntegracao": b.IDIntegracao}
				if s.faults.WithCedente {
					t["cedentecpfcnpj"] = b.Cedente
				}
				p.titulos = append(p.titulos, t)
			}
			continue
		}
		var code any = d.Occurrence
		if s.faults.CodigoMovimentoList {
			code = []string{d.Occurrence}
		}
		paid := d.Occurrence == "06" || d.Occurrence == "17"
		p.nao = append(p.nao, map[string]any{
			"Ocorrencias": []string{"Movimento: " + d.Occurrence}, "CodigosOcorrencias": []string{}, "CodigoMovimento": code,
			"TituloNossoNumero": d.NossoNumero, "TituloNossoNumeroOriginal": baixa.NormalizeNossoNumero(d.NossoNumero),
			"TituloDataVencimento": brDate(d.DueDate), "TituloNumeroDocumento": d.SeuNumero,
			"PagamentoValorPago": brAmount(d.PaidAmount), "PagamentoValorCredito": brAmount(d.CreditedAmount),
			"PagamentoValorTaxaCobranca": brAmount(d.FeeAmount), "PagamentoValorAcrescimos": brAmount(d.InterestAmount),
			"PagamentoValorOutrosCreditos": brAmount(d.OtherCredits), "PagamentoData": brDate(d.OccurredOn),
			"PagamentoDataCredito": brDate(d.CreditedOn), "PagamentoRealizado": paid,
		})
	}
}

func applyDetail(b *SandboxBoleto, d *cnab.Detail) {
	b.Movimentos = append(b.Movimentos, d.Occurrence)
	switch d.Occurrence {
	case "02":
		if b.Situacao != "LIQUIDADO" && b.Situacao != "BAIXADO" {
			b.Situacao = "REGISTRADO"
		}
	case "03":
		b.Situacao, b.Motivo = "REJEITADO", "Entrada rejeitada: "+d.Reasons
	case "06", "17":
		b.Situacao = "LIQUIDADO"
		b.PaidAmount, b.CreditedAmount, b.Fee, b.Interest = d.PaidAmount, d.CreditedAmount, d.FeeAmount, d.InterestAmount
		b.PaidOn, b.CreditedOn = d.OccurredOn, d.CreditedOn
	case "09", "10":
		if b.Situacao != "LIQUIDADO" {
			b.Situacao = "BAIXADO"
		}
	}
}

func brAmount(a baixa.Amount) string { return strings.Replace(a.String(), ".", ",", 1) }

func brDate(d baixa.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%02d/%02d/%04d", d.Day, d.Month, d.Year)
}

func (s *Sandbox) protocol(w http.ResponseWriter, id string) {
	s.mu.Lock()
	p, ok := s.protocols[id]
	waiting := ok && p.polls > 0
	if waiting {
		p.polls--
	}
	s.mu.Unlock()
	switch {
	case !ok:
		answer(w, http.StatusNotFound, "erro", "Retorno não encontrado.", nil)
	case waiting || time.Now().Before(p.ready):
		answer(w, http.StatusOK, "sucesso", "Solicitação pendente de processamento", map[string]string{"situacao": Processing})
	case p.err != "":
		answer(w, http.StatusOK, "erro", p.err, nil)
	default:
		titulos, nao := p.titulos, p.nao
		if titulos == nil {
			titulos = []map[string]string{}
		}
		if nao == nil {
			nao = []map[string]any{}
		}
		answer(w, http.StatusOK, "sucesso", "", map[string]any{
			"situacao": "PROCESSADO", "mensagem": "", "processados": len(titulos) + len(nao), "titulos": titulos, "titulosNaoConciliados": nao,
		})
	}
}

func (s *Sandbox) list(w http.ResponseWriter, r *http.Request, cedente string) {
	var ids []string
	for _, v := range r.URL.Query()["idintegracao"] {
		ids = append(ids, strings.Split(v, ",")...)
	}
	if len(ids) > 200 {
		answer(w, http.StatusBadRequest, "erro", "No máximo 200 boletos por consulta", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, id := range ids {
		b, ok := s.boletos[id]
		if !ok || (b.Cedente != "" && b.Cedente != cedente) {
			continue
		}
		out = append(out, b.view())
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"_status": "sucesso", "_dados": out,
		"_meta": map[string]any{"_itens_por_pagina": 200, "_paginacao": map[string]any{"_proximo": nil, "_anterior": nil}, "_total": len(out)},
	})
}

// view is the boleto as GET /boletos writes it.
func (b *SandboxBoleto) view() map[string]any {
	movs := []map[string]any{}
	for _, c := range b.Movimentos {
		movs = append(movs, map[string]any{"codigo": c, "mensagem": "Movimento: " + c, "data": brDate(baixa.Today(time.Now())), "ocorrencias": []any{}})
	}
	v := map[string]any{
		"IdIntegracao": b.IDIntegracao, "situacao": b.Situacao, "motivo": b.Motivo, "TituloNossoNumero": b.NossoNumero,
		"TituloNumeroDocumento": b.NumeroDocumento, "TituloValor": brAmount(b.Valor), "TituloDataVencimento": brDate(b.Vencimento),
		"PagamentoRealizado": nil, "PagamentoData": nil, "PagamentoDataCredito": nil, "PagamentoValorPago": "0,00",
		"PagamentoValorCredito": "0,00", "PagamentoValorTaxaCobranca": "0,00", "PagamentoValorAcrescimos": "0,00",
		"PagamentoValorDesconto": "0,00", "PagamentoValorAbatimento": "0,00", "PagamentoValorIOF": "0,00",
		"PagamentoValorOutrosCreditos": "0,00", "TituloMovimentos": movs, "CedenteCodigoBanco": "756",
	}
	if b.Situacao == "LIQUIDADO" && !b.HidePayment {
		v["PagamentoRealizado"] = true
		v["PagamentoData"] = brDate(b.PaidOn) + " 00:00:00"
		v["PagamentoDataCredito"] = brDate(b.CreditedOn)
		v["PagamentoValorPago"] = brAmount(b.PaidAmount)
		v["PagamentoValorCredito"] = brAmount(b.CreditedAmount)
		v["PagamentoValorTaxaCobranca"] = brAmount(b.Fee)
		v["PagamentoValorAcrescimos"] = brAmount(b.Interest)
	}
	return v
}

// SendWebhook posts one of PlugBoleto's webhooks about a boleto to url,
// with the custom header configured in PlugBoleto's panel; wrapped sends
// it inside {"body": ...} as one documented example shows.
func (s *Sandbox) SendWebhook(ctx context.Context, url, header, value, tipo, id string, wrapped bool) (int, error) {
	b, ok := s.Boleto(id)
	if !ok {
		return 0, fmt.Errorf("no boleto %s", id)
	}
	titulo := b.view()
	delete(titulo, "IdIntegracao")
	titulo["idintegracao"] = id
	payload := map[string]any{"tipoWH": tipo, "dataHoraEnvio": time.Now().In(baixa.SaoPaulo).Format("02/01/2006 15:04:05"),
		"CpfCnpjCedente": b.Cedente, "titulo": titulo}
	if wrapped {
		payload = map[string]any{"body": payload, "kind": "webhook", "method": "POST"}
	}
	req, err := provider.NewJSONRequest(ctx, http.MethodPost, url, payload)
	if err != nil {
		return 0, err
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	a, err := provider.Send(http.DefaultClient, req, url, 1<<20)
	if err != nil {
		return 0, err
	}
	return a.Status, nil
}

// FileRecord is one record of a bank return file written for the sandbox.
type FileRecord struct {
	Occurrence  string // "06" paid, "09" written off, "02" registered, ...
	NossoNumero string
	SeuNumero   string
	Amount      baixa.Amount // face value
	Paid        baixa.Amount // for 06 and 17
	Fee         baixa.Amount
	On          baixa.Date // the payment's day
}

// WriteReturnFile writes recs as Sicoob's CNAB 240 return file, the kind
// of file a beneficiary hands to PlugBoleto.
func WriteReturnFile(w io.Writer, recs []FileRecord) error {
	day := baixa.Today(time.Now())
	info := cnab.FileInfo{Bank: "756", CompanyDocument: "11222333000181", CompanyName: "BAIXA SANDBOX", Generated: day, Sequence: 1}
	return cnab.Write(w, cnab.CNAB240, info, len(recs), func(i int, d *cnab.Detail) {
		r := recs[i]
		*d = cnab.Detail{Occurrence: r.Occurrence, NossoNumero: r.NossoNumero, Parcela: "01", Modalidade: "01", SeuNumero: r.SeuNumero,
			DueDate: day.AddDays(5), FaceValue: r.Amount, FeeAmount: r.Fee, ReceivingBank: "756", ReceivingBranch: "03066"}
		if r.Occurrence == "06" || r.Occurrence == "17" {
			on := r.On
			if on.IsZero() {
				on = day
			}
			d.PaidAmount, d.OccurredOn, d.CreditedOn, d.CreditedAmount = r.Paid, on, on, r.Paid-r.Fee
		}
	})
}

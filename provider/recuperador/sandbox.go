package recuperador

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"baixa"
	"baixa/provider"
)

// SandboxEvent is an approved installment the sandbox serves.
type SandboxEvent struct {
	ID          int64        `json:"id"`
	Assessoria  int64        `json:"id_assessoria"`
	Credor      int64        `json:"id_credor"`
	Acordo      int64        `json:"id_acordo"`
	Cliente     int64        `json:"id_cliente"`
	Installment int64        `json:"id_contasareceber"`
	Parcela     int          `json:"parcela"` // parcela 1 ...
	Of          int          `json:"de"`      // ... of 12
	Name        string       `json:"nome"`
	TaxID       string       `json:"cpf_cnpj"`
	Due         baixa.Date   `json:"vencimento"`
	Paid        baixa.Date   `json:"pagamento"`
	Amount      baixa.Amount `json:"valor_pago"`
	Net         baixa.Amount `json:"valor_liquido"`
	// Old writes the 2022 payload: id_parcela instead of id_contasareceber.
	Old bool `json:"payload_2022,omitempty"`
}

// SandboxFaults are failures the sandbox injects; counters are used up
// one request at a time.
type SandboxFaults struct {
	RateLimited  int           `json:"rate_limited,omitempty"`  // 429 with Retry-After: 1
	ServerErrors int           `json:"server_errors,omitempty"` // 500
	Truncated    int           `json:"truncated,omitempty"`     // a list cut short
	WrongTypes   int           `json:"wrong_types,omitempty"`   // a list whose ids are words
	BadAmounts   int           `json:"bad_amounts,omitempty"`   // a list whose first event's valor_pago is a word
	Delay        time.Duration `json:"-"`                       // before every answer (to reach a client's timeout)
	FailReads    int           `json:"fail_reads,omitempty"`    // mark-reads answered 500
	RefuseReads  int           `json:"refuse_reads,omitempty"`  // mark-reads answered {"sucesso": false}
	// Duplicate lists every event twice.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Sandbox simulates Recuperador CRM's approved-installment event API for
// one API token: it lists unread events per creditor and honours mark-read,
// answering the invoice link. It is an http.Handler; its API is under /api.
type Sandbox struct {
	Token string

	mu     sync.Mutex
	faults SandboxFaults
	events []*sandboxEvent
	lists  int
	reads  map[int64]int
}

type sandboxEvent struct {
	SandboxEvent
	created time.Time
	read    bool
}

// NewSandbox returns a sandbox that takes token.
func NewSandbox(token string) *Sandbox {
	return &Sandbox{Token: token, reads: map[int64]int{}}
}

// SetFaults replaces the injected faults.
func (s *Sandbox) SetFaults(f SandboxFaults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Add adds an unread event.
func (s *Sandbox) Add(e SandboxEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, &sandboxEvent{SandboxEvent: e, created: time.Now()})
}

// Reads returns how many times event id was marked read.
func (s *Sandbox) Reads(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[id]
}

// Unread counts the events not yet marked read.
func (s *Sandbox) Unread() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if !e.read {
			n++
		}
	}
	return n
}

// Lists counts the list requests answered.
func (s *Sandbox) Lists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// Link is the invoice link the sandbox answers for an event.
func (s *Sandbox) Link(id int64) string {
	return fmt.Sprintf("https://www.recuperador.com.br/fatura/sandbox/%d", id)
}

func money(a baixa.Amount) json.Number { return json.Number(a.String()) }

func isoDate(d baixa.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String() + "T00:00:00"
}

// JSON is the event as Recuperador writes it.
func (e SandboxEvent) JSON() map[string]any {
	if e.Due.IsZero() {
		e.Due = e.Paid
	}
	doc := e.TaxID
	if len(doc) == 11 {
		doc = doc[:3] + "." + doc[3:6] + "." + doc[6:9] + "-" + doc[9:]
	}
	v := map[string]any{
		"id": e.ID, "id_assessoria": e.Assessoria, "id_credor": e.Credor, "id_acordo": e.Acordo, "id_cliente": e.Cliente,
		"id_consultor": 7, "nome_cliente": e.Name, "cpf_cnpj": doc, "nome_credor": "Credor Sandbox", "nome_consultor": "Consultor",
		"data_referencia": isoDate(e.Due.AddDays(-400)), "data_vencto": isoDate(e.Due), "data_pagto": e.Paid.String() + "T14:32:10",
		"data_rec": isoDate(e.Paid.AddDays(2)), "meio_pagto": "Pix", "forma_pagto": "À vista",
		"parcela": fmt.Sprintf("%02d/%02d", e.Parcela, e.Of), "parcela_inteiro": e.Parcela,
		"valor_principal_proporcional": money(e.Amount * 80 / 100), "valor_pago": money(e.Amount),
		"valor_honorarios_adv": 0, "valor_honorarios_ass": money(e.Amount - e.Net), "valor_taxa_adm": json.Number("1.2345"),
		"valor_taxa_camara": 0, "valor_taxa_federacao": 0, "valor_taxa_financeira": 0, "valor_taxa_representante": 0,
		"valor_liquido": money(e.Net), "valor_taxa_adm_agrupada": money(e.Amount - e.Net), "qtde_parcelas_recuperadas": e.Parcela,
		"contratos": "CT-1,CT-2", "unidades": "", "competencias": "", "valor_juros_proporcionais": money(e.Amount * 15 / 100),
		"valor_multa_proporcional": money(e.Amount * 5 / 100), "valor_correcao_monetaria_proporcional": json.Number("0.00"),
		"id_grupoconsultor": 3, "nome_grupoconsultor": "Grupo",
	}
	if e.Old {
		v["id_parcela"] = e.Installment
	} else {
		v["id_contasareceber"] = e.Installment
	}
	return v
}

func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/sandbox/") {
		s.control(w, r)
		return
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
	if r.URL.Path != "/api"+eventsPath {
		reply(w, http.StatusNotFound, map[string]any{"sucesso": false, "mensagem": "Recurso não encontrado"})
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.Token || pass != "" {
		reply(w, http.StatusUnauthorized, map[string]any{"sucesso": false, "mensagem": "Token inválido"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.list(w, r)
	case http.MethodPost:
		s.markRead(w, r)
	default:
		reply(w, http.StatusMethodNotAllowed, map[string]any{"sucesso": false, "mensagem": "Método não permitido"})
	}
}

// control serves the sandbox's own paths: POST /sandbox/events (a JSON
// array of SandboxEvent), PUT /sandbox/faults (SandboxFaults, "delay" as a
// duration like "2s"), and POST /sandbox/push ({"url", "username",
// "password", "id"}: push a known event as the webhook does).
func (s *Sandbox) control(w http.ResponseWriter, r *http.Request) {
	provider.Control(w, r, map[string]provider.ControlRoute{
		"POST /sandbox/events": provider.AddAll(func(e SandboxEvent) error {
			if e.ID <= 0 || e.Credor <= 0 || e.Paid.IsZero() {
				return errors.New("each event needs id, id_credor and pagamento")
			}
			return nil
		}, s.Add),
		"PUT /sandbox/faults": func(decode func(any) error) (any, error) {
			var f struct {
				SandboxFaults
				Delay provider.Duration `json:"delay"`
			}
			if err := decode(&f); err != nil {
				return nil, err
			}
			f.SandboxFaults.Delay = time.Duration(f.Delay)
			s.SetFaults(f.SandboxFaults)
			return nil, nil
		},
		"POST /sandbox/push": func(decode func(any) error) (any, error) {
			var p struct {
				URL, Username, Password string
				ID                      int64
			}
			if err := decode(&p); err != nil {
				return nil, err
			}
			var ev *SandboxEvent
			s.mu.Lock()
			for _, e := range s.events {
				if e.ID == p.ID {
					c := e.SandboxEvent
					ev = &c
				}
			}
			s.mu.Unlock()
			if ev == nil {
				return nil, fmt.Errorf("no event %d", p.ID)
			}
			code, err := s.Push(r.Context(), p.URL, p.Username, p.Password, *ev)
			return map[string]int{"status": code}, err
		},
	})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sandbox) list(w http.ResponseWriter, r *http.Request) {
	credor, err1 := strconv.ParseInt(r.URL.Query().Get("id_credor"), 10, 64)
	days, err2 := strconv.Atoi(r.URL.Query().Get("qtde_dias_leitura"))
	if err1 != nil || err2 != nil {
		reply(w, http.StatusBadRequest, map[string]any{"sucesso": false, "mensagem": "id_credor e qtde_dias_leitura devem ser inteiros"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	switch {
	case f.RateLimited > 0:
		f.RateLimited--
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusTooManyRequests, map[string]any{"sucesso": false, "mensagem": "Muitas requisições"})
		return
	case f.ServerErrors > 0:
		f.ServerErrors--
		reply(w, http.StatusInternalServerError, map[string]any{"sucesso": false, "mensagem": "Erro interno"})
		return
	}
	s.lists++
	out := []map[string]any{}
	since := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	for _, e := range s.events {
		if e.read || e.Credor != credor || e.created.Before(since) {
			continue
		}
		out = append(out, e.JSON())
		if f.Duplicate {
			out = append(out, e.JSON())
		}
	}
	if f.WrongTypes > 0 && len(out) > 0 {
		f.WrongTypes--
		out[0]["id"] = "um"
	}
	if f.BadAmounts > 0 && len(out) > 0 {
		f.BadAmounts--
		out[0]["valor_pago"] = "cento e dez"
	}
	body, _ := json.Marshal(out)
	if f.Truncated > 0 {
		f.Truncated--
		body = body[:len(body)*2/3]
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

func (s *Sandbox) markRead(w http.ResponseWriter, r *http.Request) {
	var in map[string]int64
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"sucesso": false, "mensagem": "Objeto de entrada inválido"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	switch {
	case f.FailReads > 0:
		f.FailReads--
		reply(w, http.StatusInternalServerError, map[string]any{"sucesso": false, "mensagem": "Erro interno"})
		return
	case f.RefuseReads > 0:
		f.RefuseReads--
		reply(w, http.StatusOK, map[string]any{"sucesso": false, "mensagem": "Não foi possível marcar o evento como lido"})
		return
	}
	for _, e := range s.events {
		if e.ID != in["id"] {
			continue
		}
		if e.Assessoria != in["id_assessoria"] || e.Credor != in["id_credor"] || e.Acordo != in["id_acordo"] || e.Cliente != in["id_cliente"] {
			reply(w, http.StatusOK, map[string]any{"sucesso": false, "mensagem": "Os dados não conferem com o evento"})
			return
		}
		e.read = true
		s.reads[e.ID]++
		reply(w, http.StatusOK, map[string]any{"sucesso": true, "mensagem": "Evento marcado como lido", "link_fatura_gerada_pelo_recuperadorcrm": s.Link(e.ID)})
		return
	}
	reply(w, http.StatusOK, map[string]any{"sucesso": false, "mensagem": "Evento não encontrado"})
}

// Push posts an event to url as the push webhook does, with Basic
// credentials when user is set.
func (s *Sandbox) Push(ctx context.Context, url, user, pass string, e SandboxEvent) (int, error) {
	req, err := provider.NewJSONRequest(ctx, http.MethodPost, url, e.JSON())
	if err != nil {
		return 0, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	a, err := provider.Send(http.DefaultClient, req, url, 1<<20)
	if err != nil {
		return 0, err
	}
	return a.Status, nil
}

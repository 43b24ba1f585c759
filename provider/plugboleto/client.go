package plugboleto

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"baixa"
	"baixa/provider"
)

// Client calls PlugBoleto's API with a connection's credentials.
type Client struct {
	BaseURL      string // up to /api/v1
	CNPJSH       string
	TokenSH      string
	CNPJCedente  string
	TokenCedente string
	UserAgent    string
	HTTP         *http.Client
	MaxBytes     int64
	Timeout      time.Duration // of one request
	Now          func() time.Time
}

// envelope is PlugBoleto's answer: {"_status", "_mensagem", "_dados"}.
type envelope struct {
	Status   string          `json:"_status"`
	Message  string          `json:"_mensagem"`
	Data     json.RawMessage `json:"_dados"`
	Situacao string          `json:"situacao"` // a top-level form seen in Tecnospeed's own demo
	Mensagem string          `json:"mensagem"`
}

// Error is an answer PlugBoleto gave with `_status: "erro"`: the request
// was refused, and asking again will not change that.
type Error struct {
	Status  int
	Message string
	Fields  string // _dados [{_campo, _erro}], when given
}

func (e *Error) Error() string {
	s := "PlugBoleto: " + e.Message
	if e.Fields != "" {
		s += " (" + e.Fields + ")"
	}
	return s
}

// call sends one request and reads PlugBoleto's envelope. It returns the
// raw answer too, to be stored verbatim.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body any, cedente string) ([]byte, *envelope, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := provider.NewJSONRequest(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", c.UserAgent)
	if cedente == "" {
		cedente = c.CNPJCedente
	}
	req.Header.Set("cnpj-cedente", cedente)
	if c.CNPJSH != "" {
		req.Header.Set("cnpj-sh", c.CNPJSH)
		req.Header.Set("token-sh", c.TokenSH)
	} else {
		req.Header.Set("token-cedente", c.TokenCedente)
	}
	resp, err := provider.Send(c.HTTP, req, path, c.MaxBytes)
	if err != nil {
		return nil, nil, err
	}
	raw := resp.Body
	var env envelope
	jerr := json.Unmarshal(raw, &env)
	if jerr == nil && env.Status == "erro" && resp.Status < 500 && resp.Status != http.StatusTooManyRequests {
		return raw, &env, &Error{Status: resp.Status, Message: firstOf(env.Message, env.Mensagem, "refused without a message"), Fields: fieldErrors(env.Data)}
	}
	if resp.Status >= 300 {
		now := time.Now()
		if c.Now != nil {
			now = c.Now()
		}
		msg := firstOf(env.Message, provider.Excerpt(raw))
		return nil, nil, &provider.HTTPError{Status: resp.Status, Message: msg, RetryAfter: provider.RetryAfter(resp.Header, now)}
	}
	if jerr != nil {
		return nil, nil, &provider.HTTPError{Message: fmt.Sprintf("%s %s: the answer is not JSON (%v): %s", method, path, jerr, provider.Excerpt(raw))}
	}
	if env.Status != "sucesso" {
		return nil, nil, &provider.HTTPError{Message: fmt.Sprintf("%s %s: unexpected _status %q", method, path, env.Status)}
	}
	return raw, &env, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// fieldErrors reads _dados: [{"_campo", "_erro"}] of a validation error.
func fieldErrors(d json.RawMessage) string {
	var list []struct {
		Campo string `json:"_campo"`
		Erro  string `json:"_erro"`
	}
	if json.Unmarshal(d, &list) != nil {
		return ""
	}
	var parts []string
	for _, f := range list {
		parts = append(parts, f.Campo+": "+f.Erro)
	}
	return strings.Join(parts, "; ")
}

// Upload sends a return file and returns its protocol.
func (c *Client) Upload(ctx context.Context, name string, file []byte) (string, error) {
	body := map[string]string{"arquivo": base64.StdEncoding.EncodeToString(file), "nome": name}
	_, env, err := c.call(ctx, http.MethodPost, "/retornos", nil, body, "")
	if err != nil {
		return "", err
	}
	var d struct {
		Protocolo string `json:"protocolo"`
	}
	if err := json.Unmarshal(env.Data, &d); err != nil || d.Protocolo == "" {
		return "", &provider.HTTPError{Message: "POST /retornos: the answer has no _dados.protocolo"}
	}
	return d.Protocolo, nil
}

// Processing is PlugBoleto's situation of a protocol still being worked on.
const Processing = "PROCESSANDO"

// Result is what GET /retornos/{protocolo} said.
type Result struct {
	Raw      []byte // the answer, verbatim
	Situacao string // PROCESSANDO or PROCESSADO
	Message  string
	Titulos  []Titulo
	// Unreconciled counts titulosNaoConciliados.
	Unreconciled int
}

// Titulo is a boleto PlugBoleto reconciled from the file.
type Titulo struct {
	IDIntegracao   string `json:"idIntegracao"`
	CedenteCPFCNPJ string `json:"cedentecpfcnpj"`
}

// Protocol asks how an uploaded file's processing went.
func (c *Client) Protocol(ctx context.Context, protocolo string) (*Result, error) {
	raw, env, err := c.call(ctx, http.MethodGet, "/retornos/"+url.PathEscape(protocolo), nil, nil, "")
	if err != nil {
		return nil, err
	}
	d, err := parseResult(env.Data)
	if err == nil && d.Situacao != Processing {
		err = Decoder{}.Decode(ctx, &baixa.Document{ContentType: ContentResult}, bytes.NewReader(raw), func(*baixa.Movement) error { return nil })
	}
	if err != nil {
		return nil, &provider.HTTPError{Message: "GET /retornos: the answer does not read: " + err.Error()}
	}
	d.Raw = raw
	if d.Situacao == "" {
		d.Situacao = env.Situacao
	}
	return d, nil
}

// Boletos reads boletos back by their integration ids (at most 200).
func (c *Client) Boletos(ctx context.Context, cedente string, ids []string) ([]byte, int, error) {
	q := url.Values{"idintegracao": ids}
	q.Set("limit", fmt.Sprint(len(ids)))
	raw, env, err := c.call(ctx, http.MethodGet, "/boletos", q, nil, cedente)
	if err != nil {
		return nil, 0, err
	}
	var list []json.RawMessage
	if err := json.Unmarshal(env.Data, &list); err != nil {
		return nil, 0, &provider.HTTPError{Message: "GET /boletos: _dados is not a list of boletos"}
	}
	for i, b := range list {
		if _, err := boletoMovement(&baixa.Document{}, b); err != nil {
			return nil, 0, &provider.HTTPError{Message: fmt.Sprintf("GET /boletos: boleto %d does not read: %v", i, err)}
		}
	}
	return raw, len(list), nil
}

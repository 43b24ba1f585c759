package sicoob

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"baixa"
)

// Client calls Sicoob's Cobrança Bancária API (v3, or v2) over mutual
// TLS, with an OAuth2 client-credentials token that it caches and renews
// before it expires, and asks again once when a call answers 401.
type Client struct {
	BaseURL  string // up to and including the version: https://api.sicoob.com.br/cobranca-bancaria/v3
	TokenURL string // "" with StaticToken
	// StaticToken is used instead of asking for one (Sicoob's own sandbox).
	StaticToken string
	ClientID    string
	Scope       string
	Version     string // "v3" or "v2"
	HTTP        *http.Client
	UserAgent   string
	Now         func() time.Time

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// NewHTTPClient returns an HTTP client that presents cert and trusts roots
// (nil: the system's). It follows no redirects.
func NewHTTPClient(cert tls.Certificate, roots *x509.CertPool) *http.Client {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:       cfg,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// APIError is an answer other than 2xx, with Sicoob's messages
// ({"mensagens": [{"mensagem", "codigo"}]}) when it sent them.
type APIError struct {
	Op       string
	Status   int
	Messages []Message
	Body     string // the start of a body that was not Sicoob's error form
}

// Message is one of Sicoob's error messages.
type Message struct {
	Mensagem string `json:"mensagem"`
	Codigo   text   `json:"codigo"`
}

func (e *APIError) Error() string {
	var parts []string
	for _, m := range e.Messages {
		if m.Codigo.v != "" {
			parts = append(parts, m.Codigo.v+" "+m.Mensagem)
		} else {
			parts = append(parts, m.Mensagem)
		}
	}
	if len(parts) == 0 && e.Body != "" {
		parts = append(parts, strconv.Quote(e.Body))
	}
	return fmt.Sprintf("sicoob %s: HTTP %d %s", e.Op, e.Status, strings.Join(parts, "; "))
}

// has reports whether any message has the code or contains the text (in
// any case).
func (e *APIError) has(code, text string) bool {
	for _, m := range e.Messages {
		if (code != "" && m.Codigo.v == code) || (text != "" && strings.Contains(strings.ToUpper(m.Mensagem), text)) {
			return true
		}
	}
	return false
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Token returns a valid access token, asking for a new one when the cached
// one is within a fifth of its life (at most a minute) of expiring.
func (c *Client) Token(ctx context.Context) (string, error) {
	if c.StaticToken != "" {
		return c.StaticToken, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.renewAt) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "scope": {c.Scope}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	c.userAgent(req)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("sicoob token: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		var oauth struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oauth)
		msg := strings.TrimSpace(oauth.Error + " " + oauth.Description)
		if msg == "" {
			msg = snippet(body)
		}
		return "", &APIError{Op: "token", Status: resp.StatusCode, Body: msg}
	}
	var tok struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   flexInt `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("sicoob token: the answer has no access_token")
	}
	life := time.Duration(tok.ExpiresIn.v) * time.Second
	if life <= 0 {
		life = 5 * time.Minute
	}
	c.token, c.renewAt = tok.AccessToken, c.now().Add(life-min(life/5, time.Minute))
	return c.token, nil
}

// Reset drops the cached token: the next call asks for a new one.
func (c *Client) Reset() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}

// forget drops the cached token if it is still tok.
func (c *Client) forget(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

func (c *Client) userAgent(req *http.Request) {
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
}

// call makes one API call; on 401 it renews the token and tries once more.
// The caller closes the response's body; non-2xx answers are *APIError.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, body any) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	for try := 0; ; try++ {
		tok, err := c.Token(ctx)
		if err != nil {
			return nil, err
		}
		u := strings.TrimRight(c.BaseURL, "/") + path
		if len(query) > 0 {
			u += "?" + query.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("client_id", c.ClientID)
		if c.Version == "v2" {
			req.Header.Set("x-sicoob-clientid", c.ClientID)
		}
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		c.userAgent(req)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return nil, fmt.Errorf("sicoob %s: %w", op, err)
		}
		if resp.StatusCode == http.StatusUnauthorized && try == 0 && c.StaticToken == "" {
			drain(resp)
			c.forget(tok)
			continue
		}
		if resp.StatusCode/100 != 2 {
			defer drain(resp)
			return nil, apiError(op, resp)
		}
		return resp, nil
	}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func apiError(op string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Op: op, Status: resp.StatusCode}
	var env struct {
		Mensagens []Message `json:"mensagens"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Mensagens) > 0 {
		e.Messages = env.Mensagens
	} else {
		e.Body = snippet(body)
	}
	return e
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// paths of the three movement calls, by version.
var paths = map[string][3]string{
	"v3": {"/boletos/movimentacoes", "/boletos/movimentacoes", "/boletos/movimentacoes/download"},
	"v2": {"/boletos/solicitacoes/movimentacao", "/boletos/solicitacoes/movimentacao", "/boletos/movimentacao-download"},
}

// clientField is the name of the contract number in each version.
func (c *Client) clientField() string {
	if c.Version == "v2" {
		return "numeroContrato"
	}
	return "numeroCliente"
}

// RequestMovements asks for the movements of one type in [from, to] and
// returns Sicoob's codigoSolicitacao.
func (c *Client) RequestMovements(ctx context.Context, numero int64, tipo int, from, to baixa.Date) (int64, error) {
	body := map[string]any{c.clientField(): numero, "tipoMovimento": tipo, "dataInicial": from.String(), "dataFinal": to.String()}
	if c.Version == "v2" {
		body["dataInicial"], body["dataFinal"] = from.String()+"T00:00:00-03:00", to.String()+"T00:00:00-03:00"
	}
	resp, err := c.call(ctx, "request movements", http.MethodPost, paths[c.Version][0], nil, body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Resultado struct {
			CodigoSolicitacao flexInt `json:"codigoSolicitacao"`
			Mensagem          string  `json:"mensagem"`
		} `json:"resultado"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return 0, fmt.Errorf("sicoob request movements: unreadable answer: %w", err)
	}
	if !out.Resultado.CodigoSolicitacao.set {
		return 0, fmt.Errorf("sicoob request movements: the answer has no codigoSolicitacao (%q)", out.Resultado.Mensagem)
	}
	return out.Resultado.CodigoSolicitacao.v, nil
}

// Listing is the state of a movement request.
type Listing struct {
	// Ready: the files are listed (FileIDs, possibly none: an empty window).
	Ready   bool
	FileIDs []int64
	Total   int64
	// Note says, in words, why it is not ready or why it is empty.
	Note string
}

// MovementStatus asks whether a request's files are ready. Sicoob says
// "not yet" in several ways (HTTP 204, error 5004, a message about
// PROCESSAMENTO, a bare 404) and "nothing" in others (an empty list, a
// message with NENHUM REGISTRO); all are answers here, not errors.
func (c *Client) MovementStatus(ctx context.Context, numero, codigo int64) (*Listing, error) {
	q := url.Values{c.clientField(): {strconv.FormatInt(numero, 10)}, "codigoSolicitacao": {strconv.FormatInt(codigo, 10)}}
	resp, err := c.call(ctx, "movement status", http.MethodGet, paths[c.Version][1], q, nil)
	if ae, ok := errors.AsType[*APIError](err); ok {
		switch {
		case ae.has("", "NENHUM REGISTRO"):
			return &Listing{Ready: true, Note: "no movements (" + ae.Messages[0].Mensagem + ")"}, nil
		case ae.has("5004", "PROCESSAMENTO"):
			return &Listing{Note: "Sicoob is still processing the request"}, nil
		case ae.Status == http.StatusNotFound && len(ae.Messages) == 0:
			return &Listing{Note: "Sicoob does not list the request yet (404)"}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return &Listing{Note: "Sicoob is still processing the request (204)"}, nil
	}
	var out struct {
		Resultado *struct {
			QuantidadeTotalRegistros flexInt   `json:"quantidadeTotalRegistros"`
			QuantidadeArquivo        flexInt   `json:"quantidadeArquivo"`
			IDArquivos               []flexInt `json:"idArquivos"`
		} `json:"resultado"`
		Mensagens []Message `json:"mensagens"`
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("sicoob movement status: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &Listing{Note: "Sicoob is still processing the request (empty answer)"}, nil
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("sicoob movement status: unreadable answer: %w", err)
	}
	ae := &APIError{Messages: out.Mensagens}
	switch {
	case ae.has("", "NENHUM REGISTRO"):
		return &Listing{Ready: true, Note: "no movements"}, nil
	case ae.has("5004", "PROCESSAMENTO"):
		return &Listing{Note: "Sicoob is still processing the request"}, nil
	case out.Resultado == nil:
		return nil, fmt.Errorf("sicoob movement status: the answer has no resultado")
	}
	l := &Listing{Ready: true, Total: out.Resultado.QuantidadeTotalRegistros.v}
	for _, id := range out.Resultado.IDArquivos {
		l.FileIDs = append(l.FileIDs, id.v)
	}
	if len(l.FileIDs) == 0 {
		l.Note = "no movements"
	}
	return l, nil
}

// ErrTooLarge is returned by Download for a file over the limit.
var ErrTooLarge = errors.New("file too large")

// Download writes one file's download response, as Sicoob sent it, to w;
// more than limit bytes is ErrTooLarge.
func (c *Client) Download(ctx context.Context, numero, codigo, fileID int64, w io.Writer, limit int64) (int64, error) {
	q := url.Values{c.clientField(): {strconv.FormatInt(numero, 10)}, "codigoSolicitacao": {strconv.FormatInt(codigo, 10)},
		"idArquivo": {strconv.FormatInt(fileID, 10)}}
	resp, err := c.call(ctx, "download", http.MethodGet, paths[c.Version][2], q, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return n, fmt.Errorf("sicoob download file %d: %w", fileID, err)
	}
	if n > limit {
		return n, fmt.Errorf("sicoob download file %d: more than %d bytes: %w", fileID, limit, ErrTooLarge)
	}
	return n, nil
}

package plugboleto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"baixa"
	"baixa/cnab"
	"baixa/provider"
)

// Fetch scopes: what a PlugBoleto fetch follows. The input document's id
// comes after the prefix.
const (
	ScopeUpload = "upload/" // a return file: upload, poll the protocol, read the boletos back
	ScopeReread = "reread/" // a webhook: read its boleto back
)

// Connector follows PlugBoleto fetches. It plans none on its own: a fetch
// starts when a return file is imported for the connection, or when one of
// PlugBoleto's webhooks arrives.
type Connector struct {
	UserAgent string
	HTTP      *http.Client // default: one with a 60 s timeout
	Now       func() time.Time
}

var (
	_ baixa.Connector = (*Connector)(nil)
	_ baixa.Receiver  = (*Connector)(nil)
)

func (k *Connector) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// Prepare validates the settings and the secrets.
func (k *Connector) Prepare(c *baixa.Connection, _ time.Time) error {
	return provider.PrepareSettings(c, (*Settings).normalize)
}

var defaultHTTP = &http.Client{Timeout: 60 * time.Second}

func (k *Connector) client(c *baixa.Connection, s *Settings) *Client {
	return &Client{
		BaseURL: s.BaseURL, CNPJSH: s.CNPJSH, TokenSH: c.Secrets[SecretTokenSH], CNPJCedente: s.CNPJCedente,
		TokenCedente: c.Secrets[SecretTokenCedente], UserAgent: k.UserAgent, HTTP: cmpClient(k.HTTP), MaxBytes: s.MaxResponseBytes, Now: k.Now,
		Timeout: s.RequestTimeout,
	}
}

func cmpClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return defaultHTTP
}

// Check reads one boleto that cannot exist: PlugBoleto answers an empty
// list to good credentials and refuses bad ones.
func (k *Connector) Check(ctx context.Context, c *baixa.Connection) error {
	s, err := parseSettings(c.Settings)
	if err != nil {
		return err
	}
	if _, _, err := k.client(c, s).Boletos(ctx, "", []string{"baixa-check"}); err != nil {
		return baixa.Errorf(baixa.EUnavailable, "%v", err)
	}
	return nil
}

// Plan reads the watched folder, if there is one, on the connection's
// schedule; imports and webhooks start PlugBoleto's other fetches.
func (k *Connector) Plan(c *baixa.Connection, known []*baixa.Fetch, now time.Time) ([]*baixa.Fetch, string) {
	today := baixa.Today(now)
	s, err := parseSettings(c.Settings)
	if err != nil || s.WatchDir == "" {
		return nil, today.String()
	}
	for _, f := range known {
		if f.Scope == ScopeWatch && f.Status.Active() {
			return nil, today.String()
		}
	}
	return []*baixa.Fetch{{WindowFrom: today, WindowTo: today, Scope: ScopeWatch}}, today.String()
}

// Step follows one fetch.
//
// An upload: new -> the file is sent and PlugBoleto's protocolo stored
// (requested) -> the protocol is polled, no sooner than poll_every and
// with backoff, while PROCESSANDO -> the PROCESSADO answer is stored, with
// the unreconciled records (listed) -> the reconciled boletos are read back
// in batches, each answer stored -> done, and the file's document settled.
// `_status: "erro"` fails the fetch and the file's document with
// PlugBoleto's message.
func (k *Connector) Step(ctx context.Context, c *baixa.Connection, f *baixa.Fetch, st baixa.FetchStore) error {
	s, err := parseSettings(c.Settings)
	if err != nil {
		return k.fail(ctx, st, f, "", "the connection's settings are invalid: "+err.Error())
	}
	cl := k.client(c, s)
	switch {
	case strings.HasPrefix(f.Scope, ScopeUpload):
		return k.upload(ctx, c, s, cl, f, st, strings.TrimPrefix(f.Scope, ScopeUpload))
	case strings.HasPrefix(f.Scope, ScopeReread):
		return k.reread(ctx, c, s, cl, f, st, strings.TrimPrefix(f.Scope, ScopeReread))
	case f.Scope == ScopeWatch:
		return k.watch(ctx, c, s, f, st)
	}
	return k.fail(ctx, st, f, "", "unknown PlugBoleto fetch "+f.Scope)
}

func (k *Connector) upload(ctx context.Context, c *baixa.Connection, s *Settings, cl *Client, f *baixa.Fetch, st baixa.FetchStore, docID string) error {
	var res *Result
	switch f.Status {
	case baixa.FetchNew:
		file, err := readDocument(ctx, st, docID, s.MaxResponseBytes)
		if err != nil {
			return k.fail(ctx, st, f, docID, "the imported file cannot be read: "+err.Error())
		}
		proto, err := cl.Upload(ctx, docID, file)
		if err != nil {
			return k.trouble(ctx, st, f, s, docID, err)
		}
		f.Status, f.RequestCode, f.RequestedAt, f.Polls = baixa.FetchRequested, proto, k.now(), 0
		f.Note = "uploaded; PlugBoleto is processing protocol " + proto
		if err := st.SaveFetch(ctx, f); err != nil {
			return err
		}
		return &baixa.RetryLater{After: s.Every, Reason: f.Note}
	case baixa.FetchRequested, baixa.FetchListed:
		r, err := cl.Protocol(ctx, f.RequestCode)
		if err != nil {
			return k.trouble(ctx, st, f, s, docID, err)
		}
		res = r
	}
	bs := batches(res.Titulos, s.BatchSize)
	names := batchNames(bs)
	if f.Status == baixa.FetchRequested {
		f.Polls++
		if res.Situacao == Processing || res.Situacao == "" {
			if k.now().Sub(f.RequestedAt) > s.GiveUp {
				return k.fail(ctx, st, f, docID, fmt.Sprintf("gave up after %s: protocol %s still %s after %d polls", s.GiveUp, f.RequestCode, Processing, f.Polls))
			}
			f.Note = fmt.Sprintf("protocol %s: %s (poll %d)", f.RequestCode, Processing, f.Polls)
			if err := st.SaveFetch(ctx, f); err != nil {
				return err
			}
			return &baixa.RetryLater{After: s.Backoff(f.Polls), Reason: f.Note}
		}
		f.Status, f.Files = baixa.FetchListed, append([]string{"retorno"}, names...)
		f.Note = fmt.Sprintf("protocol %s %s: %d reconciled, %d not reconciled", f.RequestCode, res.Situacao, len(res.Titulos), res.Unreconciled)
		if _, err := st.StoreFetchFile(ctx, f, "retorno", baixa.NewDocument{
			Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: resultType(ctx, st, docID),
			DedupKey: fmt.Sprintf("%s/%s/retorno", c.ID, f.RequestCode), Body: bytes.NewReader(res.Raw),
		}); err != nil {
			return err
		}
	}
	for i, b := range bs {
		name := names[i]
		if slices.Contains(f.FilesDone, name) {
			continue
		}
		if err := k.readBack(ctx, c, cl, f, st, name, fmt.Sprintf("%s/%s/%s", c.ID, f.RequestCode, name), b); err != nil {
			return k.trouble(ctx, st, f, s, docID, err)
		}
	}
	f.Status = baixa.FetchDone
	if err := st.SaveFetch(ctx, f); err != nil {
		return err
	}
	return st.FinishDocument(ctx, docID, "", report(f))
}

// report says what came of a fetch, on its input document.
func report(f *baixa.Fetch) string {
	return fmt.Sprintf("%s (fetch %s; PlugBoleto's answers are stored as documents of connection %s)", f.Note, f.ID, f.ConnectionID)
}

// batches splits the reconciled boletos into read-backs: at most size
// each, one beneficiary (cedentecpfcnpj) per batch, in PlugBoleto's order.
func batches(ts []Titulo, size int) [][]Titulo {
	var out [][]Titulo
	byCedente := map[string]int{} // cedente -> index of its open batch
	for _, t := range ts {
		i, ok := byCedente[t.CedenteCPFCNPJ]
		if !ok || len(out[i]) >= size {
			out = append(out, nil)
			i = len(out) - 1
			byCedente[t.CedenteCPFCNPJ] = i
		}
		out[i] = append(out[i], t)
	}
	return out
}

func batchNames(bs [][]Titulo) []string {
	names := make([]string, len(bs))
	for i := range bs {
		names[i] = fmt.Sprintf("boletos-%d", i+1)
	}
	return names
}

// readBack reads a batch of boletos and stores PlugBoleto's answer.
func (k *Connector) readBack(ctx context.Context, c *baixa.Connection, cl *Client, f *baixa.Fetch, st baixa.FetchStore, name, key string, b []Titulo) error {
	ids := make([]string, len(b))
	for i, t := range b {
		ids[i] = t.IDIntegracao
	}
	raw, n, err := cl.Boletos(ctx, b[0].CedenteCPFCNPJ, ids)
	if err != nil {
		return err
	}
	if n < len(ids) {
		f.Note += fmt.Sprintf("; %s: PlugBoleto returned %d of %d boletos", name, n, len(ids))
	}
	_, err = st.StoreFetchFile(ctx, f, name, baixa.NewDocument{
		Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: ContentBoletos, DedupKey: key,
		Body: bytes.NewReader(raw),
	})
	return err
}

// reread reads back the boleto a webhook named; the webhook itself
// settles nothing.
func (k *Connector) reread(ctx context.Context, c *baixa.Connection, s *Settings, cl *Client, f *baixa.Fetch, st baixa.FetchStore, docID string) error {
	body, err := readDocument(ctx, st, docID, 1<<20)
	if err != nil {
		return k.fail(ctx, st, f, docID, "the webhook cannot be read: "+err.Error())
	}
	w, err := ParseWebhook(body)
	if err != nil {
		return k.fail(ctx, st, f, docID, "the webhook does not parse: "+err.Error())
	}
	f.Status, f.Files = baixa.FetchListed, []string{"boletos-1"}
	f.Note = fmt.Sprintf("%s: reading boleto %s back", w.Tipo, w.IDIntegracao)
	if err := k.readBack(ctx, c, cl, f, st, "boletos-1", fmt.Sprintf("%s/reread/%s", c.ID, docID), []Titulo{{IDIntegracao: w.IDIntegracao}}); err != nil {
		return k.trouble(ctx, st, f, s, docID, err)
	}
	f.Status = baixa.FetchDone
	if err := st.SaveFetch(ctx, f); err != nil {
		return err
	}
	return st.FinishDocument(ctx, docID, "", report(f))
}

// resultType is the content type of the answer to the file of document
// id: ContentResult with the file's bank (banco=001), which the answer's
// unreconciled records do not name and settling needs (see unreconciled).
func resultType(ctx context.Context, st baixa.FetchStore, id string) string {
	head, err := readUpTo(ctx, st, id, 1024) // its first line
	if _, bank := cnab.BankOf(head); err == nil && bank != "" {
		return mime.FormatMediaType(ContentResult, map[string]string{"banco": bank})
	}
	return ContentResult
}

// readDocument reads document id whole, refusing one larger than limit.
func readDocument(ctx context.Context, st baixa.FetchStore, id string, limit int64) ([]byte, error) {
	b, err := readUpTo(ctx, st, id, limit+1)
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("larger than %d bytes", limit)
	}
	return b, err
}

// readUpTo reads at most n bytes of document id.
func readUpTo(ctx context.Context, st baixa.FetchStore, id string, n int64) ([]byte, error) {
	rc, err := st.OpenDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, n))
}

// trouble decides what an error means: PlugBoleto's refusal fails the
// fetch and its input document with PlugBoleto's message; anything else
// (down, 5xx, 429, 403 from its firewall, an unreadable answer) is retried
// with backoff, honouring Retry-After, until give_up_after.
func (k *Connector) trouble(ctx context.Context, st baixa.FetchStore, f *baixa.Fetch, s *Settings, docID string, err error) error {
	if pe, ok := errors.AsType[*Error](err); ok && pe.Status != http.StatusUnauthorized {
		return k.fail(ctx, st, f, docID, pe.Error())
	}
	return s.Retry(ctx, st, f, k.now(), err, func(why string) error { return k.fail(ctx, st, f, docID, why) })
}

// fail ends the fetch, and its input document, with why.
func (k *Connector) fail(ctx context.Context, st baixa.FetchStore, f *baixa.Fetch, docID, why string) error {
	f.Status, f.Note = baixa.FetchFailed, why
	if err := st.SaveFetch(ctx, f); err != nil {
		return err
	}
	if docID == "" {
		return nil
	}
	return st.FinishDocument(ctx, docID, why, "")
}

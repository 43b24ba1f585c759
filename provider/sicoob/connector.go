package sicoob

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"baixa"
	"baixa/provider"
)

// Connector reads a Sicoob connection's portfolio movements: for each
// window of two days and each movement type, it asks for the movements,
// stores Sicoob's codigoSolicitacao, polls until the files are listed,
// and stores each file as a Document to be decoded and settled.
type Connector struct {
	Now       func() time.Time
	TempDir   string // where downloads are spooled (default: the system's)
	UserAgent string

	mu      sync.Mutex
	clients map[string]cachedClient // by connection id
}

type cachedClient struct {
	updated time.Time
	client  *Client
}

var _ baixa.Connector = (*Connector)(nil)

func (k *Connector) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// Prepare validates the settings and the certificate and normalizes them.
func (k *Connector) Prepare(c *baixa.Connection, now time.Time) error {
	var s Settings
	if len(c.Settings) > 0 {
		if err := provider.DecodeSettings(c.Settings, &s); err != nil {
			return err
		}
	}
	if err := s.prepare(now); err != nil {
		return err
	}
	if s.CACertPEM != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(s.CACertPEM)) {
		return field("ca_certificate_pem", "does not parse")
	}
	cert, err := LoadCertificate(c.Secrets, now)
	if err != nil {
		return err
	}
	for k := range c.Secrets {
		switch k {
		case SecretPFX, SecretPFXPassword, SecretCertPEM, SecretKeyPEM:
		default:
			return baixa.FieldError("secrets."+k, "unknown secret (want %s, %s, %s or %s)", SecretPFX, SecretPFXPassword, SecretCertPEM, SecretKeyPEM)
		}
	}
	c.CertificateExpiresAt = cert.Leaf.NotAfter
	c.Settings = s.marshal()
	return nil
}

// client returns the connection's API client, built once per version of
// the connection (its token is cached inside).
func (k *Connector) client(c *baixa.Connection, s *Settings) (*Client, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if cc, ok := k.clients[c.ID]; ok && cc.updated.Equal(c.UpdatedAt) {
		return cc.client, nil
	}
	cert, err := LoadCertificate(c.Secrets, k.now())
	if err != nil {
		return nil, err
	}
	var roots *x509.CertPool
	if s.CACertPEM != "" {
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		roots.AppendCertsFromPEM([]byte(s.CACertPEM))
	}
	cl := &Client{
		BaseURL: s.BaseURL, TokenURL: s.TokenURL, ClientID: s.ClientID, Scope: s.Scope, Version: s.APIVersion,
		HTTP: NewHTTPClient(cert, roots), UserAgent: k.UserAgent, Now: k.Now,
	}
	if s.Environment == EnvSandbox {
		cl.StaticToken = SandboxToken
	}
	if k.clients == nil {
		k.clients = map[string]cachedClient{}
	}
	k.clients[c.ID] = cachedClient{updated: c.UpdatedAt, client: cl}
	return cl, nil
}

// Check asks Sicoob for a token with the connection's certificate and
// client_id.
func (k *Connector) Check(ctx context.Context, c *baixa.Connection) error {
	s, err := parseSettings(c.Settings)
	if err != nil {
		return err
	}
	cl, err := k.client(c, s)
	if err != nil {
		return err
	}
	cl.Reset()
	if _, err := cl.Token(ctx); err != nil {
		return baixa.Errorf(baixa.EUnavailable, "%v", err)
	}
	return nil
}

// maxWindows bounds the windows one run plans (a start far back is read a
// month at a time).
const maxWindows = 16

// Plan cuts the days from the cursor (or the start date) to today into
// windows of two calendar days in America/Sao_Paulo and plans a fetch for
// each window and movement type, except where one is under way or where
// the window was read for good: a fetch planned after the window had
// ended, done. So the most recent window is asked again on every run
// until a run after its end has read it.
func (k *Connector) Plan(c *baixa.Connection, known []*baixa.Fetch, now time.Time) ([]*baixa.Fetch, string) {
	s, err := parseSettings(c.Settings)
	if err != nil {
		return nil, c.Cursor
	}
	today := baixa.Today(now)
	start := s.StartDate
	if c.Cursor != "" {
		if d, err := baixa.ParseDate(c.Cursor); err == nil {
			start = d
		}
	}
	type slot struct {
		from  baixa.Date
		scope string
	}
	active, final := map[slot]bool{}, map[slot]baixa.Date{}
	for _, f := range known {
		sl := slot{f.WindowFrom, f.Scope}
		if f.Status.Active() {
			active[sl] = true
		} else if f.Status == baixa.FetchDone && f.Final {
			final[sl] = f.WindowTo
		}
	}
	var out []*baixa.Fetch
	cursor, settled := start, true
	for from, n := start, 0; !today.Before(from) && n < maxWindows; from, n = from.AddDays(2), n+1 {
		to := from.AddDays(1)
		if today.Before(to) {
			to = today
		}
		allFinal := true
		for _, t := range s.MovementTypes {
			sl := slot{from, strconv.Itoa(t)}
			if done, ok := final[sl]; ok && done == to {
				continue
			}
			allFinal = false
			if active[sl] {
				continue
			}
			out = append(out, &baixa.Fetch{WindowFrom: from, WindowTo: to, Scope: sl.scope, Final: to.Before(today)})
		}
		if settled && allFinal {
			cursor = from.AddDays(2)
		} else {
			settled = false
		}
	}
	return out, cursor.String()
}

// Step follows one fetch: request, poll, download. Faults (Sicoob down,
// 5xx, 429, a refused token) are retried with backoff until give_up_after;
// answers that will not change (a refused request) fail the fetch at
// once, and the next run asks again.
func (k *Connector) Step(ctx context.Context, c *baixa.Connection, f *baixa.Fetch, st baixa.FetchStore) error {
	s, err := parseSettings(c.Settings)
	if err != nil {
		return k.fail(ctx, st, f, "the connection's settings are invalid: "+err.Error())
	}
	cl, err := k.client(c, s)
	if err != nil {
		return k.fail(ctx, st, f, "the client certificate cannot be used: "+err.Error())
	}
	tipo, _ := strconv.Atoi(f.Scope)
	if f.Status == baixa.FetchNew {
		code, err := cl.RequestMovements(ctx, s.numero, tipo, f.WindowFrom, f.WindowTo)
		if err != nil {
			return k.trouble(ctx, st, f, s, err)
		}
		f.Status, f.RequestCode, f.RequestedAt, f.Polls = baixa.FetchRequested, strconv.FormatInt(code, 10), k.now(), 0
		f.Note = "requested; waiting for Sicoob to process it"
		if err := st.SaveFetch(ctx, f); err != nil {
			return err
		}
		return &baixa.RetryLater{After: s.polling.Every, Reason: f.Note}
	}
	code, _ := strconv.ParseInt(f.RequestCode, 10, 64)
	if f.Status == baixa.FetchRequested {
		l, err := cl.MovementStatus(ctx, s.numero, code)
		if err != nil {
			return k.trouble(ctx, st, f, s, err)
		}
		f.Polls++
		switch {
		case !l.Ready:
			if k.now().Sub(f.RequestedAt) > s.polling.GiveUp {
				return k.fail(ctx, st, f, fmt.Sprintf("gave up after %s: %s (request %s, %d polls)", s.polling.GiveUp, l.Note, f.RequestCode, f.Polls))
			}
			f.Note = fmt.Sprintf("%s (poll %d)", l.Note, f.Polls)
			if err := st.SaveFetch(ctx, f); err != nil {
				return err
			}
			return &baixa.RetryLater{After: s.polling.Backoff(f.Polls), Reason: f.Note}
		case len(l.FileIDs) == 0:
			f.Status, f.Note = baixa.FetchDone, l.Note
			return st.SaveFetch(ctx, f)
		}
		f.Status, f.Note = baixa.FetchListed, fmt.Sprintf("%d files, %d records", len(l.FileIDs), l.Total)
		for _, id := range l.FileIDs {
			f.Files = append(f.Files, strconv.FormatInt(id, 10))
		}
		if err := st.SaveFetch(ctx, f); err != nil {
			return err
		}
	}
	for _, id := range f.Pending() {
		if err := k.download(ctx, c, cl, s, f, code, id, st); err != nil {
			if errors.Is(err, ErrTooLarge) {
				return k.fail(ctx, st, f, err.Error()+" (raise max_file_bytes)")
			}
			return k.trouble(ctx, st, f, s, err)
		}
	}
	f.Status = baixa.FetchDone
	f.Note = fmt.Sprintf("%d files stored", len(f.Files))
	return st.SaveFetch(ctx, f)
}

// download spools one file to disk and stores it as a Document.
func (k *Connector) download(ctx context.Context, c *baixa.Connection, cl *Client, s *Settings, f *baixa.Fetch, code int64, id string, st baixa.FetchStore) error {
	fileID, _ := strconv.ParseInt(id, 10, 64)
	tmp, err := os.CreateTemp(k.TempDir, "baixa-sicoob-download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := cl.Download(ctx, s.numero, code, fileID, tmp, s.MaxFileBytes); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, 0); err != nil {
		return err
	}
	_, err = st.StoreFetchFile(ctx, f, id, baixa.NewDocument{
		Provider: Provider, ConnectionID: c.ID, AccountID: c.AccountID, ContentType: "application/json",
		DedupKey: fmt.Sprintf("%s/%s/%s", c.ID, f.RequestCode, id), Body: tmp,
	})
	return err
}

// trouble decides what an error means for the fetch.
func (k *Connector) trouble(ctx context.Context, st baixa.FetchStore, f *baixa.Fetch, s *Settings, err error) error {
	if ae, ok := errors.AsType[*APIError](err); ok {
		switch {
		case ae.has("", "NENHUM REGISTRO"):
			f.Status, f.Note = baixa.FetchDone, "no movements"
			return st.SaveFetch(ctx, f)
		case ae.Status == http.StatusBadRequest || ae.Status == http.StatusNotAcceptable || ae.Status == http.StatusNotFound ||
			ae.Status == http.StatusUnprocessableEntity:
			return k.fail(ctx, st, f, "Sicoob refused: "+err.Error())
		}
	}
	return s.polling.Retry(ctx, st, f, k.now(), err, func(why string) error { return k.fail(ctx, st, f, why) })
}

func (k *Connector) fail(ctx context.Context, st baixa.FetchStore, f *baixa.Fetch, why string) error {
	f.Status, f.Note = baixa.FetchFailed, why
	return st.SaveFetch(ctx, f)
}

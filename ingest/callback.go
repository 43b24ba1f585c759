// Package ingest takes in what comes to baixa from outside: providers'
// callbacks (authenticated, matched to their connection, stored before
// they are answered) and imported files (checked whole, stored, queued).
// It holds the rules; the web package only translates HTTP to and from it.
package ingest

import (
	"context"
	"net/http"
	"time"

	"baixa"
	"baixa/internal/ttl"
)

// Connections is what callbacks read connections through.
type Connections interface {
	FindConnectionByID(ctx context.Context, id string) (*baixa.Connection, error)
	baixa.ConnectionLister
}

// Documents is where what comes in is stored.
type Documents interface {
	CreateDocument(ctx context.Context, d baixa.NewDocument) (doc *baixa.Document, created bool, err error)
}

// Callbacks takes providers' callbacks: the connection a callback is for is
// found (by the id in its path, or by the credentials it carries), its
// credentials are checked, and its provider's receiver turns it into a
// Document, stored (with group commit) before the provider gets its answer.
type Callbacks struct {
	Connections Connections
	Documents   Documents
	// Receivers read each provider's callbacks.
	Receivers map[string]baixa.Receiver
	// Check authenticates a callback (inbound.Verifier.Check).
	Check func(r *http.Request, body []byte, a baixa.InboundAuth, secrets map[string]string) error
	// Now is the clock of the caches (time.Now when nil).
	Now func() time.Time

	// Connections as read (by id), and their credentials' index (by
	// provider), for connectionTTL.
	conns ttl.Cache[*baixa.Connection]
	creds ttl.Cache[*credIndex]
}

// connectionTTL is how long a callback works with a connection as read: a
// change (new credentials) reaches callbacks within it.
const connectionTTL = time.Second

func (cb *Callbacks) now() time.Time {
	if cb.Now != nil {
		return cb.Now()
	}
	return time.Now()
}

// Takes reports whether provider's callbacks are taken.
func (cb *Callbacks) Takes(provider string) bool {
	return cb != nil && cb.Receivers[provider] != nil && cb.Connections != nil
}

// Connection returns the connection id, of provider, whose credentials r
// carries. It fails with ENotFound for no such connection of provider
// (a database that cannot be reached is not that: the provider must try
// again, not drop the callback), EUnauthorized for credentials refused,
// and EForbidden for a disabled connection, whose callbacks are refused,
// not held, so that the provider keeps them.
func (cb *Callbacks) Connection(ctx context.Context, r *http.Request, provider, id string, body []byte) (*baixa.Connection, error) {
	c, err := cb.cachedConnection(ctx, id)
	if err != nil && !baixa.IsCode(err, baixa.ENotFound) {
		return nil, err
	}
	if err != nil || c.Provider != provider {
		return nil, baixa.Errorf(baixa.ENotFound, "no such connection for %s", provider)
	}
	if err := cb.check(r, body, c); err != nil {
		return nil, unauthorized(err)
	}
	if !c.Enabled {
		return c, disabled(c)
	}
	return c, nil
}

// ByCredentials returns the connection of provider whose credentials r
// carries, for a path a provider mandates without naming the connection
// (Saurus's POST /api/financeiro/retorno). Errors as Connection's.
func (cb *Callbacks) ByCredentials(ctx context.Context, r *http.Request, provider string, body []byte) (*baixa.Connection, error) {
	idx, err := cb.credentialIndex(ctx, provider)
	if err != nil {
		return nil, err
	}
	var off *baixa.Connection
	for _, c := range idx.candidates(r) {
		if err := cb.check(r, body, c); err != nil {
			continue
		}
		if !c.Enabled {
			off = c
			continue
		}
		return c, nil
	}
	if off != nil {
		return off, disabled(off)
	}
	return nil, baixa.Errorf(baixa.EUnauthorized, "no %s connection takes these credentials", provider)
}

func unauthorized(err error) error {
	if baixa.IsCode(err, baixa.EUnauthorized) {
		return err
	}
	return &baixa.Error{Code: baixa.EUnauthorized, Message: err.Error()}
}

func disabled(c *baixa.Connection) error {
	return baixa.Errorf(baixa.EForbidden, "connection %s is disabled: its callbacks are refused and nothing is stored", c.ID)
}

func (cb *Callbacks) check(r *http.Request, body []byte, c *baixa.Connection) error {
	auth, err := cb.Receivers[c.Provider].Auth(c)
	if err != nil {
		return err
	}
	if cb.Check == nil {
		return baixa.Errorf(baixa.EInternal, "callback checks are not configured")
	}
	return cb.Check(r, body, auth, c.Secrets)
}

// Receipt is what came of a stored callback.
type Receipt struct {
	Document *baixa.Document
	// Created is false when the same callback was stored before.
	Created bool
	// Answer is the provider's own answer, when its protocol has one
	// (Saurus's protocol id); nil otherwise.
	Answer any
}

// Refused is a callback its provider's receiver would not read: the
// provider sent something wrong (Err says what), not baixa.
type Refused struct{ Err error }

func (e *Refused) Error() string { return e.Err.Error() }
func (e *Refused) Unwrap() error { return e.Err }

// Store has c's receiver read the callback and stores it; a callback
// stored before is found, not stored again.
func (cb *Callbacks) Store(ctx context.Context, r *http.Request, body []byte, c *baixa.Connection) (*Receipt, error) {
	recv := cb.Receivers[c.Provider]
	nd, err := recv.Receive(ctx, r, body, c)
	if err != nil {
		return nil, &Refused{err}
	}
	doc, created, err := cb.Documents.CreateDocument(ctx, *nd)
	if err != nil {
		return nil, err
	}
	rc := &Receipt{Document: doc, Created: created}
	if a, ok := recv.(interface {
		Answer(doc *baixa.Document, duplicate bool) any
	}); ok {
		rc.Answer = a.Answer(doc, !created)
	}
	return rc, nil
}

func (cb *Callbacks) cachedConnection(ctx context.Context, id string) (*baixa.Connection, error) {
	if c, ok := cb.conns.Get(id, connectionTTL, cb.now()); ok {
		return c, nil
	}
	c, err := cb.Connections.FindConnectionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cb.conns.Put(id, c, cb.now())
	return c, nil
}

// credIndex finds a provider's connections by the credentials a callback
// carries (baixa.InboundAuth.Fingerprint), among all of them.
type credIndex struct {
	byPrint map[string][]*baixa.Connection
	// varying are the connections whose proof changes with each request
	// (JWT, signed bodies): tried one by one.
	varying []*baixa.Connection
	headers []string // custom header names in use
}

// candidates are the connections that may take r's credentials.
func (x *credIndex) candidates(r *http.Request) []*baixa.Connection {
	var out []*baixa.Connection
	for _, fp := range baixa.RequestFingerprints(r, x.headers) {
		out = append(out, x.byPrint[fp]...)
	}
	return append(out, x.varying...)
}

// credentialIndex returns provider's index, read again when older than
// connectionTTL.
func (cb *Callbacks) credentialIndex(ctx context.Context, provider string) (*credIndex, error) {
	if x, ok := cb.creds.Get(provider, connectionTTL, cb.now()); ok {
		return x, nil
	}
	x := &credIndex{byPrint: map[string][]*baixa.Connection{}}
	headers := map[string]bool{}
	err := baixa.EachConnection(ctx, cb.Connections, func(c *baixa.Connection) error {
		if c.Provider != provider {
			return nil
		}
		a, err := cb.Receivers[provider].Auth(c)
		if err != nil {
			return nil //nolint:nilerr // a connection without callbacks configured takes none
		}
		fp, ok := a.Fingerprint(c.Secrets)
		if !ok {
			x.varying = append(x.varying, c)
			return nil
		}
		x.byPrint[fp] = append(x.byPrint[fp], c)
		if a.Method == baixa.AuthHeader && !headers[a.Header] {
			headers[a.Header] = true
			x.headers = append(x.headers, a.Header)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cb.creds.Put(provider, x, cb.now())
	return x, nil
}

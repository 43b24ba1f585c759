package baixa

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// Connection is one configured provider account: where baixa reads an
// account's movements from, with what credentials, and how often.
type Connection struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	Provider  string `json:"provider"`
	Name      string `json:"name"`
	// Settings are the provider's own, non-secret settings, normalized by
	// its Connector (defaults filled in).
	Settings json.RawMessage `json:"settings"`
	// Secrets (certificates, keys, passwords, tokens) are written, never
	// read back: they are sealed at rest and absent from every response.
	Secrets map[string]string `json:"-"`
	// SecretsSet names the secrets stored.
	SecretsSet []string `json:"secrets_set"`
	// EverySeconds is how often the connection is read.
	EverySeconds int64 `json:"every_seconds"`
	Enabled      bool  `json:"enabled"`
	// Cursor is the provider's own bookmark (for Sicoob, the first day not
	// yet read for good).
	Cursor string `json:"cursor,omitempty"`
	// CertificateExpiresAt is when the client certificate expires, if any.
	CertificateExpiresAt time.Time `json:"certificate_expires_at,omitzero"`
	LastRunAt            time.Time `json:"last_run_at,omitzero"`
	NextRunAt            time.Time `json:"next_run_at,omitzero"`
	// LastError is the last failure, in words; "" once a fetch succeeds.
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ConnectionStats is what a connection has done, for operators.
type ConnectionStats struct {
	Documents       int64 `json:"documents"`
	DocumentsFailed int64 `json:"documents_failed"`
	// DocumentsPending are stored and not yet settled.
	DocumentsPending int64 `json:"documents_pending"`
	// Movements counts the movements of its documents by result.
	Movements map[MovementResult]int64 `json:"movements"`
	// Active are the fetches under way (window, request code, state, note).
	Active []*Fetch `json:"active"`
	// Recent are the last fetches that ended.
	Recent []*Fetch `json:"recent"`
	// Failed are the last documents that could not be decoded, with why
	// (kept, to be settled again once the cause is fixed).
	Failed []*Document `json:"failed_documents"`
}

// ConnectionService stores connections.
type ConnectionService interface {
	// CreateConnection stores c (already prepared by its Connector), sealing
	// its secrets, and schedules its first run at once.
	CreateConnection(ctx context.Context, c *Connection) error
	// FindConnectionByID returns the connection with its secrets opened.
	FindConnectionByID(ctx context.Context, id string) (*Connection, error)
	FindConnections(ctx context.Context, after string, limit int) ([]*Connection, string, error)
	// UpdateConnection writes c's settings, secrets and schedule.
	UpdateConnection(ctx context.Context, c *Connection) error
	// DeleteConnection removes c and its unfinished fetches; its documents stay.
	DeleteConnection(ctx context.Context, id string) error
	// RunConnection makes c due now.
	RunConnection(ctx context.Context, id string) error
	ConnectionStats(ctx context.Context, id string) (*ConnectionStats, error)
}

// FetchStatus is how far a fetch has gone.
type FetchStatus string

// Fetch statuses. New, requested and listed are active: at most one active
// fetch exists per connection, window and scope.
const (
	FetchNew       FetchStatus = "new"       // planned; nothing asked yet
	FetchRequested FetchStatus = "requested" // the provider took the request (RequestCode); waiting for it
	FetchListed    FetchStatus = "listed"    // the provider listed its files; downloading them
	FetchDone      FetchStatus = "done"      // every file stored as a Document
	FetchFailed    FetchStatus = "failed"    // given up (Note says why); the next run asks again
)

// Active reports whether s is not final.
func (s FetchStatus) Active() bool { return s == FetchNew || s == FetchRequested || s == FetchListed }

// Fetch is one request to a provider for one window of its data, followed
// from asking to the stored files.
type Fetch struct {
	ID           string `json:"id"`
	ConnectionID string `json:"connection_id"`
	WindowFrom   Date   `json:"window_from"`
	WindowTo     Date   `json:"window_to"`
	// Scope subdivides a window (for Sicoob, the movement type: "5").
	Scope  string      `json:"scope"`
	Status FetchStatus `json:"status"`
	// RequestCode is the provider's handle on the request (Sicoob's
	// codigoSolicitacao), stored before anything else is done.
	RequestCode string `json:"request_code,omitempty"`
	// Files are the provider's file ids; FilesDone those stored.
	Files     []string `json:"files"`
	FilesDone []string `json:"files_done"`
	Polls     int      `json:"polls"`
	// Final is set when the window had ended before the fetch was planned:
	// once done, the window is not asked again.
	Final bool `json:"final"`
	// Note is the last thing learnt, in words (why it waits, why it failed).
	Note        string    `json:"note,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
	DoneAt      time.Time `json:"done_at,omitzero"`
}

// Pending returns the listed files not yet stored, in order.
func (f *Fetch) Pending() []string {
	var out []string
	for _, id := range f.Files {
		if !slices.Contains(f.FilesDone, id) {
			out = append(out, id)
		}
	}
	return out
}

// FetchStore is what a Connector needs while it follows a fetch.
type FetchStore interface {
	// SaveFetch writes f's progress (status, request code, files, polls, note).
	SaveFetch(ctx context.Context, f *Fetch) error
	// StoreFetchFile stores a downloaded file as a Document, queues its
	// settling, and adds fileID to f.FilesDone, in one transaction. A file
	// stored before (same dedup key, or same content for the connection)
	// is not stored again; it still counts as done.
	StoreFetchFile(ctx context.Context, f *Fetch, fileID string, d NewDocument) (*Document, error)
	// OpenDocument streams a stored document's bytes (a fetch's input, or a
	// file it stored).
	OpenDocument(ctx context.Context, id string) (io.ReadCloser, error)
	// FinishDocument marks a document that was a fetch's input (see
	// NewDocument.Follow) settled, or failed with failure when it is not "",
	// with report saying what came of it (which documents hold the results).
	FinishDocument(ctx context.Context, id, failure, report string) error
}

// Acker is the Connector of a provider that wants to be told that baixa
// stored what it read (Recuperador: mark the event read).
type Acker interface {
	// Ack tells the provider that doc (whose bytes are body) is stored. It
	// may return the provider's answer as a document to store and settle
	// (nil when there is nothing to keep). Errors are retried.
	Ack(ctx context.Context, c *Connection, doc *Document, body []byte) (*NewDocument, error)
}

// Connector is what baixa knows of one provider's connections.
type Connector interface {
	// Prepare validates c's settings and secrets (after an update, merged
	// with those stored) and normalizes them: defaults filled in, and
	// CertificateExpiresAt set. Errors are EInvalid, naming the field.
	Prepare(c *Connection, now time.Time) error
	// Check tests c against the provider (credentials, reachability).
	Check(ctx context.Context, c *Connection) error
	// Plan returns the fetches to start now, given c's fetches since its
	// cursor (active and ended), and c's new cursor.
	Plan(c *Connection, known []*Fetch, now time.Time) (fetches []*Fetch, cursor string)
	// Step moves one fetch forward, saving its progress in st as it goes.
	// It returns *RetryLater to be called again after a while, nil when the
	// fetch is done or failed (f.Status says which), and other errors for
	// faults worth a retry by the queue.
	Step(ctx context.Context, c *Connection, f *Fetch, st FetchStore) error
}

// RetryLater asks the caller to run the same step again after a while
// (polling a request that is not ready, a provider that is down).
type RetryLater struct {
	After  time.Duration
	Reason string
	// Fault marks a failure (the provider down, an error answer) rather
	// than a wait (a request still processing): it is shown as the
	// connection's last error.
	Fault bool
}

func (e *RetryLater) Error() string { return fmt.Sprintf("retry in %s: %s", e.After, e.Reason) }

// TickJob is the periodic job that starts the runs of the connections
// that are due.
type TickJob struct{}

// FetchJob follows one fetch to its end.
type FetchJob struct{ FetchID string }

func (TickJob) job()  {}
func (FetchJob) job() {}

// ConnectionLister lists connections a page at a time.
type ConnectionLister interface {
	FindConnections(ctx context.Context, after string, limit int) ([]*Connection, string, error)
}

// EachConnection calls fn with every connection l lists, in creation
// order, a page at a time, however many there are.
func EachConnection(ctx context.Context, l ConnectionLister, fn func(*Connection) error) error {
	after := ""
	for {
		cs, next, err := l.FindConnections(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := fn(c); err != nil {
				return err
			}
		}
		if next == "" || len(cs) == 0 {
			return nil
		}
		after = next
	}
}

package baixa

import (
	"context"
	"fmt"
	"io"
	"time"
)

// DocumentStatus is how far a document has been processed.
type DocumentStatus string

// Document statuses.
const (
	DocPending DocumentStatus = "pending" // stored; decoding and settling queued or under way
	DocSettled DocumentStatus = "settled" // every movement settled
	DocFailed  DocumentStatus = "failed"  // could not be decoded; Error says why; nothing was applied
)

// Document is raw provider input, stored verbatim before anything is done
// with it: a downloaded file, a callback request, an API response page.
type Document struct {
	ID           string         `json:"id"`
	Provider     string         `json:"provider"`
	ConnectionID string         `json:"connection_id,omitempty"`
	AccountID    string         `json:"account_id,omitempty"`
	ContentType  string         `json:"content_type"`
	SHA256       string         `json:"sha256"`
	DedupKey     string         `json:"dedup_key"`
	Size         int64          `json:"size"`
	Status       DocumentStatus `json:"status"`
	Error        string         `json:"error,omitempty"`
	// SkipBadLines settles the lines that read well and reports the others
	// (in Report) instead of failing the whole document.
	SkipBadLines bool      `json:"skip_bad_lines"`
	Report       string    `json:"report,omitempty"`
	Progress     int64     `json:"progress"`
	Total        int64     `json:"total"`
	Applied      int64     `json:"applied"`
	Duplicate    int64     `json:"duplicate"`
	Unmatched    int64     `json:"unmatched"`
	Conflict     int64     `json:"conflict"`
	CreatedAt    time.Time `json:"created_at"`
	SettledAt    time.Time `json:"settled_at,omitzero"`
}

// NewDocument describes a document to store.
type NewDocument struct {
	Provider     string
	ConnectionID string
	AccountID    string
	ContentType  string
	// DedupKey is the provider's key for this input; "" means the content's
	// SHA-256. A second document with the same Provider and DedupKey is not
	// stored again.
	DedupKey string
	// SkipBadLines: see Document.
	SkipBadLines bool
	// Follow, when set, is a fetch to start with the document, in the same
	// transaction, instead of settling it: the document is the fetch's
	// input (a file to upload, a webhook that says what to read back), and
	// its id is appended to Follow.Scope. The fetch's connector marks the
	// document settled or failed when it is done with it.
	Follow *Fetch
	// Ack queues, in the same transaction, the acknowledgement of the
	// document to its provider (AckJob), to be sent after the commit. A
	// document stored before is acknowledged again if no acknowledgement of
	// it is still waiting.
	Ack  bool
	Body io.Reader
}

// DocumentService stores documents.
type DocumentService interface {
	// CreateDocument stores the document's bytes and queues its settling, in
	// one transaction. If a document with the same provider and dedup key
	// exists, it returns that one and created=false.
	CreateDocument(ctx context.Context, d NewDocument) (doc *Document, created bool, err error)
	FindDocumentByID(ctx context.Context, id string) (*Document, error)
	// OpenDocument streams a stored document's bytes.
	OpenDocument(ctx context.Context, id string) (io.ReadCloser, error)
	// RetryDocument queues a failed document to be decoded and settled
	// again (after its decoder was fixed or added), in one transaction.
	// Only a failed document can be retried (EConflict otherwise); nothing
	// of it was applied, so nothing is applied twice.
	RetryDocument(ctx context.Context, id string) (*Document, error)
	// FindDocuments lists documents, newest first.
	FindDocuments(ctx context.Context, f DocumentFilter) ([]*Document, string, error)
}

// Decoder turns a document's bytes into movements. It is pure: the same
// bytes always give the same movements, with the same keys. It calls emit for
// each movement in order and stops at the first error emit returns.
type Decoder interface {
	Decode(ctx context.Context, doc *Document, r io.Reader, emit func(*Movement) error) error
}

// EmptyAccepter is a Decoder whose well-formed input may hold no movement
// and still be worth storing, as a bank's return file of a day without
// movements: an import of it is stored, where one of nothing is otherwise
// refused.
type EmptyAccepter interface {
	AcceptsEmpty() bool
}

// BadLines is what a decoder returns, at the end, for a document whose
// SkipBadLines is set: the movements of the good lines were emitted, and
// these lines were left out.
type BadLines struct {
	Problems []string // the first ones, each naming its line
	Count    int
}

func (b *BadLines) Error() string {
	s := fmt.Sprintf("%d bad lines left out", b.Count)
	for _, p := range b.Problems {
		s += "; " + p
	}
	if b.Count > len(b.Problems) {
		s += "; ..."
	}
	return s
}

// Add records a problem (keeping the first 20 in full).
func (b *BadLines) Add(problem string) {
	b.Count++
	if len(b.Problems) < 20 {
		b.Problems = append(b.Problems, problem)
	}
}

// Job is background work that follows a committed change: it is enqueued
// in the transaction that makes the change, so that it exists if and only
// if the change does, and the queue runs it. The jobs are SettleJob,
// AckJob, TickJob, FetchJob and DeliverJob.
type Job interface{ job() }

// SettleJob decodes and settles a document, then each of Then, in order:
// the documents one group commit stored (callbacks) share one job.
type SettleJob struct {
	DocumentID string
	Then       []string
}

// AckJob acknowledges a stored document to its provider (Recuperador's
// mark-read), after the document committed.
type AckJob struct{ DocumentID string }

func (SettleJob) job() {}
func (AckJob) job()    {}

// DocumentFilter selects documents; empty fields select all.
type DocumentFilter struct {
	AccountID    string
	ConnectionID string
	Provider     string
	Status       DocumentStatus
	Page
}

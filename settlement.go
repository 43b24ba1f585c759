package baixa

import (
	"context"
	"io"
)

// Counts tallies movements by result.
type Counts struct {
	Applied, Duplicate, Unmatched, Conflict int64
}

// Add counts one result.
func (c *Counts) Add(r MovementResult) {
	switch r {
	case ResultApplied:
		c.Applied++
	case ResultDuplicate:
		c.Duplicate++
	case ResultUnmatched:
		c.Unmatched++
	case ResultConflict:
		c.Conflict++
	}
}

// Total is the number of movements counted.
func (c Counts) Total() int64 { return c.Applied + c.Duplicate + c.Unmatched + c.Conflict }

// SettleTx is what settling needs from storage inside one write
// transaction. The store implements it; package settle uses it.
type SettleTx interface {
	// KnownMovements returns which of keys are already recorded for provider.
	KnownMovements(ctx context.Context, provider string, keys []string) (map[string]bool, error)
	// FindRefs returns, for one account and reference kind, the ids of the
	// charges indexed under each of values.
	FindRefs(ctx context.Context, accountID, kind string, values []string) (map[string][]string, error)
	// LoadCharges loads charges by id, locked against concurrent settling
	// until the transaction ends.
	LoadCharges(ctx context.Context, ids []string) (map[string]*Charge, error)
	// RecordSettled records movements, and then, only if all of them were
	// inserted, the settled state of cs, each only if its sequence is
	// still prev[i] (the one it was loaded with). It returns how many
	// movements were inserted (fewer when another transaction recorded
	// some of the same keys first) and how many charges were written
	// (fewer when some changed since they were loaded).
	RecordSettled(ctx context.Context, ms []*Movement, cs []*Charge, prev []int64) (inserted, updated int, err error)
	// Savepoint marks a point that RollbackToSavepoint returns to, keeping
	// the row locks taken before it.
	Savepoint(ctx context.Context) error
	RollbackToSavepoint(ctx context.Context) error
	// InsertEvents appends events to the feed, in order.
	InsertEvents(ctx context.Context, es []*Event) error
	// InsertDocument stores a small document inline, already settled
	// (manual movements); created=false returns the existing one.
	InsertDocument(ctx context.Context, d NewDocument, body []byte) (doc *Document, created bool, err error)
	// FindMovementByKey returns the movement recorded under provider and key.
	FindMovementByKey(ctx context.Context, provider, key string) (*Movement, error)
	// AdvanceDocument adds c to the document's counts, raises its progress
	// (movements settled so far; it never goes back) and sets its total, and,
	// when done, marks it settled.
	AdvanceDocument(ctx context.Context, id string, c Counts, progress, total int64, done bool) error
	// FailDocument marks a pending document failed with reason.
	FailDocument(ctx context.Context, id, reason string) error
	// ReportDocument records what a document settled without (bad lines left out).
	ReportDocument(ctx context.Context, id, report string) error
}

// SettleStore gives settling its transactions and the documents to decode.
type SettleStore interface {
	FindDocumentByID(ctx context.Context, id string) (*Document, error)
	FindChargeByID(ctx context.Context, id string) (*Charge, error)
	// WriteTx runs fn in one write transaction, committed if fn returns nil.
	WriteTx(ctx context.Context, fn func(SettleTx) error) error
	OpenDocument(ctx context.Context, id string) (io.ReadCloser, error)
}

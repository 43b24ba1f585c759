package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/pressly/goose/v3"

	"baixa"
)

// Dialects, as DB.Dialect names them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// openDialect opens the database a URL names: PostgreSQL at raw, or the
// SQLite file at path.
func openDialect(ctx context.Context, name, raw, path string, maxConns, cacheMiB int) (*DB, error) {
	if name == Postgres {
		return openPostgres(ctx, raw, maxConns)
	}
	return openSQLite(ctx, path, maxConns, cacheMiB)
}

// dialect is everything the two databases need written differently: the
// rest of the package writes its SQL once, with PostgreSQL's $N
// placeholders, and calls these where they part. sqlite.go and
// postgres.go implement it; no other file asks which database it is on.
type dialect interface {
	name() string
	// sql returns q, written with $N placeholders, as the database takes it.
	sql(q string) string
	// conn returns c taking baixa's SQL.
	conn(c sqlConn) sqlConn
	// stmt returns q (already as the database takes it) ready to run on c:
	// prepared once and kept where preparing costs as much as running.
	// done releases it.
	stmt(ctx context.Context, c sqlConn, q string) (st sqlStmt, done func(), err error)
	// committed is called after a write transaction ends.
	committed(ctx context.Context)
	// writers is how many transactions may usefully write at once.
	writers() int
	migrations() (goose.Dialect, []goose.ProviderOption, error)
	// analyze refreshes the planner's statistics after a bulk load.
	analyze(ctx context.Context, w *sql.DB) error

	// insert inserts n rows into table, whose columns are given with their
	// PostgreSQL types ("id text, amount bigint"), followed by suffix (an
	// ON CONFLICT clause). It returns the number of rows inserted.
	insert(ctx context.Context, c sqlConn, table, typed string, n int, row func(i int) []any, suffix string) (int64, error)
	// queryIn runs query, whose "IN (%s)" takes values, after the fixed
	// args; each row goes to scan.
	queryIn(ctx context.Context, c sqlConn, query string, fixed []any, values []string, scan func(*sql.Rows) error) error
	// recordSettled inserts n movements (row gives each in movementTypes'
	// order; one stored before is skipped) and, if all were inserted,
	// writes cs where each one's sequence is still prev[i]. It returns how
	// many movements were inserted and how many charges written.
	recordSettled(ctx context.Context, tx *sql.Tx, n int, row func(i int) []any, cs []*baixa.Charge, prev []int64) (inserted, updated int, err error)
	// updateDeliveries writes attempts' outcomes and lifts their leases.
	updateDeliveries(ctx context.Context, tx *sql.Tx, outs []baixa.DeliveryOutcome) (int64, error)
	// recordRound writes the outcomes of a round of attempts on a
	// healthy endpoint, with the attempts, and reports whether more of its
	// deliveries are due, where the database can in one statement; ok
	// false: RecordAttempts does it in a transaction.
	recordRound(ctx context.Context, db *DB, endpointID string, outs []baixa.DeliveryOutcome, now time.Time) (more, ok bool, err error)
	// insertDocuments writes a group's small documents (group commit).
	insertDocuments(ctx context.Context, db *DB, tx *sql.Tx, batch []*groupReq, res []groupRes) error

	// lockRows is the suffix of a SELECT of charges by id that locks them
	// for the transaction.
	lockRows() string
	// insertEvents inserts n rows (typed as for insert) into events,
	// serializing the transactions that add events so that the feed's
	// order is the order they commit in.
	insertEvents(ctx context.Context, tx *sql.Tx, typed string, n int, row func(i int) []any) error
	// attentionFrom names the movements table, as m, for the list of
	// movements that need a person (movements_attention).
	attentionFrom() string
	// reviewFrom names the movements table, as m, for the attention queue
	// (movements_review).
	reviewFrom() string
	// claimDeliveries leases the deliveries selected by due (a FROM ...
	// LIMIT $3 clause over deliveries d, taking the endpoint $1 and now $2),
	// and reads them with their events in one statement (collectClaimed).
	claimDeliveries(ctx context.Context, db *DB, endpointID, due string, now time.Time, lease time.Duration, limit int) ([]*baixa.Delivery, map[string][]byte, error)

	close() error
}

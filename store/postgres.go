package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"baixa"
)

// postgresDialect is PostgreSQL's side of the dialect seam: a statement
// that carries many rows takes one array per column (unnest, = ANY), so a
// batch is one short statement that plans in microseconds; rows are locked
// where several instances may write them.
type postgresDialect struct{}

func openPostgres(ctx context.Context, raw string, maxConns int) (*DB, error) {
	masked := maskURL(raw)
	pcfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %w", masked, errors.Unwrap(err))
	}
	pcfg.MaxConns = 2
	listener, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", masked, err)
	}
	ccfg, err := pgx.ParseConfig(raw)
	if err != nil {
		listener.Close()
		return nil, fmt.Errorf("database URL %s: %w", masked, errors.Unwrap(err))
	}
	w := stdlib.OpenDB(*ccfg)
	w.SetMaxOpenConns(maxConns)
	w.SetMaxIdleConns(maxConns)
	// A connection's cached plans (see planned) are made again at least
	// this often, however its tables have grown since.
	w.SetConnMaxLifetime(connMaxLifetime)
	if err := pingWithin(ctx, w); err != nil {
		listener.Close()
		w.Close()
		return nil, fmt.Errorf("connect to %s: %w", masked, err)
	}
	return newDB(postgresDialect{}, w, w, listener, masked), nil
}

// connMaxLifetime bounds how long a connection, and the plans it cached,
// lives.
const connMaxLifetime = 30 * time.Minute

// planned returns the arguments of a statement that carries n rows in
// arrays. One row runs as the connection's prepared statement: PostgreSQL
// plans it with its arguments five times, then may keep a generic plan
// (plan_cache_mode auto), which spares the planning that was most of the
// server's work per payment. More rows run as pgx's unnamed statement,
// planned with their arguments every time: a generic plan cannot know an
// array's length, and one cached while a table was small (or never
// analyzed: this server runs without autovacuum) turned settling's index
// lookups into scans, 50 times slower (docs/BENCHMARKS.md).
func planned(n int, args []any) []any {
	if n <= 1 {
		return args
	}
	return append([]any{pgx.QueryExecModeCacheDescribe}, args...)
}

func (postgresDialect) name() string { return Postgres }

func (postgresDialect) sql(q string) string { return q }

func (postgresDialect) conn(c sqlConn) sqlConn { return c }

// stmt runs q as it is: pgx caches statements per connection itself.
func (postgresDialect) stmt(_ context.Context, c sqlConn, q string) (sqlStmt, func(), error) {
	return plainStmt{c, q}, func() {}, nil
}

func (postgresDialect) committed(context.Context) {}

// writers is two: a settling document keeps two batches in flight, one
// backend each (more measured slower on two cores).
func (postgresDialect) writers() int { return 2 }

// migrations takes a session lock, so that instances starting at once
// migrate one after the other.
func (postgresDialect) migrations() (goose.Dialect, []goose.ProviderOption, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return "", nil, err
	}
	return goose.DialectPostgres, []goose.ProviderOption{goose.WithSessionLocker(locker)}, nil
}

// analyze is what autovacuum does after a bulk load on a server that runs it.
func (postgresDialect) analyze(ctx context.Context, w *sql.DB) error {
	_, err := w.ExecContext(ctx, "ANALYZE")
	return err
}

func (postgresDialect) close() error { return nil }

func (postgresDialect) insert(ctx context.Context, c sqlConn, table, typed string, n int, row func(i int) []any, suffix string) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	res, err := c.ExecContext(ctx, insertFromArrays(table, typed, suffix), planned(n, columnArrays(typed, n, row))...)
	if err != nil {
		return 0, fmt.Errorf("insert %s: %w", table, err)
	}
	return res.RowsAffected()
}

// insertFromArrays inserts into table the rows of one array argument per
// column (typed), from $1.
func insertFromArrays(table, typed, suffix string) string {
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM %s%s", table, strings.Join(columnNames(typed), ", "), unnestFrom(typed, 1), suffix)
}

// queryIn sends the values as one array argument (= ANY).
func (postgresDialect) queryIn(ctx context.Context, c sqlConn, query string, fixed []any, values []string, scan func(*sql.Rows) error) error {
	if len(values) == 0 {
		return nil
	}
	if len(values) == 1 { // a scalar's generic plan is an index lookup; an array's is not
		q := strings.Replace(query, "IN (%s)", fmt.Sprintf("= $%d", len(fixed)+1), 1)
		return queryChunk(ctx, c, q, append(append([]any{}, fixed...), values[0]), scan)
	}
	q := strings.Replace(query, "IN (%s)", fmt.Sprintf("= ANY($%d::text[])", len(fixed)+1), 1)
	return queryChunk(ctx, c, q, planned(len(values), append(append([]any{}, fixed...), values)), scan)
}

// recordSettled is one statement: the movements' insert and, counted
// against it, the charges' update (scalars for one charge, whose generic
// plan is an index lookup; arrays for more).
func (postgresDialect) recordSettled(ctx context.Context, tx *sql.Tx, n int, row func(i int) []any, cs []*baixa.Charge, prev []int64) (inserted, updated int, err error) {
	args := columnArrays(movementTypes, n, row)
	insert := insertFromArrays("movements", movementTypes, movementConflict)
	if len(cs) == 0 {
		res, err := tx.ExecContext(ctx, insert, planned(n, args)...)
		if err != nil {
			return 0, 0, fmt.Errorf("insert movements: %w", err)
		}
		k, err := res.RowsAffected()
		return int(k), 0, err
	}
	var update string
	if len(cs) == 1 {
		update = chargeUpdateRow(len(args) + 1)
		args = append(append(args, chargeUpdateArgs(cs[0])...), prev[0])
	} else {
		update = fmt.Sprintf(`UPDATE charges AS c SET %s FROM %s AS v(%s, prev) WHERE c.id = v.id AND c.sequence = v.prev`,
			setColumns(chargeUpdateTypes, columnsOf("v")), unnestFrom(chargeUpdateTypes+", prev bigint", len(args)+1),
			strings.Join(columnNames(chargeUpdateTypes), ", "))
		args = append(args, columnArrays(chargeUpdateTypes+", prev bigint", len(cs), func(i int) []any { return append(chargeUpdateArgs(cs[i]), prev[i]) })...)
	}
	q := fmt.Sprintf(`WITH m AS (%s RETURNING 1), u AS (%s AND (SELECT count(*) FROM m) = $%d RETURNING 1)
		SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM u)`, insert, update, len(args)+1)
	args = append(args, int64(n))
	var ins, upd int64
	if err := tx.QueryRowContext(ctx, q, planned(max(n, len(cs)), args)...).Scan(&ins, &upd); err != nil {
		return 0, 0, fmt.Errorf("record movements and charges: %w", err)
	}
	return int(ins), int(upd), nil
}

// deliveriesUpdateFrom writes outcomes from the rows of v (columns as
// deliveryUpdateTypes): the FROM clause's source follows.
var deliveriesUpdateFrom = `UPDATE deliveries AS d SET ` + setColumns(deliveryUpdateTypes, columnsOf("v")) + `, lease_until = 0 FROM `

// updateDeliveries is one statement over arrays, or scalars for one.
func (postgresDialect) updateDeliveries(ctx context.Context, tx *sql.Tx, outs []baixa.DeliveryOutcome) (int64, error) {
	if len(outs) == 1 {
		res, err := tx.ExecContext(ctx, deliveryUpdateRow, deliveryUpdateArgs(outs[0])...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	res, err := tx.ExecContext(ctx, deliveriesUpdateFrom+unnestFrom(deliveryUpdateTypes, 1)+` AS v(`+strings.Join(columnNames(deliveryUpdateTypes), ", ")+`)
		WHERE d.id = v.id`, planned(len(outs), columnArrays(deliveryUpdateTypes, len(outs), func(i int) []any { return deliveryUpdateArgs(outs[i]) }))...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// roundTypes are a round's outcomes with their attempts.
const roundTypes = deliveryUpdateTypes + ", " + attemptTypes

// recordRound is one statement, outside any transaction (atomic on its
// own): the outcomes, the attempts of the deliveries still there, and
// whether more are due. That last look sees the deliveries as they were
// before the statement, leased, so not due: as they are after it.
func (postgresDialect) recordRound(ctx context.Context, db *DB, endpointID string, outs []baixa.DeliveryOutcome, now time.Time) (more, ok bool, err error) {
	attempts := columnNames(attemptTypes)
	var q string
	var args []any
	if len(outs) == 1 {
		// Scalars: the generic plan of "id = $1" is the primary key's,
		// whatever the table's size when it was made.
		k := len(columnNames(deliveryUpdateTypes))
		casts := make([]string, len(attempts))
		for i, t := range columnTypes(attemptTypes) {
			casts[i] = fmt.Sprintf("$%d::%s", k+1+i, t)
		}
		q = fmt.Sprintf(`WITH u AS (%s RETURNING id),
			a AS (INSERT INTO delivery_attempts (delivery_id, %s) SELECT u.id, %s FROM u ON CONFLICT (delivery_id, n) DO NOTHING)`,
			deliveryUpdateRow, strings.Join(attempts, ", "), strings.Join(casts, ", "))
		args = append(deliveryUpdateArgs(outs[0]), attemptArgs(outs[0].Attempt)...)
	} else {
		// Arrays, planned with their arguments each time (planned).
		q = fmt.Sprintf(`WITH v AS (SELECT * FROM %s AS v(%s)),
			u AS (`+deliveriesUpdateFrom+`v WHERE d.id = v.id RETURNING d.id),
			a AS (INSERT INTO delivery_attempts (delivery_id, %s) SELECT v.id, %s FROM v JOIN u ON u.id = v.id
				ON CONFLICT (delivery_id, n) DO NOTHING)`,
			unnestFrom(roundTypes, 1), strings.Join(columnNames(roundTypes), ", "),
			strings.Join(attempts, ", "), "v."+strings.Join(attempts, ", v."))
		args = columnArrays(roundTypes, len(outs), func(i int) []any {
			return append(deliveryUpdateArgs(outs[i]), attemptArgs(outs[i].Attempt)...)
		})
	}
	q += `
		SELECT EXISTS (SELECT 1 FROM deliveries WHERE ` + dueOf(len(args)+1, len(args)+2) + `)`
	err = db.W.QueryRowContext(ctx, q, planned(len(outs), append(args, endpointID, micros(now)))...).Scan(&more)
	return more, true, err
}

// smallTypes are the columns of a small document, with its one part's data.
const smallTypes = `id text, provider text, connection_id text, account_id text, content_type text, sha256 text, dedup_key text,
	size bigint, status text, created_at bigint, skip_bad_lines bigint, data bytea`

// insertDocuments writes a group's documents in one statement: the rows (a
// duplicate key inserts nothing), and the parts of those inserted.
func (postgresDialect) insertDocuments(ctx context.Context, db *DB, tx *sql.Tx, batch []*groupReq, res []groupRes) error {
	var live []int
	for i, r := range batch {
		if res[i].err != nil {
			continue
		}
		doc := newDocument(r.d, db.now())
		doc.SHA256, doc.DedupKey, doc.Size = r.sha, r.key, int64(len(r.body))
		res[i].doc = doc
		live = append(live, i)
	}
	if len(live) == 0 {
		return nil
	}
	cols := strings.Join(columnNames(smallTypes), ", ")
	q := fmt.Sprintf(`WITH v AS (SELECT * FROM %s WITH ORDINALITY AS v(%s, n)),
		d AS (INSERT INTO documents (id, provider, connection_id, account_id, content_type, sha256, dedup_key, size, status,
			created_at, settled_at, skip_bad_lines)
			SELECT id, provider, connection_id, account_id, content_type, sha256, dedup_key, size, status, created_at, 0, skip_bad_lines
			FROM v ORDER BY n ON CONFLICT DO NOTHING RETURNING id),
		p AS (INSERT INTO document_parts (document_id, seq, data) SELECT v.id, 0, v.data FROM v JOIN d ON d.id = v.id WHERE length(v.data) > 0)
		SELECT id FROM d`, unnestFrom(smallTypes, 1), cols)
	args := columnArrays(smallTypes, len(live), func(k int) []any {
		d, body := res[live[k]].doc, batch[live[k]].body
		return []any{d.ID, d.Provider, d.ConnectionID, d.AccountID, d.ContentType, d.SHA256, d.DedupKey, d.Size,
			string(d.Status), micros(d.CreatedAt), boolInt(d.SkipBadLines), body}
	})
	inserted, err := insertedIDs(ctx, tx, q, planned(len(live), args))
	if err != nil {
		return fmt.Errorf("insert documents: %w", err)
	}
	for _, i := range live {
		res[i].created = inserted[res[i].doc.ID]
	}
	return nil
}

// insertedIDs runs q, which returns the ids it inserted.
func insertedIDs(ctx context.Context, tx *sql.Tx, q string, args []any) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inserted := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		inserted[id] = true
	}
	return inserted, rows.Err()
}

// lockRows locks the charges in id order, so that concurrent batches
// cannot deadlock.
func (postgresDialect) lockRows() string { return " ORDER BY id FOR UPDATE" }

// eventLockKey is the advisory lock that serializes event writers.
const eventLockKey = 0x6261697861 // "baixa"

// insertEvents takes the advisory lock in the insert itself: no row is
// produced, so no position drawn, before the lock's subquery has run (it
// is volatile, so it is neither pulled up nor left out).
func (postgresDialect) insertEvents(ctx context.Context, tx *sql.Tx, typed string, n int, row func(i int) []any) error {
	q := fmt.Sprintf("INSERT INTO events (%s) SELECT u.* FROM (SELECT pg_advisory_xact_lock($1)) AS l, %s AS u",
		strings.Join(columnNames(typed), ", "), unnestFrom(typed, 2))
	_, err := tx.ExecContext(ctx, q, planned(n, append([]any{int64(eventLockKey)}, columnArrays(typed, n, row)...))...)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

func (postgresDialect) attentionFrom() string { return "movements AS m" }

func (postgresDialect) reviewFrom() string { return "movements AS m" }

// claimDeliveries leases in one statement (atomic on its own, no
// transaction around it), skipping rows another instance holds, and reads
// the claimed deliveries' events in the same statement. An update that
// finds nothing due writes nothing, so no read looks first: that read
// cost a statement per round, and most rounds do find deliveries (a drain
// ends when RecordAttempts finds none left).
func (postgresDialect) claimDeliveries(ctx context.Context, db *DB, endpointID, due string, now time.Time, lease time.Duration, limit int) ([]*baixa.Delivery, map[string][]byte, error) {
	rows, err := db.W.QueryContext(ctx, `WITH d AS (UPDATE deliveries SET lease_until = $4 WHERE id IN (SELECT d.id `+due+
		` FOR UPDATE SKIP LOCKED) RETURNING *)
		SELECT `+claimedColumns+` FROM d JOIN events e ON e.id = d.event_id `+eventMovement+` ORDER BY d.next_attempt_at, d.id`,
		endpointID, micros(now), limit, micros(now.Add(lease)))
	if err != nil {
		return nil, nil, err
	}
	return collectClaimed(rows)
}

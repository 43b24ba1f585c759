package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"

	"baixa"
)

// sqliteDialect is SQLite's side of the dialect seam: one writer, multi-row
// VALUES lists, IN lists in chunks, and a statement cache (preparing a
// statement costs SQLite as much as running it).
type sqliteDialect struct {
	w     *sql.DB
	stmts stmtCache
}

func openSQLite(ctx context.Context, path string, maxConns, cacheMiB int) (*DB, error) {
	lock, err := lockSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	db, err := openSQLiteLocked(ctx, path, maxConns, cacheMiB)
	if err != nil {
		lock.Close()
		return nil, err
	}
	db.lock = lock
	return db, nil
}

func openSQLiteLocked(ctx context.Context, path string, maxConns, cacheMiB int) (*DB, error) {
	// The page cache of each connection (Config.CacheMiB): matching reads
	// index pages at random.
	common := fmt.Sprintf("&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=cache_size(-%d)", cacheMiB*1024)
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"+common)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := pingWithin(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?mode=ro"+common)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(maxConns)
	r.SetMaxIdleConns(maxConns) // a new connection re-reads the schema and re-prepares statements
	return newDB(&sqliteDialect{w: w}, w, r, nil, "sqlite:"+path), nil
}

func (*sqliteDialect) name() string { return SQLite }

// sql rewrites $N as ?N: SQLite takes "$1" for a named parameter and finds
// each name by a linear search, which makes a multi-row INSERT quadratic;
// "?1" is a number and costs nothing.
func (*sqliteDialect) sql(q string) string { return rebind(q) }

func (*sqliteDialect) conn(c sqlConn) sqlConn { return sqliteConn{c} }

func (s *sqliteDialect) stmt(ctx context.Context, c sqlConn, q string) (sqlStmt, func(), error) {
	return s.stmts.get(ctx, s.w, c, q)
}

func (s *sqliteDialect) committed(ctx context.Context) { s.stmts.prepareWanted(ctx, s.w) }

func (*sqliteDialect) writers() int { return 1 }

func (*sqliteDialect) migrations() (goose.Dialect, []goose.ProviderOption, error) {
	return goose.DialectSQLite3, nil, nil
}

// analyze does nothing: the queries that need it name their index.
func (*sqliteDialect) analyze(context.Context, *sql.DB) error { return nil }

func (s *sqliteDialect) close() error { return s.stmts.close() }

// insert writes multi-row VALUES lists of at most 900 parameters; the
// full-size ones, which come again, through the statement cache.
func (s *sqliteDialect) insert(ctx context.Context, c sqlConn, table, typed string, n int, row func(i int) []any, suffix string) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	names := strings.Join(columnNames(typed), ", ")
	width := len(columnNames(typed))
	per := max(1, 900/width)
	var total int64
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		args := make([]any, 0, (end-start)*width)
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		q := sqliteText(fmt.Sprintf("INSERT INTO %s (%s) VALUES %%s%s", table, names, suffix), width, end-start)
		res, err := s.execChunk(ctx, c, q, end-start == per || end-start <= 4, args)
		if err != nil {
			return 0, fmt.Errorf("insert %s: %w", table, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += k
	}
	return total, nil
}

// execChunk runs q (SQLite text) on c, through the statement cache when
// the statement is full-size and will come again.
func (s *sqliteDialect) execChunk(ctx context.Context, c sqlConn, q string, repeats bool, args []any) (sql.Result, error) {
	if !repeats {
		return c.ExecContext(ctx, q, args...)
	}
	st, done, err := s.stmt(ctx, c, q)
	if err != nil {
		return nil, err
	}
	defer done()
	return st.ExecContext(ctx, args...)
}

// sqliteTexts memoizes sqliteText.
var sqliteTexts sync.Map

// sqliteText returns format with its %s replaced by rows groups of width
// "?" placeholders ("(?, ?), (?, ?)"; width 0 gives one flat list "?, ?").
func sqliteText(format string, width, rows int) string {
	key := fmt.Sprintf("%d/%d/%s", width, rows, format)
	if q, ok := sqliteTexts.Load(key); ok {
		return q.(string)
	}
	var b strings.Builder
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if width == 0 {
			b.WriteString("?")
			continue
		}
		b.WriteString("(?")
		b.WriteString(strings.Repeat(", ?", width-1))
		b.WriteString(")")
	}
	q := strings.Replace(format, "%s", b.String(), 1)
	sqliteTexts.Store(key, q)
	return q
}

// queryIn sends the values as IN lists of at most 500.
func (s *sqliteDialect) queryIn(ctx context.Context, c sqlConn, query string, fixed []any, values []string, scan func(*sql.Rows) error) error {
	if len(values) == 0 {
		return nil
	}
	const per = 500
	format := rebind(query)
	for start := 0; start < len(values); start += per {
		chunk := values[start:min(len(values), start+per)]
		args := make([]any, 0, len(fixed)+len(chunk))
		args = append(args, fixed...)
		for _, v := range chunk {
			args = append(args, v)
		}
		q := sqliteText(format, 0, len(chunk))
		var st sqlStmt = plainStmt{c, q}
		done := func() {}
		if len(chunk) == per || len(chunk) <= 4 {
			cs, d, err := s.stmt(ctx, c, q)
			if err != nil {
				return err
			}
			st, done = cs, d
		}
		err := queryStmt(ctx, st, args, scan)
		done()
		if err != nil {
			return err
		}
	}
	return nil
}

// recordSettled inserts the movements, then, if all were inserted,
// updates the charges one cached statement per row (a multi-row UPDATE ...
// FROM a VALUES list was measured slower).
func (s *sqliteDialect) recordSettled(ctx context.Context, tx *sql.Tx, n int, row func(i int) []any, cs []*baixa.Charge, prev []int64) (inserted, updated int, err error) {
	ins, err := s.insert(ctx, tx, "movements", movementTypes, n, row, movementConflict)
	if err != nil || int(ins) != n || len(cs) == 0 {
		return int(ins), 0, err
	}
	upd, err := s.updateCharges(ctx, tx, cs, prev)
	if err != nil {
		return int(ins), 0, fmt.Errorf("update charges: %w", err)
	}
	return int(ins), int(upd), nil
}

func (s *sqliteDialect) updateCharges(ctx context.Context, tx *sql.Tx, cs []*baixa.Charge, prev []int64) (int64, error) {
	stmt, done, err := s.stmt(ctx, tx, rebind(chargeUpdateRow(1)))
	if err != nil {
		return 0, err
	}
	defer done()
	var total int64
	for i, c := range cs {
		res, err := stmt.ExecContext(ctx, append(chargeUpdateArgs(c), prev[i])...)
		if err != nil {
			return 0, fmt.Errorf("update charge %s: %w", c.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// updateDeliveries runs one cached statement per delivery.
func (s *sqliteDialect) updateDeliveries(ctx context.Context, tx *sql.Tx, outs []baixa.DeliveryOutcome) (int64, error) {
	st, done, err := s.stmt(ctx, tx, rebind(deliveryUpdateRow))
	if err != nil {
		return 0, err
	}
	defer done()
	var total int64
	for i := range outs {
		res, err := st.ExecContext(ctx, deliveryUpdateArgs(outs[i])...)
		if err != nil {
			return 0, fmt.Errorf("delivery %s: %w", outs[i].Delivery.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// insertDocuments writes the group's documents one by one, each through
// cached statements.
func (*sqliteDialect) insertDocuments(ctx context.Context, db *DB, tx *sql.Tx, batch []*groupReq, res []groupRes) error {
	for i, r := range batch {
		if res[i].err != nil {
			continue
		}
		doc, created, err := insertSmall(context.WithoutCancel(r.ctx), db, tx, r)
		if err != nil {
			return err
		}
		res[i] = groupRes{doc: doc, created: created}
	}
	return nil
}

// recordRound leaves it to RecordAttempts' transaction, which costs no
// round trip on SQLite.
func (*sqliteDialect) recordRound(context.Context, *DB, string, []baixa.DeliveryOutcome, time.Time) (more, ok bool, err error) {
	return false, false, nil
}

// lockRows is empty: SQLite's single writer needs no row locks.
func (*sqliteDialect) lockRows() string { return "" }

// insertEvents needs no lock: SQLite's transactions already run one at a
// time.
func (s *sqliteDialect) insertEvents(ctx context.Context, tx *sql.Tx, typed string, n int, row func(i int) []any) error {
	_, err := s.insert(ctx, tx, "events", typed, n, row, "")
	return err
}

// attentionFrom names the partial index: without statistics SQLite would
// walk the key instead.
func (*sqliteDialect) attentionFrom() string { return "movements AS m INDEXED BY movements_attention" }

// reviewFrom names the queue's partial index, for the same reason.
func (*sqliteDialect) reviewFrom() string { return "movements AS m INDEXED BY movements_review" }

// claimDeliveries writes nothing: one process owns the database, and its
// deliverer runs one drain per endpoint at a time, so the deliveries it
// reads are its own until it records them; after a crash they are simply
// due again.
func (s *sqliteDialect) claimDeliveries(ctx context.Context, db *DB, endpointID, due string, now time.Time, _ time.Duration, limit int) ([]*baixa.Delivery, map[string][]byte, error) {
	st, done, err := s.stmt(ctx, db.R, rebind(`SELECT `+claimedColumns+` FROM (SELECT d.* `+due+`) AS d
		JOIN events e ON e.id = d.event_id `+eventMovement+` ORDER BY d.next_attempt_at, d.id`))
	if err != nil {
		return nil, nil, err
	}
	defer done()
	rows, err := st.QueryContext(ctx, endpointID, micros(now), limit)
	if err != nil {
		return nil, nil, err
	}
	return collectClaimed(rows)
}

// sqliteConn rewrites baixa's SQL for SQLite (rebind) on its way to c.
type sqliteConn struct{ c sqlConn }

func (s sqliteConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.c.ExecContext(ctx, rebind(q), args...)
}

func (s sqliteConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.c.QueryContext(ctx, rebind(q), args...)
}

func (s sqliteConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return s.c.QueryRowContext(ctx, rebind(q), args...)
}

func (s sqliteConn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return s.c.PrepareContext(ctx, rebind(q))
}

// rebind turns every $N outside string literals into ?N, or into a bare ?
// when the placeholders run $1, $2, ... once each in order (the common case,
// and the cheapest: modernc also looks numbered parameters' names up one by
// one when binding).
func rebind(q string) string {
	if !strings.Contains(q, "$") {
		return q
	}
	var plain, numbered strings.Builder
	plain.Grow(len(q))
	numbered.Grow(len(q))
	sequential, next := true, 1
	quoted := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case !quoted && c == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := i + 1
			n := 0
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				n = n*10 + int(q[j]-'0')
				j++
			}
			if n != next {
				sequential = false
			}
			next++
			plain.WriteByte('?')
			numbered.WriteByte('?')
			numbered.WriteString(q[i+1 : j])
			i = j - 1
			continue
		}
		plain.WriteByte(c)
		numbered.WriteByte(c)
	}
	if sequential {
		return plain.String()
	}
	return numbered.String()
}

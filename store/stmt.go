package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps SQLite statements that settling runs again and again
// (full-size multi-row inserts and lookups): preparing one parses and plans
// its SQL, which for a 900-parameter statement costs as much as running it.
// database/sql prepares a cached statement once per connection of its pool
// and reuses it inside transactions on that connection.
//
// A statement cannot be prepared on the writer pool while one of its
// transactions holds its only connection, so a statement first met inside a
// transaction runs unprepared and is noted; it is prepared once that
// transaction has ended (prepareWanted), and used from then on.
type stmtCache struct {
	mu     sync.Mutex
	m      map[stmtKey]*sql.Stmt
	wanted map[string]bool // writer statements to prepare after the transaction
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// maxCachedStmts bounds the cache; callers only cache statements whose text
// repeats (full chunks), so it is never reached in practice.
const maxCachedStmts = 256

// get returns a prepared form of q (SQLite SQL, already rebound) valid on
// c, whose transactions are all on the writer pool w. When the cache is
// full, or c is neither a pool nor a transaction, q is run as it is.
func (cache *stmtCache) get(ctx context.Context, w *sql.DB, c sqlConn, q string) (sqlStmt, func(), error) {
	var pool *sql.DB
	var tx *sql.Tx
	switch v := c.(type) {
	case *sql.DB:
		pool = v
	case *sql.Tx:
		pool, tx = w, v // every transaction is on the writer pool
	}
	if pool == nil {
		return plainStmt{c, q}, func() {}, nil
	}
	k := stmtKey{pool, q}
	cache.mu.Lock()
	s, ok := cache.m[k]
	if !ok && tx != nil {
		if len(cache.m)+len(cache.wanted) < maxCachedStmts {
			if cache.wanted == nil {
				cache.wanted = map[string]bool{}
			}
			cache.wanted[q] = true
		}
	} else if !ok && len(cache.m) < maxCachedStmts {
		var err error
		if s, err = pool.PrepareContext(ctx, q); err != nil {
			cache.mu.Unlock()
			return nil, nil, err
		}
		if cache.m == nil {
			cache.m = map[stmtKey]*sql.Stmt{}
		}
		cache.m[k] = s
	}
	cache.mu.Unlock()
	if s == nil {
		return plainStmt{c, q}, func() {}, nil
	}
	if tx != nil {
		ts := tx.StmtContext(ctx, s)
		return ts, func() { _ = ts.Close() }, nil
	}
	return s, func() {}, nil
}

// prepareWanted prepares on the writer pool the statements noted inside
// transactions. It must not be called while holding a writer transaction.
// A failure only leaves them unprepared.
func (c *stmtCache) prepareWanted(ctx context.Context, w *sql.DB) {
	c.mu.Lock()
	var qs []string
	for q := range c.wanted {
		qs = append(qs, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	// Prepared without the lock: the writer's connection may be busy with
	// another goroutine's transaction, which may itself need the cache.
	for _, q := range qs {
		s, err := w.PrepareContext(ctx, q) //nolint:sqlclosecheck // kept in the cache; Close closes it
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[stmtKey]*sql.Stmt{}
		}
		if old := c.m[stmtKey{w, q}]; old != nil {
			_ = old.Close()
		}
		c.m[stmtKey{w, q}] = s
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for k, s := range c.m {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, k)
	}
	return first
}

// sqlStmt is what *sql.Stmt offers, and plainStmt for an unprepared query.
type sqlStmt interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
}

type plainStmt struct {
	c sqlConn
	q string
}

func (p plainStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return p.c.ExecContext(ctx, p.q, args...)
}

func (p plainStmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return p.c.QueryContext(ctx, p.q, args...)
}

// queryRow runs a one-row query through the statement cache and hands the
// row to scan before the statement is released.
func (db *DB) queryRow(ctx context.Context, c sqlConn, q string, args []any, scan func(scanner) error) error {
	st, done, err := db.d.stmt(ctx, c, db.d.sql(q))
	if err != nil {
		return err
	}
	defer done()
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := scan(rows); err != nil {
		return err
	}
	return rows.Close()
}

// exec runs a statement through the statement cache.
func (db *DB) exec(ctx context.Context, c sqlConn, q string, args ...any) (sql.Result, error) {
	st, done, err := db.d.stmt(ctx, c, db.d.sql(q))
	if err != nil {
		return nil, err
	}
	defer done()
	return st.ExecContext(ctx, args...)
}

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

// cached runs fn with a prepared form of q (SQLite SQL, already rebound)
// valid on c. On PostgreSQL, or when the cache is full, q is run as it is.
func (db *DB) cached(ctx context.Context, c sqlConn, q string) (sqlStmt, func(), error) {
	var pool *sql.DB
	var tx *sql.Tx
	switch v := c.(type) {
	case *sql.DB:
		pool = v
	case *sql.Tx:
		pool, tx = db.W, v // every transaction is on the writer pool
	}
	if db.Dialect != SQLite || pool == nil {
		return plainStmt{c, q}, func() {}, nil
	}
	k := stmtKey{pool, q}
	db.stmts.mu.Lock()
	s, ok := db.stmts.m[k]
	if !ok && tx != nil {
		if len(db.stmts.m)+len(db.stmts.wanted) < maxCachedStmts {
			if db.stmts.wanted == nil {
				db.stmts.wanted = map[string]bool{}
			}
			db.stmts.wanted[q] = true
		}
	} else if !ok && len(db.stmts.m) < maxCachedStmts {
		var err error
		if s, err = pool.PrepareContext(ctx, q); err != nil {
			db.stmts.mu.Unlock()
			return nil, nil, err
		}
		if db.stmts.m == nil {
			db.stmts.m = map[stmtKey]*sql.Stmt{}
		}
		db.stmts.m[k] = s
	}
	db.stmts.mu.Unlock()
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
func (db *DB) prepareWanted(ctx context.Context) {
	c := &db.stmts
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
		s, err := db.W.PrepareContext(ctx, q) //nolint:sqlclosecheck // kept in the cache; Close closes it
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[stmtKey]*sql.Stmt{}
		}
		if old := c.m[stmtKey{db.W, q}]; old != nil {
			_ = old.Close()
		}
		c.m[stmtKey{db.W, q}] = s
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
	st, done, err := db.cached(ctx, c, db.dialect(q))
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
	st, done, err := db.cached(ctx, c, db.dialect(q))
	if err != nil {
		return nil, err
	}
	defer done()
	return st.ExecContext(ctx, args...)
}

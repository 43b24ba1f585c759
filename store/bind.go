package store

import (
	"context"
	"database/sql"
	"strings"
)

// sqlConn is what both *sql.DB and *sql.Tx offer.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// on returns c with baixa's SQL, written once with PostgreSQL's $N
// placeholders, rewritten for SQLite as ?N. SQLite takes "$1" for a named
// parameter and finds each name by a linear search, which makes a multi-row
// INSERT quadratic; "?1" is a number and costs nothing.
func (db *DB) on(c sqlConn) sqlConn {
	if db.Dialect != SQLite {
		return c
	}
	return sqliteConn{c}
}

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

// dialect returns q, written with $N placeholders, as the database takes it.
func (db *DB) dialect(q string) string {
	if db.Dialect == SQLite {
		return rebind(q)
	}
	return q
}

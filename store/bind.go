package store

import (
	"context"
	"database/sql"
)

// sqlConn is what both *sql.DB and *sql.Tx offer.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// on returns c taking baixa's SQL, written once with PostgreSQL's $N
// placeholders.
func (db *DB) on(c sqlConn) sqlConn { return db.d.conn(c) }

package store

import (
	"context"
	"database/sql"
)

// collect reads every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// page runs q on the read pool (q asks for limit+1 rows) and returns up to
// limit rows read by scan, with the cursor of the next page ("" on the
// last): the id of the last row returned.
func page[T any](ctx context.Context, db *DB, q string, args []any, limit int, scan func(scanner) (T, error), id func(T) string) ([]T, string, error) {
	rows, err := db.on(db.R).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = id(out[limit-1])
	}
	return out, next, nil
}

package store

import "context"

// page runs q on the read pool (q asks for limit+1 rows) and returns up to
// limit rows read by scan, with the cursor of the next page ("" on the
// last): the id of the last row returned.
func page[T any](ctx context.Context, db *DB, q string, args []any, limit int, scan func(scanner) (T, error), id func(T) string) ([]T, string, error) {
	rows, err := db.on(db.R).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = id(out[limit-1])
	}
	return out, next, nil
}

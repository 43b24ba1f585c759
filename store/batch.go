package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// The statements that carry many rows are the one place where the two
// dialects are written differently: SQLite takes multi-row VALUES lists and
// IN lists; PostgreSQL takes one array per column (unnest, = ANY), so that a
// batch is one short statement that plans in microseconds.

// columnNames returns the names of a "name type, name type" list.
func columnNames(typed string) []string {
	var out []string
	for _, c := range strings.Split(typed, ",") {
		out = append(out, strings.Fields(c)[0])
	}
	return out
}

func columnTypes(typed string) []string {
	var out []string
	for _, c := range strings.Split(typed, ",") {
		out = append(out, strings.Fields(c)[1])
	}
	return out
}

// unnestFrom returns "unnest($from::t1[], $from+1::t2[], ...)".
func unnestFrom(typed string, from int) string {
	var b strings.Builder
	b.WriteString("unnest(")
	for i, t := range columnTypes(typed) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", from+i, t)
	}
	b.WriteString(")")
	return b.String()
}

// columnArrays turns n rows into one Go slice per column: []string for text,
// []int64 for bigint, [][]byte for bytea.
func columnArrays(typed string, n int, row func(i int) []any) []any {
	types := columnTypes(typed)
	cols := make([]any, len(types))
	for j, t := range types {
		switch t {
		case "bigint":
			cols[j] = make([]int64, n)
		case "bytea":
			cols[j] = make([][]byte, n)
		default:
			cols[j] = make([]string, n)
		}
	}
	for i := 0; i < n; i++ {
		for j, v := range row(i) {
			switch col := cols[j].(type) {
			case []int64:
				col[i] = v.(int64)
			case []string:
				col[i] = v.(string)
			case [][]byte:
				col[i] = v.([]byte)
			}
		}
	}
	return cols
}

// insert inserts n rows into table, whose columns are given with their
// PostgreSQL types ("id text, amount bigint"), followed by suffix (an ON
// CONFLICT clause). It returns the number of rows inserted.
func (db *DB) insert(ctx context.Context, c sqlConn, table, typed string, n int, row func(i int) []any, suffix string) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	names := strings.Join(columnNames(typed), ", ")
	if db.Dialect == Postgres {
		q := fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM %s%s", table, names, unnestFrom(typed, 1), suffix)
		res, err := c.ExecContext(ctx, q, columnArrays(typed, n, row)...)
		if err != nil {
			return 0, fmt.Errorf("insert %s: %w", table, err)
		}
		return res.RowsAffected()
	}
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
		res, err := db.execChunk(ctx, c, q, end-start == per || end-start <= 4, args)
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

// execChunk runs q (SQLite text) on c, through the statement cache when
// the statement is full-size and will come again.
func (db *DB) execChunk(ctx context.Context, c sqlConn, q string, repeats bool, args []any) (sql.Result, error) {
	if !repeats {
		return c.ExecContext(ctx, q, args...)
	}
	st, done, err := db.cached(ctx, c, q)
	if err != nil {
		return nil, err
	}
	defer done()
	return st.ExecContext(ctx, args...)
}

// queryIn runs query, whose "IN (%s)" takes values, after the fixed args;
// each row goes to scan. On PostgreSQL the list is one array argument
// (= ANY); on SQLite an IN list, in chunks.
func (db *DB) queryIn(ctx context.Context, c sqlConn, query string, fixed []any, values []string, scan func(*sql.Rows) error) error {
	if len(values) == 0 {
		return nil
	}
	if db.Dialect == Postgres {
		q := strings.Replace(query, "IN (%s)", fmt.Sprintf("= ANY($%d::text[])", len(fixed)+1), 1)
		return queryChunk(ctx, c, q, append(append([]any{}, fixed...), values), scan)
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
			cs, d, err := db.cached(ctx, c, q)
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

// queryStmt runs st and hands each row to scan.
func queryStmt(ctx context.Context, st sqlStmt, args []any, scan func(*sql.Rows) error) error {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

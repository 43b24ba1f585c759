package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The statements that carry many rows are written differently for each
// database (sqlite.go, postgres.go); these are the helpers they share.

// columnNames returns the names of a "name type, name type" list.
func columnNames(typed string) []string {
	var out []string
	for _, c := range strings.Split(typed, ",") {
		out = append(out, strings.Fields(c)[0])
	}
	return out
}

// setColumns is the SET list of a row's columns after its id (typed's
// first column), each set to value(i, name), i counting from 0.
func setColumns(typed string, value func(i int, col string) string) string {
	cols := columnNames(typed)[1:]
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = c + " = " + value(i, c)
	}
	return strings.Join(sets, ", ")
}

// paramsFrom values setColumns' columns with the parameters $from, $from+1, ...
func paramsFrom(from int) func(int, string) string {
	return func(i int, _ string) string { return fmt.Sprintf("$%d", from+i) }
}

// columnsOf values setColumns' columns with those of the same name in alias.
func columnsOf(alias string) func(int, string) string {
	return func(_ int, c string) string { return alias + "." + c }
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
	return db.d.insert(ctx, c, table, typed, n, row, suffix)
}

// queryIn runs query, whose "IN (%s)" takes values, after the fixed args;
// each row goes to scan.
func (db *DB) queryIn(ctx context.Context, c sqlConn, query string, fixed []any, values []string, scan func(*sql.Rows) error) error {
	return db.d.queryIn(ctx, c, query, fixed, values, scan)
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

package store

import "testing"

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                                  "SELECT 1",
		"a = $1 AND b = $2":                         "a = ? AND b = ?",
		"VALUES ($1, $2, $1)":                       "VALUES (?1, ?2, ?1)",
		"x = $2 AND y = $1":                         "x = ?2 AND y = ?1",
		"x = '$1' AND y = $1":                       "x = '$1' AND y = ?",
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)": "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		"$.path": "$.path",
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

package dbtest

import (
	"context"
	"testing"

	"baixa/queue"
	"baixa/store"
)

// Open opens and migrates the database at url, with an insert-only queue
// so that enqueueing works; it is closed when t ends.
func Open(t testing.TB, url string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: url})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := queue.Migrate(ctx, db.W, db.Dialect); err != nil {
		t.Fatalf("migrate queue: %v", err)
	}
	q, err := queue.New(queue.Config{DB: db.W, Dialect: db.Dialect, Listener: db.Listener})
	if err != nil {
		t.Fatalf("queue: %v", err)
	}
	db.Jobs = q
	return db
}

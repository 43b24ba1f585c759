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
	db, err := store.Open(ctx, store.Config{URL: url, Jobs: jobs})
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
	return db
}

// jobs is store.Config.Jobs: the queue's insert-only client.
func jobs(db *store.DB) (store.Jobs, error) { return queue.Inserter(db.W, db.Dialect, db.Listener) }

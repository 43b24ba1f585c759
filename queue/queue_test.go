package queue_test

import (
	"context"
	"testing"
	"time"

	"baixa"
	"baixa/internal/dbtest"
	"baixa/queue"
)

// TestSQLiteJobLeftRunning: a job that a killed process left running in a
// SQLite database is run again as soon as workers start on it, not after
// River's rescue delay of an hour.
func TestSQLiteJobLeftRunning(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Jobs.InsertTx(ctx, tx, baixa.SettleDocumentArgs{DocumentID: "doc_left_running"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// What a process killed while it ran the job leaves behind.
	if _, err := db.W.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = datetime('now', 'subsec'), attempted_by = json_array('a-stopped-process')`); err != nil {
		t.Fatal(err)
	}
	ran := make(chan string, 1)
	q, err := queue.New(queue.Config{DB: db.W, Settle: func(_ context.Context, id string) error {
		select {
		case ran <- id:
		default:
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	select {
	case id := <-ran:
		if id != "doc_left_running" {
			t.Errorf("ran %q", id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the job left running was not run again")
	}
}

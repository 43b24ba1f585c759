package queue_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"baixa"
	"baixa/internal/dbtest"
	"baixa/queue"
	"baixa/store"
)

// TestJobLeftRunning: a job that a killed process left running is run
// again. On SQLite, whose database belongs to one process, as soon as
// workers start on it; on PostgreSQL, once it has been running longer than
// the longest job timeout (35 minutes, not River's default hour).
func TestJobLeftRunning(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(testing.TB) string
		// attempted is when the killed process took the job up.
		attempted string
	}{
		{"sqlite", dbtest.SQLiteURL, "datetime('now', 'subsec')"},
		{"postgres", dbtest.PostgresURL, "now() - interval '36 minutes'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := dbtest.Open(t, tc.url(t))
			settleJobs(t, db, inserter(t, db), "doc_left_running")
			// What a process killed while it ran the job leaves behind.
			if _, err := db.W.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = `+tc.attempted); err != nil {
				t.Fatal(err)
			}
			ran := make(chan string, 1)
			started(t, db, queue.Config{Settle: func(_ context.Context, id string) error {
				select {
				case ran <- id:
				default:
				}
				return nil
			}})
			select {
			case id := <-ran:
				if id != "doc_left_running" {
					t.Errorf("ran %q", id)
				}
			case <-time.After(2 * time.Minute):
				t.Fatal("the job left running was not run again")
			}
		})
	}
}

// TestJobOfADeadInstance: on PostgreSQL, a job that an instance killed a
// moment ago left running is run again once that instance has been silent
// for StaleAfter, not after River's rescue delay (35 minutes).
func TestJobOfADeadInstance(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t, dbtest.PostgresURL(t))
	settleJobs(t, db, inserter(t, db), "doc_dead", "doc_alive")
	// One job was taken up a moment ago by an instance that is gone, the
	// other by one that still beats.
	if _, err := db.W.ExecContext(ctx, `INSERT INTO baixa_queue_instance (id, seen_at) VALUES ('alive', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
		attempted_by = ARRAY[CASE WHEN args->>'document_id' = 'doc_dead' THEN 'killed' ELSE 'alive' END]`); err != nil {
		t.Fatal(err)
	}
	ran := make(chan string, 2)
	q, err := queue.New(queue.Config{DB: db.W, Dialect: store.Postgres, Listener: db.Listener,
		Heartbeat: 20 * time.Millisecond, StaleAfter: 200 * time.Millisecond,
		Settle: func(_ context.Context, id string) error { ran <- id; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	select {
	case id := <-ran:
		if id != "doc_dead" {
			t.Errorf("ran %q, want the dead instance's job", id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the job of the dead instance was not run again")
	}
	var state string
	if err := db.W.QueryRowContext(ctx, `SELECT state FROM river_job WHERE args->>'document_id' = 'doc_alive'`).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "running" {
		t.Errorf("the live instance's job is %s, want left running", state)
	}
}

// TestFailingJobIsVisible: a job that fails is told to Config.Failed (the
// metric) with its kind and attempt, not only to River's own log.
func TestFailingJobIsVisible(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		db := dbtest.Open(t, url)
		type failure struct {
			kind    string
			attempt int
		}
		failed := make(chan failure, 10)
		q := started(t, db, queue.Config{
			Settle: func(context.Context, string) error { return errors.New("the decoder is broken") },
			Failed: func(kind string, attempt int, _ error) { failed <- failure{kind, attempt} }})
		settleJobs(t, db, q, "doc_broken")
		select {
		case f := <-failed:
			if f.kind != "settle_document" || f.attempt != 1 {
				t.Errorf("told %+v", f)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a failing job was not told")
		}
	})
}

// started is a queue on db, configured by cfg, working jobs until the test
// ends.
func started(t *testing.T, db *store.DB, cfg queue.Config) *queue.Queue {
	t.Helper()
	ctx := context.Background()
	cfg.DB, cfg.Dialect, cfg.Listener = db.W, db.Dialect, db.Listener
	q, err := queue.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(ctx) })
	return q
}

// settleJobs enqueues, with jobs, a settle job for each document id.
// inserter is an insert-only client on db.
func inserter(t *testing.T, db *store.DB) *queue.Queue {
	t.Helper()
	q, err := queue.Inserter(db.W, db.Dialect, db.Listener)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func settleJobs(t *testing.T, db *store.DB, jobs interface {
	InsertTx(context.Context, *sql.Tx, baixa.Job) error
}, ids ...string) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	for _, id := range ids {
		if err := jobs.InsertTx(ctx, tx, baixa.SettleJob{DocumentID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestSettleJobOfAGroup: the job of a group commit settles its documents
// in order, each whatever became of the others; one that failed makes the
// job come back, and all are settled again (settling is idempotent).
func TestSettleJobOfAGroup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		calls := make(chan string, 10)
		failedOnce := false
		q := started(t, db, queue.Config{Settle: func(_ context.Context, id string) error {
			calls <- id
			if id == "doc_b" && !failedOnce {
				failedOnce = true
				return errors.New("the database went away")
			}
			return nil
		}})
		tx, err := db.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.InsertTx(ctx, tx, baixa.SettleJob{DocumentID: "doc_a", Then: []string{"doc_b", "doc_c"}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		want := []string{"doc_a", "doc_b", "doc_c", "doc_a", "doc_b", "doc_c"}
		for i, w := range want {
			select {
			case id := <-calls:
				if id != w {
					t.Fatalf("call %d settled %s, want %s (calls in order: %v)", i, id, w, want)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("after %d calls, nothing more was settled; want %v", i, want)
			}
		}
	})
}

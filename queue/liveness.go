package queue

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// On PostgreSQL several instances share the jobs, so a job shown running
// may be another instance's, alive. River rescues a job only once it has
// run longer than any job may (35 minutes): a process killed mid-job left
// its documents unsettled that long. Instead each instance beats (a row
// with the database's time), and any instance frees the running jobs of
// instances that stopped beating: within StaleAfter of a crash, whoever is
// up runs them again. Every job's work is idempotent (a document's
// progress is durable; a delivery keeps its webhook-id), so a job freed
// from an instance that was only slow is done twice at worst, never
// applied twice.

// instanceTable holds each instance's last heartbeat.
const instanceTable = `CREATE TABLE IF NOT EXISTS baixa_queue_instance (
	id      TEXT PRIMARY KEY,
	seen_at TIMESTAMPTZ NOT NULL
)`

// instanceID names this process's River client: host, process and a random
// part, unique across restarts.
func instanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", cmp.Or(host, "baixa"), os.Getpid(), hex.EncodeToString(b))
}

type liveness struct {
	db         *sql.DB
	id         string
	every      time.Duration
	staleAfter time.Duration
	logger     *slog.Logger

	once sync.Once
	quit chan struct{}
	done chan struct{}
}

// start beats once (so that no instance takes this one for dead), then
// goes on beating and freeing the jobs of dead instances until stop.
func (l *liveness) start(ctx context.Context) error {
	if err := l.beat(ctx); err != nil {
		return fmt.Errorf("queue: heartbeat: %w", err)
	}
	l.quit, l.done = make(chan struct{}), make(chan struct{})
	go l.run()
	return nil
}

func (l *liveness) stop() {
	l.once.Do(func() {
		if l.quit == nil {
			return
		}
		close(l.quit)
		<-l.done
		// A stopped instance runs nothing: it is dead at once.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.db.ExecContext(ctx, `DELETE FROM baixa_queue_instance WHERE id = $1`, l.id)
	})
}

func (l *liveness) run() {
	defer close(l.done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	// Since when this instance has beaten without a miss: only after a
	// whole StaleAfter of that may it judge others, who have had the same
	// time to beat (after a database outage, nobody could).
	since := time.Now()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.every+5*time.Second)
		if err := l.beat(ctx); err != nil {
			l.logger.Warn("queue heartbeat failed", "err", err)
			since = time.Time{}
			cancel()
			continue
		}
		if since.IsZero() {
			since = time.Now()
		}
		if time.Since(since) >= l.staleAfter {
			if err := l.freeDead(ctx); err != nil && !errors.Is(err, context.Canceled) {
				l.logger.Warn("queue: freeing the jobs of stopped instances failed", "err", err)
			}
		}
		cancel()
	}
}

func (l *liveness) beat(ctx context.Context) error {
	_, err := l.db.ExecContext(ctx, `INSERT INTO baixa_queue_instance (id, seen_at) VALUES ($1, now())
		ON CONFLICT (id) DO UPDATE SET seen_at = now()`, l.id)
	return err
}

// freeDead makes the jobs that instances silent for StaleAfter left
// running available again, and forgets instances long gone.
func (l *liveness) freeDead(ctx context.Context) error {
	stale := fmt.Sprintf("%d milliseconds", l.staleAfter.Milliseconds())
	rows, err := l.db.QueryContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] NOT IN
			(SELECT id FROM baixa_queue_instance WHERE seen_at > now() - $1::interval)
		RETURNING id, kind, attempted_by[array_length(attempted_by, 1)]`, stale)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, by string
		if err := rows.Scan(&id, &kind, &by); err != nil {
			return err
		}
		l.logger.Warn("job left running by a stopped instance: run again", "job", id, "kind", kind, "instance", by)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = l.db.ExecContext(ctx, `DELETE FROM baixa_queue_instance WHERE seen_at < now() - interval '1 day'`)
	return err
}

// failureWatch makes a job that fails visible: each failed attempt is
// logged (at ERROR from the third on, when it is no passing hiccup) and
// counted through Config.Failed.
type failureWatch struct {
	failed func(kind string, attempt int, err error)
	logger *slog.Logger
}

func (*failureWatch) IsMiddleware() bool { return true }

func (f *failureWatch) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	err := doInner(ctx)
	if err == nil {
		return nil
	}
	if _, snoozed := errors.AsType[*rivertype.JobSnoozeError](err); snoozed {
		return err
	}
	level := slog.LevelWarn
	if job.Attempt >= 3 {
		level = slog.LevelError
	}
	f.logger.Log(ctx, level, "job failed", "job", job.ID, "kind", job.Kind, "attempt", job.Attempt, "max_attempts", job.MaxAttempts,
		"args", string(job.EncodedArgs), "err", err)
	if f.failed != nil {
		f.failed(job.Kind, job.Attempt, err)
	}
	return err
}

var _ rivertype.WorkerMiddleware = (*failureWatch)(nil)

// Package queue runs baixa's durable jobs on River, over SQLite
// (riversqlite) or PostgreSQL (riverdatabasesql with a pgx listener); both
// use *sql.Tx, so jobs are enqueued in the transaction of the state change
// that causes them.
package queue

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"baixa"
)

// Config says how to run the queue.
type Config struct {
	// DB is the write pool (on SQLite its single connection).
	DB *sql.DB
	// Dialect is the database's, as store.DB names it: "sqlite" or
	// "postgres" (which needs Listener).
	Dialect  string
	Listener *pgxpool.Pool
	// Settle decodes and settles one document (settle.Processor.Process).
	Settle func(ctx context.Context, documentID string) error
	// Deliver sends an endpoint's due webhook deliveries (webhook.Deliverer.Drain).
	Deliver func(ctx context.Context, endpointID string) error
	// Tick starts the runs of due connections (fetch.Runner.Tick); the
	// elected leader runs it every TickEvery (default 15 s).
	Tick      func(ctx context.Context) error
	TickEvery time.Duration
	// Fetch follows one fetch (fetch.Runner.Step); a *baixa.RetryLater
	// it returns snoozes the job.
	Fetch func(ctx context.Context, fetchID string) error
	// Ack acknowledges one stored document to its provider
	// (fetch.Runner.Ack); a *baixa.RetryLater it returns snoozes the job.
	Ack func(ctx context.Context, documentID string) error
	// Workers is the number of jobs run at once (default 4).
	Workers int
	// PollInterval is how often workers look for new jobs when nothing
	// notifies them (default 1 s on PostgreSQL, which notifies; 200 ms on SQLite).
	PollInterval time.Duration
	// Heartbeat is how often a PostgreSQL instance says it is alive
	// (default 5 s); StaleAfter is how long after its last word an
	// instance is taken for dead and the jobs it was running are run again
	// (default 30 s).
	Heartbeat  time.Duration
	StaleAfter time.Duration
	// Failed, when set, is told of each job attempt that returned an error.
	Failed func(kind string, attempt int, err error)
	Logger *slog.Logger
}

// Queue is the River client.
type Queue struct {
	client *river.Client[*sql.Tx]
	// orphans, on SQLite with workers: the database to free jobs left
	// running in it when the workers start.
	orphans *sql.DB
	// lives, on PostgreSQL with workers: the instance's heartbeat, which
	// frees the jobs of instances that stopped beating.
	lives  *liveness
	logger *slog.Logger
}

func driver(cfg Config, postgres bool) riverdriver.Driver[*sql.Tx] {
	if postgres {
		return riverdatabasesql.NewWithPgxListener(cfg.DB, cfg.Listener)
	}
	return riversqlite.New(cfg.DB)
}

// New builds the client; call Start to work jobs. With no Settle function the
// client only inserts (as `baixa migrate` or a read-only tool would).
func New(cfg Config) (*Queue, error) {
	postgres, err := isPostgres(cfg.Dialect)
	if err != nil {
		return nil, err
	}
	if postgres && cfg.Listener == nil {
		return nil, errors.New("queue: PostgreSQL needs a listener pool")
	}
	workers := river.NewWorkers()
	if cfg.Settle != nil {
		river.AddWorker(workers, &settleWorker{settle: cfg.Settle})
	}
	if cfg.Deliver != nil {
		river.AddWorker(workers, &deliverWorker{deliver: cfg.Deliver})
	}
	if cfg.Tick != nil {
		river.AddWorker(workers, &tickWorker{tick: cfg.Tick})
	}
	if cfg.Fetch != nil {
		river.AddWorker(workers, &fetchWorker{fetch: cfg.Fetch})
	}
	if cfg.Ack != nil {
		river.AddWorker(workers, &ackWorker{ack: cfg.Ack})
	}
	id := instanceID()
	logger := cmp.Or(cfg.Logger, slog.Default())
	var middleware []rivertype.Middleware
	if cfg.Settle != nil {
		middleware = append(middleware, &failureWatch{failed: cfg.Failed, logger: logger})
	}
	rc := &river.Config{
		ID:                id,
		Logger:            logger,
		Workers:           workers,
		FetchPollInterval: cmp.Or(cfg.PollInterval, map[bool]time.Duration{true: time.Second, false: 200 * time.Millisecond}[postgres]),
		FetchCooldown:     20 * time.Millisecond,
		JobTimeout:        5 * time.Minute,
		// A job running past the longest timeout has been cancelled: if it
		// still shows running, its process is gone, and it runs again.
		// River's default is an hour. This is the last resort: SQLite's are
		// freed at start, and PostgreSQL's as soon as their instance stops
		// beating (liveness).
		RescueStuckJobsAfter: longestTimeout + 5*time.Minute,
		PollOnly:             !postgres,
		// An insert-only client (no Settle) knows no workers but may still enqueue.
		SkipUnknownJobCheck: cfg.Settle == nil,
		Middleware:          middleware,
	}
	if cfg.Settle != nil {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cmp.Or(cfg.Workers, 4)}}
	}
	if cfg.Deliver != nil {
		if rc.Queues == nil {
			rc.Queues = map[string]river.QueueConfig{}
		}
		// One job drains one endpoint; a slow endpoint holds only its own.
		rc.Queues[QueueWebhooks] = river.QueueConfig{MaxWorkers: 32, FetchCooldown: 5 * time.Millisecond}
	}
	if cfg.Fetch != nil || cfg.Ack != nil {
		if rc.Queues == nil {
			rc.Queues = map[string]river.QueueConfig{}
		}
		// Fetches wait on providers; they never hold settling back.
		rc.Queues[QueueFetches] = river.QueueConfig{MaxWorkers: 8}
	}
	if cfg.Tick != nil {
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cmp.Or(cfg.TickEvery, 15*time.Second)),
			func() (river.JobArgs, *river.InsertOpts) {
				return tickArgs{}, insertOpts(tickArgs{})
			},
			&river.PeriodicJobOpts{RunOnStart: true})}
	}
	client, err := river.NewClient(driver(cfg, postgres), rc)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := &Queue{client: client, logger: rc.Logger}
	if !postgres && cfg.Settle != nil {
		q.orphans = cfg.DB
	}
	if postgres && cfg.Settle != nil {
		q.lives = &liveness{db: cfg.DB, id: id, every: cmp.Or(cfg.Heartbeat, 5*time.Second),
			staleAfter: cmp.Or(cfg.StaleAfter, 30*time.Second), logger: logger}
	}
	return q, nil
}

// freeOrphans makes the jobs that a SQLite database shows running
// available again at once. Such a database belongs to one process (the
// store locks it) and this one has not started its workers yet: a job
// marked running was being run by a process that is gone, killed or on a
// machine that stopped. River would take it up again only after its rescue
// delay (an hour), leaving a document unsettled or a provider's read
// unacknowledged that long. The attempt it was on counts: a job that kills
// its process every time still runs out of attempts.
func freeOrphans(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	rows, err := db.QueryContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec')
		WHERE state = 'running' RETURNING id, kind`)
	if err != nil {
		return fmt.Errorf("queue: free jobs left running: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind string
		if err := rows.Scan(&id, &kind); err != nil {
			return fmt.Errorf("queue: free jobs left running: %w", err)
		}
		logger.Warn("job left running by a stopped process: run again", "job", id, "kind", kind)
	}
	return rows.Err()
}

// Queues apart from settling's: deliveries, and fetches from providers.
const (
	QueueWebhooks = "webhooks"
	QueueFetches  = "fetches"
)

// waitingStates are the states in which a job counts as not yet done: a
// job unique in them may be inserted again once the last one completed.
var waitingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled}

// The jobs' arguments as River stores them: their kinds and JSON are the
// rows' format, which this package alone knows.
type (
	settleArgs struct {
		DocumentID string   `json:"document_id"`
		Then       []string `json:"then,omitempty"`
	}
	ackArgs struct {
		DocumentID string `json:"document_id"`
	}
	tickArgs  struct{}
	fetchArgs struct {
		FetchID string `json:"fetch_id"`
	}
	deliverArgs struct {
		EndpointID string `json:"endpoint_id"`
	}
)

func (settleArgs) Kind() string  { return "settle_document" }
func (ackArgs) Kind() string     { return "document_ack" }
func (tickArgs) Kind() string    { return "connection_tick" }
func (fetchArgs) Kind() string   { return "connection_fetch" }
func (deliverArgs) Kind() string { return "webhook_deliver" }

// riverArgs returns a job's arguments as River stores them.
func riverArgs(j baixa.Job) (river.JobArgs, error) {
	switch j := j.(type) {
	case baixa.SettleJob:
		return settleArgs(j), nil
	case baixa.AckJob:
		return ackArgs(j), nil
	case baixa.TickJob:
		return tickArgs(j), nil
	case baixa.FetchJob:
		return fetchArgs(j), nil
	case baixa.DeliverJob:
		return deliverArgs(j), nil
	}
	return nil, fmt.Errorf("queue: unknown job %T", j)
}

// insertOpts says where a job goes and when it is a duplicate.
func insertOpts(args river.JobArgs) *river.InsertOpts {
	switch args.(type) {
	case deliverArgs:
		// One per endpoint while one waits or runs (not "ever": River's
		// default would keep a completed job's args from coming back).
		return &river.InsertOpts{Queue: QueueWebhooks, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
	case tickArgs:
		return &river.InsertOpts{Queue: QueueFetches, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
	case fetchArgs:
		// Once per fetch, ever: a fetch is followed by one job at a time.
		return &river.InsertOpts{Queue: QueueFetches, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
	case ackArgs:
		// One per document while one waits or runs; River's default 25
		// attempts back off over about three weeks.
		return &river.InsertOpts{Queue: QueueFetches, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
	}
	return nil
}

// InsertTx enqueues a job in tx: it exists if and only if tx commits.
// A delivery job is unique per endpoint while one waits or runs: it drains
// every due delivery of its endpoint, those added meanwhile included.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, job baixa.Job) error {
	args, err := riverArgs(job)
	if err != nil {
		return err
	}
	_, err = q.client.InsertTx(ctx, tx, args, insertOpts(args))
	return err
}

// InsertManyTx enqueues several jobs in tx with one statement.
func (q *Queue) InsertManyTx(ctx context.Context, tx *sql.Tx, jobs []baixa.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		a, err := riverArgs(j)
		if err != nil {
			return err
		}
		params[i] = river.InsertManyParams{Args: a, InsertOpts: insertOpts(a)}
	}
	_, err := q.client.InsertManyTx(ctx, tx, params)
	return err
}

// Start starts working jobs until Stop; on SQLite, first frees the jobs
// a stopped process left running (freeOrphans).
func (q *Queue) Start(ctx context.Context) error {
	if q.orphans != nil {
		if err := freeOrphans(ctx, q.orphans, q.logger); err != nil {
			return err
		}
	}
	if q.lives != nil {
		if err := q.lives.start(ctx); err != nil {
			return err
		}
	}
	return q.client.Start(ctx)
}

// Stop waits for running jobs to finish; if ctx ends first, it cancels them
// (River runs them again later, since their documents' progress is durable).
func (q *Queue) Stop(ctx context.Context) error {
	if q.lives != nil {
		defer q.lives.stop()
	}
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return q.client.StopAndCancel(cctx)
	}
	return err
}

// Client exposes the River client (for River UI and tests).
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// Migrate applies River's own migrations. On PostgreSQL a session advisory
// lock, held on a connection of its own, serializes instances that start
// together (River's migrations cannot all run in one transaction).
func Migrate(ctx context.Context, db *sql.DB, dialect string) error {
	postgres, err := isPostgres(dialect)
	if err != nil {
		return err
	}
	var drv riverdriver.Driver[*sql.Tx]
	if postgres {
		drv = riverdatabasesql.New(db)
	} else {
		drv = riversqlite.New(db)
	}
	m, err := rivermigrate.New(drv, nil)
	if err != nil {
		return fmt.Errorf("queue migrations: %w", err)
	}
	if postgres {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		const key = 7261647
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
			return fmt.Errorf("queue migrations lock: %w", err)
		}
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key) }()
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("queue migrations: %w", err)
	}
	if postgres {
		if _, err := db.ExecContext(ctx, instanceTable); err != nil {
			return fmt.Errorf("queue migrations: %w", err)
		}
	}
	return nil
}

// JobCounts returns the number of jobs in each state (for metrics).
func JobCounts(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT state, count(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

type settleWorker struct {
	river.WorkerDefaults[settleArgs]
	settle func(ctx context.Context, documentID string) error
}

// Timeout allows large documents; progress is committed batch by batch.
func (w *settleWorker) Timeout(*river.Job[settleArgs]) time.Duration {
	return longestTimeout
}

// longestTimeout is the longest a job may run: a large document's
// settling, a drain of deliveries, a large download.
const longestTimeout = 30 * time.Minute

// Work settles the job's documents in order. Each is settled whatever
// became of the others; if any failed, the job fails and comes back, and
// those settled meanwhile are skipped then (settling is idempotent).
func (w *settleWorker) Work(ctx context.Context, job *river.Job[settleArgs]) error {
	var errs []error
	for _, id := range append([]string{job.Args.DocumentID}, job.Args.Then...) {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		if err := w.settle(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("document %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	deliver func(ctx context.Context, endpointID string) error
}

// Timeout covers a drain of many deliveries to a slow endpoint.
func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration { return longestTimeout }

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	return w.deliver(ctx, job.Args.EndpointID)
}

type tickWorker struct {
	river.WorkerDefaults[tickArgs]
	tick func(ctx context.Context) error
}

func (w *tickWorker) Timeout(*river.Job[tickArgs]) time.Duration { return time.Minute }

func (w *tickWorker) Work(ctx context.Context, _ *river.Job[tickArgs]) error {
	return w.tick(ctx)
}

type fetchWorker struct {
	river.WorkerDefaults[fetchArgs]
	fetch func(ctx context.Context, fetchID string) error
}

// Timeout covers downloading and storing a large file.
func (w *fetchWorker) Timeout(*river.Job[fetchArgs]) time.Duration { return longestTimeout }

func (w *fetchWorker) Work(ctx context.Context, job *river.Job[fetchArgs]) error {
	return snoozeLater(w.fetch(ctx, job.Args.FetchID))
}

type ackWorker struct {
	river.WorkerDefaults[ackArgs]
	ack func(ctx context.Context, documentID string) error
}

func (w *ackWorker) Timeout(*river.Job[ackArgs]) time.Duration { return time.Minute }

func (w *ackWorker) Work(ctx context.Context, job *river.Job[ackArgs]) error {
	return snoozeLater(w.ack(ctx, job.Args.DocumentID))
}

// snoozeLater turns a *baixa.RetryLater into River's snooze (which does
// not use up an attempt); other errors are returned as they are.
func snoozeLater(err error) error {
	if later, ok := errors.AsType[*baixa.RetryLater](err); ok {
		return river.JobSnooze(later.After)
	}
	return err
}

// isPostgres tells the two databases River has a driver for here apart.
func isPostgres(dialect string) (bool, error) {
	switch dialect {
	case "postgres":
		return true, nil
	case "sqlite":
		return false, nil
	}
	return false, fmt.Errorf("queue: unknown database %q", dialect)
}

// Inserter returns an insert-only client on these pools (store.Config.Jobs):
// it enqueues jobs in the caller's transactions for the clients with
// workers to take.
func Inserter(w *sql.DB, dialect string, listener *pgxpool.Pool) (*Queue, error) {
	return New(Config{DB: w, Dialect: dialect, Listener: listener})
}

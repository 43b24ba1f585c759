// Package store persists baixa's nouns in SQLite (embedded, the default) or
// PostgreSQL (scale-out) through database/sql, with the same SQL wherever the
// two agree.
package store

import (
	"cmp"
	"context"
	"crypto/cipher"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"baixa"
)

//go:embed migrations
var migrations embed.FS

// Jobs enqueues background work inside a caller's transaction, so that the
// job exists if and only if the state change that causes it commits.
type Jobs interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args baixa.Job) error
	// InsertManyTx enqueues several jobs with one statement.
	InsertManyTx(ctx context.Context, tx *sql.Tx, args []baixa.Job) error
}

// DB is an open database: a pool for writes and one for reads, and the
// services that store baixa's nouns in it, one per noun (services.go).
type DB struct {
	Accounts    *Accounts
	APIKeys     *APIKeys
	Charges     *Charges
	Connections *Connections
	Fetches     *Fetches
	Documents   *Documents
	Movements   *Movements
	Attention   *Attention
	Events      *Events
	Endpoints   *Endpoints
	Deliveries  *Deliveries
	// Views over several services (services.go).
	Settling   Settling
	Fetching   Fetching
	Delivering Delivering

	// Dialect names the database: SQLite or Postgres.
	Dialect string
	// W takes every write. On SQLite it has a single connection, shared with
	// River: never use it while holding one of its transactions.
	W *sql.DB
	// R serves reads; on SQLite a separate read-only pool, so that reads never
	// wait behind a long write (WAL lets them run beside it).
	R *sql.DB
	// Listener is PostgreSQL's pgx pool for River's LISTEN/NOTIFY; nil on SQLite.
	Listener *pgxpool.Pool
	// URL is the database URL with any password masked, for logs.
	URL string

	d            dialect // what differs between the databases
	jobs         Jobs    // Config.Jobs's; nil: nothing may enqueue
	onDeliveries func(endpointIDs []string)
	clock        func() time.Time
	aead         cipher.AEAD   // seals secrets at rest when set (SetSecretKey)
	previous     []cipher.AEAD // open what older keys sealed
	lock         io.Closer     // SQLite: the file lock that keeps other processes out
	jobNotes     sync.Map      // endpoint ID -> when this process enqueued its delivery job (fanOut)

	// Group commit of small documents (group.go).
	group     chan *groupReq
	groupOnce sync.Once
	closing   chan struct{}
	closeOnce sync.Once
}

// Config says how to open a database.
type Config struct {
	// URL is "sqlite:PATH" (or a bare path ending in .db) or "postgres://...".
	URL string
	// MaxConns bounds the PostgreSQL pool and SQLite's read pool (default 8).
	MaxConns int
	// CacheMiB is SQLite's page cache per connection, in MiB (default
	// DefaultCacheMiB): the writer and each reader (MaxConns) keep their
	// own, and it fills as the database grows, so the process's memory
	// grows up to about (1 + MaxConns) × CacheMiB beyond what Go holds.
	CacheMiB int
	// Jobs makes the job queue's insert-only client on the opened
	// database's pools (queue.New with no workers). Without it, anything
	// that enqueues (storing a document, an event's deliveries) fails;
	// migrating and reading do not need it.
	Jobs func(db *DB) (Jobs, error)
	// OnDeliveries, when set, is called after a commit that added
	// deliveries, with their endpoints: a worker in this process can start
	// on them at once instead of waiting for the queue to hand them out.
	OnDeliveries func(endpointIDs []string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultCacheMiB is SQLite's page cache per connection when Config says
// none. It was 64: settling 1,000,000 payments ran as fast with 8 (16,462
// movements/s against 15,145) and the process's peak RSS was 112 MiB
// lower (docs/BENCHMARKS.md, "SQLite's page cache").
const DefaultCacheMiB = 8

// parseURL splits a database URL into its dialect and, for SQLite, the
// file path.
func parseURL(raw string) (dialect, path string, err error) {
	raw = strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Postgres, "", nil
	case strings.HasPrefix(raw, "sqlite:"):
		path = strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
	case strings.HasSuffix(raw, ".db") && !strings.Contains(raw, "://"):
		path = raw
	default:
		return "", "", fmt.Errorf("database URL %q: want sqlite:PATH or postgres://USER@HOST/DB", maskURL(raw))
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return "", "", fmt.Errorf("sqlite database path %q is not a plain file path", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return "", "", fmt.Errorf("sqlite database %s: directory %s does not exist", path, dir)
		}
	}
	return SQLite, path, nil
}

// CheckURL reports what is wrong with a database URL without connecting.
func CheckURL(raw string) error {
	_, _, err := parseURL(raw)
	return err
}

// Open opens and pings the database named by cfg.URL. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	dialect, path, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	maxConns := cmp.Or(cfg.MaxConns, 8)
	db, err := openDialect(ctx, dialect, strings.TrimSpace(cfg.URL), path, maxConns, cmp.Or(cfg.CacheMiB, DefaultCacheMiB))
	if err != nil {
		return nil, err
	}
	db.onDeliveries, db.clock = cfg.OnDeliveries, cfg.Now
	if cfg.Jobs != nil {
		if db.jobs, err = cfg.Jobs(db); err != nil {
			db.Close()
			return nil, fmt.Errorf("job queue: %w", err)
		}
	}
	return db, nil
}

// newDB is an open database on d's pools.
func newDB(d dialect, w, r *sql.DB, listener *pgxpool.Pool, url string) *DB {
	db := &DB{Dialect: d.name(), d: d, W: w, R: r, Listener: listener, URL: url, closing: make(chan struct{})}
	db.Accounts, db.APIKeys, db.Charges = &Accounts{db}, &APIKeys{db}, &Charges{db}
	db.Connections, db.Fetches, db.Documents = &Connections{db}, &Fetches{db}, &Documents{db}
	db.Movements, db.Attention, db.Events = &Movements{db}, &Attention{db}, &Events{db}
	db.Endpoints, db.Deliveries = &Endpoints{db}, &Deliveries{db}
	db.Settling = Settling{db.Movements, db.Documents, db.Charges}
	db.Fetching = Fetching{db.Connections, db.Fetches, db.Documents}
	db.Delivering = Delivering{db.Endpoints, db.Deliveries}
	return db
}

func pingWithin(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// maskURL hides a URL's password.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable URL)"
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Writers is how many transactions may usefully write at once.
func (db *DB) Writers() int { return db.d.writers() }

// Analyze refreshes the planner's statistics, as after a bulk load.
func (db *DB) Analyze(ctx context.Context) error { return db.d.analyze(ctx, db.W) }

// Close closes the pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closing) })
	errs := []error{db.d.close()}
	if db.R != db.W {
		errs = append(errs, db.R.Close())
	}
	errs = append(errs, db.W.Close())
	if db.Listener != nil {
		db.Listener.Close()
	}
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	return errors.Join(errs...)
}

// now is the clock, at the microsecond precision timestamps are stored in.
func (db *DB) now() time.Time {
	t := time.Now()
	if db.clock != nil {
		t = db.clock()
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (db *DB) goose() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, err
	}
	dialect, opts, err := db.d.migrations()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.W, sub, opts...)
}

// Migrate applies baixa's pending migrations. Several processes may call it
// at once on PostgreSQL: a session lock serializes them.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.goose()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Ready reports an error unless the database answers and baixa's schema is current.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.R.PingContext(ctx); err != nil {
		return baixa.Errorf(baixa.EUnavailable, "database unreachable: %s", cause(err))
	}
	p, err := db.goose()
	if err != nil {
		return err
	}
	cur, target, err := p.GetVersions(ctx)
	if err != nil {
		return baixa.Errorf(baixa.EUnavailable, "migration state unreadable")
	}
	if cur != target {
		return baixa.Errorf(baixa.EUnavailable, "database schema at version %d, want %d: run baixa migrate", cur, target)
	}
	return nil
}

// inTx runs fn in a write transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.d.committed(ctx)
	return nil
}

// isUniqueViolation reports whether err is a unique-constraint violation on
// either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func dateString(d baixa.Date) string { return d.String() }

func parseDate(s string) baixa.Date {
	if s == "" {
		return baixa.Date{}
	}
	d, _ := baixa.ParseDate(s)
	return d
}

// cause is the last part of err's message ("connection refused"): why,
// without the addresses, users and names before it.
func cause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// Package measure holds what the benchmark programs under bench/ share.
package measure

import (
	"context"
	"database/sql"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"baixa/queue"
	"baixa/store"
)

// PeakHeap runs fn and returns the largest live heap (HeapInuse) seen,
// sampled every 10 ms.
func PeakHeap(fn func()) uint64 {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		var m runtime.MemStats
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-done:
				peak <- top
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	return <-peak
}

// OpenDB opens and migrates the database at url with an insert-only job
// queue: jobs are enqueued as baixa serve would, and no worker takes them.
func OpenDB(ctx context.Context, url string) (*store.DB, error) {
	return OpenDBWith(ctx, store.Config{URL: url})
}

// OpenDBWith is OpenDB with more of the store's configuration (the job
// queue is set here).
func OpenDBWith(ctx context.Context, cfg store.Config) (*store.DB, error) {
	cfg.Jobs = Jobs
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	err = db.Migrate(ctx)
	if err == nil {
		err = queue.Migrate(ctx, db.W, db.Dialect)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Jobs is store.Config.Jobs: the queue's insert-only client.
func Jobs(db *store.DB) (store.Jobs, error) { return queue.Inserter(db.W, db.Dialect, db.Listener) }

// ProcStatus reads a field of /proc/self/status (VmRSS, VmHWM), or says
// "unknown".
func ProcStatus(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// ResetPeakRSS starts the process's peak RSS (VmHWM) afresh from its
// current RSS (Linux's clear_refs), so that a phase's peak can be read
// apart from what came before it. It reports whether the kernel allowed it.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// RawInserts is the reference rate of a run: rows single-row inserts, each
// its own transaction, from conc goroutines, into a table of its own
// (created, then dropped), in rows per second.
func RawInserts(ctx context.Context, db *sql.DB, conc, rows int) (float64, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		return 0, err
	}
	defer db.ExecContext(context.WithoutCancel(ctx), `DROP TABLE bench_rows`) //nolint:errcheck // a bench's scratch table
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(rows) {
					return
				}
				if _, err := db.ExecContext(ctx, `INSERT INTO bench_rows (id, v) VALUES ($1, $2)`, i, "x"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(rows) / took.Seconds(), nil
}

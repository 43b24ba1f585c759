//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// lockGrace is how long an open waits for a lock that is being let go. A
// process that forks (os/exec) gives the child a copy of every descriptor
// until the child's exec closes it; a lock released by Close meanwhile
// stays held by that copy for the moment the child takes to exec. A
// process restarted at once, or the tests that restart baixa in a process
// that also starts children, would otherwise see their own released lock
// as another process's.
const lockGrace = 2 * time.Second

// lockSQLite takes an exclusive lock beside the database file, held until
// Close: a SQLite database belongs to one baixa process (its deliverer,
// for one, relies on being alone; PostgreSQL is for several).
func lockSQLite(ctx context.Context, path string) (io.Closer, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite database %s: lock: %w", path, err)
	}
	deadline := time.Now().Add(lockGrace)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	f.Close()
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("sqlite database %s is in use by another baixa process: SQLite serves one (use PostgreSQL for several)", path)
	}
	return nil, fmt.Errorf("sqlite database %s: lock: %w", path, err)
}

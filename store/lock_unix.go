//go:build unix

package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// lockSQLite takes an exclusive lock beside the database file, held until
// Close: a SQLite database belongs to one baixa process (its deliverer,
// for one, relies on being alone; PostgreSQL is for several).
func lockSQLite(path string) (io.Closer, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite database %s: lock: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sqlite database %s is in use by another baixa process: SQLite serves one (use PostgreSQL for several)", path)
		}
		return nil, fmt.Errorf("sqlite database %s: lock: %w", path, err)
	}
	return f, nil
}

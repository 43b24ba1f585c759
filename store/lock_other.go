//go:build !unix

package store

import (
	"context"
	"io"
)

type noLock struct{}

func (noLock) Close() error { return nil }

// lockSQLite does nothing where flock is not available.
func lockSQLite(context.Context, string) (io.Closer, error) { return noLock{}, nil }

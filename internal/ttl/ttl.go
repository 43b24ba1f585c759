// Package ttl keeps values read from the database for a short while, so
// that a burst of requests does not read the same row again each time; a
// change made elsewhere reaches this process within the ttl its reader
// asks for.
package ttl

import (
	"sync"
	"time"
)

// Cache holds at most Max entries and starts afresh past that. The zero
// value is ready. Its reader passes the time (its clock's now).
type Cache[V any] struct {
	mu sync.Mutex
	m  map[string]entry[V]
}

type entry[V any] struct {
	v    V
	read time.Time
}

// Max is how many entries a Cache holds.
const Max = 10000

// Get returns key's value if it was put within ttl of now.
func (c *Cache[V]) Get(key string, ttl time.Duration, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.read) >= ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put keeps v under key, read at now.
func (c *Cache[V]) Put(key string, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= Max {
		c.m = map[string]entry[V]{}
	}
	c.m[key] = entry[V]{v: v, read: now}
}

// Forget drops every entry (after a change this process made).
func (c *Cache[V]) Forget() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

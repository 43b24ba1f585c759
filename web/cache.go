package web

import (
	"sync"
	"time"
)

// ttlCache keeps values read from the database for a short while (the ttl
// its reader asks for), so that a burst of requests does not read the same
// row again each time; a change made elsewhere reaches this process within
// that ttl. It holds at most cacheMax entries and starts afresh past that.
type ttlCache[V any] struct {
	mu sync.Mutex
	m  map[string]cached[V]
}

type cached[V any] struct {
	v    V
	read time.Time
}

const cacheMax = 10000

// get returns key's value if it was put within ttl.
func (c *ttlCache[V]) get(key string, ttl time.Duration) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Since(e.read) >= ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheMax {
		c.m = map[string]cached[V]{}
	}
	c.m[key] = cached[V]{v: v, read: time.Now()}
}

// forget drops every entry (after a change this process made).
func (c *ttlCache[V]) forget() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

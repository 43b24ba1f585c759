// Package measure holds what the benchmark programs under bench/ share.
package measure

import (
	"runtime"
	"time"
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

//go:build race

package main

// raceEnabled: the race detector multiplies each test's CPU several times,
// so the end-to-end tests keep go test's default parallelism under it.
const raceEnabled = true

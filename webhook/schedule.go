package webhook

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultSchedule is the wait before each retry: the first attempt is
// immediate, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; after the
// eighth attempt the delivery is dead.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// ParseSchedule reads a comma-separated list of durations ("5s,5m,30m").
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("retry schedule %q: %q is not a positive duration", s, f)
		}
		out = append(out, d)
	}
	if len(out) > 50 {
		return nil, fmt.Errorf("retry schedule %q: more than 50 retries", s)
	}
	return out, nil
}

// jitter spreads d by ±frac, so that retries of many deliveries that
// failed together do not come back together.
func jitter(d time.Duration, frac float64) time.Duration {
	if frac <= 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + frac*(2*rand.Float64()-1))) //nolint:gosec // not for secrets
}

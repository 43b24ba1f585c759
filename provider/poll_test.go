package provider

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPollingAndRetryAfter(t *testing.T) {
	var p Polling
	if err := p.Normalize(5*time.Second, time.Minute, time.Hour, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for polls, want := range map[int]time.Duration{0: 5 * time.Second, 1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second, 9: time.Minute} {
		if got := p.Backoff(polls); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", polls, got, want)
		}
	}
	fast := Polling{PollEvery: "1s"}
	if err := fast.Normalize(5*time.Second, time.Minute, time.Hour, 5*time.Second); err == nil || !strings.Contains(err.Error(), "poll_every") {
		t.Errorf("a poll faster than the floor: %v", err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"7": 7 * time.Second, "": 0, "soon": 0, "99999": time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second} {
		if got := RetryAfter(http.Header{"Retry-After": {v}}, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestText(t *testing.T) {
	var v struct {
		A, B, C, D Text
		L, M       Texts
	}
	if err := json.Unmarshal([]byte(`{"A": " x ", "B": 12.50, "C": null, "D": true, "L": ["06", "", 9], "M": "17"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "x" || v.B != "12.50" || v.C != "" || !v.D.Truth() || len(v.L) != 2 || v.L[1] != "9" || len(v.M) != 1 {
		t.Errorf("%+v", v)
	}
	if err := json.Unmarshal([]byte(`{"A": {"x": 1}}`), &v); err == nil {
		t.Error("an object read as text")
	}
}

package provider

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"baixa"
)

func TestParseBRAmount(t *testing.T) {
	for in, want := range map[string]baixa.Amount{
		"427,81": 42781, "1.234,56": 123456, "0,00": 0, "": 0, "427.81": 42781, "22.0": 2200, "85.0000": 8500, "1.234.567,8": 123456780, "7": 700,
	} {
		if got, err := ParseBRAmount(in); err != nil || got != want {
			t.Errorf("ParseBRAmount(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"4,2,7": "want a decimal", "1,005": "not exact", "-1,00": "want a decimal", "R$ 1,00": "want a decimal", "1e3": "want a decimal", "1.2.3": "want a decimal",
	} {
		if _, err := ParseBRAmount(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseBRAmount(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestParseBRTime(t *testing.T) {
	for in, want := range map[string]string{
		"20/09/2017": "2017-09-20T00:00:00-03:00", "20/09/2017 14:30:00": "2017-09-20T14:30:00-03:00",
		"2026-11-21T14:32:10": "2026-11-21T14:32:10-03:00", "2026-11-21 14:32:10": "2026-11-21T14:32:10-03:00",
		"2026-11-21T14:32:10.123": "2026-11-21T14:32:10.123-03:00", "2026-11-21T17:32:10Z": "2026-11-21T17:32:10Z",
		"null": "0001-01-01T00:00:00Z", "": "0001-01-01T00:00:00Z",
	} {
		got, err := ParseBRTime(in)
		if err != nil || got.Format(time.RFC3339Nano) != want {
			t.Errorf("ParseBRTime(%q) = %v, %v; want %s", in, got.Format(time.RFC3339Nano), err, want)
		}
	}
	if _, err := ParseBRTime("31/02/2026"); err == nil {
		t.Error("31/02/2026 parsed")
	}
	// A UTC instant late in the evening is the next day in São Paulo's
	// terms only when it is: 02:00Z is still the day before there.
	if d, _ := ParseBRDate("2026-11-22T02:00:00Z"); d.String() != "2026-11-21" {
		t.Errorf("ParseBRDate = %v, want 2026-11-21", d)
	}
}

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
